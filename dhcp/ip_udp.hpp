// IPv4/UDP datagrams and ARP packets as a packet socket sends and receives them (RFC 791,
// RFC 768, RFC 826). DHCPv4 needs them because a client without an address cannot use a UDP
// socket (RFC 2131 section 4.1): until the address is configured, everything goes as raw frames.
#pragma once

#include <cstdint>

#include "netdhcp/address.hpp"
#include "netdhcp/bytes.hpp"
#include "netdhcp/result.hpp"

namespace netdhcp {

struct Udp4Datagram {
  Ipv4Address source;
  Ipv4Address destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  ByteView payload;  // points into the parsed buffer
};

// Appends an IPv4 header, a UDP header and `payload` to `out` (no link-layer header).
void encode_ipv4_udp(Ipv4Address source, std::uint16_t source_port, Ipv4Address destination,
                     std::uint16_t destination_port, ByteView payload, Bytes& out);

// Parses an IPv4 packet carrying UDP. Errors: truncated, not IPv4, options or lengths that
// do not add up, a fragment, not UDP, a bad IP header checksum, or (when verify_udp_checksum)
// a bad UDP checksum. A packet whose UDP checksum the kernel has not computed yet (checksum
// offload on veth) must be parsed with verify_udp_checksum = false.
Result<Udp4Datagram> parse_ipv4_udp(ByteView packet, bool verify_udp_checksum);

// RFC 1071 Internet checksum of `data` added to `initial` (a partial sum).
std::uint16_t internet_checksum(ByteView data, std::uint32_t initial = 0);

struct ArpPacket {
  std::uint16_t operation = 1;  // 1 request, 2 reply
  MacAddress sender_mac;
  Ipv4Address sender_ip;
  MacAddress target_mac;
  Ipv4Address target_ip;
};

// Ethernet/IPv4 ARP (RFC 826), without the link-layer header.
void encode_arp(const ArpPacket& packet, Bytes& out);
Result<ArpPacket> parse_arp(ByteView packet);

}  // namespace netdhcp
