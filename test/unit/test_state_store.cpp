// The daemon's state on disk (src/state_store.hpp): leases and endpoint records survive a
// round trip, and files that cannot be used are set aside with a message, never fatal.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "test/unit/helpers.hpp"
#include "src/state/state_store.hpp"

using namespace netdhcp;
using netdhcp::test::TempDir;
using namespace std::chrono_literals;

namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

dhcp4::Lease sample_lease4() {
  dhcp4::Lease l;
  l.address = *Ipv4Address::parse("198.18.0.150");
  l.prefix_length = 24;
  l.server_id = *Ipv4Address::parse("198.18.0.1");
  l.routers = {*Ipv4Address::parse("198.18.0.1")};
  l.classless_routes = {{*Ipv4Address::parse("198.19.0.0"), 16, *Ipv4Address::parse("198.18.0.254")}};
  l.dns_servers = {*Ipv4Address::parse("198.18.0.53")};
  l.domain_name = "lan.test";
  l.search_domains = {"lan.test", "corp.test"};
  l.hostname = "box";
  l.mtu = 1400;
  l.broadcast = *Ipv4Address::parse("198.18.0.255");
  l.lease_time = 120s;
  l.t1 = 60s;
  l.t2 = 105s;
  l.acquired_at = Clock::now() - 30s;
  return l;
}

dhcp6::Lease sample_lease6() {
  dhcp6::Lease l;
  l.address = *Ipv6Address::parse("fd00:18::1a");
  l.preferred_lifetime = 100s;
  l.valid_lifetime = 200s;
  l.t1 = 50s;
  l.t2 = 80s;
  l.iaid = 0xdeadbeef;
  l.server_duid = {std::byte{0}, std::byte{1}, std::byte{0xab}};
  l.server_address = *Ipv6Address::parse("fe80::1");
  l.dns_servers = {*Ipv6Address::parse("fd00:18::1")};
  l.search_domains = {"lan.test"};
  l.acquired_at = Clock::now() - 10s;
  return l;
}

// Times are stored in milliseconds of wall-clock time: equal within a few ms.
void require_close(TimePoint a, TimePoint b) {
  auto d = a > b ? a - b : b - a;
  REQUIRE(d < 50ms);
}

}  // namespace

// Through JSON and back: equal, with times within a few ms (stored as wall-clock ms).
template <class Lease, class Parse>
void require_round_trip(const Lease& lease, Parse parse) {
  auto back = parse(json::parse(json::serialize(lease_to_json(lease))));
  REQUIRE(back);
  require_close(back->acquired_at, lease.acquired_at);
  back->acquired_at = lease.acquired_at;
  REQUIRE(*back == lease);
}

TEST_CASE("DHCPv4 and DHCPv6 leases survive the trip through JSON", "[state]") {
  require_round_trip(sample_lease4(), lease4_from_json);
  require_round_trip(sample_lease6(), lease6_from_json);
}

TEST_CASE("a lease with a missing or wrong field is refused, naming the field", "[state]") {
  auto o = lease_to_json(sample_lease4());
  o.erase("server_id");
  auto missing = lease4_from_json(o);
  REQUIRE_FALSE(missing);
  REQUIRE(missing.error().message == "DHCPv4 lease: missing field server_id");
  o = lease_to_json(sample_lease4());
  o["address"] = "198.18.0.999";
  auto bad = lease4_from_json(o);
  REQUIRE_FALSE(bad);
  REQUIRE(bad.error().message == "DHCPv4 lease: field address is not an address: 198.18.0.999");
  auto v6 = lease_to_json(sample_lease6());
  v6["server_duid"] = "xyz";
  REQUIRE_FALSE(lease6_from_json(v6));
}

TEST_CASE("the store saves and loads networks and endpoint records", "[state]") {
  TempDir dir;
  StateStore store(dir.path);
  REQUIRE(store.prepare());
  auto options = parse_network_options({{"bridge", "br-lan"}, {"ipv6", "true"}, {"lease_timeout", "3s"}, {"hostname", "x"}});
  REQUIRE(options);
  std::map<std::string, Network> networks{{"n1", Network{"n1", *options}}};
  REQUIRE(store.save_networks(networks));

  EndpointRecord record;
  record.endpoint_id = std::string(64, 'a');
  record.network_id = "n1";
  record.mac = *MacAddress::parse("02:00:00:00:00:01");
  record.phase = EndpointPhase::Joined;
  record.sandbox_key = "/var/run/docker/netns/0123456789ab";
  record.hostname = "web-1";
  record.lease4 = sample_lease4();
  record.lease6 = sample_lease6();
  record.prefix6 = 64;
  REQUIRE(store.save_endpoint(record));
  EndpointRecord bare = record;
  bare.endpoint_id = std::string(64, 'b');
  bare.phase = EndpointPhase::Creating;
  bare.lease4.reset();
  bare.lease6.reset();
  REQUIRE(store.save_endpoint(bare));

  auto loaded = store.load();
  REQUIRE(loaded.problems.empty());
  REQUIRE(loaded.networks.size() == 1);
  const auto& n = loaded.networks.at("n1").options;
  REQUIRE(n.bridge == "br-lan");
  REQUIRE(n.ipv6);
  REQUIRE(n.lease_timeout == 3s);
  REQUIRE(n.hostname == "x");
  REQUIRE(loaded.endpoints.size() == 2);
  const auto& a = loaded.endpoints[0];
  REQUIRE(a.endpoint_id == record.endpoint_id);
  REQUIRE(a.phase == EndpointPhase::Joined);
  REQUIRE(a.sandbox_key == record.sandbox_key);
  REQUIRE(a.hostname == "web-1");
  REQUIRE(a.mac == record.mac);
  REQUIRE(a.prefix6 == 64);
  REQUIRE(a.lease4->address == record.lease4->address);
  REQUIRE(a.lease6->address == record.lease6->address);
  REQUIRE(loaded.endpoints[1].phase == EndpointPhase::Creating);
  REQUIRE_FALSE(loaded.endpoints[1].lease4);

  store.remove_endpoint(bare.endpoint_id);  // queued for the writer thread
  store.flush();
  REQUIRE(store.load().endpoints.size() == 1);
  // Nothing but the files themselves (no temporaries left behind).
  REQUIRE_FALSE(exists(dir.path + "/networks.json.tmp"));
}

// Docker 28's --ipv4=false is not an -o option, so Docker never says it again: networks.json
// keeps it, and a file written before it existed means IPv4 on.
TEST_CASE("an IPv6-only network keeps its families across a restart", "[state]") {
  auto options = parse_network_options({{"bridge", "br-lan"}, {"ipv6", "true"}});
  REQUIRE(options);
  options->ipv4 = false;
  auto saved = network_to_json(Network{"n6", *options});
  REQUIRE(saved.at("options").at("ipv4") == "false");
  auto loaded = network_from_json(saved);
  REQUIRE(loaded);
  REQUIRE_FALSE(loaded->options.ipv4);
  REQUIRE(loaded->options.ipv6);

  options->ipv4 = true;
  REQUIRE(network_from_json(network_to_json(Network{"n4", *options}))->options.ipv4);
  auto old = boost::json::parse(R"({"id": "old", "options": {"bridge": "br-lan", "ipv6": "false"}})");
  REQUIRE(network_from_json(old)->options.ipv4);
  auto bad = boost::json::parse(R"({"id": "bad", "options": {"bridge": "br-lan", "ipv4": "maybe"}})");
  REQUIRE_FALSE(network_from_json(bad));
  REQUIRE_THAT(network_from_json(bad).error().message, Catch::Contains("ipv4 is \"maybe\", not true or false"));
}

// A macvlan network keeps its mode, parent and macvlan_mode, and whether CreateNetwork made the
// 802.1q sub-interface it sits on (removed with the last network on it).
TEST_CASE("a macvlan network and its VLAN across a restart", "[state]") {
  auto options = parse_network_options({{"mode", "macvlan"}, {"parent", "eth1.10"}, {"macvlan_mode", "private"}});
  REQUIRE(options);
  Network network{"mv", *options};
  network.created_vlan = true;
  auto saved = network_to_json(network);
  REQUIRE(saved.at("created_vlan") == true);
  REQUIRE_FALSE(saved.at("options").as_object().contains("bridge"));
  auto loaded = network_from_json(saved);
  REQUIRE(loaded);
  CHECK(loaded->options.mode == NetworkMode::Macvlan);
  CHECK(loaded->options.parent == "eth1.10");
  CHECK(loaded->options.macvlan_mode == "private");
  CHECK(loaded->created_vlan);
  network.created_vlan = false;
  CHECK_FALSE(network_to_json(network).contains("created_vlan"));
  CHECK_FALSE(network_from_json(network_to_json(network))->created_vlan);
  auto ipvlan_options = parse_network_options({{"mode", "ipvlan"}, {"parent", "eth1"}});
  REQUIRE(ipvlan_options);
  auto ipvlan = network_from_json(network_to_json(Network{"iv", *ipvlan_options}));
  REQUIRE(ipvlan);
  CHECK(ipvlan->options.mode == NetworkMode::Ipvlan);
}

TEST_CASE("corrupt state files are set aside and reported, the rest still loads", "[state]") {
  TempDir dir;
  StateStore store(dir.path);
  REQUIRE(store.prepare());
  EndpointRecord good;
  good.endpoint_id = "good";
  good.network_id = "n1";
  good.phase = EndpointPhase::Created;
  good.lease4 = sample_lease4();
  REQUIRE(store.save_endpoint(good));
  write(dir.path + "/networks.json", "{\"networks\": [");           // torn write
  write(dir.path + "/endpoints/torn.json", "{\"version\": 1, \"endp");  // torn write
  write(dir.path + "/endpoints/wrong.json", "{\"version\": 1, \"endpoint_id\": \"wrong\", \"network_id\": \"n\", "
                                            "\"mac\": \"02:00:00:00:00:02\", \"phase\": \"dancing\"}");
  write(dir.path + "/endpoints/half.json.tmp", "{");  // a write that never reached its rename

  auto loaded = store.load();
  REQUIRE(loaded.networks.empty());
  REQUIRE(loaded.endpoints.size() == 1);
  REQUIRE(loaded.endpoints[0].endpoint_id == "good");
  REQUIRE(loaded.problems.size() == 3);
  REQUIRE_THAT(loaded.problems[0], Catch::Contains("networks.json") && Catch::Contains("moved to") &&
                                       Catch::Contains("docker network rm/create"));
  REQUIRE_THAT(loaded.problems[1], Catch::Contains("torn.json: not JSON"));
  REQUIRE_THAT(loaded.problems[2], Catch::Contains("wrong.json: unknown phase dancing"));
  REQUIRE(loaded.unreadable_endpoints == std::vector<std::string>{"torn", "wrong"});
  REQUIRE(exists(dir.path + "/endpoints/torn.json.corrupt"));
  REQUIRE_FALSE(exists(dir.path + "/endpoints/torn.json"));
  REQUIRE_FALSE(exists(dir.path + "/endpoints/half.json.tmp"));
  // The next start sees only the good record, and no problem.
  auto again = store.load();
  REQUIRE(again.problems.empty());
  REQUIRE(again.endpoints.size() == 1);
}
