// Network interfaces (links): create veth/macvlan/ipvlan/802.1q, look up, change, move, delete.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netlink/socket.hpp"

namespace netdhcp::netlink {

struct Link {
  int index = 0;
  std::string name;
  std::string kind;  // "veth", "bridge", "macvlan", ... (empty for physical)
  MacAddress mac;
  int mtu = 0;
  int master = 0;  // index of the bridge it is enslaved to, 0 if none
  std::string slave_kind;  // what it is enslaved to: "bridge", "bond", "team", ... (empty if none)
  unsigned flags = 0;  // IFF_*
  int operstate = 0;   // IF_OPER_*
  unsigned promiscuity = 0;  // IFLA_PROMISCUITY: how many users asked for promiscuous mode
  // IFLA_LINK: for a macvlan, ipvlan or vlan child the link it sits on, for a veth its peer;
  // an index in this namespace unless `link_elsewhere` (IFLA_LINK_NETNSID: in another one).
  int link = 0;
  bool link_elsewhere = false;
  std::optional<MacvlanMode> macvlan_mode;  // kind "macvlan"
  std::optional<IpvlanMode> ipvlan_mode;    // kind "ipvlan"
  int vlan_id = 0;                          // kind "vlan"
  bool up() const;
  bool running() const;  // IFF_LOWER_UP: carrier
};

// Decodes an RTM_NEWLINK/RTM_DELLINK message; nullopt if it is not one or is malformed.
std::optional<Link> parse_link(const nlmsghdr* message);

// Each returns the kernel's error with the operation and the link named, e.g.
// "RTM_NEWLINK veth dh-1a2b: File exists".
Result<void> create_veth(Socket& socket, const VethSpec& spec);
Result<void> create_bridge(Socket& socket, const std::string& name);
Result<void> create_macvlan(Socket& socket, const std::string& name, int parent_index, MacvlanMode mode,
                            std::optional<MacAddress> mac = std::nullopt);
Result<void> create_ipvlan(Socket& socket, const std::string& name, int parent_index, IpvlanMode mode);
// An 802.1q sub-interface `name` of `parent_index` with VLAN id `vlan_id` (1-4094), down.
Result<void> create_vlan(Socket& socket, const std::string& name, int parent_index, int vlan_id);
Result<Link> find_link(Socket& socket, const std::string& name);  // ENODEV if absent
Result<Link> find_link(Socket& socket, int index);
Result<std::vector<Link>> list_links(Socket& socket);
Result<void> set_up(Socket& socket, const Link& link, bool up);
// The same for the link named `name`, without looking it up first (the kernel finds it by name).
Result<void> set_up(Socket& socket, const std::string& name, bool up);
Result<void> set_master(Socket& socket, const Link& link, int master_index);  // 0: nomaster
Result<void> set_mac(Socket& socket, const Link& link, MacAddress mac);
Result<void> set_mtu(Socket& socket, const Link& link, int mtu);
Result<void> set_name(Socket& socket, const Link& link, const std::string& name);
// Moves the link into another namespace by fd (the name stays unless the caller renames).
Result<void> move_to_namespace(Socket& socket, const Link& link, BorrowedFd namespace_fd);
Result<void> delete_link(Socket& socket, const Link& link);

}  // namespace netdhcp::netlink
