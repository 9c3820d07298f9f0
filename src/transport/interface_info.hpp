// What the DHCP sockets need to know about an interface in the current network namespace.
#pragma once

#include <optional>
#include <string>

#include "netdhcp/address.hpp"
#include "netdhcp/result.hpp"

namespace netdhcp {

struct InterfaceInfo {
  std::string name;
  int index = 0;
  MacAddress mac;
  int mtu = 1500;
  bool up = false;
};

// Errors: no such interface, or not an Ethernet-like interface with a MAC.
Result<InterfaceInfo> query_interface(const std::string& name);

// The interface's IPv6 link-local address, if it has one (tentative or not).
std::optional<Ipv6Address> link_local_address(const std::string& name);

}  // namespace netdhcp
