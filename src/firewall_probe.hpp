// Does the host let frames through the bridge? With br_netfilter on
// (net.bridge.bridge-nf-call-iptables = 1), bridged IPv4 passes iptables' FORWARD chain, whose
// policy Docker sets to DROP: DHCP between containers and the LAN then silently dies. Rather
// than read the firewall's rules, this sends one DHCP-shaped frame between two throw-away ports
// of the bridge and sees whether it arrives.
#pragma once

#include <string>

#include "netdhcp/result.hpp"

namespace netdhcp {

// Errors: the frame was dropped (the message gives the command that fixes it), or the probe
// could not be set up (netlink, namespaces, sockets).
Result<void> probe_bridge_forwarding(const std::string& bridge, int bridge_index);

}  // namespace netdhcp
