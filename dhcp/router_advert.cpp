#include "dhcp/router_advert.hpp"

namespace netdhcp {

std::optional<std::vector<OnLinkPrefix>> parse_router_advertisement(ByteView icmp) {
  ByteReader r(icmp);
  std::uint8_t type = r.u8();
  std::uint8_t code = r.u8();
  r.skip(14);  // checksum, hop limit, flags, router lifetime, reachable time, retrans timer
  if (!r.ok() || type != 134 || code != 0) return std::nullopt;
  std::vector<OnLinkPrefix> prefixes;
  while (r.remaining() >= 2) {
    std::uint8_t option = r.u8();
    std::size_t length = std::size_t{r.u8()} * 8;  // in units of 8 octets, header included
    // RFC 4861 4.6: "Nodes MUST silently discard an ND packet that contains an option with
    // length zero" -- we stop reading; what came before stays.
    if (length < 2 || r.remaining() < length - 2) break;
    ByteView body = r.bytes(length - 2);
    if (option != 3 || body.size() != 30) continue;  // Prefix Information is 32 bytes
    ByteReader p(body);
    int prefix_length = p.u8();
    std::uint8_t flags = p.u8();
    p.skip(12);  // valid and preferred lifetimes, reserved
    auto address = p.bytes(16);
    if (!p.ok() || prefix_length > 128 || !(flags & 0x80)) continue;  // L: on-link
    OnLinkPrefix prefix;
    for (std::size_t i = 0; i < 16; ++i) prefix.prefix.octets[i] = std::to_integer<std::uint8_t>(address[i]);
    prefix.length = prefix_length;
    prefixes.push_back(prefix);
  }
  return prefixes;
}

void encode_router_solicitation(const MacAddress& mac, Bytes& out) {
  ByteWriter w(out);
  w.u8(133);  // Router Solicitation
  w.u8(0);    // code
  w.u16(0);   // checksum
  w.u32(0);   // reserved
  w.u8(1);    // Source Link-Layer Address
  w.u8(1);    // length in units of 8 octets
  for (std::uint8_t octet : mac.octets) w.u8(octet);
}

bool router_advertisement_origin_valid(const Ipv6Address& source, int hop_limit) {
  return hop_limit == 255 && source.is_link_local();
}

bool prefix_contains(const OnLinkPrefix& prefix, const Ipv6Address& address) {
  for (int bit = 0; bit < prefix.length; ++bit) {
    int byte = bit / 8, mask = 0x80 >> (bit % 8);
    if ((address.octets[byte] & mask) != (prefix.prefix.octets[byte] & mask)) return false;
  }
  return true;
}

}  // namespace netdhcp
