// The frames of the bridge firewall probe (src/firewall_probe.hpp): the DHCPv6-shaped one must
// meet the firewall exactly as a container's SOLICIT would.
#include <catch2/catch.hpp>

#include "dhcp/ip_udp.hpp"
#include "src/endpoint/firewall_probe.hpp"

using namespace netdhcp;

// The probe frame must look like a SOLICIT to the firewall: link-local source, ff02::1:2, UDP
// 546 -> 547, hop limit 1, and a checksum that verifies over the RFC 8200 pseudo-header.
TEST_CASE("the DHCPv6-shaped firewall probe packet", "[probe]") {
  auto source = *Ipv6Address::parse("fe80::6e:64ff:fe00:a");
  std::string payload = "net-dhcp bridge firewall probe";
  Bytes packet = dhcp6_probe_packet(source, as_bytes(payload));
  REQUIRE(packet.size() == 40 + 8 + payload.size());
  auto u8 = [&](std::size_t i) { return std::to_integer<unsigned>(packet[i]); };
  auto u16 = [&](std::size_t i) { return u8(i) << 8 | u8(i + 1); };
  REQUIRE(u8(0) >> 4 == 6);
  REQUIRE(u16(4) == 8 + payload.size());  // payload length
  REQUIRE(u8(6) == 17);                   // UDP
  REQUIRE(u8(7) == 1);                    // hop limit
  Ipv6Address from, to;
  for (std::size_t i = 0; i < 16; ++i) {
    from.octets[i] = static_cast<std::uint8_t>(u8(8 + i));
    to.octets[i] = static_cast<std::uint8_t>(u8(24 + i));
  }
  REQUIRE(from == source);
  REQUIRE(to.to_string() == "ff02::1:2");
  REQUIRE(u16(40) == 546);
  REQUIRE(u16(42) == 547);
  REQUIRE(u16(44) == 8 + payload.size());
  REQUIRE(u16(46) != 0);  // a UDP checksum is mandatory over IPv6
  REQUIRE(to_string(ByteView(packet).subspan(48)) == payload);
  // The sum over pseudo-header and datagram, checksum included, is all ones.
  std::uint32_t pseudo = 0;
  for (std::size_t i = 8; i < 40; i += 2) pseudo += u16(i);
  pseudo += 8 + static_cast<std::uint32_t>(payload.size());
  pseudo += 17;
  REQUIRE(internet_checksum(ByteView(packet).subspan(40), pseudo) == 0);
  // A different source changes the checksum (it is in the pseudo-header).
  Bytes other = dhcp6_probe_packet(*Ipv6Address::parse("fe80::1"), as_bytes(payload));
  REQUIRE(u16(46) != (std::to_integer<unsigned>(other[46]) << 8 | std::to_integer<unsigned>(other[47])));
}
