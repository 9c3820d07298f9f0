#include "src/state/state_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "netdhcp/unique_fd.hpp"

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

// PATH.tmp with `text`; on disk (fdatasync) before the rename makes it PATH, unless the caller
// syncs the filesystem itself (`sync` false).
Result<void> write_temporary(const std::string& path, const std::string& text, bool sync) {
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
  if (sync && ::fdatasync(fd.get()) < 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    return system_error("writing " + temporary, saved);
  }
  return {};
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

void StateWriter::queue(const std::string& path, std::optional<std::string> text, Done done) {
  {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = pending_.try_emplace(path);
    if (!fresh) ++stats_.superseded;
    it->second.text = std::move(text);
    if (done) it->second.done.push_back(std::move(done));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  wake_.notify_one();
}

void StateWriter::flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return pending_.empty() && !busy_; });
}

StateWriter::Stats StateWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void StateWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) break;  // stopping, and everything is written
    std::map<std::string, Pending> batch;
    batch.swap(pending_);
    busy_ = true;
    lock.unlock();
    write_batch(batch);
    lock.lock();
    busy_ = false;
    ++stats_.batches;
    if (pending_.empty()) idle_.notify_all();
  }
  idle_.notify_all();
}

void StateWriter::write_batch(std::map<std::string, Pending>& batch) {
  std::map<std::string, Result<void>> results;
  std::set<std::string> directories;
  std::uint64_t written = 0;
  // Every file's new content on disk first, then the renames (and removals), then one fsync of
  // each directory: a crash at any point leaves each file either old or new, never torn.
  std::size_t texts = 0;
  for (auto& [path, p] : batch) texts += p.text ? 1 : 0;
  const bool one_sync = texts >= kSyncfsFrom;
  std::string sync_dir;
  for (auto& [path, p] : batch) {
    if (p.text) {
      auto r = write_temporary(path, *p.text, !one_sync);
      if (r && sync_dir.empty()) sync_dir = parent_of(path);
      results.emplace(path, r);
    }
  }
  if (one_sync && !sync_dir.empty()) {
    // (Every path of a batch is in the state directory: one filesystem.)
    UniqueFd dir(::open(sync_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir || ::syncfs(dir.get()) < 0) {
      Result<void> failed = system_error("syncing the state files in " + sync_dir, errno);
      for (auto& [path, p] : batch)
        if (p.text && results.at(path)) {
          ::unlink((path + ".tmp").c_str());  // the old file stays
          results[path] = failed;
        }
    } else {
      std::lock_guard lock(mutex_);
      ++stats_.filesystem_syncs;
    }
  }
  for (auto& [path, p] : batch) {
    if (p.text) {
      if (!results.at(path)) continue;
      if (::rename((path + ".tmp").c_str(), path.c_str()) < 0) {
        results[path] = system_error("renaming " + path + ".tmp", errno);
        continue;
      }
      ++written;
    } else if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
      results.emplace(path, system_error("removing " + path, errno));
      continue;
    } else {
      results.emplace(path, Result<void>{});
    }
    directories.insert(parent_of(path));
  }
  for (const auto& dir : directories) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd) ::fsync(fd.get());
  }
  {
    std::lock_guard lock(mutex_);
    stats_.files_written += written;
    stats_.directory_syncs += directories.size();
  }
  for (auto& [path, p] : batch)
    for (auto& done : p.done) done(results.at(path));
}

}  // namespace netdhcp
