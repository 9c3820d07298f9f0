#include "dhcp/ip_udp.hpp"

namespace netdhcp {

std::uint16_t internet_checksum(ByteView data, std::uint32_t sum) {
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2)
    sum += std::to_integer<std::uint32_t>(data[i]) << 8 | std::to_integer<std::uint32_t>(data[i + 1]);
  if (i < data.size()) sum += std::to_integer<std::uint32_t>(data[i]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

namespace {

// RFC 768: the UDP checksum covers a pseudo header of addresses, protocol and UDP length.
std::uint32_t pseudo_header_sum(Ipv4Address source, Ipv4Address destination, std::size_t udp_length) {
  std::uint32_t sum = 0;
  sum += source.to_u32() >> 16;
  sum += source.to_u32() & 0xffff;
  sum += destination.to_u32() >> 16;
  sum += destination.to_u32() & 0xffff;
  sum += 17;
  sum += static_cast<std::uint32_t>(udp_length);
  return sum;
}

constexpr std::size_t kIpHeader = 20;
constexpr std::size_t kUdpHeader = 8;

}  // namespace

void encode_ipv4_udp(Ipv4Address source, std::uint16_t source_port, Ipv4Address destination,
                     std::uint16_t destination_port, ByteView payload, Bytes& out) {
  std::size_t start = out.size();
  std::size_t udp_length = kUdpHeader + payload.size();
  ByteWriter w(out);
  w.u8(0x45);  // version 4, 5-word header
  w.u8(0xc0);  // DSCP CS6 (network control), as dnsmasq and ISC clients mark DHCP
  w.u16(static_cast<std::uint16_t>(kIpHeader + udp_length));
  w.u16(0);       // identification
  w.u16(0x4000);  // don't fragment
  w.u8(64);       // TTL
  w.u8(17);       // UDP
  w.u16(0);       // checksum, patched below
  w.u32(source.to_u32());
  w.u32(destination.to_u32());
  w.patch_u16(start + 10, internet_checksum(ByteView(out).subspan(start, kIpHeader)));

  std::size_t udp_start = out.size();
  w.u16(source_port);
  w.u16(destination_port);
  w.u16(static_cast<std::uint16_t>(udp_length));
  w.u16(0);
  w.bytes(payload);
  std::uint16_t sum = internet_checksum(ByteView(out).subspan(udp_start),
                                        pseudo_header_sum(source, destination, udp_length));
  w.patch_u16(udp_start + 6, sum == 0 ? 0xffff : sum);  // RFC 768: 0 means "no checksum"
}

Result<Udp4Datagram> parse_ipv4_udp(ByteView packet, bool verify_udp_checksum) {
  ByteReader r(packet);
  std::uint8_t version_ihl = r.u8();
  if (!r.ok() || packet.size() < kIpHeader) return Error{"IPv4 packet truncated"};
  if ((version_ihl >> 4) != 4) return Error{"not an IPv4 packet"};
  std::size_t header_length = (version_ihl & 15u) * 4u;
  r.skip(1);
  std::size_t total_length = r.u16();
  r.skip(2);
  std::uint16_t fragment = r.u16();
  r.skip(1);
  std::uint8_t protocol = r.u8();
  if (header_length < kIpHeader || total_length < header_length + kUdpHeader ||
      total_length > packet.size())
    return Error{"IPv4 header lengths do not add up"};
  if (fragment & 0x3fff) return Error{"IPv4 fragment"};
  if (protocol != 17) return Error{"not UDP"};
  if (internet_checksum(packet.first(header_length)) != 0) return Error{"bad IPv4 header checksum"};
  r.skip(2);
  Udp4Datagram d;
  d.source = Ipv4Address::from_u32(r.u32());
  d.destination = Ipv4Address::from_u32(r.u32());
  ByteView udp = packet.subspan(header_length, total_length - header_length);
  ByteReader u(udp);
  d.source_port = u.u16();
  d.destination_port = u.u16();
  std::size_t udp_length = u.u16();
  std::uint16_t checksum = u.u16();
  if (udp_length < kUdpHeader || udp_length > udp.size()) return Error{"UDP length does not add up"};
  udp = udp.first(udp_length);
  if (verify_udp_checksum && checksum != 0 &&
      internet_checksum(udp, pseudo_header_sum(d.source, d.destination, udp_length)) != 0)
    return Error{"bad UDP checksum"};
  d.payload = udp.subspan(kUdpHeader);
  return d;
}

void encode_arp(const ArpPacket& p, Bytes& out) {
  ByteWriter w(out);
  w.u16(1);       // hardware: Ethernet
  w.u16(0x0800);  // protocol: IPv4
  w.u8(6);
  w.u8(4);
  w.u16(p.operation);
  for (auto o : p.sender_mac.octets) w.u8(o);
  w.u32(p.sender_ip.to_u32());
  for (auto o : p.target_mac.octets) w.u8(o);
  w.u32(p.target_ip.to_u32());
}

Result<ArpPacket> parse_arp(ByteView packet) {
  ByteReader r(packet);
  std::uint16_t hardware = r.u16();
  std::uint16_t protocol = r.u16();
  std::uint8_t hardware_length = r.u8();
  std::uint8_t protocol_length = r.u8();
  ArpPacket p;
  p.operation = r.u16();
  auto read_mac = [&r](MacAddress& mac) {
    for (auto& o : mac.octets) o = r.u8();
  };
  read_mac(p.sender_mac);
  p.sender_ip = Ipv4Address::from_u32(r.u32());
  read_mac(p.target_mac);
  p.target_ip = Ipv4Address::from_u32(r.u32());
  if (!r.ok()) return Error{"ARP packet truncated"};
  if (hardware != 1 || protocol != 0x0800 || hardware_length != 6 || protocol_length != 4)
    return Error{"not an Ethernet/IPv4 ARP packet"};
  return p;
}

}  // namespace netdhcp
