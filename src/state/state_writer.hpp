// Writes the state files on a thread of its own, so that no fsync ever runs on the event loop.
// Each file is written whole to PATH.tmp and renamed over PATH, so a reader sees the old
// content or the new, never a mix; everything queued while a batch was being written goes out
// together, and a record written again before it was written is written once, with its latest
// text. A caller that must know its record will be read by the next daemon before it answers
// Docker (CreateEndpoint, Join) passes a callback: it runs on the writer thread once the rename
// is done. That is all a kill -9 needs (the file is the kernel's from then on, and no process
// death loses it). The batch then makes itself durable: an fdatasync of each file (one
// syncfs for a batch of many) and an fsync of the directory, without Docker waiting for them:
// a host crash ends every container, and a record lost with them costs only a lease the
// server keeps until it expires. Waiting for those syncs had been a third of what
// CreateEndpoint and Join cost (scripts/bench containers, the daemon's debug log), and dockerd
// calls CreateEndpoint for one network at a time. Those callers now use write_now(): the write
// and the rename on their own thread (no handoff to wait for), the syncs still here.
//
// Writes that need no hurry (a renewal that kept the address: a kill -9 that loses it loses
// only a later expiry, see Endpoint::on_event4) are queued with write_later(): they wait for
// their deadline, then all of them go out in one batch, each over the file's old content in
// place: one pwrite() of one page at offset 0, padded with spaces (JSON's whitespace) to the old
// length, so that no kill -9 can tear it (the kernel checks for a fatal signal between pages),
// with no new inode, rename, fdatasync or directory fsync. The file is on disk when the kernel
// writes it back; a host crash before that loses the renewal with the containers it described.
// A thousand endpoints renewing had cost a temporary file, an fdatasync and a directory fsync per
// renewal: most of the daemon's CPU while renewing (test/e2e/scale.sh, with perf). A file that
// does not exist yet, or a text longer than a page, is written the atomic way.
#pragma once

#include <chrono>
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
  // The same, but the file is written and renamed on the calling thread, and `done` called
  // there before this returns, when nothing else of `path` is queued or being written (else it
  // is queued behind that, as write() would: a file's writes never overtake each other). Only
  // its syncs are left to the thread. For a caller about to wait for `done` (CreateEndpoint,
  // Join): a write and a rename take ~0.1 ms, where handing them to the thread and hearing back
  // took 1-11 ms on a machine busy starting containers (two thread wakeups; scripts/bench
  // containers, the daemon's debug log), and dockerd 20.10 waits for each CreateEndpoint before
  // the next. A write_later of `path` still waiting is replaced.
  void write_now(const std::string& path, std::string text, Done done);
  // Queues `text` for `path` with no hurry: on disk at the latest `within` from now, together
  // with every other such write then waiting, or sooner on flush() or destruction. A queued
  // write or removal of `path` takes the text and keeps its own urgency; a write_later already
  // queued keeps its earlier deadline (a record rewritten at every renewal still gets out).
  void write_later(const std::string& path, std::string text, std::chrono::milliseconds within);
  // Queues the removal of `path` (missing already: fine); replaces a queued write of it.
  void remove(const std::string& path, Done done = {});
  // Blocks until everything queued before the call is on disk, write_later's too (SIGTERM, tests).
  void flush();

  struct Stats {
    std::uint64_t batches = 0;        // rounds of writing
    std::uint64_t files_written = 0;  // atomic writes done
    std::uint64_t superseded = 0;     // writes replaced by a later one before they were done
    std::uint64_t directory_syncs = 0;
    std::uint64_t filesystem_syncs = 0;  // batches of many files made durable by one syncfs()
    std::uint64_t deferred = 0;          // write_later() calls
    std::uint64_t deferred_batches = 0;  // batches that took the deferred writes out
    std::uint64_t written_in_place = 0;  // deferred writes done over the old content
    std::uint64_t deferred_dropped = 0;  // deferred writes of a file removed meanwhile
    std::uint64_t sync_failures = 0;     // batches whose fdatasync, syncfs failed (after the renames)
    std::uint64_t written_now = 0;       // write_now() calls written on the caller's thread (in files_written)
  };
  Stats stats() const;

 private:
  struct Pending {
    std::optional<std::string> text;  // nullopt: remove the file
    std::vector<Done> done;
    bool in_place = false;  // a deferred write: over the old content (see above)
  };
  using SteadyTime = std::chrono::steady_clock::time_point;
  void queue(const std::string& path, std::optional<std::string> text, Done done);
  void start_thread();
  void run();
  void write_batch(std::map<std::string, Pending>& batch, const std::vector<std::string>& renamed);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::map<std::string, Pending> pending_;    // to write now
  std::map<std::string, std::string> later_;  // write_later's, until later_due_ (or a flush)
  SteadyTime later_due_{};
  std::vector<std::string> unsynced_;  // renamed by write_now, to sync with the next batch
  std::vector<std::string> inflight_;  // the paths of the batch being written
  int flushing_ = 0;   // flush() calls waiting: the deferred writes go out now
  bool busy_ = false;  // a batch is being written
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;  // started with the first write
};

}  // namespace netdhcp
