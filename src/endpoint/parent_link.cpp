#include "src/endpoint/parent_link.hpp"

#include <net/if.h>

#include <cerrno>

namespace netdhcp {

namespace {

bool is_macvlan_kind(const std::string& kind) { return kind == "macvlan" || kind == "macvtap"; }
bool is_ipvlan_kind(const std::string& kind) { return kind == "ipvlan" || kind == "ipvtap"; }

std::string names_of(const std::vector<const netlink::Link*>& links) {
  std::string names;
  for (const auto* l : links) names += (names.empty() ? "" : ", ") + l->name;
  return names;
}

const char* kListInterfaces = "name the host interface on the LAN (ip -br link lists them)";

// "a macvlan", "an ipvlan".
std::string a(const std::string& kind) { return (kind.rfind('i', 0) == 0 ? "an " : "a ") + kind; }

}  // namespace

Result<ParentFacts> read_parent(HostNetlink& host, const std::string& name) {
  auto link = host.find_link(name);
  if (!link) return link.error();
  ParentFacts facts;
  facts.link = *link;
  if (link->master)
    if (auto master = host.find_link(link->master)) facts.master = *master;
  bool stacked = is_macvlan_kind(link->kind) || is_ipvlan_kind(link->kind) || link->kind == "vlan";
  if (stacked && link->link && !link->link_elsewhere)
    if (auto lower = host.find_link(link->link)) facts.lower = lower->name;
  auto links = host.links();
  if (!links) return links.error();
  for (const auto& l : *links)
    if ((is_macvlan_kind(l.kind) || is_ipvlan_kind(l.kind)) && l.link == link->index && !l.link_elsewhere)
      facts.children.push_back(l);
  return facts;
}

std::optional<std::string> parent_refusal(const ParentFacts& parent, const NetworkOptions& options) {
  const std::string& name = parent.link.name;
  const bool macvlan = options.mode == NetworkMode::Macvlan;
  const std::string kind(to_string(options.mode));
  if (parent.link.flags & IFF_LOOPBACK)
    return "parent " + name + " is the loopback interface, not one on the LAN: " + kListInterfaces + ", e.g. -o parent=eth0";
  if (is_macvlan_kind(parent.link.kind) || is_ipvlan_kind(parent.link.kind))
    return "parent " + name + " is itself " + a(parent.link.kind) + " interface (of " +
           (parent.lower.empty() ? "another interface" : parent.lower) + "): put the network on " +
           (parent.lower.empty() ? "that interface" : parent.lower + " (-o parent=" + parent.lower + ")") + " instead";
  if (parent.link.master) {
    std::string master = parent.master ? parent.master->name : "interface " + std::to_string(parent.link.master);
    const std::string& slave_kind = parent.link.slave_kind;
    if (slave_kind == "bridge")
      return "parent " + name + " is a port of bridge " + master + ": what arrives on a bridge port belongs to the bridge, so " +
             kind + " children of " + name + " would see nothing (the kernel refuses them). Use bridge mode on that bridge "
             "(-o bridge=" + master + " without -o mode), or -o parent=" + master;
    if (slave_kind == "bond")
      return "parent " + name + " is a slave of bond " + master + ": its traffic belongs to the bond. Use -o parent=" + master;
    return "parent " + name + " is enslaved to " + master + (slave_kind.empty() ? "" : " (" + slave_kind + ")") +
           ": its traffic belongs to " + master + ". Use -o parent=" + master + ", or an interface of its own";
  }
  if (!(parent.link.flags & IFF_UP))
    return "parent " + name + " is down: net-dhcp never changes the parent, so bring it up yourself (ip link set " + name +
           " up) and create the network again";
  if (macvlan && parent.wireless && !options.ignore_conflicts)
    return "parent " + name + " is a Wi-Fi interface: an access point takes frames only from the MAC that associated with it, "
           "so macvlan containers (each with a MAC of its own) would get no lease. Use -o mode=ipvlan (L2: every container "
           "shares " + name + "'s MAC), or -o ignore_conflicts=true if " + name + " is in 4-address (WDS) or access-point mode";
  std::vector<const netlink::Link*> other_kind, macvlans, passthrus;
  for (const auto& child : parent.children) {
    if (macvlan ? is_ipvlan_kind(child.kind) : is_macvlan_kind(child.kind)) other_kind.push_back(&child);
    if (is_macvlan_kind(child.kind)) macvlans.push_back(&child);
    if (child.macvlan_mode == netlink::MacvlanMode::Passthru) passthrus.push_back(&child);
  }
  if (!other_kind.empty())
    return "parent " + name + " has " + (macvlan ? "ipvlan" : "macvlan") + " interfaces (" + names_of(other_kind) +
           "): the kernel allows macvlan or ipvlan children on one parent, not both. Use -o mode=" +
           (macvlan ? "ipvlan" : "macvlan") + ", or another parent";
  if (macvlan && options.macvlan_mode == "passthru" && !macvlans.empty())
    return "macvlan_mode=passthru gives parent " + name + " whole to one container, but " + name +
           " already has macvlan interfaces (" + names_of(macvlans) + "): use macvlan_mode=bridge, or a parent of its own";
  if (macvlan && !passthrus.empty())
    return "parent " + name + " has a passthru macvlan interface (" + names_of(passthrus) +
           "), which has it whole: no other macvlan interface can share it; use another parent";
  return std::nullopt;
}

std::string explain_child_error(const Error& error, const NetworkOptions& options, const ParentFacts* parent) {
  const std::string& name = options.parent;
  const std::string kind(to_string(options.mode));
  const bool macvlan = options.mode == NetworkMode::Macvlan;
  switch (error.errno_value) {
    case EOPNOTSUPP:
      // rtnetlink's "Unknown device type": no such link kind, built in or as a module.
      return macvlan ? "the kernel has no macvlan support (module macvlan, CONFIG_MACVLAN): load it (modprobe macvlan), "
                       "or use bridge mode (-o bridge=BRIDGE)"
                     : "the kernel has no ipvlan support (module ipvlan, CONFIG_IPVLAN): load it (modprobe ipvlan), "
                       "or use -o mode=macvlan";
    case EBUSY:
      if (parent)
        if (auto refusal = parent_refusal(*parent, options)) return *refusal;
      return "the kernel refuses " + a(kind) + " interface on " + name + " (Device or resource busy): something else already "
             "receives " + name + "'s traffic: " + (macvlan ? "ipvlan" : "macvlan") + " interfaces, perhaps in containers "
             "(Docker's " + (macvlan ? "ipvlan" : "macvlan") + " driver? macvlan and ipvlan cannot share a parent), or " + name +
             " is a port of a bridge, a bond or Open vSwitch. Use another parent" +
             (macvlan ? ", or -o mode=ipvlan if " + name + " has ipvlan interfaces" : ", or -o mode=macvlan if " + name + " has macvlan interfaces");
    case EINVAL:
      if (macvlan) {
        if (parent)
          if (auto refusal = parent_refusal(*parent, options)) return *refusal;
        if (options.macvlan_mode == "passthru")
          return "macvlan_mode=passthru needs parent " + name + " to itself, but it already has a macvlan interface "
                 "(perhaps in a container: of Docker's macvlan driver, or of this network, whose passthru interface serves "
                 "one container at a time). Use macvlan_mode=bridge for more containers on " + name;
        return "the kernel refuses a macvlan interface on " + name + " (Invalid argument): a passthru macvlan interface "
               "has it whole (perhaps in a container), or " + name + " is not an Ethernet interface";
      }
      break;
    default:
      break;
  }
  return "making " + a(kind) + " interface on " + name + ": " + error.message;
}

std::string missing_parent_message(const NetworkOptions& options, bool base_missing) {
  const std::string& name = options.parent;
  if (base_missing)
    if (auto vlan = parse_vlan_name(name))
      return "parent " + name + " does not exist, and neither does " + vlan->base + " to make it from (802.1q VLAN " +
             std::to_string(vlan->vlan_id) + " of " + vlan->base + "): " + kListInterfaces;
  return "parent " + name + " does not exist: " + kListInterfaces + ", e.g. -o parent=eth0 (or eth0.10 for its VLAN 10)";
}

std::optional<std::string> vlan_base_refusal(const ParentFacts& base, const std::string& parent, const VlanName& vlan) {
  std::string making = "parent " + parent + " does not exist, and it would be made as VLAN " + std::to_string(vlan.vlan_id) +
                       " of " + vlan.base + ", but " + vlan.base;
  if (base.link.flags & IFF_LOOPBACK) return making + " is the loopback interface: " + kListInterfaces;
  if (base.link.master) {
    std::string master = base.master ? base.master->name : "interface " + std::to_string(base.link.master);
    return making + " is enslaved to " + master + (base.link.slave_kind.empty() ? "" : " (" + base.link.slave_kind + ")") +
           ", whose traffic it is: use -o parent=" + master + "." + std::to_string(vlan.vlan_id);
  }
  if (!(base.link.flags & IFF_UP))
    return making + " is down: net-dhcp never changes it, so bring it up yourself (ip link set " + vlan.base +
           " up) and create the network again";
  return std::nullopt;
}

std::string vlan_error_message(const Error& error, const std::string& parent, const VlanName& vlan) {
  if (error.errno_value == EOPNOTSUPP)
    return "parent " + parent + " does not exist, and the kernel has no 802.1q VLAN support (module 8021q) to make it as VLAN " +
           std::to_string(vlan.vlan_id) + " of " + vlan.base + ": load the module (modprobe 8021q), make " + parent +
           " yourself, or use a parent without .VID";
  return "making the 802.1q sub-interface " + parent + " (VLAN " + std::to_string(vlan.vlan_id) + " of " + vlan.base +
         "): " + error.message;
}

}  // namespace netdhcp
