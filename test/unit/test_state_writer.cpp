// The state writer (src/state/state_writer.hpp): state files are written off the calling
// thread, atomically, in batches; a record queued twice before it was written is written once
// with its latest content; a removal after a write wins; `done` runs once the file is in place
// (renamed: a daemon started after a kill -9 reads it), before the batch's syncs;
// deferred writes (write_later) wait for their deadline, then go out together.
#include <sys/stat.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "test/unit/helpers.hpp"
#include "src/state/state_store.hpp"
#include "src/state/state_writer.hpp"

using namespace netdhcp;
using netdhcp::test::TempDir;
using namespace std::chrono_literals;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }
ino_t inode_of(const std::string& path) {
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

}  // namespace

TEST_CASE("a queued write is on disk, with its content, when its callback runs") {
  TempDir dir;
  std::string path = dir.path + "/a.json";
  std::promise<std::string> seen;
  {
    StateWriter writer;
    writer.write(path, "{\"n\":1}", [&](const Result<void>& r) {
      REQUIRE(r.ok());
      seen.set_value(read(path));  // read from the writer thread, at the moment it reports
    });
    auto f = seen.get_future();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    CHECK(f.get() == "{\"n\":1}");
  }
  CHECK_FALSE(exists(path + ".tmp"));
}

// Docker waits for the callback (CreateEndpoint, Join): it must not wait for the disk too. The
// file is in place when it runs; the fsyncs of the batch come after.
TEST_CASE("a write's callback runs once the file is in place, before the batch's fsyncs") {
  TempDir dir;
  std::string path = dir.path + "/a.json";
  StateWriter writer;
  std::promise<std::pair<std::string, std::uint64_t>> seen;
  writer.write(path, "{\"n\":2}", [&](const Result<void>& r) {
    REQUIRE(r.ok());
    seen.set_value({read(path), writer.stats().directory_syncs});
  });
  auto f = seen.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  auto [content, syncs_then] = f.get();
  CHECK(content == "{\"n\":2}");
  CHECK(syncs_then == 0);
  writer.flush();
  CHECK(writer.stats().directory_syncs == 1);
  CHECK(writer.stats().sync_failures == 0);
}

// What the callback promises: a kill -9 right after it loses nothing. A child process writes a
// record and SIGKILLs itself from the callback (before the batch's fsyncs); the file is there,
// whole, for the next reader.
TEST_CASE("a record whose callback ran survives a kill -9 of the writing process") {
  TempDir dir;
  std::string path = dir.path + "/endpoint.json";
  std::string text(3000, 'x');
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    StateWriter writer;
    writer.write(path, text, [](const Result<void>& r) { ::kill(::getpid(), r ? SIGKILL : SIGTERM); });
    ::pause();
    ::_exit(1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  CHECK(read(path) == text);
  CHECK_FALSE(exists(path + ".tmp"));
}

TEST_CASE("writes queued faster than the disk are batched and superseded, never lost") {
  TempDir dir;
  StateWriter writer;
  std::atomic<int> done{0};
  constexpr int kFiles = 50, kRounds = 20;
  // The writer is held busy (a slow disk) while everything is queued.
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  writer.write(dir.path + "/gate.json", "g", [open](const Result<void>&) { open.wait(); });
  for (int round = 0; round < kRounds; ++round)
    for (int i = 0; i < kFiles; ++i)
      writer.write(dir.path + "/" + std::to_string(i) + ".json", std::to_string(round), [&](const Result<void>& r) {
        CHECK(r.ok());
        ++done;
      });
  gate.set_value();
  writer.flush();
  // Every caller hears back, and every file holds its last content.
  CHECK(done == kFiles * kRounds);
  for (int i = 0; i < kFiles; ++i) CHECK(read(dir.path + "/" + std::to_string(i) + ".json") == std::to_string(kRounds - 1));
  auto stats = writer.stats();
  // Fewer atomic writes than requests (the loop outran the disk), and one directory fsync per
  // batch, not one per file.
  CHECK(stats.files_written + stats.superseded == static_cast<std::uint64_t>(kFiles * kRounds + 1));
  CHECK(stats.superseded >= static_cast<std::uint64_t>(kFiles * (kRounds - 2)));
  CHECK(stats.directory_syncs == stats.batches);
  CHECK(stats.batches <= 3);
}

// At scale (a SIGTERM with a thousand endpoints) one fdatasync per record was one journal
// commit each; a batch of many files is made durable with one syncfs, a small one keeps to
// fdatasync (syncfs would also flush everything else dirty on the filesystem).
TEST_CASE("a batch of many files is made durable by one syncfs, a small batch by its own fdatasyncs") {
  TempDir dir;
  StateWriter writer;
  for (int i = 0; i < 3; ++i) writer.write(dir.path + "/small" + std::to_string(i) + ".json", "s");
  writer.flush();
  CHECK(writer.stats().filesystem_syncs == 0);
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  writer.write(dir.path + "/gate.json", "g", [open](const Result<void>&) { open.wait(); });
  int failed = 0;
  for (int i = 0; i < 200; ++i)
    writer.write(dir.path + "/" + std::to_string(i) + ".json", std::to_string(i),
                 [&failed](const Result<void>& r) { failed += r ? 0 : 1; });
  gate.set_value();
  writer.flush();
  auto stats = writer.stats();
  CHECK(failed == 0);
  // The 200 went in one batch with one syncfs, or two (the gate's batch may have taken the
  // first few of them along): never one sync per file.
  CHECK(stats.filesystem_syncs >= 1);
  CHECK(stats.filesystem_syncs <= 2);
  CHECK(stats.files_written == 204);
  for (int i = 0; i < 200; i += 37) CHECK(read(dir.path + "/" + std::to_string(i) + ".json") == std::to_string(i));
  CHECK_FALSE(exists(dir.path + "/0.json.tmp"));
}

// write_now: the file is in place, and `done` has run on the caller's thread, when it returns;
// only its syncs are the thread's (flush waits for them). A write_later of it is replaced.
TEST_CASE("write_now writes and renames on the calling thread; the thread syncs it") {
  TempDir dir;
  StateWriter writer;
  std::string a = dir.path + "/a.json";
  writer.write(a, "old");
  writer.flush();
  auto before = writer.stats();
  writer.write_later(a, "deferred", 1h);
  std::thread::id ran_on;
  bool ok = false;
  writer.write_now(a, "{\"now\":1}", [&](const Result<void>& r) {
    ran_on = std::this_thread::get_id();
    ok = r.ok();
  });
  CHECK(ran_on == std::this_thread::get_id());
  CHECK(ok);
  CHECK(read(a) == "{\"now\":1}");
  CHECK_FALSE(exists(a + ".tmp"));
  writer.flush();
  auto after = writer.stats();
  CHECK(read(a) == "{\"now\":1}");  // the deferred write is gone, not written over it
  CHECK(after.written_now == 1);
  CHECK(after.superseded >= 1);
  CHECK(after.written_in_place == 0);
  CHECK(after.directory_syncs > before.directory_syncs);  // synced by the thread
  // An error reaches `done` at once too, and the writer carries on.
  std::string error;
  writer.write_now(dir.path + "/no/such/dir/b.json", "x", [&](const Result<void>& r) { error = r ? "" : r.error().message; });
  CHECK(error.find("no/such/dir/b.json.tmp") != std::string::npos);
  writer.write_now(a, "2", {});
  writer.flush();
  CHECK(read(a) == "2");
}

// A write_now of a file the thread still has queued, or is writing, goes behind it: never
// overtaken by an older text of the same file.
TEST_CASE("write_now of a file still queued or being written is queued behind it") {
  TempDir dir;
  StateWriter writer;
  std::string a = dir.path + "/a.json";
  // The thread held inside a batch that writes `a`: its callback waits for the gate.
  std::promise<void> gate, in_batch;
  std::shared_future<void> open = gate.get_future().share();
  writer.write(a, "first", [&, open](const Result<void>&) {
    in_batch.set_value();
    open.wait();
  });
  REQUIRE(in_batch.get_future().wait_for(10s) == std::future_status::ready);
  std::atomic<bool> second_done{false};
  writer.write_now(a, "second", [&](const Result<void>& r) {
    CHECK(r.ok());
    second_done = true;
  });
  CHECK_FALSE(second_done);  // queued: the thread is busy with `a`
  // Queued behind a write still waiting (the thread busy elsewhere meanwhile).
  writer.write(a, "third");
  writer.write_now(a, "fourth", {});
  gate.set_value();
  writer.flush();
  CHECK(second_done);
  CHECK(read(a) == "fourth");
  CHECK(writer.stats().written_now == 0);
}

TEST_CASE("a removal queued after a write leaves no file; a write after a removal leaves the file") {
  TempDir dir;
  StateWriter writer;
  std::string a = dir.path + "/a.json", b = dir.path + "/b.json";
  writer.write(a, "1");
  writer.remove(a);
  writer.remove(b);
  writer.write(b, "2");
  writer.flush();
  CHECK_FALSE(exists(a));
  CHECK(read(b) == "2");
  // Removing what is not there is fine.
  bool ok = false;
  writer.remove(dir.path + "/never.json", [&](const Result<void>& r) { ok = r.ok(); });
  writer.flush();
  CHECK(ok);
}

TEST_CASE("a write that cannot be done reports why, to its caller, and the writer carries on") {
  TempDir dir;
  StateWriter writer;
  std::string error;
  writer.write(dir.path + "/no/such/dir/a.json", "x", [&](const Result<void>& r) { error = r ? "" : r.error().message; });
  writer.write(dir.path + "/fine.json", "y");
  writer.flush();
  CHECK(error.find("no/such/dir/a.json.tmp") != std::string::npos);
  CHECK(read(dir.path + "/fine.json") == "y");
}

TEST_CASE("the destructor writes what is still queued") {
  TempDir dir;
  {
    StateWriter writer;
    for (int i = 0; i < 20; ++i) writer.write(dir.path + "/" + std::to_string(i) + ".json", "last");
  }
  for (int i = 0; i < 20; ++i) CHECK(read(dir.path + "/" + std::to_string(i) + ".json") == "last");
}

TEST_CASE("a deferred write waits for its deadline: urgent writes do not take it along, flush() does") {
  TempDir dir;
  StateWriter writer;
  std::string renewed = dir.path + "/renewed.json", created = dir.path + "/created.json";
  writer.write(renewed, "old");
  writer.flush();
  writer.write_later(renewed, "new", 1h);
  // An urgent write queued after it is on disk without it: the deferred one waits.
  std::promise<void> written;
  writer.write(created, "c", [&](const Result<void>&) { written.set_value(); });
  REQUIRE(written.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(read(renewed) == "old");
  CHECK(writer.stats().deferred == 1);
  CHECK(writer.stats().deferred_batches == 0);
  writer.flush();
  CHECK(read(renewed) == "new");
  CHECK(writer.stats().deferred_batches == 1);
}

// In place: no new inode, no temporary file; a shorter text is padded with spaces (JSON's
// whitespace) to the old length, so that one pwrite replaces it all.
TEST_CASE("a deferred write goes over the file's content in place, padded; a missing file is not made") {
  TempDir dir;
  StateWriter writer;
  std::string record = dir.path + "/record.json";
  writer.write(record, "{\"lease\":\"long text of the first write\"}");
  writer.flush();
  ino_t before = inode_of(record);
  writer.write_later(record, "{\"lease\":\"short\"}", 0ms);
  writer.flush();
  std::string now = read(record);
  CHECK(now.size() == std::string("{\"lease\":\"long text of the first write\"}").size());
  CHECK(now.rfind("{\"lease\":\"short\"}", 0) == 0);
  CHECK(now.find_first_not_of(' ', std::string("{\"lease\":\"short\"}").size()) == std::string::npos);
  boost::system::error_code ec;
  CHECK(boost::json::parse(now, ec).at("lease") == "short");
  CHECK_FALSE(ec);
  CHECK(inode_of(record) == before);
  CHECK_FALSE(exists(record + ".tmp"));
  auto stats = writer.stats();
  CHECK(stats.written_in_place == 1);
  CHECK(stats.files_written == 1);  // the first, atomic write only
  // A deferred write of a file that is not there: dropped (it renews a record; one that is gone
  // was removed meanwhile, and is not brought back).
  writer.write_later(dir.path + "/gone.json", "{}", 0ms);
  writer.flush();
  CHECK_FALSE(exists(dir.path + "/gone.json"));
  CHECK(writer.stats().files_written == 1);
  CHECK(writer.stats().written_in_place == 1);
  CHECK(writer.stats().deferred_dropped == 1);
  // Longer than a page: the atomic way.
  writer.write_later(record, std::string(5000, ' ') + "{}", 0ms);
  writer.flush();
  CHECK(read(record).size() == 5002);
  CHECK(writer.stats().files_written == 2);
}

TEST_CASE("deferred writes all go out together at the earliest deadline, each once, with its latest text") {
  TempDir dir;
  StateWriter writer;
  constexpr int kFiles = 40;
  for (int i = 0; i < kFiles; ++i) writer.write(dir.path + "/" + std::to_string(i) + ".json", "r0");
  writer.write(dir.path + "/trigger.json", "r0");
  writer.flush();
  auto before = writer.stats();
  for (int round = 1; round <= 3; ++round)
    for (int i = 0; i < kFiles; ++i)
      writer.write_later(dir.path + "/" + std::to_string(i) + ".json", "r" + std::to_string(round), 1h);
  writer.write_later(dir.path + "/trigger.json", "r3", 0ms);  // one short deadline: everyone goes with it
  auto all_written = [&] {
    if (read(dir.path + "/trigger.json") != "r3") return false;
    for (int i = 0; i < kFiles; ++i)
      if (read(dir.path + "/" + std::to_string(i) + ".json") != "r3") return false;
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!all_written() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  CHECK(all_written());
  writer.flush();  // (nothing left to write: waits for the batch's bookkeeping)
  auto stats = writer.stats();
  CHECK(stats.deferred == 3 * kFiles + 1);
  CHECK(stats.deferred_batches == 1);
  CHECK(stats.written_in_place == kFiles + 1);          // 121 queued, 41 written, each in place
  CHECK(stats.files_written == before.files_written);   // none the atomic way
  CHECK(stats.filesystem_syncs == before.filesystem_syncs);  // and no sync at all
}

TEST_CASE("an urgent write or removal supersedes a deferred one of the same file; the destructor writes deferred ones") {
  TempDir dir;
  std::string a = dir.path + "/a.json", b = dir.path + "/b.json", c = dir.path + "/c.json";
  {
    StateWriter writer;
    for (const auto& path : {a, b, c}) writer.write(path, "x");  // deferred writes renew files that exist
    writer.flush();
    writer.write_later(a, "deferred", 1h);
    writer.write(a, "urgent");
    writer.write_later(b, "deferred", 1h);
    writer.remove(b);
    writer.write_later(c, "deferred", 1h);
    writer.flush();
    CHECK(read(a) == "urgent");
    CHECK_FALSE(exists(b));
    CHECK(read(c) == "deferred");
    // A deferred write after a removal still waiting: the file stays removed.
    writer.remove(b);
    writer.write_later(b, "too late", 0ms);
    writer.flush();
    CHECK_FALSE(exists(b));
    // Deferred again after an urgent write still waiting: the urgent write takes the new text.
    writer.write(a, "urgent 2");
    writer.write_later(a, "deferred 2", 1h);
    writer.write_later(c, "at exit", 1h);
  }
  CHECK(read(a) == "deferred 2");
  CHECK(read(c) == "at exit ");  // in place over "deferred": padded to its length
}

// The writer's thread asleep with nothing to do (the daemon's usual state between renewals):
// a deferred write must wake it at its deadline by itself, with no urgent write, flush() or
// destructor to push it (it once slept on until one of those came).
TEST_CASE("a deferred write reaches the disk at its deadline when nothing else happens") {
  TempDir dir;
  StateWriter writer;
  std::string record = dir.path + "/e.json";
  writer.write(record, "{\"lease\":\"first\"}");
  writer.flush();  // the thread now idles
  auto queued = std::chrono::steady_clock::now();
  writer.write_later(record, "{\"lease\":\"2nd\"}", 50ms);
  auto deadline = queued + 5s;
  while (read(record).rfind("{\"lease\":\"2nd\"}", 0) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  CHECK(read(record) == "{\"lease\":\"2nd\"}  ");  // in place, padded to the old length
  CHECK(std::chrono::steady_clock::now() - queued >= 50ms);
  CHECK(writer.stats().deferred_batches == 1);
}

TEST_CASE("StateStore queues endpoint records and removals through the writer, in order") {
  TempDir dir;
  StateStore store(dir.path);
  REQUIRE(store.prepare().ok());
  EndpointRecord r;
  r.endpoint_id = "e1";
  r.network_id = "n1";
  r.phase = EndpointPhase::Creating;
  store.queue_endpoint(r);
  r.phase = EndpointPhase::Created;
  store.queue_endpoint(r);
  EndpointRecord gone = r;
  gone.endpoint_id = "e2";
  store.queue_endpoint(gone);
  store.remove_endpoint("e2");
  store.flush();
  auto loaded = store.load();
  REQUIRE(loaded.endpoints.size() == 1);
  CHECK(loaded.endpoints[0].endpoint_id == "e1");
  CHECK(loaded.endpoints[0].phase == EndpointPhase::Created);
}
