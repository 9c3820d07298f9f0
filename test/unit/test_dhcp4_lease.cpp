// The table of DHCPv4 lease options (dhcp/dhcp4_lease.hpp): consistent, the source of the
// Parameter Request List, and every row decodes what it encodes, alone, malformed, through the
// client and from real servers' packets.
#include <catch2/catch.hpp>

#include <set>

#include "dhcp/dhcp4_client.hpp"
#include "dhcp/identity.hpp"
#include "test/unit/helpers.hpp"

using namespace netdhcp;
using namespace netdhcp::test;
using namespace netdhcp::dhcp4;

namespace {

Ipv4Address v4(const char* text) { return *Ipv4Address::parse(text); }

// A value that is not the field's empty one, per Lease field type.
void sample(std::optional<Ipv4Address>& f) { f = v4("198.18.0.255"); }
void sample(std::vector<Ipv4Address>& f) { f = {v4("198.18.0.53"), v4("198.18.1.53")}; }
void sample(std::string& f) { f = "lab.test"; }
void sample(std::vector<std::string>& f) { f = {"lab.test", "example.test"}; }
void sample(std::optional<std::uint16_t>& f) { f = 1400; }
void sample(std::optional<std::uint32_t>& f) { f = 86400; }
void sample(std::vector<ClasslessRoute>& f) {
  f = {{v4("198.19.0.0"), 16, v4("198.18.0.254")}, {v4("0.0.0.0"), 0, v4("198.18.0.1")}};
}

// A lease with only `only`'s field set (every row's with nullptr).
Lease sample_lease(const OptionDefinition* only = nullptr) {
  Lease lease;
  for_each_lease_option(lease, [&](const OptionDefinition& row, auto& field) {
    if (!only || only->code == row.code) sample(field);
  });
  return lease;
}

Packet through_the_wire(const Packet& packet) {
  Bytes wire;
  encode(packet, wire);
  auto back = parse(wire);
  REQUIRE(back.ok());
  return *back;
}

std::size_t field_rows() {
  std::size_t n = 0;
  for (const auto& row : kLeaseOptions) n += row.field.index() != 0;
  return n;
}

}  // namespace

// Codes and JSON names are unique, and every row that is not a lease parameter has a field.
TEST_CASE("the lease option table is consistent", "[dhcp4][options]") {
  std::set<int> codes;
  std::set<std::string_view> names;
  for (const auto& row : kLeaseOptions) {
    INFO(int(row.code) << " " << row.name);
    CHECK(codes.insert(row.code).second);
    CHECK(names.insert(row.name).second);
    CHECK_FALSE(to_string(row.type) == "unknown");
  }
  // The lease parameters the client decodes itself: mask, lease time, T1, T2.
  std::set<int> parameters;
  for (const auto& row : kLeaseOptions)
    if (row.field.index() == 0) parameters.insert(row.code);
  CHECK(parameters == std::set<int>{1, 51, 58, 59});
  CHECK(field_rows() == kLeaseOptions.size() - 4);
}

// The PRL is the table's requested rows: the same 13 codes, 121 before the Router option (RFC 3442
// section 4), the rest in table order.
TEST_CASE("the Parameter Request List comes from the table", "[dhcp4][options]") {
  CHECK(std::vector<std::uint8_t>(kParameterRequestList.begin(), kParameterRequestList.end()) ==
        std::vector<std::uint8_t>{121, 1, 3, 6, 12, 15, 26, 28, 42, 51, 58, 59, 119});
  ClientConfig config;
  config.mac = *MacAddress::parse("02:00:00:00:00:11");
  Client client(config, midpoint_random());
  client.start(t0);
  auto discover = client.pop_transmit();
  REQUIRE(discover);
  auto p = parse(discover->payload);
  REQUIRE(p.ok());
  auto prl = p->find(option::ParameterRequestList);
  REQUIRE(prl);
  CHECK(prl->size() == kParameterRequestList.size());
  for (std::size_t i = 0; i < prl->size(); ++i) CHECK(std::to_integer<std::uint8_t>((*prl)[i]) == kParameterRequestList[i]);
}

// Each row alone: encoded as one option with its code, decoded into its field and nothing else.
TEST_CASE("every lease option row round-trips through the wire", "[dhcp4][options]") {
  for (const auto& row : kLeaseOptions) {
    if (row.field.index() == 0) continue;
    INFO(row.name << " (option " << int(row.code) << ", " << to_string(row.type) << ")");
    Lease lease = sample_lease(&row);
    REQUIRE_FALSE(lease == Lease{});
    Packet packet;
    encode_lease_options(lease, packet);
    REQUIRE(packet.options.size() == 1);
    CHECK(packet.options[0].code == row.code);
    Lease back;
    decode_lease_options(through_the_wire(packet), back);
    CHECK(back == lease);
  }
  // All rows at once, and an empty lease encodes no option.
  Lease full = sample_lease();
  Packet packet;
  encode_lease_options(full, packet);
  CHECK(packet.options.size() == field_rows());
  Lease back;
  decode_lease_options(through_the_wire(packet), back);
  CHECK(back == full);
  Packet none;
  encode_lease_options(Lease{}, none);
  CHECK(none.options.empty());
}

// A malformed option empties its field only; decoding replaces what the lease held before.
TEST_CASE("a malformed lease option is dropped, the others kept", "[dhcp4][options]") {
  Lease full = sample_lease();
  Packet packet;
  encode_lease_options(full, packet);
  auto replace = [&](std::uint8_t code, Bytes data) {
    for (auto& o : packet.options)
      if (o.code == code) o.data = std::move(data);
  };
  replace(option::DnsServers, Bytes(6, std::byte{1}));                        // not a multiple of 4
  replace(option::InterfaceMtu, Bytes{std::byte{0}, std::byte{67}});           // under RFC 2132's 68
  replace(option::BroadcastAddress, Bytes(3, std::byte{1}));                   // not 4 bytes
  replace(option::DomainSearch, Bytes{std::byte{3}, std::byte{'l'}});          // a cut label
  replace(option::ClasslessRoutes, Bytes{std::byte{33}, std::byte{0}});        // width over 32
  Lease back = full;
  decode_lease_options(through_the_wire(packet), back);
  Lease expected = full;
  expected.dns_servers.clear();
  expected.mtu.reset();
  expected.broadcast.reset();
  expected.search_domains.clear();
  expected.classless_routes.clear();
  CHECK(back == expected);
  // An ACK without the options clears what the previous one gave.
  decode_lease_options(Packet{}, back);
  CHECK(back == Lease{});
}

// Through the client: an ACK carrying every row and the lease parameters gives a lease with all
// of them (the mask as prefix_length, the times as sent).
TEST_CASE("the client takes every lease option of an ACK", "[dhcp4][options]") {
  ClientConfig config;
  config.mac = *MacAddress::parse("02:00:00:00:00:11");
  config.rapid_commit = true;
  Client client(config, midpoint_random());
  client.start(t0);
  auto discover = parse(client.pop_transmit()->payload);
  REQUIRE(discover.ok());

  Lease sent = sample_lease();
  Packet ack;
  ack.op = 2;
  ack.xid = discover->xid;
  ack.chaddr = discover->chaddr;
  ack.yiaddr = v4("198.18.0.50");
  ack.add_u8(option::MessageType, static_cast<std::uint8_t>(MessageType::Ack));
  ack.add_address(option::ServerId, v4("198.18.0.1"));
  ack.add(option::RapidCommit, {});
  ack.add_address(option::SubnetMask, v4("255.255.252.0"));
  ack.add_u32(option::LeaseTime, 7200);
  ack.add_u32(option::RenewalTime, 1000);
  ack.add_u32(option::RebindingTime, 5000);
  encode_lease_options(sent, ack);
  Bytes wire;
  encode(ack, wire);
  REQUIRE(client.on_packet(wire, t0 + 2ms));
  auto bound = client.pop_event();
  REQUIRE(bound);
  REQUIRE(bound->kind == Event::Kind::Bound);
  Lease got = bound->lease;
  CHECK(got.address == v4("198.18.0.50"));
  CHECK(got.server_id == v4("198.18.0.1"));
  CHECK(got.prefix_length == 22);
  CHECK(got.lease_time == 7200s);
  CHECK(got.t1 == 1000s);
  CHECK(got.t2 == 5000s);
  got.address = {};
  got.server_id = {};
  got.prefix_length = sent.prefix_length;
  got.lease_time = got.t1 = got.t2 = {};
  got.acquired_at = {};
  CHECK(got == sent);
}

// dnsmasq's and Kea's captured ACKs decode through the table as their dissections say, and
// what they decode to encodes and decodes back the same.
TEST_CASE("golden DHCPACKs decode through the lease option table", "[dhcp4][options][golden]") {
  Lease dnsmasq;
  dnsmasq.routers = {v4("198.18.0.1")};
  dnsmasq.dns_servers = {v4("198.18.0.1")};
  dnsmasq.hostname = "golden";
  dnsmasq.domain_name = "lab.test";
  dnsmasq.broadcast = v4("198.18.0.255");
  dnsmasq.search_domains = {"lab.test", "example.test"};
  dnsmasq.classless_routes = {{v4("198.18.5.0"), 24, v4("198.18.0.1")}, {v4("0.0.0.0"), 0, v4("198.18.0.1")}};
  Lease kea;
  kea.routers = {v4("198.18.0.1")};
  kea.dns_servers = {v4("198.18.0.1")};
  kea.hostname = "golden";
  kea.domain_name = "lab.test";
  for (auto [name, expected] : {std::pair{"dnsmasq4-ack.txt", dnsmasq}, std::pair{"kea4-ack.txt", kea}}) {
    INFO(name);
    auto packet = parse(golden(name));
    REQUIRE(packet.ok());
    Lease got;
    decode_lease_options(*packet, got);
    CHECK(got == expected);
    Packet again;
    encode_lease_options(got, again);
    Lease back;
    decode_lease_options(through_the_wire(again), back);
    CHECK(back == got);
  }
}
