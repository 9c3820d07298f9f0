// Routes: add, replace, delete, list; IPv4 and IPv6; default, via a gateway, on-link.
#pragma once

#include <optional>
#include <vector>

#include "netlink/socket.hpp"

namespace netdhcp::netlink {

struct Route {
  IpPrefix destination;
  std::optional<Ipv4Address> gateway4;
  std::optional<Ipv6Address> gateway6;
  int oif = 0;
  std::uint32_t table = 254;
  std::uint32_t metric = 0;
  int scope = 0;     // RT_SCOPE_*
  int protocol = 0;  // RTPROT_*
  int type = 0;      // RTN_*
};

// Decodes RTM_NEWROUTE/RTM_DELROUTE; nullopt if it is not one or is malformed.
std::optional<Route> parse_route(const nlmsghdr* message);

// Errors: the kernel's, e.g. "RTM_NEWROUTE default via 198.18.0.1: Network is unreachable".
Result<void> add_route(Socket& socket, const RouteSpec& spec);
Result<void> replace_route(Socket& socket, const RouteSpec& spec);
Result<void> delete_route(Socket& socket, const RouteSpec& spec);
// Unicast routes of one table (default: main) and family.
Result<std::vector<Route>> list_routes(Socket& socket, bool v6, std::uint32_t table = 254);

}  // namespace netdhcp::netlink
