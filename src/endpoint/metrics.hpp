// Counters for `net-dhcp serve --metrics`: Prometheus text format (version 0.0.4). Endpoints
// count what happens to their leases here; the gauges (endpoints, leases held) are read from
// the driver when the page is rendered. Single-threaded, like the rest of the daemon.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <string>

#include "dhcp/clock.hpp"
#include "dhcp/dhcp4_client.hpp"
#include "dhcp/dhcp6_client.hpp"
#include "dhcp/loss_reason.hpp"

namespace netdhcp {

class Metrics {
 public:
  enum class Outcome { Obtained, Renewed, Lost, Uncounted };
  enum class Family { V4, V6 };
  // A client's event, by its typed kind and loss reason: Bound counts as obtained, Renewed and
  // AddressChanged as renewed, an event with a loss reason as lost for that reason; Released
  // (the owner's own doing) is not counted. `round_trip`: the time from the REQUEST (or
  // RENEW/REBIND) to its answer, if there was one.
  void lease_event(const dhcp4::Event& event, std::optional<Duration> round_trip);
  void lease_event(const dhcp6::Event& event, std::optional<Duration> round_trip);
  void create_failed() { ++create_failures_; }
  void readopted() { ++readopted_; }
  void internal_failure() { ++internal_failures_; }
  void follow_failed() { ++follow_failures_; }
  // A packet the socket could not send (the client retransmits it as if it was lost).
  void send_failed(Family family) { ++(family == Family::V4 ? v4_ : v6_).send_errors; }

  struct Gauges {
    std::size_t networks = 0;
    std::size_t endpoints = 0;
    std::size_t leases4 = 0;
    std::size_t leases6 = 0;
    // By network mode: "bridge", "macvlan", "ipvlan" (each rendered, 0 included).
    std::map<std::string, std::size_t> endpoints_by_mode{{"bridge", 0}, {"macvlan", 0}, {"ipvlan", 0}};
  };
  std::string render(const Gauges& gauges) const;

  static constexpr std::array<double, 9> kBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1, 5};

 private:
  struct PerFamily {
    std::uint64_t obtained = 0;
    std::uint64_t renewed = 0;
    std::map<LossReason, std::uint64_t> lost;
    std::uint64_t send_errors = 0;
    std::array<std::uint64_t, kBuckets.size()> bucket{};
    std::uint64_t rtt_count = 0;
    double rtt_sum = 0;
  };
  void count(PerFamily& p, Outcome outcome, LossReason loss, std::optional<Duration> round_trip);
  PerFamily v4_, v6_;
  std::uint64_t create_failures_ = 0;
  std::uint64_t readopted_ = 0;
  std::uint64_t internal_failures_ = 0;
  std::uint64_t follow_failures_ = 0;
};

}  // namespace netdhcp
