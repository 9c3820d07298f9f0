#include "src/support/reactor_slots.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>

namespace netdhcp {

void ReactorSlots::acquire(const asio::any_io_executor& executor) {
  ++held_;
  if (held_ <= made_) return;
  // Watching n descriptors at once takes n states from the reactor: the spare ones on its free
  // list first, then from malloc: freed chunks of that size lying about the heap, then new ones
  // side by side. Batches double (as many as made so far, from kBatch to kMaxBatch fds at once), so that most of a
  // big one is new memory in one piece. Closed, all of them go back to the free list, for the
  // slots to come.
  const std::size_t n = std::clamp(made_, kBatch, kMaxBatch);
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
}

ReactorSlot::ReactorSlot(const asio::any_io_executor& executor)
    : slots_(asio::use_service<ReactorSlots>(asio::query(executor, asio::execution::context))) {
  slots_.acquire(executor);
}

}  // namespace netdhcp
