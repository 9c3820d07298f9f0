#include "src/endpoint/endpoint.hpp"

#include <dirent.h>
#include <netinet/icmp6.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "dhcp/identity.hpp"
#include "netdhcp/scope_exit.hpp"
#include "dhcp/router_advert.hpp"
#include "netlink/address.hpp"
#include "netlink/link.hpp"
#include "netlink/route.hpp"
#include "src/support/background.hpp"
#include "src/endpoint/container_facts.hpp"
#include "src/endpoint/firewall_probe.hpp"
#include "src/support/host_paths.hpp"
#include "src/support/log.hpp"
#include "src/transport/netlink_wait.hpp"
#include "src/support/spawn.hpp"

namespace netdhcp {

using namespace std::chrono_literals;

namespace {

RandomSource make_random() {
  auto engine = std::make_shared<std::mt19937>(std::random_device{}());
  return [engine] { return static_cast<std::uint32_t>((*engine)()); };
}

// Interface names must fit IFNAMSIZ (15): "dh-" / "dc-" and 12 characters of the endpoint id.
std::string link_name(const char* prefix, const std::string& endpoint_id) {
  return prefix + endpoint_id.substr(0, 12);
}

template <class Wire>
asio::awaitable<void> run_wire(std::shared_ptr<Wire> wire, typename decltype(wire->session)::element_type::EventHandler handler) {
  co_await wire->session->run(std::move(handler));
}

}  // namespace

// The endpoint stays alive while it follows its interface, even if Docker deletes it meanwhile.
asio::awaitable<void> Endpoint::follow_keeping_alive(std::shared_ptr<Endpoint> self, std::string sandbox_key) {
  bool followed = co_await self->follow(sandbox_key, Clock::now() + self->config_.follow_timeout);
  if (followed || !*self->alive_ || self->left_) co_return;
  // The container runs, but its leases are no longer renewed from inside it: loud, in status
  // ("followed": false, last_error) and in metrics.
  self->warn("not following the container into " + sandbox_key + " after " + seconds_text(self->config_.follow_timeout) + ": " +
             self->follow_error_ + ". Its leases are not renewed from inside the container");
  if (self->metrics_) self->metrics_->follow_failed();
}

namespace {

InterfaceInfo interface_of(const netlink::Link& link) {
  InterfaceInfo info;
  info.name = link.name;
  info.index = link.index;
  info.mac = link.mac;
  info.mtu = link.mtu;
  info.up = link.up();
  return info;
}

}  // namespace

Endpoint::Endpoint(asio::any_io_executor executor, EndpointConfig config)
    : executor_(std::move(executor)), config_(std::move(config)) {
  host_end_ = link_name("dh-", config_.endpoint_id);
  container_end_ = link_name("dc-", config_.endpoint_id);
}

Endpoint::~Endpoint() {
  *alive_ = false;
  if (ra_watch_) ra_watch_->cancel();
  if (wire4_) wire4_->session->stop();
  if (wire6_) wire6_->session->stop();
}

std::string Endpoint::log_prefix() const {
  return "endpoint " + config_.endpoint_id.substr(0, 12) +
         (container_id_.empty() ? std::string() : " (container " + container_id_.substr(0, 12) + ")") + ": ";
}

void Endpoint::warn(const std::string& message) {
  log::warning(log_prefix() + message);
  last_error_ = message;
  last_error_at_ = Clock::now();
}

void Endpoint::fail(const std::string& message) {
  log::error(log_prefix() + message);
  last_error_ = message;
  last_error_at_ = Clock::now();
}

json::object Endpoint::describe() const {
  json::object o{{"endpoint_id", config_.endpoint_id},
                 {"network_id", config_.network_id},
                 {"container_id", container_id_},
                 {"phase", std::string(to_string(phase_))},
                 {"sandbox_key", sandbox_key_},
                 {"bridge", config_.options.bridge},
                 {"host_interface", host_end_},
                 {"interface", interface_name_.empty() ? container_end_ : interface_name_},
                 {"mac", config_.mac.to_string()},
                 {"hostname", hostname_sent_}};
  if (config_.options.ipv4) {
    json::object v4{{"state", state4()}};
    if (lease4_) {
      v4["address"] = lease4_->address.to_string() + "/" + std::to_string(lease4_->prefix_length);
      auto gateway = gateway4(*lease4_);
      v4["gateway"] = gateway ? gateway->to_string() : "";
      v4["server"] = lease4_->server_id.to_string();
      v4["lease_seconds"] = lease4_->lease_time.count();
      v4["renewed_at"] = utc_time(lease4_->acquired_at);
      v4["renew_at"] = utc_time(lease4_->renew_at());
      v4["expires_at"] = utc_time(lease4_->expires_at());
    }
    if (client4_) v4["packets_ignored"] = client4_->counters().packets_ignored;
    // How the last unicast (a RENEWING request, a RELEASE) left: "udp" through the container's
    // stack from its address, or "raw" frames when the address was not configured yet.
    if (wire4_ && wire4_->socket) v4["unicast_path"] = wire4_->socket->last_unicast_path();
    o["ipv4"] = std::move(v4);
  }
  if (config_.options.ipv6) {
    json::object v6{{"state", state6()}};
    if (lease6_) {
      v6["address"] = lease6_->address.to_string() + "/" + std::to_string(prefix6_);
      v6["server"] = lease6_->server_address.to_string();
      v6["server_duid"] = hex(lease6_->server_duid);
      v6["lease_seconds"] = lease6_->valid_lifetime.count();
      v6["renewed_at"] = utc_time(lease6_->acquired_at);
      v6["renew_at"] = utc_time(lease6_->renew_at());
      v6["expires_at"] = utc_time(lease6_->expires_at());
    }
    o["ipv6"] = std::move(v6);
  }
  o["failed"] = failed_;
  if (phase_ == EndpointPhase::Joined) o["followed"] = followed_;
  o["last_error"] = last_error_;
  o["last_error_at"] = last_error_.empty() ? "" : utc_time(last_error_at_);
  return o;
}

EndpointRecord Endpoint::record() const {
  EndpointRecord r;
  r.endpoint_id = config_.endpoint_id;
  r.network_id = config_.network_id;
  r.mac = config_.mac;
  r.phase = phase_;
  r.sandbox_key = sandbox_key_;
  r.hostname = hostname_sent_;
  r.container_id = container_id_;
  r.interface = interface_name_;
  r.lease4 = lease4_;
  r.lease6 = lease6_;
  r.prefix6 = prefix6_;
  return r;
}

void Endpoint::save() const {
  if (persist_ && !removed_) persist_(record());
}

std::optional<Ipv4Address> Endpoint::gateway4(const dhcp4::Lease& lease) const {
  return config_.options.gateway ? config_.options.gateway : lease.gateway();
}

std::string Endpoint::state4() const { return client4_ ? std::string(dhcp4::to_string(client4_->state())) : "none"; }
std::string Endpoint::state6() const { return client6_ ? std::string(dhcp6::to_string(client6_->state())) : "none"; }

// The clients, with an identity stable per endpoint (DUID-UUID, IAID and client id all come
// from the endpoint id), so that a re-adopted endpoint is the same client to the server.
void Endpoint::make_clients(int mtu) {
  Bytes duid = make_duid_uuid(uuid_from_name(config_.endpoint_id));
  std::uint32_t iaid = iaid_from_name(config_.endpoint_id);
  std::string hostname = hostname_sent_.empty() ? config_.options.hostname : hostname_sent_;
  // An IPv6-only network (Docker 28's --ipv4=false) has no DHCPv4 client at all: not one
  // DHCPv4 packet goes out for it.
  if (config_.options.ipv4) {
    dhcp4::ClientConfig c4;
    c4.mac = config_.mac;
    c4.client_id = make_client_id(iaid, duid);
    c4.hostname = hostname;
    c4.rapid_commit = config_.options.rapid_commit;
    c4.max_message_size = static_cast<std::uint16_t>(std::clamp(mtu, 576, 65535));
    client4_ = std::make_shared<dhcp4::Client>(c4, make_random());
  }
  if (config_.options.ipv6) {
    dhcp6::ClientConfig c6;
    c6.duid = duid;
    c6.iaid = iaid;
    c6.fqdn = hostname;
    c6.rapid_commit = config_.options.rapid_commit;
    c6.initial_delay_min = Dhcp6UdpSocket::kRouterSolicitationLead;  // see Dhcp6UdpSocket::open
    client6_ = std::make_shared<dhcp6::Client>(c6, make_random());
  }
}

Result<void> Endpoint::make_links() {
  auto socket = netlink::Socket::open();
  if (!socket) return socket.error();
  netlink::VethSpec spec;
  spec.name = host_end_;
  spec.peer_name = container_end_;
  spec.peer_mac = config_.mac;
  spec.mtu = config_.bridge_mtu;
  auto created = netlink::create_veth(*socket, spec);
  if (!created && created.error().errno_value == EEXIST) {
    // A leftover of an earlier run that died mid-way: it is ours (same endpoint id).
    if (auto stale = netlink::find_link(*socket, host_end_)) (void)netlink::delete_link(*socket, *stale);
    created = netlink::create_veth(*socket, spec);
  }
  if (!created) return created.error();
  links_made_ = true;
  auto host = netlink::find_link(*socket, host_end_);
  auto container = netlink::find_link(*socket, container_end_);
  if (!host) return host.error();
  if (!container) return container.error();
  // The container end lives in the host namespace until Docker moves it: it must not learn
  // routes from router advertisements here (a default route via it would hijack the host's),
  // and its link-local address should be usable at once for DHCPv6 (no DAD wait).
  auto here = netlink::Namespace::current();
  if (!here) return here.error();
  for (const char* key : {"accept_ra", "autoconf"})
    if (auto r = netlink::set_interface_sysctl(*here, "ipv6", container_end_, key, "0"); !r) return r.error();
  if (config_.options.ipv6)
    if (auto r = netlink::set_interface_sysctl(*here, "ipv6", container_end_, "accept_dad", "0"); !r) return r.error();
  if (auto r = netlink::set_master(*socket, *host, config_.bridge_index); !r) return r.error();
  if (auto r = netlink::set_up(*socket, *host, true); !r) return r.error();
  if (auto r = netlink::set_up(*socket, *container, true); !r) return r.error();
  return {};
}

void Endpoint::delete_links() {
  if (!links_made_) return;
  links_made_ = false;
  // Deleting one end of a veth pair deletes both, wherever the other end is. The kernel waits
  // for an RCU grace period on the way: off the event loop (src/background.hpp).
  run_later([host_end = host_end_] {
    auto socket = netlink::Socket::open();
    if (!socket) return;
    if (auto host = netlink::find_link(*socket, host_end)) {
      if (auto r = netlink::delete_link(*socket, *host); !r) log::warning("removing " + host_end + ": " + r.error().message);
    }
  });
}

template <class ClientT, class SocketT, class EventT>
void Endpoint::start_wire(std::shared_ptr<Wire<ClientT, SocketT>>& current, const std::shared_ptr<ClientT>& client,
                          std::unique_ptr<SocketT> socket, void (Endpoint::*on_event)(const EventT&)) {
  if (current) current->session->stop();
  auto wire = std::make_shared<Wire<ClientT, SocketT>>();
  wire->client = client;
  wire->socket = std::move(socket);
  wire->session = std::make_unique<DhcpSession<ClientT, SocketT>>(executor_, *wire->client, *wire->socket);
  current = wire;
  std::weak_ptr<Endpoint> self = weak_from_this();
  typename DhcpSession<ClientT, SocketT>::EventHandler handler = [self, on_event](const EventT& e) {
    if (auto endpoint = self.lock()) (endpoint.get()->*on_event)(e);
  };
  spawn(executor_, run_wire(wire, handler), "the DHCP session", failure_handler("the DHCP session"));
}

FailureHandler Endpoint::failure_handler(std::string what) {
  return [self = weak_from_this(), what = std::move(what)](const std::string& message) {
    if (auto endpoint = self.lock()) endpoint->mark_failed(what, message);
  };
}

// A coroutine of this endpoint threw: what it kept going (renewals, following the container,
// reading RAs) has stopped. Say so where the user looks (status, metrics, the log).
void Endpoint::mark_failed(const std::string& what, const std::string& message) {
  failed_ = true;
  fail("internal error in " + what + ": " + message + "; this endpoint's leases are no longer kept up: "
       "restart the container (or net-dhcp, which re-adopts it)");
  if (metrics_) metrics_->internal_failure();
}

void Endpoint::start_v4(std::unique_ptr<Dhcp4Socket> socket) {
  start_wire(wire4_, client4_, std::move(socket), &Endpoint::on_event4);
}

void Endpoint::start_v6(std::unique_ptr<Dhcp6Socket> socket) {
  start_wire(wire6_, client6_, std::move(socket), &Endpoint::on_event6);
}

asio::awaitable<Result<void>> Endpoint::create() {
  TimePoint started = Clock::now();
  TimePoint deadline = started + config_.options.lease_timeout;
  // Noted before anything exists: a kill -9 from here on leaves a record to clean up by.
  phase_ = EndpointPhase::Creating;
  save();
  if (auto made = make_links(); !made) {
    delete_links();
    co_return Error{"creating the interfaces for the container: " + made.error().message};
  }
  auto container = query_interface(container_end_);
  if (!container) {
    delete_links();
    co_return container.error();
  }
  // A DISCOVER sent before the kernel has processed the new veth's carrier (and enabled the
  // bridge port) is dropped, costing a retransmission (~1 s): wait for it, by netlink event.
  if (auto here = netlink::Namespace::current()) {
    std::vector<std::string> ends{host_end_, container_end_};  // named: GCC 12 and braced lists in co_await
    auto up = co_await wait_for_links_up(*here, ends, deadline);
    if (!up) warn(up.error().message + "; starting DHCP anyway");
  }
  make_clients(container->mtu);
  if (client4_) {
    auto packet_socket = PacketSocket::open(*container);
    if (!packet_socket) {
      delete_links();
      co_return packet_socket.error();
    }
    client4_->start(Clock::now());
    start_v4(std::make_unique<PacketSocket>(std::move(*packet_socket)));
  }

  if (config_.options.ipv6) {
    // Awaited as a netlink event: Dhcp6UdpSocket::open's own wait sleeps, which the event loop
    // must not do. (With accept_dad=0 the address is there as soon as the link is up.)
    auto here = netlink::Namespace::current();
    if (here) {
      auto ready = co_await wait_for_link_local(*here, container->index, deadline);
      if (!ready) warn(ready.error().message);
    }
    auto udp = Dhcp6UdpSocket::open(*container, Clock::now());
    log::debug(log_prefix() + "DHCPv6 socket ready after " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()) + " ms");
    if (!udp) {
      remove();
      co_return Error{"DHCPv6 on " + container_end_ + ": " + udp.error().message};
    }
    client6_->start(Clock::now());
    start_v6(std::make_unique<Dhcp6UdpSocket>(std::move(*udp)));
  }

  // Both exchanges run at once. Sleep until on_event4/6 see both leases (they cancel this
  // timer) or the deadline passes.
  asio::steady_timer leases_in(executor_);
  leases_in.expires_at(deadline);
  if (!have_all_leases()) {
    lease_wait_ = &leases_in;
    co_await leases_in.async_wait(use_awaitable_tuple);
    lease_wait_ = nullptr;
  }
  if (!have_all_leases()) {
    // Nothing of the endpoint keeps running while the firewall is probed again.
    std::string what = co_await no_lease_message();
    co_return Error{what};
  }
  if (lease6_) prefix6_ = on_link_prefix6(lease6_->address);
  phase_ = EndpointPhase::Created;
  save();
  std::string leased;
  if (lease4_) leased = lease4_->address.to_string() + "/" + std::to_string(lease4_->prefix_length);
  if (lease6_) leased += (leased.empty() ? "" : " and ") + lease6_->address.to_string() + "/" + std::to_string(prefix6_);
  log::info(log_prefix() + "leased " + leased + " on " + config_.options.bridge + " in " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()) + " ms");
  co_return Result<void>{};
}

// CreateEndpoint's error when lease_timeout passed first: for each missing lease, what was sent
// and what came back, then the likely causes. When nothing came back at all the bridge is
// probed again: the firewall may have changed since CreateNetwork (Docker 28 sets ip6tables'
// FORWARD policy to DROP when the first Docker IPv6 network appears, whenever that is). The
// endpoint is removed first, so nothing of it runs meanwhile.
asio::awaitable<std::string> Endpoint::no_lease_message() {
  const std::string& bridge = config_.options.bridge;
  std::string after = seconds_text(config_.options.lease_timeout);
  std::string message;
  bool silent4 = false, silent6 = false, refused6 = false, unanswered6 = false;
  if (client4_ && !lease4_) {
    const auto& c = client4_->counters();
    message = "no DHCPv4 lease on bridge " + bridge + " within " + after + " (" + std::to_string(c.discovers_sent) +
              " DHCPDISCOVERs sent, " + std::to_string(c.offers_received) + " offers, " +
              std::to_string(c.naks_received) + " NAKs received)";
    if (c.naks_received) message += "; last NAK: \"" + c.last_nak_message + "\"";
    silent4 = c.offers_received == 0 && c.naks_received == 0;
  }
  if (client6_ && !lease6_) {
    const auto& c6 = client6_->counters();
    message += std::string(message.empty() ? "" : "; ") + "no DHCPv6 lease on bridge " + bridge + " within " + after +
               " (" + std::to_string(c6.solicits_sent) + " SOLICITs sent, " + std::to_string(c6.advertises_received) +
               " ADVERTISEs, " + std::to_string(c6.replies_received) + " REPLYs received" +
               (c6.last_status_message.empty() ? "" : ", server said: \"" + c6.last_status_message + "\"") + ")";
    silent6 = c6.advertises_received == 0 && c6.replies_received == 0;
    // Advertised, but the REQUEST never got its REPLY: not a full pool.
    unanswered6 = c6.advertises_received > 0 && c6.replies_received == 0;
    refused6 = !silent6 && !unanswered6;
  }
  remove();
  bool probed = false;
  if ((silent4 || silent6) && config_.options.firewall_check) {
    auto verdict = co_await probe_bridge_forwarding(bridge, config_.bridge_index, ProbeFamilies{silent4, silent6});
    if (verdict && verdict->dropped()) co_return message + ": " + verdict->message;
    probed = verdict.ok();
    if (!verdict) log::warning(log_prefix() + verdict.error().message);
  }
  std::string causes;
  if (silent4)
    causes = probed ? " Bridged traffic passes the host firewall (checked just now): is a DHCP server on that LAN, and is "
                      "the LAN interface attached to " + bridge + "?"
                    : " Is a DHCP server on that LAN, and does the host firewall let bridged DHCP through? "
                      "(iptables -I FORWARD -i " + bridge + " -j ACCEPT)";
  if (silent6 || refused6 || unanswered6) {
    causes += silent6 ? std::string(" Is a DHCPv6 server on that LAN? A router that only advertises SLAAC prefixes gives "
                                    "no address net-dhcp could hand to Docker.") +
                            (probed ? "" : " Does the host firewall let bridged DHCPv6 through? (ip6tables -I FORWARD -i " +
                                               bridge + " -j ACCEPT)")
              : unanswered6 ? std::string(" The DHCPv6 server advertised an address but never answered the REQUEST: "
                                          "is it overloaded, or does something drop the REQUEST on its way?")
                            : " The DHCPv6 server answered but gave no address: does its pool have room for this client?";
    // Docker 26.0.2+ disables IPv6 on an interface that got no IPv6 address (and 28 drops its
    // IPv6 gateway): a container started without the lease would have no IPv6 at all.
    causes += config_.options.ipv4 ? " Without a DHCPv6 server, create the network without --ipv6 and -o ipv6=true."
                                   : " This network is IPv6-only (--ipv4=false): it needs a DHCPv6 server.";
  }
  co_return message + "." + causes;
}

// The prefix length of the on-link IPv6 prefix that holds `address`, from the host's routes on
// the bridge (learnt from the LAN's router advertisements); /128 when the host knows none (the
// container's own RA processing then adds the on-link route).
int Endpoint::on_link_prefix6(const Ipv6Address& address) const {
  auto socket = netlink::Socket::open();
  if (!socket) return 128;
  auto routes = netlink::list_routes(*socket, true);
  if (!routes) return 128;
  int best = 128;
  for (const auto& r : *routes) {
    int len = r.destination.prefix_length;
    if (r.oif != config_.bridge_index || len == 0 || len >= 128 || r.gateway6) continue;
    if (prefix_contains(OnLinkPrefix{r.destination.v6_address, len}, address) && (best == 128 || len > best)) best = len;
  }
  return best;
}

void Endpoint::follow_into(std::string sandbox_key) {
  if (following_) return;
  if (readopting_) {
    // Join came while the re-adoption of this (created, not yet joined) endpoint waits its
    // turn: its clients are not running yet. Follow once they are (end of readopt()).
    phase_ = EndpointPhase::Joined;
    sandbox_key_ = sandbox_key;
    pending_sandbox_ = std::move(sandbox_key);
    save();
    return;
  }
  following_ = true;
  phase_ = EndpointPhase::Joined;
  sandbox_key_ = sandbox_key;
  save();
  spawn(executor_, follow_keeping_alive(shared_from_this(), std::move(sandbox_key)), "following the container",
        failure_handler("following the container"));
}

// Docker moves the container end into the sandbox and renames it after Join returns. Wait for
// it there (by MAC: the name changes), then give the clients new sockets inside; the clients
// themselves carry on in whatever state they are (no new DISCOVER).
asio::awaitable<bool> Endpoint::follow(std::string sandbox_key, TimePoint deadline) {
  auto alive = alive_;
  auto ns = co_await wait_for_namespace(host_path(sandbox_key), deadline);
  if (!*alive || left_) co_return false;
  if (!ns) {
    follow_error_ = ns.error().message;
    co_return false;
  }
  std::optional<netlink::Link> moved;
  asio::steady_timer retry(executor_);
  // The rename to eth0 follows the move; wait until the interface has its final name and is
  // operationally up again. Docker sets it down while it configures it (libnetwork's
  // AddInterface), and after it sets it up the kernel drops every frame until its link watch
  // has activated the queue, which it reports with operstate UP: a renewal sent in between
  // is lost without an error.
  while (Clock::now() < deadline && *alive && !left_) {
    auto socket = netlink::inside(*ns, [] { return netlink::Socket::open(); });
    if (socket) {
      if (auto links = netlink::list_links(*socket)) {
        for (const auto& l : *links)
          if (l.mac == config_.mac && l.name.rfind(config_.options.interface_prefix, 0) == 0 && l.up() &&
              l.operstate == 6 /* IF_OPER_UP */)
            moved = l;
      }
    }
    if (moved) break;
    // Wake on the next link event in the namespace (or after 50 ms at most), then look again.
    co_await wait_for_link_event(*ns, std::min(deadline, Clock::now() + 50ms));
  }
  if (!*alive || left_) co_return false;
  if (!moved) {
    follow_error_ = "the interface with MAC " + config_.mac.to_string() + " did not come up under the name " +
                    config_.options.interface_prefix + "N in " + sandbox_key;
    co_return false;
  }
  followed_ = true;
  follow_error_.clear();
  netns_.emplace(std::move(*ns));
  container_index_ = moved->index;
  interface_name_ = moved->name;
  InterfaceInfo inside_info = interface_of(*moved);
  if (client4_) {
    auto packet = netlink::inside(*netns_, [&] { return PacketSocket::open(inside_info); });
    if (!packet) fail("DHCPv4 socket in the container: " + packet.error().message);
    else start_v4(std::make_unique<PacketSocket>(std::move(*packet)));
  }
  if (client6_) {
    // Not waiting for DAD (~2 s in a new namespace): a quick `docker rm` must still get its
    // RELEASE out. The link-local address appears with the link; give it a moment to exist.
    auto udp = netlink::inside(*netns_, [&] {
      return Dhcp6UdpSocket::open(inside_info, Clock::now() + 200ms, /*while_tentative=*/true);
    });
    if (!udp) fail("DHCPv6 socket in the container: " + udp.error().message);
    else start_v6(std::make_unique<Dhcp6UdpSocket>(std::move(*udp)));
    // The on-link prefix length comes from the router's advertisements. The host may not
    // know it (with IPv6 forwarding on, as Docker sets it for IPv6 networks, the host ignores
    // RAs), so listen in the container, whose kernel solicits one when its link comes up.
    int index = container_index_;
    auto ra = netlink::inside(*netns_, [index] { return open_router_advertisement_socket(index); });
    if (!ra) warn("cannot listen for router advertisements: " + ra.error().message);
    else spawn(executor_, watch_router_advertisements(std::move(*ra)), "reading router advertisements",
               failure_handler("reading router advertisements"));
  }
  log::info(log_prefix() + "following the leases inside the container as " + moved->name);
  co_await learn_container();
  co_return true;
}

// Reads router advertisements in the container until the endpoint leaves; an on-link prefix
// that holds the DHCPv6 address gives that address its prefix length.
asio::awaitable<void> Endpoint::watch_router_advertisements(UniqueFd socket) {
  auto alive = alive_;
  asio::posix::stream_descriptor readable(executor_, socket.release());
  ra_watch_ = &readable;
  while (true) {
    auto [ec] = co_await readable.async_wait(asio::posix::descriptor_base::wait_read, use_awaitable_tuple);
    if (!*alive) co_return;  // the endpoint is gone: touch nothing of it
    if (ec || left_) break;
    while (auto ra = read_router_advertisement(readable.native_handle())) {
      if (!router_advertisement_origin_valid(ra->source, ra->hop_limit)) continue;  // RFC 4861 6.1.2
      auto prefixes = parse_router_advertisement(ra->icmp);
      if (!prefixes || !lease6_) continue;
      for (const auto& p : *prefixes)
        if (prefix_contains(p, lease6_->address) && p.length != prefix6_) use_on_link_prefix(p.length);
    }
  }
  ra_watch_ = nullptr;
}

void Endpoint::use_on_link_prefix(int length) {
  int old = prefix6_;
  prefix6_ = length;
  if (!netns_ || !lease6_) return;
  auto socket = netlink::inside(*netns_, [] { return netlink::Socket::open(); });
  if (!socket) return;
  // The kernel keys an IPv6 address by the address alone: remove it, then add the new length.
  (void)netlink::delete_address(*socket, container_index_, netlink::IpPrefix::from_v6(lease6_->address, old));
  netlink::AddressSpec spec;
  spec.index = container_index_;
  spec.prefix = netlink::IpPrefix::from_v6(lease6_->address, length);
  spec.nodad = true;
  if (auto r = netlink::add_address(*socket, spec); !r) fail(r.error().message);
  else log::info(log_prefix() + "on-link prefix from the router's advertisement: " + spec.prefix.to_string());
  save();
}

// Docker tells network drivers neither the container's id nor its hostname, but once the
// container's first process runs in the sandbox namespace both can be read from /proc (its
// cgroup, its /etc/hostname). The clients then renew at once with the hostname, so the
// server's lease carries the name.
asio::awaitable<void> Endpoint::learn_container() {
  auto alive = alive_;
  asio::steady_timer retry(executor_);
  TimePoint deadline = Clock::now() + 5s;
  std::optional<ContainerFacts> facts;
  // Each look is a scan of /proc: start quickly (the container's process usually runs within
  // a few ms of the follow), then back off, so a container that never starts costs ~10 scans.
  Duration pause = 10ms;
  while (!facts && Clock::now() < deadline && *alive && !left_) {
    facts = container_facts(*netns_);
    if (!facts) {
      retry.expires_after(pause);
      co_await retry.async_wait(use_awaitable_tuple);
      pause = std::min<Duration>(pause * 2, 640ms);
    }
  }
  if (!facts || !*alive || left_) co_return;
  bool learnt_id = !facts->id.empty() && facts->id != container_id_;
  if (learnt_id) container_id_ = facts->id;
  const std::string& hostname = facts->hostname;
  if (hostname == hostname_sent_ || (hostname_sent_.empty() && hostname == config_.options.hostname)) {
    if (learnt_id) save();
    co_return;
  }
  hostname_sent_ = hostname;
  TimePoint now = Clock::now();
  if (client4_) {
    client4_->set_hostname(hostname);
    client4_->renew(now);
    if (wire4_) wire4_->session->wake();
  }
  if (client6_) {
    client6_->set_fqdn(hostname);
    client6_->renew(now);
    if (wire6_) wire6_->session->wake();
  }
  log::info(log_prefix() + "container hostname " + hostname + " sent to the DHCP server");
  save();
}

void Endpoint::on_event4(const dhcp4::Event& e) {
  using Kind = dhcp4::Event::Kind;
  std::optional<dhcp4::Lease> previous = lease4_;
  switch (e.kind) {
    case Kind::Bound:
    case Kind::Renewed:
    case Kind::AddressChanged:
      lease4_ = e.lease;
      break;
    case Kind::Expired:
    case Kind::Nak:
    case Kind::Declined:
      lease4_.reset();
      warn("DHCPv4 lease of " + e.lease.address.to_string() + " lost (" +
                   std::string(dhcp4::to_string(e.kind)) + (e.message.empty() ? "" : ": " + e.message) + ")");
      break;
    case Kind::Released:
      lease4_.reset();
      return;
  }
  if (e.kind == Kind::Renewed) log::debug(log_prefix() + "renewed " + e.lease.address.to_string());
  if (metrics_)
    metrics_->lease_event(e, lease4_ ? std::optional(Clock::now() - lease4_->acquired_at) : std::nullopt);
  if (lease_wait_ && have_all_leases()) lease_wait_->cancel();
  if (netns_) apply4(previous, lease4_);
  if (phase_ != EndpointPhase::Creating) save();
}

void Endpoint::on_event6(const dhcp6::Event& e) {
  using Kind = dhcp6::Event::Kind;
  std::optional<dhcp6::Lease> previous = lease6_;
  switch (e.kind) {
    case Kind::Bound:
    case Kind::Renewed:
    case Kind::AddressChanged:
      lease6_ = e.lease;
      break;
    case Kind::Expired:
    case Kind::Declined:
    case Kind::Failed:
      if (e.kind != Kind::Failed) lease6_.reset();
      warn("DHCPv6: " + std::string(dhcp6::to_string(e.kind)) + " " + e.lease.address.to_string() +
                   (e.message.empty() ? "" : " (" + e.message + ")"));
      break;
    case Kind::Released:
      lease6_.reset();
      return;
  }
  if (metrics_)  // (after Failed the lease kept is an old one: no round trip to measure)
    metrics_->lease_event(e, lease6_ && e.kind != Kind::Failed ? std::optional(Clock::now() - lease6_->acquired_at)
                                                               : std::nullopt);
  if (lease_wait_ && have_all_leases()) lease_wait_->cancel();
  if (netns_) apply6(previous, lease6_);
  if (phase_ != EndpointPhase::Creating) save();
}

// Keeps the container's IPv4 address and default route equal to the lease.
void Endpoint::apply4(const std::optional<dhcp4::Lease>& previous, const std::optional<dhcp4::Lease>& next) {
  auto socket = netlink::inside(*netns_, [] { return netlink::Socket::open(); });
  if (!socket) return;
  auto prefix_of = [](const dhcp4::Lease& l) { return netlink::IpPrefix::from_v4(l.address, l.prefix_length); };
  bool same_address = previous && next && previous->address == next->address && previous->prefix_length == next->prefix_length;
  if (next && !same_address) {
    netlink::AddressSpec spec;
    spec.index = container_index_;
    spec.prefix = prefix_of(*next);
    if (auto r = netlink::replace_address(*socket, spec); !r) fail(r.error().message);
    else log::info(log_prefix() + "container address now " + spec.prefix.to_string());
  }
  if (previous && !same_address) (void)netlink::delete_address(*socket, container_index_, prefix_of(*previous));
  auto gateway = [&](const std::optional<dhcp4::Lease>& l) { return l ? gateway4(*l) : std::nullopt; };
  auto new_gateway = gateway(next);
  if (new_gateway && (!same_address || gateway(previous) != new_gateway)) {
    netlink::RouteSpec route;
    route.destination = netlink::IpPrefix::from_v4({}, 0);
    route.gateway4 = new_gateway;
    route.oif = container_index_;
    route.onlink_gateway = true;
    if (auto r = netlink::replace_route(*socket, route); !r) fail(r.error().message);
  }
}

// Keeps the container's DHCPv6 address equal to the lease (the default route comes from RAs).
void Endpoint::apply6(const std::optional<dhcp6::Lease>& previous, const std::optional<dhcp6::Lease>& next) {
  auto socket = netlink::inside(*netns_, [] { return netlink::Socket::open(); });
  if (!socket) return;
  bool same = previous && next && previous->address == next->address;
  if (next && !same) {
    netlink::AddressSpec spec;
    spec.index = container_index_;
    spec.prefix = netlink::IpPrefix::from_v6(next->address, prefix6_);
    spec.nodad = true;
    if (auto r = netlink::replace_address(*socket, spec); !r) fail(r.error().message);
  }
  if (previous && !same)
    (void)netlink::delete_address(*socket, container_index_, netlink::IpPrefix::from_v6(previous->address, prefix6_));
}

void Endpoint::leave() {
  if (left_) return;
  left_ = true;
  phase_ = EndpointPhase::Left;
  save();
  TimePoint now = Clock::now();
  if (client4_) {
    client4_->release(now);
    if (wire4_) {
      wire4_->session->flush();
      wire4_->session->stop();
    }
  }
  if (client6_) {
    client6_->release(now);
    if (wire6_) wire6_->session->flush();
    // RELEASE is retransmitted until a REPLY (RFC 8415 18.2.7): let the session run on
    // until the client stops by itself.
  }
}

void Endpoint::remove() {
  leave();
  removed_ = true;
  delete_links();
}

asio::awaitable<bool> Endpoint::readopt(EndpointRecord record, Duration delay) {
  auto alive = alive_;
  // What the record says decides the path: a Join during the wait below changes phase_.
  const EndpointPhase recorded = record.phase;
  readopting_ = true;
  ScopeExit done([this, alive] {
    if (*alive) readopting_ = false;
  });
  phase_ = record.phase;
  sandbox_key_ = record.sandbox_key;
  hostname_sent_ = record.hostname;
  container_id_ = record.container_id;
  interface_name_ = record.interface;
  lease4_ = record.lease4;
  lease6_ = record.lease6;
  prefix6_ = record.prefix6;
  links_made_ = true;  // whatever of them still exists is ours
  make_clients(config_.bridge_mtu);
  if (phase_ == EndpointPhase::Left) {
    // Released already; the daemon died before DeleteEndpoint removed the links.
    left_ = true;
    remove();
    co_return false;
  }
  if (phase_ == EndpointPhase::Creating) {
    // Docker never got this endpoint: the daemon died inside CreateEndpoint.
    log::info(log_prefix() + "CreateEndpoint was cut short by a restart: removing what it made");
    discard();
    co_return false;
  }
  if (delay > Duration::zero()) {
    asio::steady_timer wait(executor_);
    wait.expires_after(delay);
    co_await wait.async_wait(use_awaitable_tuple);
    if (!*alive || left_) co_return false;
  }
  std::function<void()> resume = [this] {  // not a lambda type: it lives in the coroutine frame
    TimePoint now = Clock::now();
    if (client4_) {
      if (lease4_) client4_->resume(*lease4_, now);
      else client4_->start(now);
    }
    if (client6_) {
      if (lease6_) client6_->resume(*lease6_, now);
      else client6_->start(now);
    }
  };
  if (recorded == EndpointPhase::Created) {
    // Between CreateEndpoint and Join: the container end is still here, Docker will Join it
    // or delete it (or has joined it while this waited: then follow it now).
    auto container = query_interface(container_end_);
    if (!container) {
      discard();
      co_return false;
    }
    std::optional<PacketSocket> packet;
    if (client4_) {
      auto opened = PacketSocket::open(*container);
      if (!opened) {
        fail("re-adopting: " + opened.error().message);
        discard();
        co_return false;
      }
      packet.emplace(std::move(*opened));
    }
    resume();
    if (packet) start_v4(std::make_unique<PacketSocket>(std::move(*packet)));
    if (client6_) {
      if (auto udp = Dhcp6UdpSocket::open(*container, Clock::now(), /*while_tentative=*/true))
        start_v6(std::make_unique<Dhcp6UdpSocket>(std::move(*udp)));
      else warn("re-adopting, DHCPv6: " + udp.error().message);
    }
    log::info(log_prefix() + "re-adopted before Join, " +
              (lease4_ ? lease4_->address.to_string() : lease6_ ? lease6_->address.to_string() : std::string("no lease")));
    readopting_ = false;
    if (!pending_sandbox_.empty()) follow_into(std::exchange(pending_sandbox_, std::string()));
    co_return true;
  }
  // Joined: the container's namespace must still be there, with our interface in it.
  resume();
  following_ = true;
  bool inside = false;  // (no co_await inside &&: GCC 12 fails on it)
  if (::access(host_path(sandbox_key_).c_str(), F_OK) == 0) inside = co_await follow(sandbox_key_, Clock::now() + 2s);
  if (!*alive) co_return false;
  if (left_) co_return false;  // Docker deleted it meanwhile
  if (!inside) {
    log::info(log_prefix() + "its container is gone (" + sandbox_key_ + "): releasing the lease");
    discard();
    co_return false;
  }
  // The address stays as it is when it matches the lease; one lost meanwhile comes back.
  if (lease4_) apply4(std::nullopt, lease4_);
  if (lease6_) apply6(std::nullopt, lease6_);
  std::string states;
  if (client4_) states = "DHCPv4 " + state4() + (lease4_ ? " " + lease4_->address.to_string() : std::string());
  if (client6_) states += (states.empty() ? "DHCPv6 " : ", DHCPv6 ") + state6();
  log::info(log_prefix() + "re-adopted in " + sandbox_key_ + ": " + states);
  if (metrics_) metrics_->readopted();
  save();
  co_return true;
}

// Releases the recorded leases from wherever the LAN can still be reached (the container
// end while it is in the host namespace, else the bridge itself, with the container's MAC as
// the source) and removes the links.
void Endpoint::discard() {
  TimePoint now = Clock::now();
  std::optional<InterfaceInfo> via;
  if (auto container = query_interface(container_end_)) via = *container;
  else if (auto bridge = query_interface(config_.options.bridge)) {
    via = *bridge;
    via->mac = config_.mac;
  }
  // Wires stopped by a failed follow() are replaced; queued renewals are dropped: only the
  // RELEASE goes out.
  if (client4_ && lease4_ && now < lease4_->expires_at() && via) {
    client4_->resume(*lease4_, now);
    while (client4_->pop_transmit()) {}
    while (client4_->pop_event()) {}
    if (auto packet = PacketSocket::open(*via)) start_v4(std::make_unique<PacketSocket>(std::move(*packet)));
  }
  if (client6_ && lease6_ && now < lease6_->expires_at() && via) {
    client6_->resume(*lease6_, now);
    while (client6_->pop_transmit()) {}
    while (client6_->pop_event()) {}
    if (auto udp = Dhcp6UdpSocket::open(*via, now, /*while_tentative=*/true))
      start_v6(std::make_unique<Dhcp6UdpSocket>(std::move(*udp)));
  }
  remove();
}

}  // namespace netdhcp
