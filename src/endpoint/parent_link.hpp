// The parent of a macvlan or ipvlan network: what CreateNetwork checks about it, and what the
// kernel's refusals to put a child on it mean, in the words of the person who typed `docker
// network create`. Nothing here changes the parent: no up or down, address, MAC or
// promiscuity (a child's own MAC may make the kernel put the parent in promiscuous mode while
// the child is up; that is the kernel's doing, and undone with the child).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netlink/link.hpp"
#include "src/endpoint/kernel.hpp"
#include "src/state/network_options.hpp"

namespace netdhcp {

struct ParentFacts {
  netlink::Link link;
  std::string lower;                    // what a macvlan/ipvlan/vlan parent itself sits on, if known
  std::optional<netlink::Link> master;  // the bridge, bond, team ... it is enslaved to
  // Its macvlan, macvtap, ipvlan and ipvtap children in this namespace (those moved into
  // containers are not seen here; the kernel still counts them, see explain_child_error).
  std::vector<netlink::Link> children;
  bool wireless = false;  // a Wi-Fi interface (/sys/class/net/NAME/wireless)
};

// Reads `name`, its master and lower link and its children through `host`. Errors: the
// kernel's (ENODEV: there is no such link).
Result<ParentFacts> read_parent(HostNetlink& host, const std::string& name);

// CreateNetwork's refusals of a parent that exists, for a macvlan or ipvlan network, each with
// its fix: the loopback; a macvlan/ipvlan child itself; a port of a bridge, a bond slave or
// enslaved otherwise; down; Wi-Fi for macvlan (unless ignore_conflicts); children of the other
// kind (macvlan and ipvlan cannot share a parent); passthru next to other macvlan children.
// nullopt: none of these.
std::optional<std::string> parent_refusal(const ParentFacts& parent, const NetworkOptions& options);

// The kernel refused to make a child of `options`' kind on the parent (CreateNetwork's trial
// child, or an endpoint's): what it means and what to do. `parent`, when known, names the
// children and masters the kernel saw.
std::string explain_child_error(const Error& error, const NetworkOptions& options, const ParentFacts* parent);

// parent=NAME does not exist: the message, with the 802.1q base when NAME is IF.VID and IF is
// missing too (`base_missing`).
std::string missing_parent_message(const NetworkOptions& options, bool base_missing);

// parent=IF.VID does not exist and would be made on IF (`base`): refused when IF is the
// loopback, enslaved (a bridge port's or bond slave's VLANs see nothing) or down.
std::optional<std::string> vlan_base_refusal(const ParentFacts& base, const std::string& parent, const VlanName& vlan);

// Making the 802.1q sub-interface parent=IF.VID failed: the kernel has no 8021q, or its error.
std::string vlan_error_message(const Error& error, const std::string& parent, const VlanName& vlan);

}  // namespace netdhcp
