// How an endpoint is attached to the LAN: the links it has in the host namespace, the
// interface its DHCP clients run on until Docker moves it into the container, what Join
// hands to Docker, and their removal. Bridge mode is a veth pair with one end on the bridge
// (veth_attachment.hpp); a macvlan or ipvlan child of a host NIC is another implementation of
// the same interface. The endpoint never asks which one it has.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "netdhcp/result.hpp"
#include "src/transport/interface_info.hpp"

namespace netdhcp {

class Attachment {
 public:
  virtual ~Attachment() = default;

  // "veth" (and, for status, what it is attached to).
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
  // What `net-dhcp status` shows of it.
  virtual void describe(boost::json::object& out) const = 0;
};

}  // namespace netdhcp
