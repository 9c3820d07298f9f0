#include "src/endpoint/macvlan_attachment.hpp"

#include <cerrno>

#include "src/endpoint/kernel.hpp"
#include "src/endpoint/parent_link.hpp"
#include "src/support/background.hpp"
#include "src/support/log.hpp"

namespace netdhcp {

ChildAttachment::ChildAttachment(ChildConfig config, std::string child)
    : config_(std::move(config)), child_(std::move(child)) {}

Result<void> ChildAttachment::create() {
  auto made = [&]() -> Result<void> {
    auto socket = netlink::Socket::open();
    if (!socket) return socket.error();
    auto created = make_child(*socket);
    if (!created && created.error().errno_value == EEXIST) {
      // A leftover of an earlier run that died mid-way: it is ours (same endpoint id).
      if (auto stale = netlink::find_link(*socket, child_)) (void)netlink::delete_link(*socket, *stale);
      created = make_child(*socket);
    }
    if (!created) {
      // Why, in the user's words: the parent's children and masters tell.
      std::optional<ParentFacts> facts;
      if (auto host = real_kernel()->host_netlink())
        if (auto read = read_parent(**host, config_.options.parent)) facts = std::move(*read);
      return Error{explain_child_error(created.error(), config_.options, facts ? &*facts : nullptr),
                   created.error().errno_value};
    }
    links_made_ = true;
    // Set up by its name, as the veth's container end: no lookup first (it would wait for RTNL).
    if (auto quiet = quiet_container_end(child_, config_.ipv6); !quiet) return quiet.error();
    if (auto up = netlink::set_up(*socket, child_, true); !up) {
      // macvlan: a MAC that the parent or another of its children has (macvlan_addr_busy).
      if (up.error().errno_value == EADDRINUSE)
        return Error{"MAC " + config_.mac.to_string() + " is in use on parent " + config_.options.parent +
                     " already (by the parent or another macvlan interface): give this container another --mac-address",
                     EADDRINUSE};
      return up.error();
    }
    return {};
  }();
  if (!made) remove();
  return made;
}

std::optional<InterfaceInfo> ChildAttachment::release_path() const {
  if (auto child = query_interface(child_)) return *child;
  // The child went with the container's namespace: the parent reaches the same LAN.
  if (auto parent = query_interface(config_.options.parent)) {
    InterfaceInfo via = *parent;
    via.mac = config_.mac;
    return via;
  }
  return std::nullopt;
}

void ChildAttachment::remove() {
  if (!links_made_) return;
  links_made_ = false;
  remove_child(child_);
}

void ChildAttachment::remove_child(const std::string& name) {
  // After Leave Docker moves the interface back into the host namespace under this name; one
  // whose container's namespace is gone went with it. Deleting waits for an RCU grace period:
  // off the event loop.
  run_later([name] {
    auto socket = netlink::Socket::open();
    if (!socket) return;
    if (auto child = netlink::find_link(*socket, name))
      if (auto r = netlink::delete_link(*socket, *child); !r) log::warning("removing " + name + ": " + r.error().message);
  });
}

MacvlanAttachment::MacvlanAttachment(ChildConfig config)
    : ChildAttachment(config, macvlan_child_of(config.endpoint_id)) {}

netlink::MacvlanMode MacvlanAttachment::mode_of(const std::string& macvlan_mode) {
  if (macvlan_mode == "private") return netlink::MacvlanMode::Private;
  if (macvlan_mode == "vepa") return netlink::MacvlanMode::Vepa;
  if (macvlan_mode == "passthru") return netlink::MacvlanMode::Passthru;
  return netlink::MacvlanMode::Bridge;
}

Result<void> MacvlanAttachment::make_child(netlink::Socket& socket) {
  auto mode = mode_of(config_.options.macvlan_mode);
  // A passthru child has the parent's MAC; giving it another would change the parent's.
  std::optional<MacAddress> mac;
  if (mode != netlink::MacvlanMode::Passthru) mac = config_.mac;
  return netlink::create_macvlan(socket, child_, config_.parent_index, mode, mac);
}

void MacvlanAttachment::describe(boost::json::object& out) const {
  out["mode"] = "macvlan";
  out["parent"] = config_.options.parent;
  out["child"] = child_;
  out["macvlan_mode"] = config_.options.macvlan_mode;
}

IpvlanAttachment::IpvlanAttachment(ChildConfig config)
    : ChildAttachment(config, ipvlan_child_of(config.endpoint_id)) {}

Result<void> IpvlanAttachment::make_child(netlink::Socket& socket) {
  return netlink::create_ipvlan(socket, child_, config_.parent_index, netlink::IpvlanMode::L2);
}

void IpvlanAttachment::describe(boost::json::object& out) const {
  out["mode"] = "ipvlan";
  out["parent"] = config_.options.parent;
  out["child"] = child_;
  out["ipvlan_mode"] = "l2";
}

}  // namespace netdhcp
