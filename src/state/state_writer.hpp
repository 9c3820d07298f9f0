// Writes the state files on a thread of its own, so that no fsync ever runs on the event loop.
// Each file is still written atomically (PATH.tmp, fdatasync, rename; for a batch of many files
// one syncfs instead of the fdatasyncs), but everything queued
// while a batch was being written goes out together: the renames of a batch share one fsync of
// their directory, and a record written again before it reached the disk is written once, with
// its latest text. A caller that must know its record is on disk before it answers Docker
// (CreateEndpoint, Join) passes a callback; it runs on the writer thread once the batch that
// holds that text is durable.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "netdhcp/result.hpp"

namespace netdhcp {

class StateWriter {
 public:
  using Done = std::function<void(const Result<void>&)>;

  StateWriter() = default;
  // Writes what is still queued, then stops the thread.
  ~StateWriter();
  StateWriter(const StateWriter&) = delete;
  StateWriter& operator=(const StateWriter&) = delete;

  // Queues `text` as the new content of `path`; replaces a queued write or removal of it.
  void write(const std::string& path, std::string text, Done done = {});
  // Queues the removal of `path` (missing already: fine); replaces a queued write of it.
  void remove(const std::string& path, Done done = {});
  // Blocks until everything queued before the call is on disk (SIGTERM, tests).
  void flush();

  struct Stats {
    std::uint64_t batches = 0;        // rounds of writing
    std::uint64_t files_written = 0;  // atomic writes done
    std::uint64_t superseded = 0;     // writes replaced by a later one before they were done
    std::uint64_t directory_syncs = 0;
    std::uint64_t filesystem_syncs = 0;  // batches of many files made durable by one syncfs()
  };
  Stats stats() const;

 private:
  struct Pending {
    std::optional<std::string> text;  // nullopt: remove the file
    std::vector<Done> done;
  };
  void queue(const std::string& path, std::optional<std::string> text, Done done);
  void run();
  void write_batch(std::map<std::string, Pending>& batch);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::map<std::string, Pending> pending_;
  bool busy_ = false;  // a batch is being written
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;  // started with the first write
};

}  // namespace netdhcp
