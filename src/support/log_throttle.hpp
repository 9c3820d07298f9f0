// A log line for something that can happen thousands of times a second (a send error under a
// retransmitting client, a flood): the first occurrence is written at once, later ones at most
// once per interval, each line saying how many occurrences it stands for. Time is passed in.
#pragma once

#include <cstdint>
#include <utility>

#include "dhcp/clock.hpp"

namespace netdhcp {

class LogThrottle {
 public:
  explicit LogThrottle(Duration interval) : interval_(interval) {}

  // Call on every occurrence. Returns how many occurrences a line written now reports (this
  // one and those held back since the last line), or 0: write nothing for this one.
  std::uint64_t occurred(TimePoint now) {
    ++held_;
    if (written_ && now - last_line_ < interval_) return 0;
    written_ = true;
    last_line_ = now;
    return std::exchange(held_, 0);
  }

 private:
  Duration interval_;
  bool written_ = false;
  TimePoint last_line_{};
  std::uint64_t held_ = 0;
};

}  // namespace netdhcp
