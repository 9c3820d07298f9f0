// DHCPv6 codec: IA_NA nesting, status codes, truncation, client FQDN encoding.
#include <catch2/catch.hpp>

#include "dhcp/dhcp6_packet.hpp"
#include "test/unit/helpers.hpp"

using namespace netdhcp;
using namespace netdhcp::dhcp6;

namespace {
Ipv6Address v6(const char* text) { return *Ipv6Address::parse(text); }
}

// An IA_NA with two addresses and a status encodes and decodes to the same values.
TEST_CASE("IA_NA round trip", "[dhcp6]") {
  IaNa ia;
  ia.iaid = 0xdeadbeef;
  ia.t1 = 100;
  ia.t2 = 160;
  ia.addresses.push_back({v6("fd00:18::10"), 200, 300, std::nullopt});
  ia.addresses.push_back({v6("fd00:18::11"), 0, 0, Status{StatusCode::NoBinding, "gone"}});
  ia.status = Status{StatusCode::Success, "ok"};
  auto back = decode_ia_na(encode_ia_na(ia));
  REQUIRE(back);
  CHECK(back->iaid == 0xdeadbeef);
  CHECK(back->t1 == 100);
  CHECK(back->t2 == 160);
  REQUIRE(back->addresses.size() == 2);
  CHECK(back->addresses[0].address == v6("fd00:18::10"));
  CHECK(back->addresses[0].valid_lifetime == 300);
  CHECK(back->addresses[1].status->code == StatusCode::NoBinding);
  CHECK(back->status->message == "ok");
}

// A message cut short keeps the whole options before the cut and flags the truncation.
TEST_CASE("truncated DHCPv6 options", "[dhcp6]") {
  Message m;
  m.type = MessageType::Reply;
  m.transaction_id = 0xabcdef;
  m.add(option::ServerId, to_bytes("server"));
  m.add(option::ClientId, to_bytes("client"));
  Bytes wire;
  encode(m, wire);
  for (std::size_t n = 0; n < 4; ++n) CHECK_FALSE(parse(ByteView(wire).first(n)).ok());
  auto cut = parse(ByteView(wire).first(wire.size() - 1));
  REQUIRE(cut.ok());
  CHECK(cut->truncated_options);
  CHECK(cut->transaction_id == 0xabcdef);
  REQUIRE(cut->options.size() == 1);
  CHECK(cut->find(option::ServerId));
}

// Malformed IA_NAs are skipped; the well-formed ones next to them are kept.
TEST_CASE("malformed IA_NA is skipped", "[dhcp6]") {
  Message m;
  m.type = MessageType::Reply;
  m.add(option::IaNa, to_bytes("short"));
  IaNa good;
  good.iaid = 5;
  m.add(option::IaNa, encode_ia_na(good));
  auto ias = m.ia_nas();
  REQUIRE(ias.size() == 1);
  CHECK(ias[0].iaid == 5);
  m.add(option::DnsServers, to_bytes("not16"));
  CHECK_FALSE(m.dns_servers());
}

// RFC 4704: a single label is a partial name (no root label); a dotted name is fully qualified.
TEST_CASE("client FQDN encoding", "[dhcp6]") {
  Bytes partial = encode_client_fqdn("web-1");
  CHECK(hex(partial) == "00" "05" "7765622d31");
  Bytes full = encode_client_fqdn("web-1.lab.test");
  CHECK(hex(full) == "00" "05" "7765622d31" "03" "6c6162" "04" "74657374" "00");
}

// Status code option: code and UTF-8 message; shorter than 2 bytes is malformed.
TEST_CASE("status code option", "[dhcp6]") {
  auto s = decode_status(encode_status({StatusCode::NoAddrsAvail, "pool exhausted"}));
  REQUIRE(s);
  CHECK(s->code == StatusCode::NoAddrsAvail);
  CHECK(s->message == "pool exhausted");
  CHECK_FALSE(decode_status(to_bytes("x")));
}
