#include "src/state/state_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <vector>

#include "netdhcp/unique_fd.hpp"
#include "src/support/log.hpp"

namespace netdhcp {

namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// From this many files in a batch, one syncfs() of their filesystem puts all the temporary files
// on disk at once (one journal commit) instead of one fdatasync each (one commit each: 10-16 ms
// apiece on this ext4, 3.3 s for the 200 records written at SIGTERM, measured by
// test/e2e/scale.sh). syncfs also flushes whatever else is dirty on that filesystem, which is
// why a small batch keeps to its own files.
constexpr std::size_t kSyncfsFrom = 16;

// PATH.tmp with `text`, left open for the fdatasync that follows the rename.
Result<UniqueFd> write_temporary(const std::string& path, const std::string& text) {
  std::string temporary = path + ".tmp";
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return system_error("writing " + temporary, errno);
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = n < 0 ? errno : EIO;
      ::unlink(temporary.c_str());
      return system_error("writing " + temporary, saved);
    }
    off += static_cast<std::size_t>(n);
  }
  return fd;
}

// `text` as the new content of PATH: written to PATH.tmp, renamed over PATH (from then on a
// daemon started after a kill -9 reads it). The file stays open for the fdatasync that follows.
Result<UniqueFd> write_atomically(const std::string& path, const std::string& text) {
  auto fd = write_temporary(path, text);
  if (!fd) return fd.error();
  if (::rename((path + ".tmp").c_str(), path.c_str()) < 0) {
    Error error = system_error("renaming " + path + ".tmp", errno);
    ::unlink((path + ".tmp").c_str());
    return error;
  }
  return fd;
}

// A deferred write (see state_writer.hpp): `text`, padded with spaces to the file's length, over
// its content in one pwrite of at most a page. False when that cannot be done (no file yet, a
// text longer than a page, an error): the caller writes it the atomic way.
constexpr std::size_t kPage = 4096;
enum class InPlace { Written, Atomic, Gone };  // Atomic: write it the atomic way instead

InPlace write_in_place(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  // A deferred write renews a record that exists: one that is gone was removed meanwhile (the
  // endpoint deleted, or its file set aside), and is not brought back.
  if (!fd) return errno == ENOENT ? InPlace::Gone : InPlace::Atomic;
  if (text.size() > kPage) return InPlace::Atomic;
  struct stat st{};
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > static_cast<off_t>(kPage)) return InPlace::Atomic;
  std::string padded = text;
  if (padded.size() < static_cast<std::size_t>(st.st_size)) padded.resize(static_cast<std::size_t>(st.st_size), ' ');
  ssize_t n;
  do n = ::pwrite(fd.get(), padded.data(), padded.size(), 0);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(padded.size()) ? InPlace::Written : InPlace::Atomic;
}

}  // namespace

StateWriter::~StateWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StateWriter::write(const std::string& path, std::string text, Done done) {
  queue(path, std::move(text), std::move(done));
}

void StateWriter::remove(const std::string& path, Done done) { queue(path, std::nullopt, std::move(done)); }

void StateWriter::write_now(const std::string& path, std::string text, Done done) {
  std::unique_lock lock(mutex_);
  bool behind = pending_.count(path) > 0 || std::find(inflight_.begin(), inflight_.end(), path) != inflight_.end();
  if (behind) {
    lock.unlock();
    queue(path, std::move(text), std::move(done));
    return;
  }
  // Under the lock: no batch can take up `path` (queued by another caller) meanwhile.
  if (later_.erase(path)) ++stats_.superseded;
  Result<void> result;
  if (auto fd = write_atomically(path, text); !fd) {
    result = fd.error();
  } else {
    unsynced_.push_back(path);
    ++stats_.files_written;
    ++stats_.written_now;
    start_thread();
  }
  lock.unlock();
  wake_.notify_one();
  if (done) done(result);
}

void StateWriter::start_thread() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void StateWriter::queue(const std::string& path, std::optional<std::string> text, Done done) {
  {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = pending_.try_emplace(path);
    if (!fresh) ++stats_.superseded;
    if (later_.erase(path)) ++stats_.superseded;
    it->second.text = std::move(text);
    if (done) it->second.done.push_back(std::move(done));
    start_thread();
  }
  wake_.notify_one();
}

void StateWriter::write_later(const std::string& path, std::string text, std::chrono::milliseconds within) {
  bool earlier = false;
  {
    std::lock_guard lock(mutex_);
    ++stats_.deferred;
    if (auto urgent = pending_.find(path); urgent != pending_.end()) {
      // Goes out now anyway; a removal queued already stays a removal (the record is gone).
      if (urgent->second.text) urgent->second.text = std::move(text);
      ++stats_.superseded;
      return;
    }
    SteadyTime due = std::chrono::steady_clock::now() + within;
    earlier = later_.empty() || due < later_due_;
    if (earlier) later_due_ = due;
    auto [it, fresh] = later_.try_emplace(path);
    if (!fresh) ++stats_.superseded;
    it->second = std::move(text);
    start_thread();
  }
  // Only a deadline earlier than the one the thread sleeps until needs it awake (a wakeup per
  // renewal was a few percent of the daemon's CPU).
  if (earlier) wake_.notify_one();
}

void StateWriter::flush() {
  std::unique_lock lock(mutex_);
  ++flushing_;
  wake_.notify_one();
  idle_.wait(lock, [this] { return pending_.empty() && later_.empty() && unsynced_.empty() && !busy_; });
  --flushing_;
}

StateWriter::Stats StateWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void StateWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    // Deferred writes go out at their deadline, on flush() and at the end; urgent ones do not
    // take them along (a CreateEndpoint's record waits for its own file only).
    auto later_now = [this] {
      return !later_.empty() && (stopping_ || flushing_ > 0 || std::chrono::steady_clock::now() >= later_due_);
    };
    auto work = [&] { return !pending_.empty() || !unsynced_.empty() || later_now() || stopping_; };
    if (later_.empty())  // until there is work, or a deferred write whose deadline to sleep until
      wake_.wait(lock, [&] { return work() || !later_.empty(); });
    else
      wake_.wait_until(lock, later_due_, work);
    if (!work()) continue;  // woken before the deadline: wait again
    if (pending_.empty() && later_.empty() && unsynced_.empty()) break;  // stopping, and everything is written
    std::map<std::string, Pending> batch;
    batch.swap(pending_);
    std::vector<std::string> renamed;
    renamed.swap(unsynced_);
    if (later_now()) {
      for (auto& [path, text] : later_) {
        Pending& p = batch[path];
        p.text = std::move(text);
        p.in_place = true;
      }
      later_.clear();
      ++stats_.deferred_batches;
    }
    busy_ = true;
    for (const auto& [path, p] : batch) inflight_.push_back(path);
    lock.unlock();
    write_batch(batch, renamed);
    lock.lock();
    busy_ = false;
    inflight_.clear();
    ++stats_.batches;
    if (pending_.empty() && later_.empty() && unsynced_.empty()) idle_.notify_all();
  }
  idle_.notify_all();
}

void StateWriter::write_batch(std::map<std::string, Pending>& batch, const std::vector<std::string>& renamed) {
  std::map<std::string, Result<void>> results;
  std::set<std::string> directories;
  std::uint64_t written = 0, in_place = 0, gone = 0;
  for (auto& [path, p] : batch) {
    if (!p.in_place) continue;
    InPlace how = p.text ? write_in_place(path, *p.text) : InPlace::Atomic;
    p.in_place = how != InPlace::Atomic;  // done with, either way
    if (p.in_place) results.emplace(path, Result<void>{});
    if (how == InPlace::Written) ++in_place;
    if (how == InPlace::Gone) ++gone;
  }
  // Each new content goes to PATH.tmp, then is renamed over PATH: from then on a daemon started
  // after a kill -9 reads it (the page cache is the kernel's, not ours), and the callbacks are
  // told. The fsyncs come after, in the same batch (below).
  std::size_t texts = renamed.size();
  for (auto& [path, p] : batch) texts += p.text && !p.in_place ? 1 : 0;
  const bool one_sync = texts >= kSyncfsFrom;
  std::string sync_dir;
  std::vector<std::pair<std::string, UniqueFd>> to_sync;  // renamed files, for their fdatasync
  // write_now's files, renamed on the caller's thread: only their syncs are left.
  for (const auto& path : renamed) {
    if (sync_dir.empty()) sync_dir = parent_of(path);
    directories.insert(parent_of(path));
    if (one_sync) continue;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd) to_sync.emplace_back(path, std::move(fd));  // (gone: removed meanwhile, nothing to sync)
  }
  for (auto& [path, p] : batch) {
    if (p.in_place) continue;
    if (p.text) {
      auto fd = write_atomically(path, *p.text);
      if (!fd) {
        results.emplace(path, fd.error());
        continue;
      }
      results.emplace(path, Result<void>{});
      if (sync_dir.empty()) sync_dir = parent_of(path);
      if (!one_sync) to_sync.emplace_back(path, std::move(*fd));
      ++written;
    } else if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
      results.emplace(path, system_error("removing " + path, errno));
      continue;
    } else {
      results.emplace(path, Result<void>{});
    }
    directories.insert(parent_of(path));
  }
  for (auto& [path, p] : batch)
    for (auto& done : p.done) done(results.at(path));
  // Then on disk: the files (one syncfs for a batch of many: one journal commit instead of one
  // per file), then their directories. A host crash before this ends loses the latest records
  // with the containers they describe (none survives a crash); a file renamed before its data
  // reached the disk can then be empty, and is set aside at the next start (StateStore::load).
  std::string sync_failure;
  if (one_sync && !sync_dir.empty()) {
    // (Every path of a batch is in the state directory: one filesystem.)
    UniqueFd dir(::open(sync_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir || ::syncfs(dir.get()) < 0) sync_failure = system_error("syncing the state files in " + sync_dir, errno).message;
    else {
      std::lock_guard lock(mutex_);
      ++stats_.filesystem_syncs;
    }
  }
  for (auto& [path, fd] : to_sync)
    if (::fdatasync(fd.get()) < 0 && sync_failure.empty()) sync_failure = system_error("syncing " + path, errno).message;
  for (const auto& dir : directories) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd) ::fsync(fd.get());
  }
  if (!sync_failure.empty())
    log::warning(sync_failure + ": the state files are written but may not survive a host crash (is the disk failing?)");
  {
    std::lock_guard lock(mutex_);
    stats_.files_written += written;
    stats_.written_in_place += in_place;
    stats_.deferred_dropped += gone;
    stats_.directory_syncs += directories.size();
    if (!sync_failure.empty()) ++stats_.sync_failures;
  }
}

}  // namespace netdhcp
