// A kernel for Endpoint and Driver tests (src/endpoint/kernel.hpp): no links, namespaces or
// sockets of the machine are touched. Every DHCP socket the endpoint opens is a FakeWire the
// test sees: where it was opened (the host, or a container's namespace), what the client sent,
// and the other end of a datagram socketpair through which the test plays the server. The
// attachment's links are entries in `interfaces`; a container's namespace appears when the
// test says the container started, and Docker's move of the interface is move_link().
#pragma once

#include <system_error>

#include <net/if.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dhcp/dhcp4_packet.hpp"
#include "src/endpoint/endpoint.hpp"
#include "src/transport/dhcp4_socket.hpp"
#include "src/endpoint/kernel.hpp"

namespace netdhcp::test {

inline std::pair<UniqueFd, UniqueFd> datagram_pair() {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// One DHCP socket the endpoint opened.
template <class TransmitT>
struct FakeWire {
  std::string where;  // "host", or the sandbox key of the namespace it was opened in
  InterfaceInfo interface;
  UniqueFd server;    // the test's end: what is sent here, the client reads
  std::vector<TransmitT> sent;
  std::optional<Error> fail_sends;  // every send fails with this (the socket still "works")
  bool closed = false;              // the endpoint let go of it
  // DHCPv4: the server's (IP, MAC) the socket was told, by its replies or by the socket it replaced.
  NeighbourCache neighbours;
  // DHCPv4, for each of `sent`: the MACs it would have gone to in frames of their own (none: a
  // broadcast frame, Dhcp4Socket::frame_destinations).
  std::vector<std::vector<MacAddress>> frames_to;
  // DHCPv4: the MAC the test's replies come from (FakeKernel::server_mac4 when it was opened).
  MacAddress server_mac;

  void reply(const Bytes& packet) const { REQUIRE(::send(server.get(), packet.data(), packet.size(), 0) > 0); }
};
using FakeWire4 = FakeWire<dhcp4::Transmit>;
using FakeWire6 = FakeWire<dhcp6::Transmit>;

template <class Base, class TransmitT>
class FakeSocketBase : public Base {
 public:
  FakeSocketBase(std::shared_ptr<FakeWire<TransmitT>> wire, UniqueFd fd) : wire_(std::move(wire)), fd_(std::move(fd)) {}
  ~FakeSocketBase() override { wire_->closed = true; }
  int wait_handle() const override { return fd_.get(); }
  Result<void> send(const TransmitT& transmit) override {
    if (wire_->fail_sends) return *wire_->fail_sends;
    wire_->sent.push_back(transmit);
    return {};
  }

 protected:
  std::optional<Bytes> receive() {
    std::byte buffer[4096];
    ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return Bytes(buffer, buffer + n);
  }

 protected:
  std::shared_ptr<FakeWire<TransmitT>> wire_;

 private:
  UniqueFd fd_;
};

// Where the fake server's replies come from.
inline const Ipv4Address kFakeServerIp = *Ipv4Address::parse("198.18.0.1");
inline const MacAddress kFakeServerMac = *MacAddress::parse("02:00:00:00:00:01");

class FakeDhcp4Socket final : public FakeSocketBase<Dhcp4Socket, dhcp4::Transmit> {
 public:
  using FakeSocketBase::FakeSocketBase;
  std::optional<Received4> read() override {
    auto payload = receive();
    if (!payload) return std::nullopt;
    return ReceivedDhcp4{std::move(*payload), wire_->server_mac, kFakeServerIp};
  }
  Result<void> send(const dhcp4::Transmit& transmit) override {
    auto sent = FakeSocketBase::send(transmit);
    if (sent) wire_->frames_to.push_back(frame_destinations(transmit));
    return sent;
  }
  void watch_arp(bool) override {}
  void learn_neighbour(Ipv4Address ip, MacAddress mac) override { wire_->neighbours.learn(ip, mac); }
  std::vector<std::pair<Ipv4Address, MacAddress>> neighbours() const override { return wire_->neighbours.entries(); }
};

class FakeDhcp6Socket final : public FakeSocketBase<Dhcp6Socket, dhcp6::Transmit> {
 public:
  using FakeSocketBase::FakeSocketBase;
  std::optional<ReceivedDhcp6> read() override {
    auto payload = receive();
    if (!payload) return std::nullopt;
    return ReceivedDhcp6{std::move(*payload), *Ipv6Address::parse("fe80::1")};
  }
};

// A container's namespace, as the test sets it up.
struct FakeNamespaceState {
  std::vector<netlink::Link> links;
  std::vector<std::pair<int, AddressPlan>> plans;  // every apply_plan(index, plan)
  std::optional<ContainerFacts> facts;
  std::vector<std::string> facts_known_ids;  // what each container_facts() call was told it knew
  std::vector<UniqueFd> ra_peers;  // kept open: the RA sockets stay quiet, not at EOF
};

class FakeKernel;

class FakeAttachment final : public Attachment {
 public:
  FakeAttachment(FakeKernel& kernel, std::string endpoint_id, MacAddress mac, std::string bridge)
      : kernel_(kernel),
        endpoint_id_(std::move(endpoint_id)),
        container_end_("dc-" + endpoint_id_.substr(0, 12)),
        mac_(mac),
        bridge_(std::move(bridge)) {}
  std::string_view kind() const override { return "fake"; }
  Result<void> create() override;
  const std::string& container_end() const override { return container_end_; }
  std::vector<std::string> links_to_wait_for() const override { return {container_end_}; }
  std::optional<InterfaceInfo> release_path() const override;
  void adopt() override;
  void remove() override;
  void describe(boost::json::object& out) const override { out["bridge"] = "fake"; }
  bool crosses_bridge() const override { return true; }
  bool needs_broadcast_replies() const override { return false; }

 private:
  FakeKernel& kernel_;
  std::string endpoint_id_;
  std::string container_end_;
  MacAddress mac_;
  std::string bridge_;
};

class FakeKernel final : public EndpointKernel {
 public:
  // What happened, in order: "attachment create dc-...", "attachment remove dc-...",
  // "dhcp4 host dc-...", "dhcp4 /var/run/docker/netns/x eth0", ... (tests add their own lines).
  std::vector<std::string> log;
  std::map<std::string, InterfaceInfo> interfaces;     // the host's, for query_interface
  std::map<std::string, netlink::Link> host_links;     // for HostNetlink (bridges)
  mutable std::map<std::string, int> host_lookups_by_name;  // HostNetlink::find_link(name) calls (RTM_GETLINK)
  std::vector<netlink::Address> host_addresses;
  std::vector<netlink::Route> host_routes;
  std::map<std::string, std::shared_ptr<FakeNamespaceState>> namespaces;  // by sandbox key
  std::vector<std::shared_ptr<FakeWire4>> wires4;
  MacAddress server_mac4 = kFakeServerMac;  // the source MAC of the DHCPv4 replies on wires opened from now on
  std::vector<std::shared_ptr<FakeWire6>> wires6;
  std::optional<Error> fail_attachment;  // the next attachment create() fails with this
  std::optional<Error> fail_sends4;      // DHCPv4 sockets opened from now on fail every send
  std::optional<Error> fail_sends6;
  std::map<std::string, int> attachment_creates, attachment_removes;  // by container end
  std::vector<std::string> links_removed;  // remove_links_of: endpoint id, and " (bridge)", " (any mode)", ...
  std::vector<std::string> wireless;       // is_wireless
  std::optional<Error> fail_try_child;     // try_child fails with this
  std::optional<Error> fail_vlan;          // create_vlan fails with this (else the VLAN is a host link)
  std::vector<std::string> vlans_made, vlans_removed;
  int probes = 0;
  int next_index = 100;

  // A bridge of the host, for CreateNetwork and CreateEndpoint.
  void add_bridge(const std::string& name) {
    netlink::Link link;
    link.index = next_index++;
    link.name = name;
    link.kind = "bridge";
    link.mtu = 1500;
    link.flags = IFF_UP;
    host_links[name] = link;
    interfaces[name] = InterfaceInfo{name, link.index, *MacAddress::parse("02:00:00:00:00:01"), 1500, true};
  }
  // A link of the host namespace (e.g. a container end that survived a restart).
  void add_link(const std::string& name, MacAddress mac) {
    interfaces[name] = InterfaceInfo{name, next_index++, mac, 1500, true};
  }
  // The container started: its namespace file is there (empty: the interface is not moved yet).
  std::shared_ptr<FakeNamespaceState> start_container(const std::string& sandbox_key) {
    auto& ns = namespaces[sandbox_key];
    if (!ns) ns = std::make_shared<FakeNamespaceState>();
    return ns;
  }
  // Docker moved the container end into the namespace and renamed it `name`, up.
  void move_link(const std::string& container_end, const std::string& sandbox_key, const std::string& name = "eth0") {
    auto it = interfaces.find(container_end);
    REQUIRE(it != interfaces.end());
    netlink::Link link;
    link.index = 2;
    link.name = name;
    link.kind = "veth";
    link.mac = it->second.mac;
    link.mtu = it->second.mtu;
    link.flags = IFF_UP;
    link.operstate = 6;  // IF_OPER_UP
    interfaces.erase(it);
    start_container(sandbox_key)->links.push_back(link);
  }
  std::shared_ptr<FakeWire4> last_wire4() const { return wires4.empty() ? nullptr : wires4.back(); }
  std::shared_ptr<FakeWire6> last_wire6() const { return wires6.empty() ? nullptr : wires6.back(); }

  std::shared_ptr<FakeWire4> open_wire4(const std::string& where, const InterfaceInfo& interface) {
    auto wire = std::make_shared<FakeWire4>();
    wire->where = where;
    wire->interface = interface;
    wire->fail_sends = fail_sends4;
    wires4.push_back(wire);
    log.push_back("dhcp4 " + where + " " + interface.name);
    return wire;
  }
  std::shared_ptr<FakeWire6> open_wire6(const std::string& where, const InterfaceInfo& interface) {
    auto wire = std::make_shared<FakeWire6>();
    wire->where = where;
    wire->interface = interface;
    wire->fail_sends = fail_sends6;
    wires6.push_back(wire);
    log.push_back("dhcp6 " + where + " " + interface.name);
    return wire;
  }
  Result<std::unique_ptr<Dhcp4Socket>> socket4(const std::string& where, const InterfaceInfo& interface) {
    auto wire = open_wire4(where, interface);
    auto [client, server] = datagram_pair();
    wire->server = std::move(server);
    wire->server_mac = server_mac4;
    return std::unique_ptr<Dhcp4Socket>(std::make_unique<FakeDhcp4Socket>(wire, std::move(client)));
  }
  Result<std::unique_ptr<Dhcp6Socket>> socket6(const std::string& where, const InterfaceInfo& interface) {
    auto wire = open_wire6(where, interface);
    auto [client, server] = datagram_pair();
    wire->server = std::move(server);
    return std::unique_ptr<Dhcp6Socket>(std::make_unique<FakeDhcp6Socket>(wire, std::move(client)));
  }

  // At once, on the test's thread: the fakes are not thread-safe, and what runs off the event
  // loop in the daemon is only the kernel's waiting.
  asio::awaitable<void> in_background(const std::function<void()>& work) override {
    ++background_calls;
    work();
    return done();
  }
  static asio::awaitable<void> done() { co_return; }
  int background_calls = 0;

  std::unique_ptr<Attachment> make_attachment(const EndpointConfig& config) override {
    return std::make_unique<FakeAttachment>(*this, config.endpoint_id, config.mac, config.options.bridge);
  }
  void remove_links_of(const std::string& endpoint_id, const NetworkOptions* options) override {
    links_removed.push_back(endpoint_id + (options ? " (" + std::string(to_string(options->mode)) + ")" : " (any mode)"));
  }
  bool is_wireless(const std::string& name) override {
    return std::find(wireless.begin(), wireless.end(), name) != wireless.end();
  }
  Result<void> try_child(const NetworkOptions&, int) override {
    if (fail_try_child) return *fail_try_child;
    return {};
  }
  Result<void> create_vlan(const std::string& name, int base_index, int vlan_id) override {
    if (fail_vlan) return *fail_vlan;
    vlans_made.push_back(name);
    netlink::Link link;
    link.index = next_index++;
    link.name = name;
    link.kind = "vlan";
    link.link = base_index;
    link.vlan_id = vlan_id;
    link.mtu = 1500;
    link.flags = IFF_UP;
    host_links[name] = link;
    interfaces[name] = InterfaceInfo{name, link.index, *MacAddress::parse("02:00:00:00:00:02"), 1500, true};
    return {};
  }
  void remove_vlan(const std::string& name) override {
    vlans_removed.push_back(name);
    host_links.erase(name);
    interfaces.erase(name);
  }
  Result<InterfaceInfo> query_interface(const std::string& name) override {
    auto it = interfaces.find(name);
    if (it == interfaces.end()) return Error{"no interface named " + name + " in this network namespace", ENODEV};
    return it->second;
  }
  asio::awaitable<Result<void>> wait_for_links_up(std::vector<std::string>, TimePoint) override {
    if (throw_in_links_wait) throw std::system_error(ENOMEM, std::generic_category(), "epoll_ctl (a test's)");
    co_return Result<void>{};
  }
  bool throw_in_links_wait = false;
  asio::awaitable<Result<void>> wait_for_link_local(int, TimePoint) override { co_return Result<void>{}; }
  Result<std::unique_ptr<Dhcp4Socket>> open_dhcp4(const InterfaceInfo& interface) override {
    return socket4("host", interface);
  }
  Result<std::unique_ptr<Dhcp6Socket>> open_dhcp6(const InterfaceInfo& interface, TimePoint, bool) override {
    return socket6("host", interface);
  }
  Result<std::unique_ptr<HostNetlink>> host_netlink() override;
  asio::awaitable<Result<ProbeVerdict>> probe_bridge_forwarding(std::string, int, ProbeFamilies) override {
    ++probes;
    co_return ProbeVerdict{};
  }
  bool namespace_exists(const std::string& sandbox_key) override { return namespaces.count(sandbox_key) > 0; }
  asio::awaitable<Result<std::unique_ptr<ContainerNamespace>>> wait_for_namespace(std::string sandbox_key,
                                                                                 TimePoint deadline) override;
};

class FakeHostNetlink final : public HostNetlink {
 public:
  explicit FakeHostNetlink(const FakeKernel& kernel) : kernel_(kernel) {}
  Result<netlink::Link> find_link(const std::string& name) override {
    ++kernel_.host_lookups_by_name[name];
    auto it = kernel_.host_links.find(name);
    if (it == kernel_.host_links.end()) return Error{"RTM_GETLINK " + name + ": No such device", ENODEV};
    return it->second;
  }
  Result<netlink::Link> find_link(int index) override {
    for (const auto& [name, link] : kernel_.host_links)
      if (link.index == index) return link;
    return Error{"RTM_GETLINK " + std::to_string(index) + ": No such device", ENODEV};
  }
  Result<std::vector<netlink::Link>> links() override {
    std::vector<netlink::Link> all;
    for (const auto& [name, link] : kernel_.host_links) all.push_back(link);
    return all;
  }
  Result<std::vector<netlink::Address>> addresses() override { return kernel_.host_addresses; }
  Result<std::vector<netlink::Route>> routes(bool) override { return kernel_.host_routes; }

 private:
  const FakeKernel& kernel_;
};

class FakeContainerNamespace final : public ContainerNamespace {
 public:
  FakeContainerNamespace(FakeKernel& kernel, std::string key, std::shared_ptr<FakeNamespaceState> state)
      : kernel_(kernel), key_(std::move(key)), state_(std::move(state)) {}
  Result<std::vector<netlink::Link>> links() override { return state_->links; }
  // The endpoint looks again after at most 50 ms anyway.
  asio::awaitable<void> wait_for_link_event(TimePoint deadline) override {
    Timer timer(co_await asio::this_coro::executor);
    timer.expires_at(deadline);
    co_await timer.async_wait(use_awaitable_tuple);
  }
  Result<std::unique_ptr<Dhcp4Socket>> open_dhcp4(const InterfaceInfo& interface) override {
    return kernel_.socket4(key_, interface);
  }
  Result<std::unique_ptr<Dhcp6Socket>> open_dhcp6(const InterfaceInfo& interface, TimePoint, bool) override {
    return kernel_.socket6(key_, interface);
  }
  Result<UniqueFd> open_router_advertisements(int) override {
    auto [mine, peer] = datagram_pair();
    state_->ra_peers.push_back(std::move(peer));
    return std::move(mine);
  }
  Result<std::vector<std::string>> apply_plan(int index, const AddressPlan& plan) override {
    state_->plans.emplace_back(index, plan);
    for (const auto& step : plan) kernel_.log.push_back("apply " + key_ + " " + to_string(step));
    return std::vector<std::string>{};
  }
  std::optional<ContainerFacts> container_facts(const std::string& known_id) override {
    state_->facts_known_ids.push_back(known_id);
    return state_->facts;
  }

 private:
  FakeKernel& kernel_;
  std::string key_;
  std::shared_ptr<FakeNamespaceState> state_;
};

inline Result<std::unique_ptr<HostNetlink>> FakeKernel::host_netlink() {
  return std::unique_ptr<HostNetlink>(std::make_unique<FakeHostNetlink>(*this));
}

inline asio::awaitable<Result<std::unique_ptr<ContainerNamespace>>> FakeKernel::wait_for_namespace(std::string sandbox_key,
                                                                                                   TimePoint deadline) {
  Timer retry(co_await asio::this_coro::executor);
  while (!namespaces.count(sandbox_key)) {
    if (Clock::now() >= deadline) co_return Error{"network namespace " + sandbox_key + " did not appear"};
    retry.expires_after(std::chrono::milliseconds(5));
    co_await retry.async_wait(use_awaitable_tuple);
  }
  co_return std::unique_ptr<ContainerNamespace>(
      std::make_unique<FakeContainerNamespace>(*this, sandbox_key, namespaces[sandbox_key]));
}

inline Result<void> FakeAttachment::create() {
  ++kernel_.attachment_creates[container_end_];
  kernel_.log.push_back("attachment create " + container_end_);
  if (auto failure = std::exchange(kernel_.fail_attachment, std::nullopt)) return *failure;
  kernel_.interfaces[container_end_] = InterfaceInfo{container_end_, kernel_.next_index++, mac_, 1500, true};
  return {};
}

// As VethAttachment's: the container end while it is here, else the bridge with our MAC.
inline std::optional<InterfaceInfo> FakeAttachment::release_path() const {
  if (auto it = kernel_.interfaces.find(container_end_); it != kernel_.interfaces.end()) return it->second;
  if (auto it = kernel_.interfaces.find(bridge_); it != kernel_.interfaces.end()) {
    InterfaceInfo via = it->second;
    via.mac = mac_;
    return via;
  }
  return std::nullopt;
}

inline void FakeAttachment::adopt() { kernel_.log.push_back("attachment adopt " + container_end_); }

inline void FakeAttachment::remove() {
  ++kernel_.attachment_removes[container_end_];
  kernel_.log.push_back("attachment remove " + container_end_);
  kernel_.interfaces.erase(container_end_);
}

// What the fake DHCPv4 server hands out: 198.18.0.42/24 from 198.18.0.1 (also the router) for
// an hour, unless a test says otherwise.
struct Offer4 {
  Ipv4Address address = *Ipv4Address::parse("198.18.0.42");
  std::uint32_t lease_seconds = 3600;
  std::optional<std::uint32_t> t1_seconds;
  std::optional<Ipv4Address> dns;  // option 6, when given
};

// The server's answer to what the client sent: an OFFER to a DISCOVER, an ACK to a REQUEST.
inline Bytes server_reply4(const dhcp4::Transmit& request_transmit, dhcp4::MessageType type, const Offer4& offer = {}) {
  auto request = dhcp4::parse(request_transmit.payload).value();
  dhcp4::Packet p;
  p.op = 2;
  p.xid = request.xid;
  p.chaddr = request.chaddr;
  p.yiaddr = offer.address;
  p.add_u8(dhcp4::option::MessageType, static_cast<std::uint8_t>(type));
  p.add_address(dhcp4::option::ServerId, *Ipv4Address::parse("198.18.0.1"));
  p.add_u32(dhcp4::option::LeaseTime, offer.lease_seconds);
  if (offer.t1_seconds) p.add_u32(dhcp4::option::RenewalTime, *offer.t1_seconds);
  p.add_address(dhcp4::option::SubnetMask, *Ipv4Address::parse("255.255.255.0"));
  p.add_address(dhcp4::option::Router, *Ipv4Address::parse("198.18.0.1"));
  if (offer.dns) p.add_address(dhcp4::option::DnsServers, *offer.dns);
  Bytes out;
  dhcp4::encode(p, out);
  return out;
}

// Runs the event loop until `done` holds, at most `limit` (the test fails then): what the
// tests wait for is a condition, never a fixed sleep.
inline bool run_until(asio::io_context& io, const std::function<bool()>& done,
                      Duration limit = std::chrono::seconds(10)) {
  TimePoint give_up = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= give_up) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return true;
}

// The DHCPv4 server side of one exchange on `kernel`'s newest DHCPv4 wire: answers the
// DISCOVER with an OFFER and the REQUEST with an ACK.
inline void serve_dhcp4(asio::io_context& io, FakeKernel& kernel, const Offer4& offer = {}) {
  auto sent_of = [&](dhcp4::MessageType type) -> const dhcp4::Transmit* {
    auto wire = kernel.last_wire4();
    if (!wire) return nullptr;
    for (const auto& t : wire->sent)
      if (t.kind == dhcp4::Transmit::Kind::Dhcp && t.type == type) return &t;
    return nullptr;
  };
  REQUIRE(run_until(io, [&] { return sent_of(dhcp4::MessageType::Discover) != nullptr; }));
  kernel.last_wire4()->reply(server_reply4(*sent_of(dhcp4::MessageType::Discover), dhcp4::MessageType::Offer, offer));
  REQUIRE(run_until(io, [&] { return sent_of(dhcp4::MessageType::Request) != nullptr; }));
  kernel.last_wire4()->reply(server_reply4(*sent_of(dhcp4::MessageType::Request), dhcp4::MessageType::Ack, offer));
}

// An Endpoint::Persist that hands each record to `record` and reports it on disk at once.
template <class F>
Endpoint::Persist persist_to(F record) {
  // F takes the record, or the record and how long its write may wait (zero: now).
  return [record](const EndpointRecord& r, const Endpoint::OnDisk& on_disk, std::chrono::milliseconds within) {
    if constexpr (std::is_invocable_v<F, const EndpointRecord&, std::chrono::milliseconds>)
      record(r, within);
    else
      record(r);
    if (on_disk) on_disk(Result<void>{});
  };
}

// How many packets of `type` a wire carried.
inline std::size_t count_sent(const FakeWire4& wire, dhcp4::MessageType type) {
  std::size_t n = 0;
  for (const auto& t : wire.sent)
    if (t.kind == dhcp4::Transmit::Kind::Dhcp && t.type == type) ++n;
  return n;
}
inline std::size_t count_sent(const FakeKernel& kernel, dhcp4::MessageType type) {
  std::size_t n = 0;
  for (const auto& wire : kernel.wires4) n += count_sent(*wire, type);
  return n;
}

}  // namespace netdhcp::test
