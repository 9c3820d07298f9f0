#include "src/support/background.hpp"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace netdhcp {

namespace {
class Worker {
 public:
  void push(std::function<void()> work) {
    {
      std::lock_guard lock(mutex_);
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
      queue_.push_back(std::move(work));
    }
    wake_.notify_one();
  }
  // At exit, everything queued is still done (a veth must not outlive the daemon's intent).
  ~Worker() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
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
  std::thread thread_;
};
Worker g_worker;
}  // namespace

void close_later(int fd) {
  if (fd >= 0) g_worker.push([fd] { ::close(fd); });
}

void run_later(std::function<void()> work) { g_worker.push(std::move(work)); }

}  // namespace netdhcp
