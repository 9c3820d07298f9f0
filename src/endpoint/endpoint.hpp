// One container on a net-dhcp network, from CreateEndpoint to DeleteEndpoint: its attachment
// to the LAN (attachment.hpp), the in-process DHCPv4 (and DHCPv6) client, following the
// interface into the container (follow.cpp) and keeping its addresses in line with the leases
// (address_plan.hpp), and carrying on after a restart (readopt.cpp).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dhcp/dhcp4_client.hpp"
#include "dhcp/dhcp6_client.hpp"
#include "src/support/asio.hpp"
#include "src/transport/dhcp4_socket.hpp"
#include "src/transport/dhcp6_socket.hpp"
#include "src/endpoint/address_plan.hpp"
#include "src/endpoint/attachment.hpp"
#include "src/endpoint/kernel.hpp"
#include "src/endpoint/metrics.hpp"
#include "src/state/network_options.hpp"
#include "src/support/log_throttle.hpp"
#include "src/support/spawn.hpp"
#include "src/state/endpoint_options.hpp"
#include "src/state/state_store.hpp"

namespace netdhcp {

struct EndpointConfig {
  std::string network_id;
  std::string endpoint_id;
  NetworkOptions options;
  int bridge_index = 0;
  int bridge_mtu = 1500;
  MacAddress mac;
  // How long after Join the interface may take to appear in the container (serve --follow-timeout).
  Duration follow_timeout = std::chrono::seconds(30);
  // What the endpoint asks of the kernel (kernel.hpp); nullptr: the real one.
  std::shared_ptr<EndpointKernel> kernel;
  // The user's endpoint options (identity=, hostname=), from CreateEndpoint or the record.
  EndpointOptions endpoint_options;
  // The addresses its identity had before on this LAN, asked for in the first DISCOVER/SOLICIT.
  std::optional<Ipv4Address> address_hint4;
  std::optional<Ipv6Address> address_hint6;
  // The MACs of the DHCPv4 servers that answered on this LAN lately (Driver::lan_servers4_): the
  // first DISCOVER goes to them alone, not to every port of the bridge (Client::send_discover).
  std::vector<MacAddress> servers4;
};

class Endpoint : public std::enable_shared_from_this<Endpoint> {
 public:
  // Without an attachment: the kernel's (a veth pair on the network's bridge).
  Endpoint(asio::any_io_executor executor, EndpointConfig config, std::unique_ptr<Attachment> attachment = nullptr);
  ~Endpoint();

  // Called with the endpoint's record whenever something worth keeping across a restart
  // changes (phase, leases, namespace, hostname). Not called once the endpoint is removed.
  // The record is written off the event loop; `on_disk`, when given, is called (on any thread)
  // once it is durable, or with the error that kept it from the disk. `within` zero: written
  // now; else it may wait that long, to go out with others (a renewal that kept the address,
  // see on_event4).
  using OnDisk = std::function<void(const Result<void>&)>;
  using Persist = std::function<void(const EndpointRecord&, OnDisk on_disk, std::chrono::milliseconds within)>;
  void set_persist(Persist persist) { persist_ = std::move(persist); }
  EndpointRecord record() const;
  // Saves the record and returns once it is on disk: what Docker is told must survive a
  // kill -9 (CreateEndpoint's answer, Join's). An error (a full or read-only state directory)
  // says what could not be written and how to mend it: Docker is not to be told of what a
  // restart would lose.
  asio::awaitable<Result<void>> save_durably();
  void set_metrics(Metrics* metrics) { metrics_ = metrics; }
  // What `net-dhcp status` and EndpointOperInfo show: container, interfaces, MAC, addresses,
  // gateway, server, state, last renewal and expiry (UTC), the last problem.
  json::object describe() const;

  // CreateEndpoint: veth pair (host end on the bridge), leases on the container end, IPv4 and
  // IPv6 at the same time (or only one of them), within lease_timeout. On error nothing is left
  // behind and the error says what happened on the wire, and, when nothing came back, whether
  // the host firewall drops the bridge's traffic now (it may have changed since CreateNetwork).
  asio::awaitable<Result<void>> create();
  // Join has been answered: follow the interface into the container's namespace (SandboxKey)
  // and carry on there with the same clients.
  void follow_into(std::string sandbox_key);
  // Leave: RELEASE the leases and stop the clients. Idempotent.
  void leave();
  // DeleteEndpoint: leave() if needed, then remove the links. Idempotent.
  void remove();
  // After a daemon restart: carry on from `record`. A joined endpoint whose container still
  // runs gets its clients back inside the container (BOUND/RENEWING/REBINDING from the saved
  // lease, INIT-REBOOT if it ran out) without touching its address; a created one waits for
  // Join in the host namespace. Returns false when there is nothing to carry on (the
  // container is gone, or CreateEndpoint never answered): the lease was released and the
  // links removed. `delay` spreads many re-adoptions' first packets.
  asio::awaitable<bool> readopt(EndpointRecord record, Duration delay);
  // A coroutine of this endpoint threw while doing `what`: marked failed in status ("failed"),
  // counted in metrics, logged; what it kept going has stopped.
  void mark_failed(const std::string& what, const std::string& message);

  const EndpointConfig& config() const { return config_; }
  EndpointPhase phase() const { return phase_; }
  const std::string& container_id() const { return container_id_; }
  // Every lease the network has families for (IPv4 unless --ipv4=false, IPv6 with ipv6): what
  // CreateEndpoint waits for.
  bool have_all_leases() const {
    return (!config_.options.ipv4 || lease4_) && (!config_.options.ipv6 || lease6_);
  }
  // Join's SrcName: the interface Docker moves into the container.
  const std::string& container_end() const;
  const std::optional<dhcp4::Lease>& lease4() const { return lease4_; }
  const std::optional<dhcp6::Lease>& lease6() const { return lease6_; }
  int prefix6() const { return prefix6_; }
  // The MAC the DHCPv4 reply this endpoint took last came from (its server's, or its relay's).
  std::optional<MacAddress> dhcp4_server_mac() const {
    return wire4_ && wire4_->socket ? wire4_->socket->last_responder() : std::nullopt;
  }
  // The IPv4 default gateway for `lease`: the network's `gateway` option, else the lease's.
  std::optional<Ipv4Address> gateway4(const dhcp4::Lease& lease) const;
  std::string state4() const;
  std::string state6() const;

 private:
  // A socket with the session that drives a client over it; shared with the running coroutine,
  // so that replacing it (when the interface moves into the container) is safe.
  // It also co-owns the client: a stopped session's coroutine resumes once more after the
  // endpoint may be gone, and must still find its client.
  template <class ClientT, class SocketT>
  struct Wire {
    std::shared_ptr<ClientT> client;
    std::unique_ptr<SocketT> socket;
    std::unique_ptr<DhcpSession<ClientT, SocketT>> session;
  };
  using Wire4 = Wire<dhcp4::Client, Dhcp4Socket>;
  using Wire6 = Wire<dhcp6::Client, Dhcp6Socket>;
  template <class ClientT, class SocketT, class EventT>
  void start_wire(std::shared_ptr<Wire<ClientT, SocketT>>& current, const std::shared_ptr<ClientT>& client,
                  std::unique_ptr<SocketT> socket,
                  void (Endpoint::*on_event)(const EventT&), void (Endpoint::*on_send_error)(const Error&));
  void make_clients(int mtu);
  void save() const;
  // A renewal that moved only the lease's times, which a kill -9 may lose: written within a
  // quarter of the new lease and half of what is left of ON_DISK_EXPIRES (the lease the record
  // on disk holds), at once when that is under a second.
  void save_later(Duration lease_time, TimePoint on_disk_expires) const;
  void discard();
  void save_while_creating() const;
  // The recorded leases taken up by clients that have not started (re-adoption), with nothing
  // queued but what release() will send: which families hold a lease still valid.
  std::pair<bool, bool> take_up_for_release();
  // New sockets for the clients (IPv4, IPv6 or both) where the LAN is still reached when their
  // interface has gone from where they were opened (Attachment::release_path): for a RELEASE.
  void wire_for_release(bool v4, bool v6);
  void start_v4(std::unique_ptr<Dhcp4Socket> socket);
  void start_v6(std::unique_ptr<Dhcp6Socket> socket);
  // A family's packets the kernel refused to send: counted for status and metrics, logged at
  // once the first time, then at most once a minute with how many there were (not a line per
  // packet when, say, the interface went away under a retransmitting client).
  struct SendErrors {
    std::uint64_t count = 0;
    std::string last;
    TimePoint last_at{};
    LogThrottle log{std::chrono::minutes(1)};
  };
  void on_send_error4(const Error& error);
  void on_send_error6(const Error& error);
  void send_failed(SendErrors& errors, Metrics::Family family, const Error& error);
  asio::awaitable<bool> follow(std::string sandbox_key, TimePoint deadline);
  asio::awaitable<void> learn_container();
  void warn(const std::string& message);
  FailureHandler failure_handler(std::string what);
  void fail(const std::string& message);
  asio::awaitable<void> watch_router_advertisements(UniqueFd socket);
  void use_on_link_prefix(int length);
  static asio::awaitable<void> follow_keeping_alive(std::shared_ptr<Endpoint> self, std::string sandbox_key);
  void on_event4(const dhcp4::Event& event);
  void on_event6(const dhcp6::Event& event);
  void apply(const AddressPlan& plan);
  void apply4(const std::optional<dhcp4::Lease>& previous, const std::optional<dhcp4::Lease>& next);
  void apply6(const std::optional<dhcp6::Lease>& previous, const std::optional<dhcp6::Lease>& next);
  int on_link_prefix6(const Ipv6Address& address) const;
  std::string log_prefix() const;
  asio::awaitable<std::string> no_lease_message();

  asio::any_io_executor executor_;
  EndpointConfig config_;
  std::shared_ptr<EndpointKernel> kernel_;
  std::unique_ptr<Attachment> attachment_;
  std::shared_ptr<dhcp4::Client> client4_;
  std::shared_ptr<dhcp6::Client> client6_;
  std::shared_ptr<Wire4> wire4_;
  std::shared_ptr<Wire6> wire6_;
  std::optional<dhcp4::Lease> lease4_;
  std::optional<dhcp6::Lease> lease6_;
  int prefix6_ = 128;
  std::unique_ptr<ContainerNamespace> netns_;  // the container's, once followed
  int container_index_ = 0;                    // the interface's index inside it
  bool left_ = false;
  bool removed_ = false;
  EndpointPhase phase_ = EndpointPhase::Creating;
  std::string sandbox_key_;
  std::string hostname_sent_;  // the container's hostname, once told to the server
  // What the clients send: the endpoint's hostname= option, else the container's hostname once
  // learnt, else the network's -o hostname ("" = none).
  const std::string& hostname_to_send() const;
  std::string container_id_;   // from the cgroup of a process in the container's namespace
  std::string interface_name_; // inside the container (eth0)
  std::string last_error_;
  TimePoint last_error_at_{};
  SendErrors send_errors4_, send_errors6_;
  Persist persist_;
  Metrics* metrics_ = nullptr;
  asio::posix::stream_descriptor* ra_watch_ = nullptr;  // owned by watch_router_advertisements()
  Timer* lease_wait_ = nullptr;            // owned by create() while it waits
  bool following_ = false;
  bool failed_ = false;          // a coroutine of it threw (mark_failed)
  bool followed_ = false;        // its clients run inside the container
  bool release_wired_ = false;   // wire_for_release() has run: once is enough
  std::string follow_error_;     // why follow() gave up, when it did
  bool readopting_ = false;      // readopt() has not started the clients yet
  std::string pending_sandbox_;  // a Join that came meanwhile: followed once they run
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace netdhcp
