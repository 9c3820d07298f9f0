// IPv4/UDP, ARP, DNS-name and Router Advertisement decoders: what arrives from the wire
// outside the DHCP messages themselves.
#include "dhcp/dns_name.hpp"
#include "dhcp/ip_udp.hpp"
#include "dhcp/router_advert.hpp"

using namespace netdhcp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input(reinterpret_cast<const std::byte*>(data), size);
  if (auto d = parse_ipv4_udp(input, true); d && d->payload.size() > size) __builtin_trap();
  (void)parse_ipv4_udp(input, false);
  (void)parse_arp(input);
  (void)dns::decode_names(input, true);
  (void)dns::decode_names(input, false);
  if (auto prefixes = parse_router_advertisement(input)) {
    for (const auto& p : *prefixes)
      if (p.length < 0 || p.length > 128) __builtin_trap();
  }
  return 0;
}
