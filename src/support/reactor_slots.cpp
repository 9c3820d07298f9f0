#include "src/support/reactor_slots.hpp"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <vector>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>

namespace netdhcp {

namespace {

// How many more descriptors a batch may open: half of what the fd limit leaves, so that the
// threads working meanwhile (link deletions, /proc scans) are never the ones refused.
std::size_t fd_headroom() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur == RLIM_INFINITY) return ReactorSlots::kMaxBatch;
  std::error_code ec;
  std::size_t open = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    ++open;
  if (ec) return 0;
  return limit.rlim_cur > open ? (limit.rlim_cur - open) / 2 : 0;
}

}  // namespace

void ReactorSlots::acquire(const asio::any_io_executor& executor) {
  if (held_ < made_) {
    ++held_;
    return;
  }
  // Watching n descriptors at once takes n states from the reactor: the spare ones on its free
  // list first, then from malloc: freed chunks of that size lying about the heap, then new ones
  // side by side. Each batch is as big as all made before it (from kBatch to kMaxBatch fds at
  // once), so that most of a big one is new memory in one piece. Closed, all of them go back to
  // the free list, for the slots to come.
  const std::size_t n = std::min(std::clamp(made_, kBatch, kMaxBatch), fd_headroom());
  std::vector<asio::posix::stream_descriptor> batch;
  batch.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) break;
    boost::system::error_code ec;
    asio::posix::stream_descriptor watched(executor);
    watched.assign(fd, ec);
    if (ec) {
      ::close(fd);
      break;
    }
    batch.push_back(std::move(watched));
  }
  made_ += batch.size();
  ++held_;
}

ReactorSlot::ReactorSlot(const asio::any_io_executor& executor)
    : slots_(asio::use_service<ReactorSlots>(asio::query(executor, asio::execution::context))) {
  slots_.acquire(executor);
}

}  // namespace netdhcp
