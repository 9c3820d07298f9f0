// The daemon's clock (dhcp/clock.hpp): CLOCK_BOOTTIME, which counts the time a suspended host
// slept, so that a lease's deadlines do too; and the daemon's timers run on it.
#include <time.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <type_traits>

#include "dhcp/clock.hpp"
#include "src/support/asio.hpp"

using namespace netdhcp;
using namespace std::chrono_literals;

namespace {

std::chrono::nanoseconds read(clockid_t id) {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace

TEST_CASE("Clock reads CLOCK_BOOTTIME") {
  static_assert(std::is_same_v<Clock, BootClock>);
  static_assert(Clock::is_steady);
  // Bracketed by two readings of CLOCK_BOOTTIME itself. (CLOCK_MONOTONIC lags it by the time
  // the host has been suspended; on a machine never suspended the two agree to within
  // nanoseconds, in either order, so only the bracket can tell them apart here.)
  auto before = read(CLOCK_BOOTTIME);
  auto now = Clock::now().time_since_epoch();
  auto after = read(CLOCK_BOOTTIME);
  CHECK(before <= now);
  CHECK(now <= after);
}

TEST_CASE("the daemon's timers wait on Clock: a deadline in Clock's time points fires") {
  asio::io_context io;
  Timer timer(io);
  TimePoint deadline = Clock::now() + 20ms;
  timer.expires_at(deadline);
  bool fired = false;
  timer.async_wait([&](const boost::system::error_code& ec) { fired = !ec; });
  io.run_for(5s);
  CHECK(fired);
  CHECK(Clock::now() >= deadline);
}
