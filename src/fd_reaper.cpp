#include "src/fd_reaper.hpp"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace netdhcp {

namespace {
class Reaper {
 public:
  void push(int fd) {
    {
      std::lock_guard lock(mutex_);
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
      fds_.push_back(fd);
    }
    wake_.notify_one();
  }
  ~Reaper() {
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
      wake_.wait(lock, [this] { return stopping_ || !fds_.empty(); });
      while (!fds_.empty()) {
        int fd = fds_.front();
        fds_.pop_front();
        lock.unlock();
        ::close(fd);
        lock.lock();
      }
      if (stopping_) return;
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<int> fds_;
  bool stopping_ = false;
  std::thread thread_;
};
Reaper g_reaper;
}  // namespace

void close_later(int fd) {
  if (fd >= 0) g_reaper.push(fd);
}

}  // namespace netdhcp
