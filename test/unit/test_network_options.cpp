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

namespace {
std::string refusal(std::map<std::string, std::string> generic) {
  auto o = parse_network_options(generic);
  return o ? std::string("(accepted)") : o.error().message;
}
}  // namespace

// bridge=BR alone is bridge mode, as every network made before macvlan mode; parent=IF alone
// is macvlan, as with Docker's macvlan driver.
TEST_CASE("network options: the mode from mode=, bridge= or parent=", "[options]") {
  auto bridge = parse_network_options({{"bridge", "br0"}});
  REQUIRE(bridge);
  CHECK(bridge->mode == NetworkMode::Bridge);
  CHECK(bridge->lan_interface() == "br0");
  CHECK(bridge->lan_text() == "bridge br0");
  auto explicit_bridge = parse_network_options({{"mode", "bridge"}, {"bridge", "br0"}});
  REQUIRE(explicit_bridge);
  CHECK(explicit_bridge->mode == NetworkMode::Bridge);

  auto macvlan = parse_network_options({{"mode", "macvlan"}, {"parent", "eth1"}});
  REQUIRE(macvlan);
  CHECK(macvlan->mode == NetworkMode::Macvlan);
  CHECK(macvlan->parent == "eth1");
  CHECK(macvlan->macvlan_mode == "bridge");
  CHECK(macvlan->lan_interface() == "eth1");
  CHECK(macvlan->lan_text() == "parent eth1 (macvlan)");
  auto implied = parse_network_options({{"parent", "eth1"}});
  REQUIRE(implied);
  CHECK(implied->mode == NetworkMode::Macvlan);
  for (const char* mode : {"bridge", "private", "vepa", "passthru"}) {
    auto m = parse_network_options({{"parent", "eth1"}, {"macvlan_mode", mode}});
    REQUIRE(m);
    CHECK(m->macvlan_mode == mode);
  }
  CHECK(parse_network_options({{"parent", "eth1"}, {"macvlan_mode", "vepa"}})->lan_text() == "parent eth1 (macvlan vepa)");

  auto ipvlan = parse_network_options({{"mode", "ipvlan"}, {"parent", "wlan0"}, {"ipvlan_mode", "l2"}});
  REQUIRE(ipvlan);
  CHECK(ipvlan->mode == NetworkMode::Ipvlan);
  CHECK(ipvlan->lan_text() == "parent wlan0 (ipvlan L2)");
  CHECK(parse_network_options({{"mode", "ipvlan"}, {"parent", "wlan0"}}));
  CHECK(parse_network_options({{"mode", "macvlan"}, {"parent", "eth0.10"}})->parent == "eth0.10");
}

// Each wrong combination is refused with what to write instead.
TEST_CASE("network options: mode, parent, macvlan_mode and ipvlan_mode errors", "[options]") {
  CHECK(refusal({}) == "the bridge option is required: docker network create -d net-dhcp --ipam-driver null -o bridge=BRIDGE "
                       "NAME (or, with no bridge, -o mode=macvlan -o parent=IF)");
  CHECK(refusal({{"mode", "vlan"}, {"parent", "eth1"}}) ==
        "option mode=vlan must be bridge (a veth pair per container on -o bridge=BRIDGE), macvlan or ipvlan (a child of "
        "-o parent=IF per container, no bridge needed)");
  CHECK(refusal({{"mode", "macvlan"}}) ==
        "-o mode=macvlan needs -o parent=IF, the host interface on the LAN (e.g. -o parent=eth0, or eth0.10 for its VLAN 10, "
        "which is created if missing)");
  CHECK_THAT(refusal({{"mode", "ipvlan"}}), Catch::StartsWith("-o mode=ipvlan needs -o parent=IF"));
  CHECK(refusal({{"mode", "macvlan"}, {"bridge", "br0"}, {"parent", "eth1"}}) ==
        "option bridge=br0 is for bridge mode; -o mode=macvlan attaches containers to a host interface without a bridge: "
        "-o parent=IF (-o parent=br0 puts macvlan children on the bridge itself)");
  CHECK(refusal({{"mode", "bridge"}, {"bridge", "br0"}, {"parent", "eth1"}}) ==
        "option parent=eth1 is for -o mode=macvlan or -o mode=ipvlan; bridge mode attaches containers to -o bridge=BRIDGE");
  CHECK(refusal({{"bridge", "br0"}, {"parent", "eth1"}}) ==
        "options bridge=br0 and parent=eth1 name two ways of attaching containers: -o bridge=br0 alone for a veth pair per "
        "container on that bridge, or -o mode=macvlan -o parent=eth1 for macvlan children of eth1 (no bridge)");
  CHECK_THAT(refusal({{"parent", "eth/1"}}), Catch::StartsWith("option parent=eth/1 is not an interface name (1 to 15 characters"));
  CHECK_THAT(refusal({{"parent", "a-very-long-interface"}}), Catch::StartsWith("option parent=a-very-long-interface is not an interface name"));
  CHECK_THAT(refusal({{"parent", ""}}), Catch::StartsWith("option parent= is not an interface name"));
  CHECK(refusal({{"parent", "eth1"}, {"macvlan_mode", "source"}}) ==
        "option macvlan_mode=source must be bridge (the default: containers reach each other and the LAN), private, vepa "
        "or passthru (one container takes the parent whole)");
  CHECK(refusal({{"mode", "ipvlan"}, {"parent", "eth1"}, {"macvlan_mode", "bridge"}}) ==
        "option macvlan_mode is for -o mode=macvlan (this network's mode is ipvlan)");
  CHECK(refusal({{"bridge", "br0"}, {"ipvlan_mode", "l2"}}) == "option ipvlan_mode is for -o mode=ipvlan (this network's mode is bridge)");
  // L3 and L3S route instead of bridging: no broadcast reaches the LAN, so no DHCP.
  for (const char* l3 : {"l3", "l3s"}) {
    std::string message = refusal({{"mode", "ipvlan"}, {"parent", "eth1"}, {"ipvlan_mode", l3}});
    CHECK(message == "option ipvlan_mode=" + std::string(l3) + " cannot work with DHCP: in ipvlan's L3 modes the parent "
                     "routes the containers' traffic and passes no broadcasts, so no DHCPDISCOVER reaches the LAN and no "
                     "offer comes back. Use -o ipvlan_mode=l2 (the default), or -o mode=macvlan");
  }
  CHECK(refusal({{"mode", "ipvlan"}, {"parent", "eth1"}, {"ipvlan_mode", "l4"}}) ==
        "option ipvlan_mode=l4 must be l2 (l3 and l3s pass no broadcasts, so no DHCP)");
  CHECK_THAT(refusal({{"parent", "eth1"}, {"ipvlan_flag", "bridge"}}),
             Catch::StartsWith("unknown option ipvlan_flag; net-dhcp knows: bridge, ipv6, ") &&
                 Catch::Contains("mode, parent, macvlan_mode, ipvlan_mode"));
}

// What the state file keeps reads back the same; a bridge network's entry is what every
// earlier version wrote (no mode key).
TEST_CASE("network options: to the state file's form and back", "[options]") {
  auto bridge = parse_network_options({{"bridge", "br0"}, {"ipv6", "true"}, {"gateway", "192.0.2.1"}}).value();
  auto generic = network_options_to_generic(bridge);
  CHECK_FALSE(generic.count("mode"));
  CHECK_FALSE(generic.count("parent"));
  CHECK(generic.at("bridge") == "br0");
  auto again = parse_network_options(generic).value();
  CHECK(again.mode == NetworkMode::Bridge);
  CHECK(again.ipv6);
  CHECK(again.gateway->to_string() == "192.0.2.1");

  auto macvlan = parse_network_options({{"parent", "eth1.10"}, {"macvlan_mode", "passthru"}, {"lease_timeout", "5s"}}).value();
  generic = network_options_to_generic(macvlan);
  CHECK(generic.at("mode") == "macvlan");
  CHECK(generic.at("parent") == "eth1.10");
  CHECK(generic.at("macvlan_mode") == "passthru");
  CHECK_FALSE(generic.count("bridge"));
  auto back = parse_network_options(generic).value();
  CHECK(back.mode == NetworkMode::Macvlan);
  CHECK(back.parent == "eth1.10");
  CHECK(back.macvlan_mode == "passthru");
  CHECK(back.lease_timeout == 5s);

  auto ipvlan = parse_network_options({{"mode", "ipvlan"}, {"parent", "eth1"}}).value();
  generic = network_options_to_generic(ipvlan);
  CHECK(generic.at("ipvlan_mode") == "l2");
  CHECK(parse_network_options(generic)->mode == NetworkMode::Ipvlan);
}

// parent=IF.VID names VLAN VID of IF, as Docker's macvlan driver reads it.
TEST_CASE("network options: parent=IF.VID", "[options]") {
  auto v = parse_vlan_name("eth0.10");
  REQUIRE(v);
  CHECK(v->base == "eth0");
  CHECK(v->vlan_id == 10);
  CHECK(parse_vlan_name("bond0.4094")->vlan_id == 4094);
  CHECK(parse_vlan_name("a.b.1")->base == "a.b");
  CHECK_FALSE(parse_vlan_name("eth0"));
  CHECK_FALSE(parse_vlan_name("eth0.0"));
  CHECK_FALSE(parse_vlan_name("eth0.4095"));
  CHECK_FALSE(parse_vlan_name("eth0.10a"));
  CHECK_FALSE(parse_vlan_name(".10"));
  CHECK_FALSE(parse_vlan_name("eth0."));
  CHECK_FALSE(parse_vlan_name("eth0.00010"));
}
