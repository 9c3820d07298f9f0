// IPv4/UDP framing and ARP for the packet socket: checksums, lengths, fragments.
#include <catch2/catch.hpp>

#include "dhcp/ip_udp.hpp"
#include "test/unit/helpers.hpp"

using namespace netdhcp;

namespace {
Ipv4Address v4(const char* text) { return *Ipv4Address::parse(text); }
}

// What we send parses back, with both checksums valid.
TEST_CASE("IPv4/UDP round trip with checksums", "[wire]") {
  Bytes payload = to_bytes("hello dhcp");
  Bytes packet;
  encode_ipv4_udp(v4("0.0.0.0"), 68, v4("255.255.255.255"), 67, payload, packet);
  CHECK(packet.size() == 20 + 8 + payload.size());
  CHECK(internet_checksum(ByteView(packet).first(20)) == 0);
  auto d = parse_ipv4_udp(packet, true);
  REQUIRE(d.ok());
  CHECK(d->source_port == 68);
  CHECK(d->destination_port == 67);
  CHECK(d->destination == v4("255.255.255.255"));
  CHECK(Bytes(d->payload.begin(), d->payload.end()) == payload);
}

// A corrupted payload fails the UDP checksum, unless the kernel said it was not computed yet.
TEST_CASE("bad UDP checksum is rejected only when verifiable", "[wire]") {
  Bytes packet;
  encode_ipv4_udp(v4("198.18.0.1"), 67, v4("198.18.0.5"), 68, to_bytes("payload"), packet);
  packet.back() ^= std::byte{1};
  CHECK_FALSE(parse_ipv4_udp(packet, true).ok());
  CHECK(parse_ipv4_udp(packet, false).ok());
}

// Fragments, other protocols, bad header checksums and short packets are refused.
TEST_CASE("IPv4 packets that are not whole UDP datagrams are refused", "[wire]") {
  Bytes packet;
  encode_ipv4_udp(v4("198.18.0.1"), 67, v4("198.18.0.5"), 68, to_bytes("payload"), packet);
  for (std::size_t n = 0; n < packet.size(); ++n) CHECK_FALSE(parse_ipv4_udp(ByteView(packet).first(n), true).ok());
  Bytes fragment = packet;
  fragment[6] = std::byte{0x20};  // more fragments
  CHECK_FALSE(parse_ipv4_udp(fragment, false).ok());
  Bytes tcp = packet;
  tcp[9] = std::byte{6};
  CHECK_FALSE(parse_ipv4_udp(tcp, false).ok());
  Bytes bad_header = packet;
  bad_header[8] = std::byte{1};  // TTL changed, checksum not
  CHECK(parse_ipv4_udp(bad_header, false).error().message == "bad IPv4 header checksum");
}

// RFC 5227 probes: sender IP 0, our MAC, the probed target.
TEST_CASE("ARP encode and parse", "[wire]") {
  ArpPacket probe;
  probe.sender_mac = *MacAddress::parse("02:00:00:00:00:11");
  probe.target_ip = v4("198.18.0.50");
  Bytes wire;
  encode_arp(probe, wire);
  CHECK(wire.size() == 28);
  auto back = parse_arp(wire);
  REQUIRE(back.ok());
  CHECK(back->sender_mac == probe.sender_mac);
  CHECK(back->sender_ip.is_unspecified());
  CHECK(back->target_ip == v4("198.18.0.50"));
  CHECK_FALSE(parse_arp(ByteView(wire).first(27)).ok());
}

#include "dhcp/router_advert.hpp"

// A Router Advertisement with an on-link /64, an autonomous-only /48 (no L flag) and a
// source link-layer option: only the on-link prefix counts.
TEST_CASE("router advertisement on-link prefixes", "[wire][ra]") {
  Bytes ra;
  parse_hex("8600 0000 40 00 0708 00000000 00000000"                           // RA header
            "0101 02005e000001"                                                // source LLA
            "0304 40 c0 00000e10 00000708 00000000 fd000018000000000000000000000000"  // L+A /64
            "0304 30 40 00000e10 00000708 00000000 fd000019000000000000000000000000", // A only /48
            ra);
  auto prefixes = parse_router_advertisement(ra);
  REQUIRE(prefixes);
  REQUIRE(prefixes->size() == 1);
  CHECK((*prefixes)[0].length == 64);
  CHECK((*prefixes)[0].prefix == *Ipv6Address::parse("fd00:18::"));
  CHECK(prefix_contains((*prefixes)[0], *Ipv6Address::parse("fd00:18::1b8")));
  CHECK_FALSE(prefix_contains((*prefixes)[0], *Ipv6Address::parse("fd00:19::1")));
  // Not an RA; truncated header; an option of length zero ends the list without a crash.
  Bytes ns = ra;
  ns[0] = std::byte{135};
  CHECK_FALSE(parse_router_advertisement(ns));
  CHECK_FALSE(parse_router_advertisement(ByteView(ra).first(10)));
  Bytes zero = ra;
  zero[17] = std::byte{0};
  auto none = parse_router_advertisement(zero);
  REQUIRE(none);
  CHECK(none->empty());
}

// The Router Solicitation sent before the first SOLICIT: type 133, code 0, checksum and reserved
// 0, then our MAC as Source Link-Layer Address (RFC 4861 4.1, 4.6.1); 16 bytes.
TEST_CASE("router solicitation with our link-layer address", "[wire][ra]") {
  Bytes rs;
  encode_router_solicitation(*MacAddress::parse("02:00:00:00:03:01"), rs);
  CHECK(hex(rs) == "85000000000000000101020000000301");
  CHECK_FALSE(parse_router_advertisement(rs));  // not mistaken for an RA
}

// RFC 4861 6.1.2: only an RA from a link-local source with hop limit 255 comes from a router
// on this link; one routed here (hop limit decremented), from a global address, or whose hop
// limit the socket did not report is dropped.
TEST_CASE("router advertisement origin checks", "[ra]") {
  const auto link_local = *Ipv6Address::parse("fe80::1");
  const auto global = *Ipv6Address::parse("fd00:18::1");
  CHECK(router_advertisement_origin_valid(link_local, 255));
  CHECK_FALSE(router_advertisement_origin_valid(link_local, 254));
  CHECK_FALSE(router_advertisement_origin_valid(link_local, 64));
  CHECK_FALSE(router_advertisement_origin_valid(link_local, -1));
  CHECK_FALSE(router_advertisement_origin_valid(global, 255));
  CHECK_FALSE(router_advertisement_origin_valid(Ipv6Address{}, 255));
}
