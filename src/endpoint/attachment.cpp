#include "src/endpoint/attachment.hpp"

#include "netlink/namespace.hpp"
#include "src/endpoint/macvlan_attachment.hpp"
#include "src/endpoint/veth_attachment.hpp"

namespace netdhcp {

std::unique_ptr<Attachment> make_attachment(const std::string& endpoint_id, const NetworkOptions& options, int lan_index,
                                            int lan_mtu, MacAddress mac, bool ipv6) {
  switch (options.mode) {
    case NetworkMode::Macvlan:
      return std::make_unique<MacvlanAttachment>(ChildConfig{endpoint_id, options, lan_index, mac, ipv6});
    case NetworkMode::Ipvlan:
      return std::make_unique<IpvlanAttachment>(ChildConfig{endpoint_id, options, lan_index, mac, ipv6});
    case NetworkMode::Bridge:
      break;
  }
  return std::make_unique<VethAttachment>(VethConfig{endpoint_id, options.bridge, lan_index, lan_mtu, mac, ipv6});
}

bool takes_own_mac(const NetworkOptions& options) {
  switch (options.mode) {
    case NetworkMode::Bridge: return true;
    case NetworkMode::Macvlan: return options.macvlan_mode != "passthru";
    case NetworkMode::Ipvlan: return false;
  }
  return true;
}

void remove_leftover_links(const std::string& endpoint_id, const NetworkOptions* options) {
  bool any = options == nullptr;
  if (any || options->mode == NetworkMode::Bridge) VethAttachment::remove_links_of(endpoint_id);
  if (any || options->mode == NetworkMode::Macvlan) ChildAttachment::remove_child(ChildAttachment::macvlan_child_of(endpoint_id));
  if (any || options->mode == NetworkMode::Ipvlan) ChildAttachment::remove_child(ChildAttachment::ipvlan_child_of(endpoint_id));
}

Result<void> quiet_container_end(const std::string& name, bool ipv6) {
  auto here = netlink::Namespace::current();
  if (!here) return here.error();
  for (const char* key : {"accept_ra", "autoconf"})
    if (auto r = netlink::set_interface_sysctl(*here, "ipv6", name, key, "0"); !r) return r.error();
  if (ipv6)
    if (auto r = netlink::set_interface_sysctl(*here, "ipv6", name, "accept_dad", "0"); !r) return r.error();
  return {};
}

}  // namespace netdhcp
