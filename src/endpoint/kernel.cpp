#include "src/endpoint/kernel.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <random>

#include "netlink/namespace.hpp"
#include "src/endpoint/endpoint.hpp"
#include "src/endpoint/macvlan_attachment.hpp"
#include "src/support/host_paths.hpp"
#include "src/support/off_loop.hpp"
#include "src/transport/netlink_wait.hpp"

namespace netdhcp {

// Not in an anonymous namespace: their coroutines' frames hold them (GCC 12's
// -Wsubobject-linkage in a unity build).
namespace kernel_detail {

class RealHostNetlink final : public HostNetlink {
 public:
  explicit RealHostNetlink(netlink::Socket socket) : socket_(std::move(socket)) {}
  Result<netlink::Link> find_link(const std::string& name) override { return netlink::find_link(socket_, name); }
  Result<netlink::Link> find_link(int index) override { return netlink::find_link(socket_, index); }
  Result<std::vector<netlink::Link>> links() override { return netlink::list_links(socket_); }
  Result<std::vector<netlink::Address>> addresses() override { return netlink::list_addresses(socket_, 0, false); }
  Result<std::vector<netlink::Route>> routes(bool v6) override { return netlink::list_routes(socket_, v6); }

 private:
  netlink::Socket socket_;
};

class RealContainerNamespace final : public ContainerNamespace {
 public:
  explicit RealContainerNamespace(netlink::Namespace ns) : ns_(std::make_shared<const netlink::Namespace>(std::move(ns))) {}

  Result<std::vector<netlink::Link>> links() override {
    auto socket = netlink::inside(*ns_, [] { return netlink::Socket::open(); });
    if (!socket) return socket.error();
    return netlink::list_links(*socket);
  }
  asio::awaitable<void> wait_for_link_event(TimePoint deadline) override {
    co_await netdhcp::wait_for_link_event(*ns_, deadline);
  }
  Result<std::unique_ptr<Dhcp4Socket>> open_dhcp4(const InterfaceInfo& interface) override {
    auto packet = netlink::inside(*ns_, [&] { return PacketSocket::open(interface, ns_); });
    if (!packet) return packet.error();
    return std::unique_ptr<Dhcp4Socket>(std::make_unique<PacketSocket>(std::move(*packet)));
  }
  Result<std::unique_ptr<Dhcp6Socket>> open_dhcp6(const InterfaceInfo& interface, TimePoint deadline,
                                                  bool while_tentative) override {
    auto udp = netlink::inside(*ns_, [&] { return Dhcp6UdpSocket::open(interface, deadline, while_tentative); });
    if (!udp) return udp.error();
    return std::unique_ptr<Dhcp6Socket>(std::make_unique<Dhcp6UdpSocket>(std::move(*udp)));
  }
  Result<UniqueFd> open_router_advertisements(int index) override {
    return netlink::inside(*ns_, [index] { return open_router_advertisement_socket(index); });
  }
  Result<std::vector<std::string>> apply_plan(int index, const AddressPlan& plan) override {
    auto socket = netlink::inside(*ns_, [] { return netlink::Socket::open(); });
    if (!socket) return socket.error();
    return netdhcp::apply_plan(*socket, index, plan);
  }
  std::optional<ContainerFacts> container_facts(const std::string& known_id) override {
    return netdhcp::container_facts(*ns_, known_id);
  }

 private:
  std::shared_ptr<const netlink::Namespace> ns_;  // also held by the packet socket (its unicast renewals)
};

}  // namespace kernel_detail

// Not a coroutine: the work is copied into the job at once (off_loop.hpp).
asio::awaitable<void> RealKernel::in_background(const std::function<void()>& work) { return off_loop(work); }

std::unique_ptr<Attachment> RealKernel::make_attachment(const EndpointConfig& config) {
  return netdhcp::make_attachment(config.endpoint_id, config.options, config.bridge_index, config.bridge_mtu, config.mac,
                                  config.options.ipv6);
}

void RealKernel::remove_links_of(const std::string& endpoint_id, const NetworkOptions* options) {
  remove_leftover_links(endpoint_id, options);
}

bool RealKernel::is_wireless(const std::string& name) {
  std::string dir = "/sys/class/net/" + name;
  return ::access((dir + "/wireless").c_str(), F_OK) == 0 || ::access((dir + "/phy80211").c_str(), F_OK) == 0;
}

Result<void> RealKernel::try_child(const NetworkOptions& options, int parent_index) {
  auto socket = netlink::Socket::open();
  if (!socket) return socket.error();
  std::random_device random;
  Result<void> made;
  std::string name;
  for (int attempt = 0; attempt < 3; ++attempt) {
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "%06x", random() & 0xffffff);
    name = std::string("ndk-") + suffix;  // 10 characters; never brought up, so it sends nothing
    made = options.mode == NetworkMode::Ipvlan
               ? netlink::create_ipvlan(*socket, name, parent_index, netlink::IpvlanMode::L2)
               : netlink::create_macvlan(*socket, name, parent_index, MacvlanAttachment::mode_of(options.macvlan_mode));
    if (made || made.error().errno_value != EEXIST) break;
  }
  if (!made) return made;
  // Deleted here, not on the helper thread: a CreateNetwork right after this one must not find
  // it among the parent's children.
  if (auto child = netlink::find_link(*socket, name)) (void)netlink::delete_link(*socket, *child);
  return {};
}

Result<void> RealKernel::create_vlan(const std::string& name, int base_index, int vlan_id) {
  auto socket = netlink::Socket::open();
  if (!socket) return socket.error();
  if (auto made = netlink::create_vlan(*socket, name, base_index, vlan_id); !made) return made;
  auto link = netlink::find_link(*socket, name);
  if (!link) return link.error();
  if (auto up = netlink::set_up(*socket, *link, true); !up) {
    (void)netlink::delete_link(*socket, *link);
    return up;
  }
  return {};
}

void RealKernel::remove_vlan(const std::string& name) { ChildAttachment::remove_child(name); }

Result<InterfaceInfo> RealKernel::query_interface(const std::string& name) { return netdhcp::query_interface(name); }

asio::awaitable<Result<void>> RealKernel::wait_for_links_up(std::vector<std::string> names, TimePoint deadline) {
  auto here = netlink::Namespace::current();
  if (!here) co_return Result<void>{};
  co_return co_await netdhcp::wait_for_links_up(*here, std::move(names), deadline);
}

asio::awaitable<Result<void>> RealKernel::wait_for_link_local(int index, TimePoint deadline) {
  auto here = netlink::Namespace::current();
  if (!here) co_return Result<void>{};
  auto ready = co_await netdhcp::wait_for_link_local(*here, index, deadline);
  if (!ready) co_return ready.error();
  co_return Result<void>{};
}

Result<std::unique_ptr<Dhcp4Socket>> RealKernel::open_dhcp4(const InterfaceInfo& interface) {
  auto packet = PacketSocket::open(interface);
  if (!packet) return packet.error();
  return std::unique_ptr<Dhcp4Socket>(std::make_unique<PacketSocket>(std::move(*packet)));
}

Result<std::unique_ptr<Dhcp6Socket>> RealKernel::open_dhcp6(const InterfaceInfo& interface, TimePoint deadline,
                                                            bool while_tentative) {
  auto udp = Dhcp6UdpSocket::open(interface, deadline, while_tentative);
  if (!udp) return udp.error();
  return std::unique_ptr<Dhcp6Socket>(std::make_unique<Dhcp6UdpSocket>(std::move(*udp)));
}

Result<std::unique_ptr<HostNetlink>> RealKernel::host_netlink() {
  auto socket = netlink::Socket::open();
  if (!socket) return socket.error();
  return std::unique_ptr<HostNetlink>(std::make_unique<kernel_detail::RealHostNetlink>(std::move(*socket)));
}

asio::awaitable<Result<ProbeVerdict>> RealKernel::probe_bridge_forwarding(std::string bridge, int bridge_index,
                                                                          ProbeFamilies families) {
  co_return co_await netdhcp::probe_bridge_forwarding(std::move(bridge), bridge_index, families);
}

bool RealKernel::namespace_exists(const std::string& sandbox_key) {
  return ::access(host_path(sandbox_key).c_str(), F_OK) == 0;
}

asio::awaitable<Result<std::unique_ptr<ContainerNamespace>>> RealKernel::wait_for_namespace(std::string sandbox_key,
                                                                                           TimePoint deadline) {
  auto ns = co_await netdhcp::wait_for_namespace(host_path(sandbox_key), deadline);
  if (!ns) co_return ns.error();
  co_return std::unique_ptr<ContainerNamespace>(
      std::make_unique<kernel_detail::RealContainerNamespace>(std::move(*ns)));
}

std::shared_ptr<EndpointKernel> real_kernel() {
  static const std::shared_ptr<EndpointKernel> kernel = std::make_shared<RealKernel>();
  return kernel;
}

}  // namespace netdhcp
