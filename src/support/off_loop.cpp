#include "src/support/off_loop.hpp"

#include <boost/asio/thread_pool.hpp>

namespace netdhcp {

namespace {
// Two threads, so that a /proc scan need not queue behind a dump waiting for RTNL. Made on
// first use, from the event loop, so that they start in the host's network namespace.
asio::thread_pool& threads() {
  static asio::thread_pool pool(2);
  return pool;
}
}  // namespace

void off_loop_detail::submit(std::function<void()> job) { asio::post(threads(), std::move(job)); }

void join_off_loop() { threads().join(); }

}  // namespace netdhcp
