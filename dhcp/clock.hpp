// Time and randomness as the DHCP state machines see them: always passed in, never read.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>
#include <functional>

namespace netdhcp {

// CLOCK_BOOTTIME: monotonic like steady_clock (CLOCK_MONOTONIC), but it also counts the time
// the host was suspended. A lease runs on the server's clock, which does not stop while this
// host sleeps: after a night's suspend a 1 h lease must be seen as expired, not as fresh (the
// same reason systemd's sd-dhcp-client arms its lease timers on CLOCK_BOOTTIME). The state
// machines never call now(); the daemon's timers (asio::basic_waitable_timer<Clock>) do.
struct BootClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<BootClock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return time_point(duration(static_cast<rep>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec));
  }
};

using Clock = BootClock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;
using Seconds = std::chrono::seconds;
using Milliseconds = std::chrono::milliseconds;

// Returns uniformly distributed 32-bit values. Tests inject a fixed sequence.
using RandomSource = std::function<std::uint32_t()>;

// A uniformly distributed duration in [low, high].
inline Duration random_between(const RandomSource& random, Duration low, Duration high) {
  if (high <= low) return low;
  auto span = static_cast<double>((high - low).count());
  double fraction = static_cast<double>(random()) / 4294967295.0;
  return low + Duration(static_cast<Duration::rep>(span * fraction));
}

}  // namespace netdhcp
