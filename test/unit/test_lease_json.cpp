// The JSON forms of a DHCPv4 lease (src/state/lease_json.hpp): one key per row of the option
// table in the state file and in `net-dhcp lease --json`, written and read by the one pair of
// functions, and state files written before the table still load.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "src/cli/lease_command.hpp"
#include "src/state/lease_json.hpp"
#include "src/state/state_store.hpp"

using namespace netdhcp;
using namespace netdhcp::dhcp4;
using namespace std::chrono_literals;

namespace {

Ipv4Address v4(const char* text) { return *Ipv4Address::parse(text); }

void sample(std::optional<Ipv4Address>& f) { f = v4("198.18.0.255"); }
void sample(std::vector<Ipv4Address>& f) { f = {v4("198.18.0.53"), v4("198.18.1.53")}; }
void sample(std::string& f) { f = "lab.test"; }
void sample(std::vector<std::string>& f) { f = {"lab.test", "example.test"}; }
void sample(std::optional<std::uint16_t>& f) { f = 1400; }
void sample(std::optional<std::uint32_t>& f) { f = 86400; }
void sample(std::vector<ClasslessRoute>& f) {
  f = {{v4("198.19.0.0"), 16, v4("198.18.0.254")}, {v4("0.0.0.0"), 0, v4("198.18.0.1")}};
}

// An address, a server and times, no option.
Lease bare_lease() {
  Lease lease;
  lease.address = v4("198.18.0.150");
  lease.prefix_length = 24;
  lease.server_id = v4("198.18.0.1");
  lease.lease_time = 120s;
  lease.t1 = 60s;
  lease.t2 = 105s;
  return lease;
}

// The bare lease with only `only`'s option field set (every row's with nullptr).
Lease sample_lease(const OptionDefinition* only = nullptr) {
  Lease lease = bare_lease();
  for_each_lease_option(lease, [&](const OptionDefinition& row, auto& field) {
    if (!only || only->code == row.code) sample(field);
  });
  return lease;
}

std::vector<const OptionDefinition*> field_rows() {
  std::vector<const OptionDefinition*> rows;
  for (const auto& row : kLeaseOptions)
    if (row.field.index() != 0) rows.push_back(&row);
  return rows;
}

bool is_optional(const OptionDefinition& row) {
  return std::holds_alternative<std::optional<Ipv4Address> Lease::*>(row.field) ||
         std::holds_alternative<std::optional<std::uint16_t> Lease::*>(row.field) ||
         std::holds_alternative<std::optional<std::uint32_t> Lease::*>(row.field);
}

Lease options_through_json(const Lease& lease) {
  json::object o;
  lease_options_to_json(lease, o);
  Lease back = lease;
  lease_options_from_json(json::parse(json::serialize(o)).as_object(), back);
  return back;
}

}  // namespace

// Each row alone and all together: written, serialized, parsed and read back equal.
TEST_CASE("every lease option row round-trips through JSON", "[state][options]") {
  for (const auto* row : field_rows()) {
    INFO(row->name);
    Lease lease = sample_lease(row);
    CHECK(options_through_json(lease) == lease);
  }
  Lease full = sample_lease();
  CHECK(options_through_json(full) == full);
  CHECK(options_through_json(bare_lease()) == bare_lease());
}

// The one-place claim: the state file and `net-dhcp lease --json` both carry every row's key
// (no form writes an option of its own, and no fixed key of theirs shadows a row's), an
// optional one only when set.
TEST_CASE("every JSON form of a DHCPv4 lease has one key per option row", "[state][options]") {
  const Lease full = sample_lease();
  const Lease bare = bare_lease();
  struct Form {
    const char* what;
    json::object (*write)(const Lease&);
    std::size_t fixed_keys;
  };
  for (const Form& form : {Form{"state file", [](const Lease& l) { return lease_to_json(l); }, 7},
                           Form{"net-dhcp lease --json", [](const Lease& l) { return lease4_json(l); }, 7}}) {
    INFO(form.what);
    json::object with = form.write(full);
    json::object without = form.write(bare);
    std::size_t optional_rows = 0;
    for (const auto* row : field_rows()) {
      INFO(row->name);
      CHECK(with.contains(row->name));
      CHECK(without.contains(row->name) == !is_optional(*row));
      optional_rows += is_optional(*row);
    }
    CHECK(with.size() == form.fixed_keys + field_rows().size());
    CHECK(without.size() == form.fixed_keys + field_rows().size() - optional_rows);
  }
  // DHCPv6 leases in `net-dhcp lease --json` use the same names for the same things.
  json::object v6 = lease6_json(dhcp6::Lease{});
  CHECK(v6.contains("dns_servers"));
  CHECK(v6.contains("search_domains"));
}

// A hand-edited or damaged value loses its field only: the address, server and times, which
// re-adoption needs, still load.
TEST_CASE("a malformed option value in a state file is dropped, the lease still loads", "[state][options]") {
  Lease full = sample_lease();
  json::object o = lease_to_json(full);
  o["dns_servers"] = json::array{"198.18.0.53", "not an address"};
  o["mtu"] = 70000;
  o["broadcast"] = 5;
  o["search_domains"] = "lab.test";
  o["classless_routes"] = json::array{json::object{{"destination", "198.19.0.0"}, {"prefix_length", 16}}};
  auto back = lease4_from_json(json::parse(json::serialize(o)));
  REQUIRE(back);
  Lease expected = full;
  expected.dns_servers.clear();
  expected.mtu.reset();
  expected.broadcast.reset();
  expected.search_domains.clear();
  expected.classless_routes.clear();
  back->acquired_at = expected.acquired_at;
  CHECK(*back == expected);
  // Under RFC 2132's minimum MTU, as on the wire.
  o = lease_to_json(full);
  o["mtu"] = 67;
  CHECK_FALSE(lease4_from_json(o)->mtu);
}

// An endpoint record as the daemon wrote it before the option table (commit c00e4cd; the keys
// in that writer's order): every field comes back.
TEST_CASE("a state file written before the option table still loads", "[state][options]") {
  const char* old_record = R"({"version":1,"endpoint_id":"aaaa","network_id":"n1","mac":"02:00:00:00:00:01",
    "phase":"joined","sandbox_key":"/var/run/docker/netns/0123456789ab","hostname":"web-1",
    "container_id":"c0ffee","interface":"eth0","prefix6":64,
    "lease4":{"address":"198.18.0.150","prefix_length":24,"server_id":"198.18.0.1",
      "routers":["198.18.0.1"],"dns_servers":["198.18.0.53"],"ntp_servers":["198.18.0.123"],
      "domain_name":"lan.test","search_domains":["lan.test","corp.test"],"hostname":"box",
      "lease_time":120,"t1":60,"t2":105,"acquired_at_unix_ms":1764000000000,
      "classless_routes":[{"destination":"198.19.0.0","prefix_length":16,"router":"198.18.0.254"}],
      "mtu":1400,"broadcast":"198.18.0.255"}})";
  char name[] = "/tmp/netdhcp-old-state-XXXXXX";
  std::string dir = ::mkdtemp(name);
  StateStore store(dir);
  REQUIRE(store.prepare());
  std::ofstream(dir + "/endpoints/aaaa.json") << old_record;
  auto loaded = store.load();
  std::system(("rm -rf " + dir).c_str());
  REQUIRE(loaded.problems.empty());
  REQUIRE(loaded.endpoints.size() == 1);
  const auto& record = loaded.endpoints[0];
  REQUIRE(record.lease4);
  Lease expected;
  expected.address = v4("198.18.0.150");
  expected.prefix_length = 24;
  expected.server_id = v4("198.18.0.1");
  expected.routers = {v4("198.18.0.1")};
  expected.dns_servers = {v4("198.18.0.53")};
  expected.ntp_servers = {v4("198.18.0.123")};
  expected.domain_name = "lan.test";
  expected.search_domains = {"lan.test", "corp.test"};
  expected.hostname = "box";
  expected.lease_time = 120s;
  expected.t1 = 60s;
  expected.t2 = 105s;
  expected.classless_routes = {{v4("198.19.0.0"), 16, v4("198.18.0.254")}};
  expected.mtu = 1400;
  expected.broadcast = v4("198.18.0.255");
  expected.acquired_at = record.lease4->acquired_at;
  CHECK(*record.lease4 == expected);
  CHECK(std::abs(to_unix_ms(record.lease4->acquired_at) - 1764000000000) < 50);
  CHECK(record.interface == "eth0");
  CHECK(record.prefix6 == 64);
}
