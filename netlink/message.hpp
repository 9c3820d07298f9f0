// rtnetlink request messages, built in a plain buffer before any socket exists (after libmnl's
// examples and iproute2's lib/libnetlink.c). Pure functions: unit-tested byte for byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netdhcp/address.hpp"

namespace netdhcp::netlink {

// One request: the bytes, ready to send once a sequence number is written in, and a short
// description for error messages ("RTM_NEWLINK veth dh-1a2b").
struct Request {
  std::vector<char> bytes;
  std::string what;
};

// An IPv4 or IPv6 address with a prefix length.
struct IpPrefix {
  bool v6 = false;
  Ipv4Address v4_address;
  Ipv6Address v6_address;
  int prefix_length = 0;

  static IpPrefix from_v4(Ipv4Address a, int len) { return {false, a, {}, len}; }
  static IpPrefix from_v6(Ipv6Address a, int len) { return {true, {}, a, len}; }
  std::string to_string() const;
  bool operator==(const IpPrefix&) const = default;
};

struct VethSpec {
  std::string name;
  std::optional<MacAddress> mac;
  std::optional<int> mtu;
  std::string peer_name;
  std::optional<MacAddress> peer_mac;
  std::optional<int> peer_namespace_fd;  // create the peer directly in this namespace
  // This end (not the peer) enslaved to that bridge and set up in the same RTM_NEWLINK: one
  // round trip (and one wait for RTNL, which a busy dockerd holds often) instead of three.
  // Up alone it has no carrier, and sends nothing, until the peer is up too. (A kernel may
  // ignore both: VethAttachment::create checks.)
  std::optional<int> master_index;
  bool up = false;
};

enum class MacvlanMode : std::uint32_t { Private = 1, Vepa = 2, Bridge = 4, Passthru = 8 };
enum class IpvlanMode : std::uint16_t { L2 = 0, L3 = 1, L3s = 2 };

struct LinkChange {
  int index = 0;
  std::optional<bool> up;
  std::optional<int> master;  // 0 removes the master
  std::optional<MacAddress> mac;
  std::optional<int> mtu;
  std::optional<std::string> name;
  std::optional<int> namespace_fd;  // move to this network namespace
};

struct AddressSpec {
  int index = 0;
  IpPrefix prefix;
  std::optional<Ipv4Address> broadcast;       // IPv4 only
  std::optional<std::uint32_t> valid_lifetime;    // seconds; absent: forever
  std::optional<std::uint32_t> preferred_lifetime;
  bool nodad = false;           // IFA_F_NODAD (IPv6)
  bool noprefixroute = false;   // IFA_F_NOPREFIXROUTE
};

struct RouteSpec {
  IpPrefix destination;              // prefix length 0: default route
  std::optional<Ipv4Address> gateway4;
  std::optional<Ipv6Address> gateway6;
  int oif = 0;
  bool link_scope = false;           // on-link: no gateway, scope link
  bool onlink_gateway = false;       // RTNH_F_ONLINK: gateway outside any connected prefix
  std::optional<std::uint32_t> metric;
  std::uint32_t table = 254;         // RT_TABLE_MAIN
};

Request new_veth(const VethSpec& spec);
Request new_bridge(std::string_view name);
Request new_macvlan(std::string_view name, int parent_index, MacvlanMode mode, std::optional<MacAddress> mac);
Request new_ipvlan(std::string_view name, int parent_index, IpvlanMode mode);
Request new_vlan(std::string_view name, int parent_index, std::uint16_t vlan_id);
Request change_link(const LinkChange& change, std::string what);
Request delete_link(int index, std::string what);
Request get_link_by_name(std::string_view name);
Request get_link_by_index(int index);
Request dump_links();

Request add_address(const AddressSpec& spec, bool replace);
Request delete_address(int index, const IpPrefix& prefix);
Request dump_addresses(bool v6);

Request add_route(const RouteSpec& spec, bool replace);
Request delete_route(const RouteSpec& spec);
Request dump_routes(bool v6);

}  // namespace netdhcp::netlink
