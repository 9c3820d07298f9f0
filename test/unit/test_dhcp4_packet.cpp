// DHCPv4 codec: malformed input, option overload and concatenation, classless routes, names.
#include <catch2/catch.hpp>

#include "dhcp/dhcp4_packet.hpp"
#include "dhcp/dns_name.hpp"
#include "test/unit/helpers.hpp"

using namespace netdhcp;
using namespace netdhcp::test;
using namespace netdhcp::dhcp4;

namespace {
Ipv4Address v4(const char* text) { return *Ipv4Address::parse(text); }

Bytes minimal_ack() {
  Packet p;
  p.op = 2;
  p.xid = 0x01020304;
  p.yiaddr = v4("198.18.0.7");
  p.add_u8(option::MessageType, 5);
  p.add_address(option::ServerId, v4("198.18.0.1"));
  p.add_u32(option::LeaseTime, 600);
  Bytes out;
  encode(p, out);
  return out;
}

Bytes with_options(std::initializer_list<int> option_bytes) {
  Bytes wire = minimal_ack();
  wire.resize(kFixedHeaderSize + 4);  // header and cookie only
  for (int b : option_bytes) wire.push_back(std::byte(static_cast<unsigned char>(b)));
  return wire;
}
}  // namespace

// Anything shorter than header plus cookie, or with the wrong cookie, is not DHCP.
TEST_CASE("short packets and wrong magic cookie are errors, not crashes", "[dhcp4]") {
  Bytes wire = minimal_ack();
  for (std::size_t n : {0u, 1u, 235u, 239u}) {
    auto r = parse(ByteView(wire).first(n));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("too short") != std::string::npos);
  }
  wire[236] = std::byte{0};
  auto r = parse(wire);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("magic cookie") != std::string::npos);
}

// An option whose length runs past the end is dropped; the options before it survive.
TEST_CASE("truncated option keeps the earlier options", "[dhcp4]") {
  auto r = parse(with_options({53, 1, 5, 51, 4, 0, 0, 2, 88, 6, 8, 198, 18}));
  REQUIRE(r.ok());
  CHECK(r->truncated_options);
  CHECK(r->message_type() == MessageType::Ack);
  CHECK(r->u32_option(option::LeaseTime) == 600u);
  CHECK_FALSE(r->find(option::DnsServers));
}

// A missing END option and pad bytes between options are tolerated.
TEST_CASE("pad options and a missing END are tolerated", "[dhcp4]") {
  auto r = parse(with_options({0, 0, 53, 1, 2, 0, 54, 4, 198, 18, 0, 1}));
  REQUIRE(r.ok());
  CHECK_FALSE(r->truncated_options);
  CHECK(r->message_type() == MessageType::Offer);
  CHECK(r->address_option(option::ServerId) == v4("198.18.0.1"));
}

// A malformed typed option reads as absent without spoiling the others.
TEST_CASE("options with the wrong length read as absent", "[dhcp4]") {
  auto r = parse(with_options({53, 1, 5, 51, 3, 0, 0, 1, 3, 6, 198, 18, 0, 1, 0, 0, 121, 2, 33, 1, 255}));
  REQUIRE(r.ok());
  CHECK_FALSE(r->u32_option(option::LeaseTime));
  CHECK_FALSE(r->address_list_option(option::Router));
  CHECK_FALSE(r->classless_routes());
  CHECK(r->message_type() == MessageType::Ack);
  CHECK_FALSE(parse(with_options({53, 1, 9, 255}))->message_type());  // type 9 is not DHCP
}

// RFC 3396: repeated instances of one option concatenate, in options-file-sname order.
TEST_CASE("split options are concatenated on lookup and split on encode", "[dhcp4]") {
  Packet p;
  std::string long_name(300, 'x');
  p.add_string(option::DomainName, long_name);
  p.add_u8(option::MessageType, 1);
  Bytes wire;
  encode(p, wire);
  auto r = parse(wire);
  REQUIRE(r.ok());
  CHECK(r->options.size() == 3);  // 255 + 45 bytes, and the message type
  CHECK(r->string_option(option::DomainName) == long_name);
}

// RFC 2131 4.1: with option 52, 'file' and then 'sname' hold more options.
TEST_CASE("option overload reads options from file and sname", "[dhcp4]") {
  Packet p;
  p.op = 2;
  p.add_u8(option::MessageType, 5);
  p.add_u8(option::Overload, 3);
  std::uint8_t file_options[] = {51, 4, 0, 0, 0, 60, 255};
  std::uint8_t sname_options[] = {54, 4, 198, 18, 0, 9, 255};
  std::copy(std::begin(file_options), std::end(file_options), p.file.begin());
  std::copy(std::begin(sname_options), std::end(sname_options), p.sname.begin());
  Bytes wire;
  encode(p, wire);
  auto r = parse(wire);
  REQUIRE(r.ok());
  CHECK(r->u32_option(option::LeaseTime) == 60u);
  CHECK(r->address_option(option::ServerId) == v4("198.18.0.9"));
  Bytes again;
  encode(*r, again);
  CHECK(again == wire);  // overloaded options stay in their fields
}

// RFC 2132: trailing NULs in text options are removed.
TEST_CASE("trailing NULs are stripped from text options", "[dhcp4]") {
  auto r = parse(with_options({53, 1, 5, 12, 5, 'h', 'o', 's', 't', 0, 255}));
  REQUIRE(r.ok());
  CHECK(r->string_option(option::HostName) == "host");
}

// RFC 3442 section 2 encoding: width, significant octets, router; widths above 32 invalid.
TEST_CASE("classless static routes encode and decode", "[dhcp4]") {
  std::vector<ClasslessRoute> routes = {
      {v4("0.0.0.0"), 0, v4("198.18.0.1")},
      {v4("198.18.5.0"), 24, v4("198.18.0.2")},
      {v4("198.18.7.9"), 32, v4("198.18.0.3")},
      {v4("198.16.0.0"), 15, v4("198.18.0.4")},
  };
  Bytes wire = encode_classless_routes(routes);
  CHECK(wire.size() == 5 + 8 + 9 + 7);
  CHECK(decode_classless_routes(wire) == routes);
  std::uint8_t bad_width[] = {33, 1, 2, 3, 4, 5, 198, 18, 0, 1};
  CHECK_FALSE(decode_classless_routes(ByteView(reinterpret_cast<std::byte*>(bad_width), sizeof bad_width)));
  std::uint8_t short_router[] = {24, 198, 18, 5, 198, 18};
  CHECK_FALSE(decode_classless_routes(ByteView(reinterpret_cast<std::byte*>(short_router), sizeof short_router)));
  // Host bits beyond the prefix are masked off.
  std::uint8_t sloppy[] = {9, 198, 255, 198, 18, 0, 1};
  auto decoded = decode_classless_routes(ByteView(reinterpret_cast<std::byte*>(sloppy), sizeof sloppy));
  REQUIRE(decoded);
  CHECK((*decoded)[0].destination == v4("198.128.0.0"));
}

// RFC 1035 names: compression pointers must point backwards, so loops cannot hang us.
TEST_CASE("DNS names: compression, loops and bad labels", "[dhcp4][dns]") {
  auto names = [](std::initializer_list<int> b, bool compression) {
    Bytes data;
    for (int x : b) data.push_back(std::byte(static_cast<unsigned char>(x)));
    return dns::decode_names(data, compression);
  };
  CHECK(names({1, 'a', 0, 1, 'b', 0xc0, 0}, true) == std::vector<std::string>{"a", "b.a"});
  CHECK_FALSE(names({1, 'a', 0, 1, 'b', 0xc0, 0}, false));   // no compression in DHCPv6
  CHECK_FALSE(names({0xc0, 0}, true));                        // points at itself
  CHECK_FALSE(names({1, 'a', 0xc0, 2}, true));                // points forwards
  CHECK_FALSE(names({5, 'a', 'b'}, true));                    // label past the end
  CHECK_FALSE(names({1, 'a'}, true));                         // no terminating label
  CHECK(names({}, true) == std::vector<std::string>{});
  Bytes out;
  CHECK(dns::encode_name("lab.test.", out));
  CHECK(dns::decode_names(out, false) == std::vector<std::string>{"lab.test"});
  Bytes rejected;
  CHECK_FALSE(dns::encode_name("a..b", rejected));
  CHECK_FALSE(dns::encode_name(std::string(64, 'x'), rejected));
  CHECK(rejected.empty());
}

// The parser's netmask helper rejects masks with holes (the client then uses a classful default).
TEST_CASE("netmask to prefix length", "[dhcp4]") {
  CHECK(netmask_prefix_length(v4("255.255.255.0")) == 24);
  CHECK(netmask_prefix_length(v4("255.254.0.0")) == 15);
  CHECK(netmask_prefix_length(v4("0.0.0.0")) == 0);
  CHECK(netmask_prefix_length(v4("255.255.255.255")) == 32);
  CHECK_FALSE(netmask_prefix_length(v4("255.0.255.0")));
  CHECK(prefix_netmask(20) == v4("255.255.240.0"));
}
