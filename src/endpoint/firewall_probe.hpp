// Does the host let frames through the bridge? With br_netfilter on
// (net.bridge.bridge-nf-call-iptables / -ip6tables = 1), bridged IPv4 passes iptables' FORWARD
// chain, whose policy Docker sets to DROP, and bridged IPv6 passes ip6tables' FORWARD chain,
// whose policy Docker 28 sets to DROP as soon as any Docker network has IPv6: DHCP between
// containers and the LAN then silently dies. Rather than read the firewall's rules, this sends
// one DHCP-shaped frame (and, for IPv6, one DHCPv6-shaped frame) between two throw-away ports
// of the bridge and sees whether it arrives.
#pragma once

#include <string>

#include "netdhcp/address.hpp"
#include "netdhcp/bytes.hpp"
#include "netdhcp/result.hpp"
#include "src/support/asio.hpp"

namespace netdhcp {

struct ProbeFamilies {
  bool ipv4 = true;
  bool ipv6 = false;
};

struct ProbeVerdict {
  bool dropped4 = false;
  bool dropped6 = false;
  std::string message;  // when something was dropped: which family, why, and the iptables/ip6tables fix
  bool dropped() const { return dropped4 || dropped6; }
};

// Waits at most ~300 ms for the frames, without blocking the event loop; the ports are removed
// on the helper thread (src/background.hpp) after it returns. A family whose bridged frames
// never meet a firewall (br_netfilter's sysctl is not 1) is not probed. Errors: the probe could
// not be set up (netlink, namespaces, sockets).
asio::awaitable<Result<ProbeVerdict>> probe_bridge_forwarding(std::string bridge, int bridge_index, ProbeFamilies families);

// The IPv6 packet of the DHCPv6-shaped probe: UDP from [source]:546 to [ff02::1:2]:547 (a
// SOLICIT's addresses, RFC 8415 section 7.1) carrying `payload`, with the UDP checksum over the
// pseudo-header (RFC 8200 section 8.1). No link-layer header.
Bytes dhcp6_probe_packet(const Ipv6Address& source, ByteView payload);

}  // namespace netdhcp
