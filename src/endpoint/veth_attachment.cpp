#include "src/endpoint/veth_attachment.hpp"

#include <atomic>
#include <cerrno>

#include "netlink/link.hpp"
#include "netlink/namespace.hpp"
#include "src/support/background.hpp"
#include "src/support/log.hpp"

namespace netdhcp {

std::atomic<bool> VethAttachment::kernel_makes_ports_up_{false};

VethAttachment::VethAttachment(VethConfig config)
    : config_(std::move(config)),
      host_end_(host_end_of(config_.endpoint_id)),
      container_end_(container_end_of(config_.endpoint_id)) {}

Result<void> VethAttachment::create() {
  auto made = [&]() -> Result<void> {
    auto socket = netlink::Socket::open();
    if (!socket) return socket.error();
    netlink::VethSpec spec;
    spec.name = host_end_;
    spec.peer_name = container_end_;
    spec.peer_mac = config_.mac;
    spec.mtu = config_.mtu;
    spec.master_index = config_.bridge_index;  // the host end: a port of the bridge, up
    spec.up = true;
    auto created = netlink::create_veth(*socket, spec);
    if (!created && created.error().errno_value == EEXIST) {
      // A leftover of an earlier run that died mid-way: it is ours (same endpoint id).
      if (auto stale = netlink::find_link(*socket, host_end_)) (void)netlink::delete_link(*socket, *stale);
      created = netlink::create_veth(*socket, spec);
    }
    if (!created) return created.error();
    links_made_ = true;
    // A kernel that ignored IFLA_MASTER or the flags at creation (older ones may): done the
    // long way, so that the port is never left outside the bridge. The kernel does not change
    // while we run: once a veth came out right, the next ones are not looked up (in a boot
    // storm each lookup waits for RTNL behind dockerd's own link changes, milliseconds).
    if (!kernel_makes_ports_up()) {
      auto host = netlink::find_link(*socket, host_end_);
      if (!host) return host.error();
      bool right = host->master == config_.bridge_index && host->up();
      if (host->master != config_.bridge_index)
        if (auto r = netlink::set_master(*socket, *host, config_.bridge_index); !r) return r.error();
      if (!host->up())
        if (auto r = netlink::set_up(*socket, *host, true); !r) return r.error();
      if (right) kernel_makes_ports_up_ = true;
    }
    // Quiet before it is up: no router solicitation, DAD or SLAAC of its own on the LAN.
    if (auto quiet = quiet_container_end(container_end_, config_.ipv6); !quiet) return quiet.error();
    if (auto r = netlink::set_up(*socket, container_end_, true); !r) return r.error();
    return {};
  }();
  if (!made) remove();
  return made;
}

std::optional<InterfaceInfo> VethAttachment::release_path() const {
  if (auto container = query_interface(container_end_)) return *container;
  // The veth went with the container's namespace: the bridge reaches the same LAN.
  if (auto bridge = query_interface(config_.bridge)) {
    InterfaceInfo via = *bridge;
    via.mac = config_.mac;
    return via;
  }
  return std::nullopt;
}

void VethAttachment::remove() {
  if (!links_made_) return;
  links_made_ = false;
  remove_links_of(config_.endpoint_id);
}

void VethAttachment::remove_links_of(const std::string& endpoint_id) {
  // The kernel waits for an RCU grace period while it deletes a link: off the event loop
  // (src/support/background.hpp).
  run_later([host_end = host_end_of(endpoint_id)] {
    auto socket = netlink::Socket::open();
    if (!socket) return;
    if (auto host = netlink::find_link(*socket, host_end))
      if (auto r = netlink::delete_link(*socket, *host); !r) log::warning("removing " + host_end + ": " + r.error().message);
  });
}

void VethAttachment::describe(boost::json::object& out) const {
  out["mode"] = "bridge";
  out["bridge"] = config_.bridge;
  out["host_interface"] = host_end_;
}

}  // namespace netdhcp
