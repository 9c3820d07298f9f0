// macvlan and ipvlan mode: no bridge. Each endpoint is a child interface of the network's parent
// (a host interface on the LAN), made in the host namespace, where the DHCP clients run on it
// until Join; Docker then moves that very interface into the container (there is no host end).
//   macvlan  dm-<id>, with the endpoint's MAC (Docker's --mac-address or one derived from the
//            endpoint id), in the network's macvlan_mode; passthru: the parent's MAC.
//   ipvlan   di-<id>, L2, with the parent's MAC like every ipvlan child: the DHCPv4 client
//            identifier (RFC 4361, IAID + DUID from the endpoint id) tells the server one
//            container from another, and replies come by broadcast.
#pragma once

#include <optional>
#include <string>

#include "netlink/link.hpp"
#include "src/endpoint/attachment.hpp"

namespace netdhcp {

struct ChildConfig {
  std::string endpoint_id;
  NetworkOptions options;  // mode, parent, macvlan_mode
  int parent_index = 0;
  MacAddress mac;  // the container end's: the endpoint's own, or the parent's (takes_own_mac)
  bool ipv6 = false;
};

// What macvlan and ipvlan children have in common.
class ChildAttachment : public Attachment {
 public:
  Result<void> create() override;
  const std::string& container_end() const override { return child_; }
  std::vector<std::string> links_to_wait_for() const override { return {child_}; }
  std::optional<InterfaceInfo> release_path() const override;
  void adopt() override { links_made_ = true; }
  void remove() override;
  bool crosses_bridge() const override { return false; }

  // Interface names fit IFNAMSIZ (15): "dm-" (macvlan) or "di-" (ipvlan) and 12 characters of
  // the endpoint id.
  static std::string macvlan_child_of(const std::string& endpoint_id) { return "dm-" + endpoint_id.substr(0, 12); }
  static std::string ipvlan_child_of(const std::string& endpoint_id) { return "di-" + endpoint_id.substr(0, 12); }
  // Removes the child `name` if it is in the host namespace (in a container's namespace it goes
  // with that namespace). Off the event loop.
  static void remove_child(const std::string& name);

 protected:
  ChildAttachment(ChildConfig config, std::string child);
  // The kernel request that makes the child. Errors: the kernel's.
  virtual Result<void> make_child(netlink::Socket& socket) = 0;

  ChildConfig config_;
  std::string child_;
  bool links_made_ = false;
};

class MacvlanAttachment final : public ChildAttachment {
 public:
  explicit MacvlanAttachment(ChildConfig config);
  std::string_view kind() const override { return "macvlan"; }
  void describe(boost::json::object& out) const override;
  bool needs_broadcast_replies() const override { return false; }
  // "bridge", "private", "vepa", "passthru" (-o macvlan_mode) as the kernel's mode.
  static netlink::MacvlanMode mode_of(const std::string& macvlan_mode);

 private:
  Result<void> make_child(netlink::Socket& socket) override;
};

class IpvlanAttachment final : public ChildAttachment {
 public:
  explicit IpvlanAttachment(ChildConfig config);
  std::string_view kind() const override { return "ipvlan"; }
  void describe(boost::json::object& out) const override;
  // ipvlan L2 delivers unicast frames to the child whose address they are for: an OFFER to an
  // address no child has yet would go to the parent.
  bool needs_broadcast_replies() const override { return true; }

 private:
  Result<void> make_child(netlink::Socket& socket) override;
};

}  // namespace netdhcp
