// Time and randomness as the DHCP state machines see them: always passed in, never read.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace netdhcp {

using Clock = std::chrono::steady_clock;
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
