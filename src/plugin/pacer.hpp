// Spreads many starts over time: a token bucket kept as the time it is full again. Up to
// `burst` starts go at once; beyond that, one every `interval`. Used per bridge for the first
// DISCOVERs of endpoints created together (a boot storm: dockerd restoring restart=always
// containers), so that the LAN's DHCP server is not flooded.
#pragma once

#include <algorithm>

#include "dhcp/clock.hpp"

namespace netdhcp {

class Pacer {
 public:
  Pacer(int burst, Duration interval) : burst_(burst), interval_(interval) {}

  // How long the start asked for at `now` should wait.
  Duration next(TimePoint now) {
    full_at_ = std::max(full_at_, now) + interval_;
    Duration backlog = full_at_ - now;
    Duration allowance = burst_ * interval_;
    return backlog > allowance ? backlog - allowance : Duration::zero();
  }

 private:
  int burst_;
  Duration interval_;
  TimePoint full_at_{};
};

}  // namespace netdhcp
