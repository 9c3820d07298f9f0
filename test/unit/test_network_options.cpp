// The -o options of a network (src/network_options.hpp) and lease_timeout against Docker's own
// plugin timeout.
#include <catch2/catch.hpp>

#include "src/state/network_options.hpp"

using namespace netdhcp;
using namespace std::chrono_literals;

// IPv4 stays on unless Docker says otherwise: it is not an -o option.
TEST_CASE("network options: defaults, and ipv4 is not an -o option", "[options]") {
  auto o = parse_network_options({{"bridge", "br0"}});
  REQUIRE(o);
  REQUIRE(o->ipv4);
  REQUIRE_FALSE(o->ipv6);
  REQUIRE(o->lease_timeout == 10s);
  auto v4 = parse_network_options({{"bridge", "br0"}, {"ipv4", "false"}});
  REQUIRE_FALSE(v4);
  REQUIRE_THAT(v4.error().message, Catch::StartsWith("unknown option ipv4; net-dhcp knows: bridge, ipv6"));
}

// Docker gives up on a managed plugin's call after its timeout (30 s by default): a lease_timeout that,
// with CreateEndpoint's second of overhead, reaches it is refused with the longest that fits.
TEST_CASE("lease_timeout must end before Docker's plugin timeout", "[options]") {
  REQUIRE_FALSE(check_lease_timeout(10s, kDefaultDockerTimeout));
  REQUIRE_FALSE(check_lease_timeout(29s, kDefaultDockerTimeout));
  auto at = check_lease_timeout(30s, kDefaultDockerTimeout);
  REQUIRE(at);
  REQUIRE_THAT(at->message, Catch::StartsWith("option lease_timeout=30s is too long: Docker gives up on this managed "
                                              "plugin's calls after 30 s (docker plugin enable --timeout"));
  REQUIRE_THAT(at->message, Catch::Contains("Use at most lease_timeout=29s"));
  REQUIRE_THAT(at->message, Catch::Contains("docker plugin enable --timeout"));
  REQUIRE(check_lease_timeout(29500ms, kDefaultDockerTimeout));
  REQUIRE_THAT(check_lease_timeout(29500ms, kDefaultDockerTimeout)->message, Catch::StartsWith("option lease_timeout=29.5s"));
  REQUIRE(check_lease_timeout(1h, kDefaultDockerTimeout));
  // A longer Docker timeout (docker plugin enable --timeout 120) lets longer leases wait.
  REQUIRE_FALSE(check_lease_timeout(60s, 120s));
  REQUIRE_THAT(check_lease_timeout(120s, 120s)->message, Catch::Contains("at most lease_timeout=119s"));
  // A socket plugin's calls have no timeout in dockerd: no limit but the option's own (1 h).
  REQUIRE_FALSE(check_lease_timeout(1h, Duration::zero()));
}

TEST_CASE("durations for messages", "[options]") {
  REQUIRE(seconds_text(2s) == "2 s");
  REQUIRE(seconds_text(1500ms) == "1.5 s");
  REQUIRE(seconds_text(30s) == "30 s");
}
