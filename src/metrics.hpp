// Counters for `net-dhcp serve --metrics`: Prometheus text format (version 0.0.4). Endpoints
// count what happens to their leases here; the gauges (endpoints, leases held) are read from
// the driver when the page is rendered. Single-threaded, like the rest of the daemon.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "dhcp/clock.hpp"

namespace netdhcp {

class Metrics {
 public:
  enum class Family { V4, V6 };

  void lease_obtained(Family f) { ++family(f).obtained; }
  void lease_renewed(Family f) { ++family(f).renewed; }
  void lease_lost(Family f, const std::string& reason) { ++family(f).lost[reason]; }
  void create_failed() { ++create_failures_; }
  void readopted() { ++readopted_; }
  // The time from a REQUEST (or RENEW/REBIND) to its answer.
  void round_trip(Family f, Duration d);

  struct Gauges {
    std::size_t networks = 0;
    std::size_t endpoints = 0;
    std::size_t leases4 = 0;
    std::size_t leases6 = 0;
  };
  std::string render(const Gauges& gauges) const;

  static constexpr std::array<double, 9> kBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1, 5};

 private:
  struct PerFamily {
    std::uint64_t obtained = 0;
    std::uint64_t renewed = 0;
    std::map<std::string, std::uint64_t> lost;
    std::array<std::uint64_t, kBuckets.size()> bucket{};
    std::uint64_t rtt_count = 0;
    double rtt_sum = 0;
  };
  PerFamily& family(Family f) { return f == Family::V4 ? v4_ : v6_; }
  PerFamily v4_, v6_;
  std::uint64_t create_failures_ = 0;
  std::uint64_t readopted_ = 0;
};

}  // namespace netdhcp
