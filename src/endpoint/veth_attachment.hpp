// Bridge mode: a veth pair, the host end (dh-<id>) a port of the LAN bridge, the container end
// (dc-<id>) with the endpoint's MAC, which Docker moves into the container.
#pragma once

#include <atomic>

#include "src/endpoint/attachment.hpp"

namespace netdhcp {

struct VethConfig {
  std::string endpoint_id;
  std::string bridge;
  int bridge_index = 0;
  int mtu = 1500;
  MacAddress mac;
  bool ipv6 = false;  // the container end's link-local address is needed at once (no DAD)
};

class VethAttachment final : public Attachment {
 public:
  explicit VethAttachment(VethConfig config);
  ~VethAttachment() override = default;

  std::string_view kind() const override { return "veth"; }
  Result<void> create() override;
  const std::string& container_end() const override { return container_end_; }
  std::vector<std::string> links_to_wait_for() const override { return {host_end_, container_end_}; }
  std::optional<InterfaceInfo> release_path() const override;
  void adopt() override { links_made_ = true; }
  void remove() override;
  void describe(boost::json::object& out) const override;
  bool crosses_bridge() const override { return true; }
  bool needs_broadcast_replies() const override { return false; }

  // Interface names fit IFNAMSIZ (15): "dh-" / "dc-" and 12 characters of the endpoint id.
  static std::string host_end_of(const std::string& endpoint_id) { return "dh-" + endpoint_id.substr(0, 12); }
  static std::string container_end_of(const std::string& endpoint_id) { return "dc-" + endpoint_id.substr(0, 12); }
  // The links of an endpoint whose record is unusable or whose network is gone (deleting one
  // end of the pair deletes both, wherever the other end is). Off the event loop.
  static void remove_links_of(const std::string& endpoint_id);
  // Whether a veth made by this process came out a port of its bridge and up, as asked at
  // creation (IFLA_MASTER, IFF_UP); until one has, each one made is looked up and mended.
  static bool kernel_makes_ports_up() { return kernel_makes_ports_up_; }

 private:
  VethConfig config_;
  std::string host_end_;
  std::string container_end_;
  bool links_made_ = false;
  static std::atomic<bool> kernel_makes_ports_up_;
};

}  // namespace netdhcp
