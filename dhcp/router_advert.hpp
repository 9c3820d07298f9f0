// Router Advertisements (RFC 4861 section 4.2) as far as net-dhcp needs them: the on-link
// prefixes (Prefix Information options with the L flag, section 4.6.2). DHCPv6 gives addresses
// without a prefix length; the LAN's router says which prefix is on-link.
#pragma once

#include <optional>
#include <vector>

#include "netdhcp/address.hpp"
#include "netdhcp/bytes.hpp"

namespace netdhcp {

struct OnLinkPrefix {
  Ipv6Address prefix;
  int length = 0;
  bool operator==(const OnLinkPrefix&) const = default;
};

// The on-link prefixes of an ICMPv6 Router Advertisement (the ICMPv6 message, without the IPv6
// header). nullopt if it is not an RA or is malformed; a malformed option ends the list.
std::optional<std::vector<OnLinkPrefix>> parse_router_advertisement(ByteView icmp);

// RFC 4861 section 6.1.2: "A node MUST silently discard any received Router Advertisement
// messages that do not satisfy all of the following validity checks: - IP Source Address is a
// link-local address. ... - The IP Hop Limit field has a value of 255". A router off the link
// cannot forge one: every router on the way decrements the hop limit. `hop_limit` is -1 when
// the socket did not say (no IPV6_HOPLIMIT control message): not valid either.
bool router_advertisement_origin_valid(const Ipv6Address& source, int hop_limit);

// True if `address` lies inside `prefix`.
bool prefix_contains(const OnLinkPrefix& prefix, const Ipv6Address& address);

// Appends an ICMPv6 Router Solicitation (RFC 4861 section 4.1) with a Source Link-Layer Address
// option (section 4.6.1) for `mac`, checksum left 0 for the kernel (raw ICMPv6 sockets fill it).
// A router, or a DHCPv6 server answering it with an RA, learns our link-layer address from it.
void encode_router_solicitation(const MacAddress& mac, Bytes& out);

}  // namespace netdhcp
