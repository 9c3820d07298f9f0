// Where Asio's reactor keeps its per-descriptor state, so that a thousand endpoints gone do not
// leave hundreds of heap pages resident.
//
// Asio's epoll reactor gives each descriptor it watches a state object (a 176-byte chunk) and
// never frees one: when the descriptor is closed the state goes to a free list, for the next
// descriptor. Made one at a time as endpoints came, those states lay one or two to a 4 KB page
// among each endpoint's own memory, and once the endpoints were gone they kept those pages
// resident: with 1000 endpoints torn down (test/e2e/scale.sh, 2026-12-06), 1005 states on 841
// pages held 3.3 MB of the heap's 4.4 MB still resident, after malloc_trim.
//
// Each long-lived watched descriptor (a DHCP session's socket, an endpoint's router
// advertisement reader) holds a ReactorSlot. When the slots held outgrow the states made so far,
// a batch is made at once (that many eventfds watched, then closed), mostly side by side, and
// the freed memory around them goes back with malloc_trim: the same run then left 1039 states
// on 91 pages. It only places memory: a batch takes at most half the fds the limit leaves, and
// one that fails (no fds left) changes nothing but where the states lie.
#pragma once

#include <cstddef>

#include "src/support/asio.hpp"

namespace netdhcp {

// One per execution context (an Asio service): the count of slots held and states made.
class ReactorSlots : public asio::execution_context::service {
 public:
  static constexpr std::size_t kBatch = 64;
  static constexpr std::size_t kMaxBatch = 1024;
  using key_type = ReactorSlots;
  static inline asio::execution_context::id id;

  explicit ReactorSlots(asio::execution_context& context) : asio::execution_context::service(context) {}

  // A slot for one more watched descriptor; makes a batch of states first if none is spare.
  void acquire(const asio::any_io_executor& executor);
  void release() { --held_; }

  std::size_t held() const { return held_; }
  // States made in batches (the reactor may have more, made one at a time by others).
  std::size_t made() const { return made_; }

 private:
  void shutdown() override {}

  std::size_t held_ = 0;
  std::size_t made_ = 0;
};

// Held beside a long-lived asio descriptor, constructed before it.
class ReactorSlot {
 public:
  explicit ReactorSlot(const asio::any_io_executor& executor);
  ~ReactorSlot() { slots_.release(); }
  ReactorSlot(const ReactorSlot&) = delete;
  ReactorSlot& operator=(const ReactorSlot&) = delete;

 private:
  ReactorSlots& slots_;
};

}  // namespace netdhcp
