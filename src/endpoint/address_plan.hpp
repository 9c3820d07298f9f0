// Keeping the container's interface in line with its leases, as a plan: which addresses and
// routes to add or remove when a lease comes, changes or goes. Working out the plan touches
// no kernel, so tests check it step by step; apply_plan() carries it out over netlink.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dhcp/dhcp4_client.hpp"
#include "dhcp/dhcp6_client.hpp"
#include "netlink/message.hpp"
#include "netlink/socket.hpp"

namespace netdhcp {

struct AddressStep {
  enum class Kind {
    ReplaceAddress,        // add `prefix`, or update it if the interface has it already
    DeleteAddress,         // remove `prefix` (missing already: fine)
    ReplaceDefaultRoute4,  // the IPv4 default route via `gateway`, on-link
  };
  Kind kind = Kind::ReplaceAddress;
  netlink::IpPrefix prefix;            // the addresses' steps
  std::optional<Ipv4Address> gateway;  // ReplaceDefaultRoute4
  bool operator==(const AddressStep&) const = default;
};
using AddressPlan = std::vector<AddressStep>;
std::string to_string(const AddressStep& step);

// From the previous IPv4 lease to the next (either may be none): the new address first (so the
// interface is never without one while it changes), then the old one removed, then the default
// route when the gateway changed. `gateway` is the network's `gateway` option, which wins over
// the lease's router.
AddressPlan plan_lease4(const std::optional<dhcp4::Lease>& previous, const std::optional<dhcp4::Lease>& next,
                        const std::optional<Ipv4Address>& gateway);
// The same for DHCPv6 (its default route comes from router advertisements, not from here).
AddressPlan plan_lease6(const std::optional<dhcp6::Lease>& previous, const std::optional<dhcp6::Lease>& next,
                        int prefix_length);
// The on-link prefix length of the DHCPv6 address changed (learnt from an RA): the kernel keys
// an IPv6 address by the address alone, so the old length goes first.
AddressPlan plan_prefix6(const Ipv6Address& address, int old_length, int new_length);

// Carries out `plan` on interface `index`. Returns one line per step that failed (a deletion
// of something already gone is not a failure).
std::vector<std::string> apply_plan(netlink::Socket& socket, int index, const AddressPlan& plan);

}  // namespace netdhcp
