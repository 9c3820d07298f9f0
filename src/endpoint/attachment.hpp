// How an endpoint is attached to the LAN: the links it has in the host namespace, the
// interface its DHCP clients run on until Docker moves it into the container, what Join
// hands to Docker, and their removal. Three implementations, one per network mode: a veth pair
// with one end on the bridge (veth_attachment.hpp), a macvlan child of a host interface and an
// ipvlan L2 child (macvlan_attachment.hpp). make_attachment() picks it; the endpoint never asks
// which one it has.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "netdhcp/result.hpp"
#include "src/state/network_options.hpp"
#include "src/transport/interface_info.hpp"

namespace netdhcp {

class Attachment {
 public:
  virtual ~Attachment() = default;

  // "veth", "macvlan", "ipvlan" (status shows it, and what it is attached to).
  virtual std::string_view kind() const = 0;
  // Makes the links in the host namespace, ready for DHCP. On error nothing of them is left.
  virtual Result<void> create() = 0;
  // The interface the clients run on before Join, and the one Docker moves into the container
  // and renames (Join's InterfaceName.SrcName).
  virtual const std::string& container_end() const = 0;
  // Links whose carrier must be up before the first packet (a DISCOVER sent earlier is lost).
  virtual std::vector<std::string> links_to_wait_for() const = 0;
  // The container end is gone (its container died while the daemon was down): where a RELEASE
  // can still reach the LAN, with the endpoint's MAC as the source. nullopt: nowhere.
  virtual std::optional<InterfaceInfo> release_path() const = 0;
  // After a restart: whatever of the links still exists is ours, remove() removes it.
  virtual void adopt() = 0;
  // Removes the links, wherever the container end is now. Off the event loop; idempotent.
  virtual void remove() = 0;
  // What `net-dhcp status` shows of it: mode, and the bridge and host end, or the parent and
  // the child.
  virtual void describe(boost::json::object& out) const = 0;
  // The containers' frames cross a Linux bridge, where br_netfilter hands them to the host's
  // FORWARD chains: the firewall probe (firewall_probe.hpp) applies. A macvlan or ipvlan child
  // hands its frames straight to the parent's driver.
  virtual bool crosses_bridge() const = 0;
  // A unicast reply to an address the interface does not have yet never reaches it (ipvlan
  // delivers unicast by destination address): the DHCPv4 client asks for broadcast replies
  // (RFC 2131 section 4.1, the broadcast flag).
  virtual bool needs_broadcast_replies() const = 0;
};

// The attachment of endpoint `endpoint_id` on a network with `options`: `lan_index` and
// `lan_mtu` are the bridge's or the parent's, `mac` the container end's (see takes_own_mac).
std::unique_ptr<Attachment> make_attachment(const std::string& endpoint_id, const NetworkOptions& options, int lan_index,
                                            int lan_mtu, MacAddress mac, bool ipv6);

// Whether the container end takes a MAC of its own (Docker's --mac-address, or one derived from
// the endpoint id): a veth end and a macvlan child do. Every ipvlan child has its parent's MAC
// and cannot have another, and a passthru macvlan child has the parent's too (setting one would
// change the parent's): Docker must then be told none, and --mac-address cannot be honoured.
bool takes_own_mac(const NetworkOptions& options);

// The links an endpoint's attachment may have left in the host namespace after a crash (its
// record unreadable, its network gone): those of `options`' mode, or of every mode when the
// network is not known. Off the event loop (src/support/background.hpp).
void remove_leftover_links(const std::string& endpoint_id, const NetworkOptions* options);

// The container end in the host namespace must not act on router advertisements there (a
// default route through it would hijack the host's), and with IPv6 its link-local address is
// needed at once for DHCPv6 (no DAD wait). Errors: the sysctl could not be written.
Result<void> quiet_container_end(const std::string& name, bool ipv6);

}  // namespace netdhcp
