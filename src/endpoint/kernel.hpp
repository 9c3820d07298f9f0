// Everything an endpoint (and the driver above it) asks of the kernel, as one seam: the links
// of the attachment, the interfaces and sockets DHCP runs on, the netlink waits, the
// container's namespace once Docker has moved the interface there, the host's links, addresses
// and routes, the firewall probe. RealKernel (kernel.cpp) is today's code; unit tests drive an
// Endpoint or a Driver through a fake (test/unit/fake_kernel.hpp) without a kernel or root.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netdhcp/result.hpp"
#include "netdhcp/unique_fd.hpp"
#include "netlink/address.hpp"
#include "netlink/link.hpp"
#include "netlink/route.hpp"
#include "src/endpoint/address_plan.hpp"
#include "src/endpoint/attachment.hpp"
#include "src/endpoint/container_facts.hpp"
#include "src/endpoint/firewall_probe.hpp"
#include "src/support/asio.hpp"
#include "src/transport/dhcp4_socket.hpp"
#include "src/transport/dhcp6_socket.hpp"
#include "src/transport/interface_info.hpp"

namespace netdhcp {

struct EndpointConfig;

// The host namespace's links, addresses and routes, read over one rtnetlink socket.
class HostNetlink {
 public:
  virtual ~HostNetlink() = default;
  // Errors: the kernel's (ENODEV when there is no such link).
  virtual Result<netlink::Link> find_link(const std::string& name) = 0;
  virtual Result<netlink::Link> find_link(int index) = 0;
  // Every link of the namespace.
  virtual Result<std::vector<netlink::Link>> links() = 0;
  // Every IPv4 address of every link.
  virtual Result<std::vector<netlink::Address>> addresses() = 0;
  // The main table's IPv4 (or IPv6) routes.
  virtual Result<std::vector<netlink::Route>> routes(bool v6) = 0;
};

// A container's network namespace (Join's SandboxKey), once it exists. Whatever is opened
// through it lives there: the thread never stays inside (STYLE.md rule 6).
class ContainerNamespace {
 public:
  virtual ~ContainerNamespace() = default;
  // Errors: cannot enter it, netlink failures.
  virtual Result<std::vector<netlink::Link>> links() = 0;
  // Returns at the next link or address event in it, or at the deadline.
  virtual asio::awaitable<void> wait_for_link_event(TimePoint deadline) = 0;
  // As EndpointKernel's, inside the namespace.
  virtual Result<std::unique_ptr<Dhcp4Socket>> open_dhcp4(const InterfaceInfo& interface) = 0;
  virtual Result<std::unique_ptr<Dhcp6Socket>> open_dhcp6(const InterfaceInfo& interface, TimePoint deadline,
                                                          bool while_tentative) = 0;
  // Router advertisements on link `index` (open_router_advertisement_socket, inside).
  virtual Result<UniqueFd> open_router_advertisements(int index) = 0;
  // Carries out `plan` on link `index` (apply_plan): one line per failed step. Errors: no
  // netlink socket could be opened in the namespace (nothing was done).
  virtual Result<std::vector<std::string>> apply_plan(int index, const AddressPlan& plan) = 0;
  // The container's id and hostname, once its first process runs (container_facts.hpp);
  // `known_id` (or "") is the id already known, preferred over another container's.
  virtual std::optional<ContainerFacts> container_facts(const std::string& known_id) = 0;
};

class EndpointKernel {
 public:
  virtual ~EndpointKernel() = default;

  // Runs `work`, which may block in the kernel (a dump of a container's links waits for RTNL
  // on many kernels, which dockerd holds for long stretches while it starts containers; a scan
  // of /proc), and resumes the caller once it is done: for work no Docker request waits for.
  // RealKernel runs it off the event loop (src/support/off_loop.hpp), so that the endpoints
  // Docker is creating go on meanwhile; a fake runs it at once. `work` may use this kernel's
  // calls and what it was given, nothing else of the caller's (an Endpoint's state is the event
  // loop's alone). Pass a named std::function (off_loop.hpp: GCC 12 and co_await temporaries).
  virtual asio::awaitable<void> in_background(const std::function<void()>& work) = 0;

  // The endpoint's links on the LAN (make_attachment: a veth pair on the network's bridge, or
  // a macvlan or ipvlan child of its parent).
  virtual std::unique_ptr<Attachment> make_attachment(const EndpointConfig& config) = 0;
  // The links of an endpoint that has no Endpoint object (an unreadable record, a network
  // that is gone): those of `options`' mode, or of every mode when it is not known (nullptr).
  // Off the event loop.
  virtual void remove_links_of(const std::string& endpoint_id, const NetworkOptions* options) = 0;

  // The parent of a macvlan or ipvlan network (src/endpoint/parent_link.hpp).
  // A Wi-Fi interface (/sys/class/net/NAME/wireless or phy80211).
  virtual bool is_wireless(const std::string& name) = 0;
  // Makes a throw-away child of `options`' kind and mode on link `parent_index` and deletes it at
  // once, never bringing it up: the kernel's verdict on the parent (no such module, a port of a
  // bridge, children of the other kind in containers, passthru taken). Errors: the kernel's.
  virtual Result<void> try_child(const NetworkOptions& options, int parent_index) = 0;
  // Makes the 802.1q sub-interface `name` (VLAN `vlan_id` of link `base_index`) and brings it up.
  // Errors: the kernel's (EOPNOTSUPP: no 8021q); nothing is left behind.
  virtual Result<void> create_vlan(const std::string& name, int base_index, int vlan_id) = 0;
  // Removes it (the last network on it is gone). Off the event loop.
  virtual void remove_vlan(const std::string& name) = 0;

  // In the host namespace (the daemon's).
  virtual Result<InterfaceInfo> query_interface(const std::string& name) = 0;
  // Until every named link is operationally up (wait_for_links_up). Succeeds at once when the
  // daemon's own namespace cannot be opened (nothing to wait in).
  virtual asio::awaitable<Result<void>> wait_for_links_up(std::vector<std::string> names, TimePoint deadline) = 0;
  // Until link `index` has a usable IPv6 link-local address (wait_for_link_local); at once, as
  // above, without a namespace to wait in.
  virtual asio::awaitable<Result<void>> wait_for_link_local(int index, TimePoint deadline) = 0;
  // PacketSocket::open, Dhcp6UdpSocket::open.
  virtual Result<std::unique_ptr<Dhcp4Socket>> open_dhcp4(const InterfaceInfo& interface) = 0;
  virtual Result<std::unique_ptr<Dhcp6Socket>> open_dhcp6(const InterfaceInfo& interface, TimePoint deadline,
                                                          bool while_tentative) = 0;
  // Errors: no rtnetlink socket.
  virtual Result<std::unique_ptr<HostNetlink>> host_netlink() = 0;
  virtual asio::awaitable<Result<ProbeVerdict>> probe_bridge_forwarding(std::string bridge, int bridge_index,
                                                                        ProbeFamilies families) = 0;

  // The container's namespace file (a path on the host, as Docker names it) exists.
  virtual bool namespace_exists(const std::string& sandbox_key) = 0;
  // Once `sandbox_key` is a network namespace (wait_for_namespace). Errors: not by the
  // deadline, with the last reason.
  virtual asio::awaitable<Result<std::unique_ptr<ContainerNamespace>>> wait_for_namespace(std::string sandbox_key,
                                                                                         TimePoint deadline) = 0;
};

// Today's kernel: netlink, packet and UDP sockets, inotify, setns.
class RealKernel final : public EndpointKernel {
 public:
  asio::awaitable<void> in_background(const std::function<void()>& work) override;
  std::unique_ptr<Attachment> make_attachment(const EndpointConfig& config) override;
  void remove_links_of(const std::string& endpoint_id, const NetworkOptions* options) override;
  bool is_wireless(const std::string& name) override;
  Result<void> try_child(const NetworkOptions& options, int parent_index) override;
  Result<void> create_vlan(const std::string& name, int base_index, int vlan_id) override;
  void remove_vlan(const std::string& name) override;
  Result<InterfaceInfo> query_interface(const std::string& name) override;
  asio::awaitable<Result<void>> wait_for_links_up(std::vector<std::string> names, TimePoint deadline) override;
  asio::awaitable<Result<void>> wait_for_link_local(int index, TimePoint deadline) override;
  Result<std::unique_ptr<Dhcp4Socket>> open_dhcp4(const InterfaceInfo& interface) override;
  Result<std::unique_ptr<Dhcp6Socket>> open_dhcp6(const InterfaceInfo& interface, TimePoint deadline,
                                                  bool while_tentative) override;
  Result<std::unique_ptr<HostNetlink>> host_netlink() override;
  asio::awaitable<Result<ProbeVerdict>> probe_bridge_forwarding(std::string bridge, int bridge_index,
                                                                ProbeFamilies families) override;
  bool namespace_exists(const std::string& sandbox_key) override;
  asio::awaitable<Result<std::unique_ptr<ContainerNamespace>>> wait_for_namespace(std::string sandbox_key,
                                                                                 TimePoint deadline) override;
};

// The one RealKernel every endpoint and the driver share unless given another.
std::shared_ptr<EndpointKernel> real_kernel();

}  // namespace netdhcp
