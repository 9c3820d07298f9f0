#include "src/support/background.hpp"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace netdhcp {

namespace {
// A queue and up to `max_threads` threads taking work from it, started as the work comes (one
// thread: the work is done in order).
class Worker {
 public:
  explicit Worker(std::size_t max_threads) : max_threads_(max_threads) {}
  void push(std::function<void()> work) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(work));
      if (idle_ < queue_.size() && threads_.size() < max_threads_) threads_.emplace_back([this] { loop(); });
    }
    wake_.notify_one();
  }
  // At exit, everything queued is still done (a veth must not outlive the daemon's intent).
  ~Worker() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) thread.join();
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      ++idle_;
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      --idle_;
      while (!queue_.empty()) {
        auto work = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        work();
        lock.lock();
      }
      if (stopping_) return;
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  const std::size_t max_threads_;
  std::size_t idle_ = 0;  // threads waiting for work
  std::vector<std::thread> threads_;
};
Worker g_worker(1);
// At shutdown closes need no order, and each one waits out a grace period of its own: several
// at once share them. With one thread, the 200 packet sockets closed at SIGTERM took 3.3 s
// (test/e2e/scale.sh), 16 ms apiece. While serving, closes stay in order with the rest: an
// endpoint's sockets are closed before its veth is deleted, and the RELEASE just sent through
// them has left by then (deleted at once, the frame queued on the veth, or waiting for the
// server's neighbour entry, is dropped: seen in CI with the ASan daemon).
Worker g_closer(8);
std::atomic<bool> g_shutting_down{false};
}  // namespace

void close_later(int fd) {
  if (fd < 0) return;
  (g_shutting_down ? g_closer : g_worker).push([fd] { ::close(fd); });
}

void close_in_parallel_from_now() { g_shutting_down = true; }

void run_later(std::function<void()> work) { g_worker.push(std::move(work)); }

}  // namespace netdhcp
