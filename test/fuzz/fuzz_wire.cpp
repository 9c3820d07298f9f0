// IPv4/UDP, ARP and DNS-name decoders as seen by the packet socket.
#include "dhcp/dns_name.hpp"
#include "dhcp/ip_udp.hpp"

using namespace netdhcp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input(reinterpret_cast<const std::byte*>(data), size);
  if (auto d = parse_ipv4_udp(input, true); d && d->payload.size() > size) __builtin_trap();
  (void)parse_ipv4_udp(input, false);
  (void)parse_arp(input);
  (void)dns::decode_names(input, true);
  (void)dns::decode_names(input, false);
  return 0;
}
