#include "src/endpoint/endpoint.hpp"

#include <random>
#include <thread>

#include "dhcp/router_advert.hpp"
#include "src/endpoint/address_plan.hpp"
#include "src/endpoint/client_identity.hpp"
#include "src/state/lease_json.hpp"
#include "src/support/log.hpp"

namespace netdhcp {

using namespace std::chrono_literals;

namespace {

RandomSource make_random() {
  auto engine = std::make_shared<std::mt19937>(std::random_device{}());
  return [engine] { return static_cast<std::uint32_t>((*engine)()); };
}

template <class Wire>
asio::awaitable<void> run_wire(std::shared_ptr<Wire> wire, typename decltype(wire->session)::element_type::EventHandler handler) {
  co_await wire->session->run(std::move(handler));
}

}  // namespace

Endpoint::Endpoint(asio::any_io_executor executor, EndpointConfig config, std::unique_ptr<Attachment> attachment)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      kernel_(config_.kernel ? config_.kernel : real_kernel()),
      attachment_(std::move(attachment)) {
  if (!attachment_) attachment_ = kernel_->make_attachment(config_);
}

const std::string& Endpoint::container_end() const { return attachment_->container_end(); }

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
                 {"attachment", std::string(attachment_->kind())},
                 {"interface", interface_name_.empty() ? container_end() : interface_name_},
                 {"mac", config_.mac.to_string()},
                 {"hostname", hostname_to_send()},
                 {"identity", config_.endpoint_options.identity}};
  attachment_->describe(o);
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
      lease_options_to_json(*lease4_, v4);  // the state file's keys: dns_servers, classless_routes, ...
    }
    if (client4_) v4["packets_ignored"] = client4_->counters().packets_ignored;
    // How the last unicast (a RENEWING request, a RELEASE) left: "frame" to the server's MAC,
    // "udp" through the container's stack from its address (a retransmission, or the MAC not
    // known), or "broadcast" when neither could be used (the address not configured yet).
    if (wire4_ && wire4_->socket) v4["unicast_path"] = wire4_->socket->last_unicast_path();
    v4["send_errors"] = send_errors4_.count;
    v4["last_send_error"] = send_errors4_.last;
    v4["last_send_error_at"] = send_errors4_.last.empty() ? "" : utc_time(send_errors4_.last_at);
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
    v6["send_errors"] = send_errors6_.count;
    v6["last_send_error"] = send_errors6_.last;
    v6["last_send_error_at"] = send_errors6_.last.empty() ? "" : utc_time(send_errors6_.last_at);
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
  r.endpoint_options = config_.endpoint_options;
  r.container_id = container_id_;
  r.interface = interface_name_;
  r.lease4 = lease4_;
  r.lease6 = lease6_;
  r.prefix6 = prefix6_;
  return r;
}

void Endpoint::save() const {
  if (persist_ && !removed_) persist_(record(), nullptr, std::chrono::milliseconds::zero());
}

// A renewal that moved nothing but the lease's times may reach the disk later: within 30 s, a
// quarter of the new lease, and half of what is left of the lease the record on disk holds (it
// was renewed at T1 normally; later, after rebinding or a re-adoption, less is left), so the
// record on disk always holds a lease that has not expired. A kill -9 before that loses only
// the later expiry: re-adoption finds the same address, still leased, and renews it. Less than
// a second to spare: written now.
void Endpoint::save_later(Duration lease_time, TimePoint on_disk_expires) const {
  using std::chrono::milliseconds;
  auto left = std::chrono::duration_cast<milliseconds>(on_disk_expires - Clock::now());
  auto within = std::min({milliseconds(30'000), std::chrono::duration_cast<milliseconds>(lease_time / 4), left / 2});
  if (within < milliseconds(1000)) return save();
  if (persist_ && !removed_) persist_(record(), nullptr, within);
}

namespace {
// The same lease but for its times (and where DHCPv6's REPLY came from): a renewal that changes
// nothing the container or a re-adoption would use.
bool only_times_moved(const dhcp4::Lease& before, dhcp4::Lease after) {
  after.lease_time = before.lease_time;
  after.t1 = before.t1;
  after.t2 = before.t2;
  after.acquired_at = before.acquired_at;
  return after == before;
}
bool only_times_moved(const dhcp6::Lease& before, dhcp6::Lease after) {
  after.preferred_lifetime = before.preferred_lifetime;
  after.valid_lifetime = before.valid_lifetime;
  after.t1 = before.t1;
  after.t2 = before.t2;
  after.acquired_at = before.acquired_at;
  after.server_address = before.server_address;
  return after == before;
}
}  // namespace

// What save_durably waits on. Not a local class, nor in an anonymous namespace: the coroutine's
// frame holds one, and GCC warns (-Wsubobject-linkage) when a frame of a function with external
// linkage holds a type without it.
struct DurableSaveWait {
  explicit DurableSaveWait(const asio::any_io_executor& executor) : timer(executor, TimePoint::max()) {}
  Timer timer;
  bool done = false;
  Result<void> saved;
};

asio::awaitable<Result<void>> Endpoint::save_durably() {
  if (!persist_ || removed_) co_return Result<void>{};
  // on_disk runs on this thread before persist_ returns (the record written here: the usual
  // case, StateWriter::write_now) or later on the writer thread (queued behind another write
  // of it): then it wakes this coroutine through the event loop.
  auto wait = std::make_shared<DurableSaveWait>(executor_);
  const auto here = std::this_thread::get_id();
  OnDisk on_disk = [wait, here, executor = executor_](const Result<void>& saved) {
    if (std::this_thread::get_id() == here) {
      wait->saved = saved;
      wait->done = true;
      return;
    }
    asio::post(executor, [wait, saved] {
      wait->saved = saved;
      wait->done = true;
      wait->timer.cancel();
    });
  };
  persist_(record(), on_disk, std::chrono::milliseconds::zero());
  if (!wait->done) co_await wait->timer.async_wait(use_awaitable_tuple);
  if (!wait->saved)
    co_return Error{"the endpoint's record could not be saved (" + wait->saved.error().message +
                    "): free space in net-dhcp's state directory or make it writable; without the record a restart "
                    "of net-dhcp would lose this endpoint's lease"};
  co_return Result<void>{};
}

std::optional<Ipv4Address> Endpoint::gateway4(const dhcp4::Lease& lease) const {
  return config_.options.gateway ? config_.options.gateway : lease.gateway();
}

std::string Endpoint::state4() const { return client4_ ? std::string(dhcp4::to_string(client4_->state())) : "none"; }
std::string Endpoint::state6() const { return client6_ ? std::string(dhcp6::to_string(client6_->state())) : "none"; }

const std::string& Endpoint::hostname_to_send() const {
  if (!config_.endpoint_options.hostname.empty()) return config_.endpoint_options.hostname;
  return hostname_sent_.empty() ? config_.options.hostname : hostname_sent_;
}

// The clients, with the endpoint's identity (client_identity.hpp: its identity= option's, else
// its id's), so that a re-adopted or re-created endpoint is the same client to the server.
void Endpoint::make_clients(int mtu) {
  auto configs = client_configs(identity_of(config_.endpoint_id, config_.endpoint_options), config_.options,
                                config_.mac, *attachment_, hostname_to_send(), mtu);
  if (configs.v4) configs.v4->address_hint = config_.address_hint4;
  if (configs.v6) configs.v6->address_hint = config_.address_hint6;
  if (configs.v4) client4_ = std::make_shared<dhcp4::Client>(*configs.v4, make_random());
  if (configs.v6) client6_ = std::make_shared<dhcp6::Client>(*configs.v6, make_random());
}

template <class ClientT, class SocketT, class EventT>
void Endpoint::start_wire(std::shared_ptr<Wire<ClientT, SocketT>>& current, const std::shared_ptr<ClientT>& client,
                          std::unique_ptr<SocketT> socket, void (Endpoint::*on_event)(const EventT&),
                          void (Endpoint::*on_send_error)(const Error&)) {
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
  wire->session->on_send_error([self, on_send_error](const Error& e) {
    if (auto endpoint = self.lock()) (endpoint.get()->*on_send_error)(e);
  });
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
  // The server's MAC, learnt on the host end before Join: renewals from the container's end go
  // straight to it (dhcp4_socket.hpp).
  if (wire4_ && wire4_->socket)
    for (const auto& [ip, mac] : wire4_->socket->neighbours()) socket->learn_neighbour(ip, mac);
  start_wire(wire4_, client4_, std::move(socket), &Endpoint::on_event4, &Endpoint::on_send_error4);
}

void Endpoint::start_v6(std::unique_ptr<Dhcp6Socket> socket) {
  start_wire(wire6_, client6_, std::move(socket), &Endpoint::on_event6, &Endpoint::on_send_error6);
}

void Endpoint::on_send_error4(const Error& error) { send_failed(send_errors4_, Metrics::Family::V4, error); }
void Endpoint::on_send_error6(const Error& error) { send_failed(send_errors6_, Metrics::Family::V6, error); }

// The client takes an unsent packet for a lost one and retransmits on its schedule; what the
// kernel said (the interface, the errno text) is only seen here.
void Endpoint::send_failed(SendErrors& errors, Metrics::Family family, const Error& error) {
  TimePoint now = Clock::now();
  ++errors.count;
  errors.last = error.message;
  errors.last_at = now;
  if (metrics_) metrics_->send_failed(family);
  if (std::uint64_t reported = errors.log.occurred(now))
    log::warning(log_prefix() + (family == Metrics::Family::V4 ? "DHCPv4" : "DHCPv6") + " packet not sent: " + error.message +
                 (reported > 1 ? " (" + std::to_string(reported) + " send errors since the last such line)" : ""));
}

namespace {
std::string ms(TimePoint from, TimePoint to) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
  return std::to_string(us / 1000) + "." + std::to_string(us % 1000 / 100);
}
}  // namespace

asio::awaitable<Result<void>> Endpoint::create() {
  TimePoint started = Clock::now();
  TimePoint deadline = started + config_.options.lease_timeout;
  // Noted before anything exists: a kill -9 from here on leaves a record to clean up by.
  phase_ = EndpointPhase::Creating;
  if (auto saved = co_await save_durably(); !saved) co_return saved.error();
  TimePoint recorded = Clock::now();
  if (auto made = attachment_->create(); !made)
    co_return Error{"creating the interfaces for the container: " + made.error().message};
  auto container = kernel_->query_interface(container_end());
  if (!container) {
    attachment_->remove();
    co_return container.error();
  }
  // A DISCOVER sent before the kernel has processed the new veth's carrier (and enabled the
  // bridge port) is dropped, costing a retransmission (~1 s): wait for it, by netlink event.
  std::vector<std::string> ends = attachment_->links_to_wait_for();
  TimePoint made = Clock::now();
  auto up = co_await kernel_->wait_for_links_up(ends, deadline);
  if (!up) warn(up.error().message + "; starting DHCP anyway");
  TimePoint carrier = Clock::now();
  make_clients(container->mtu);
  if (client4_) {
    auto packet_socket = kernel_->open_dhcp4(*container);
    if (!packet_socket) {
      attachment_->remove();
      co_return packet_socket.error();
    }
    // Where the client's first DISCOVER may go (Client::send_discover): only this socket sends
    // one; the ones that replace it carry on with a bound client.
    (*packet_socket)->assume_servers(config_.servers4);
    client4_->start(Clock::now());
    start_v4(std::move(*packet_socket));
  }

  if (config_.options.ipv6) {
    // Awaited as a netlink event: Dhcp6UdpSocket::open's own wait sleeps, which the event loop
    // must not do. (With accept_dad=0 the address is there as soon as the link is up.)
    auto ready = co_await kernel_->wait_for_link_local(container->index, deadline);
    if (!ready) warn(ready.error().message);
    auto udp = kernel_->open_dhcp6(*container, Clock::now(), /*while_tentative=*/false);
    log::debug(log_prefix() + "DHCPv6 socket ready after " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()) + " ms");
    if (!udp) {
      remove();
      co_return Error{"DHCPv6 on " + container_end() + ": " + udp.error().message};
    }
    client6_->start(Clock::now());
    start_v6(std::move(*udp));
  }

  // Both exchanges run at once. Sleep until on_event4/6 see both leases (they cancel this
  // timer) or the deadline passes.
  Timer leases_in(executor_);
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
  TimePoint leased_at = Clock::now();
  phase_ = EndpointPhase::Created;
  // Before Docker hears of it: a kill -9 from now on must not lose it.
  if (auto saved = co_await save_durably(); !saved) {
    remove();  // releases the leases, removes the links
    co_return saved.error();
  }
  if (log::enabled(log::Level::Debug)) {
    log::debug(log_prefix() + "created in steps (ms): record " + ms(started, recorded) + ", links " +
               ms(recorded, made) + ", carrier " + ms(made, carrier) + ", leases " + ms(carrier, leased_at) +
               ", record " + ms(leased_at, Clock::now()));
  }
  std::string leased;
  if (lease4_) leased = lease4_->address.to_string() + "/" + std::to_string(lease4_->prefix_length);
  if (lease6_) leased += (leased.empty() ? "" : " and ") + lease6_->address.to_string() + "/" + std::to_string(prefix6_);
  log::info(log_prefix() + "leased " + leased + " on " + config_.options.lan_text() + " in " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()) + " ms");
  co_return Result<void>{};
}

// CreateEndpoint's error when lease_timeout passed first: for each missing lease, what was sent
// and what came back, then the likely causes. When nothing came back at all the bridge is
// probed again: the firewall may have changed since CreateNetwork (Docker 28 sets ip6tables'
// FORWARD policy to DROP when the first Docker IPv6 network appears, whenever that is); a
// macvlan or ipvlan child's frames cross no bridge and meet no FORWARD chain. The endpoint is
// removed first, so nothing of it runs meanwhile.
asio::awaitable<std::string> Endpoint::no_lease_message() {
  const std::string& bridge = config_.options.lan_interface();  // the bridge, or the parent
  const std::string lan = config_.options.lan_text();          // "bridge br0", "parent eth1 (macvlan)"
  const bool bridged = attachment_->crosses_bridge();
  std::string after = seconds_text(config_.options.lease_timeout);
  std::string message;
  bool silent4 = false, silent6 = false, refused6 = false, unanswered6 = false;
  if (client4_ && !lease4_) {
    const auto& c = client4_->counters();
    message = "no DHCPv4 lease on " + lan + " within " + after + " (" + std::to_string(c.discovers_sent) +
              " DHCPDISCOVERs sent, " + std::to_string(c.offers_received) + " offers, " +
              std::to_string(c.naks_received) + " NAKs received)";
    if (c.naks_received) message += "; last NAK: \"" + c.last_nak_message + "\"";
    silent4 = c.offers_received == 0 && c.naks_received == 0;
  }
  if (client6_ && !lease6_) {
    const auto& c6 = client6_->counters();
    message += std::string(message.empty() ? "" : "; ") + "no DHCPv6 lease on " + lan + " within " + after +
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
  if ((silent4 || silent6) && config_.options.firewall_check && !bridged) {
    log::debug(log_prefix() + "no answer on " + lan + "; the firewall probe is about bridged traffic, and a " +
               std::string(attachment_->kind()) + " interface's crosses no bridge: not probed");
  } else if ((silent4 || silent6) && config_.options.firewall_check) {
    ProbeFamilies families{silent4, silent6};
    auto verdict = co_await kernel_->probe_bridge_forwarding(bridge, config_.bridge_index, families);
    if (verdict && verdict->dropped()) co_return message + ": " + verdict->message;
    probed = verdict.ok();
    if (!verdict) log::warning(log_prefix() + verdict.error().message);
  }
  std::string causes;
  if (silent4)
    causes = !bridged ? " Is a DHCP server on that LAN, and is " + bridge + " connected to it?"
             : probed ? " Bridged traffic passes the host firewall (checked just now): is a DHCP server on that LAN, and is "
                        "the LAN interface attached to " + bridge + "?"
                      : " Is a DHCP server on that LAN, and does the host firewall let bridged DHCP through? "
                        "(iptables -I FORWARD -i " + bridge + " -j ACCEPT)";
  if (silent6 || refused6 || unanswered6) {
    causes += silent6 ? std::string(" Is a DHCPv6 server on that LAN? A router that only advertises SLAAC prefixes gives "
                                    "no address net-dhcp could hand to Docker.") +
                            (probed || !bridged ? "" : " Does the host firewall let bridged DHCPv6 through? (ip6tables -I FORWARD -i " +
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
  auto host = kernel_->host_netlink();
  if (!host) return 128;
  auto routes = (*host)->routes(true);
  if (!routes) return 128;
  int best = 128;
  for (const auto& r : *routes) {
    int len = r.destination.prefix_length;
    if (r.oif != config_.bridge_index || len == 0 || len >= 128 || r.gateway6) continue;
    if (prefix_contains(OnLinkPrefix{r.destination.v6_address, len}, address) && (best == 128 || len > best)) best = len;
  }
  return best;
}

// While CreateEndpoint waits for the other family's lease (a dual-stack network: DHCPv4 is
// bound in milliseconds, DHCPv6 may take seconds), the lease already held goes into the
// Creating record: after a kill -9 in that window, re-adoption releases it instead of leaving
// it with the server until it expires. Both in: create() writes the record itself, durably.
void Endpoint::save_while_creating() const {
  if ((lease4_ || lease6_) && !have_all_leases()) save();
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
  if (e.kind == Kind::Renewed && log::enabled(log::Level::Debug))  // (no strings built otherwise)
    log::debug(log_prefix() + "renewed " + e.lease.address.to_string());
  if (metrics_)
    metrics_->lease_event(e, lease4_ ? std::optional(Clock::now() - lease4_->acquired_at) : std::nullopt);
  if (lease_wait_ && have_all_leases()) lease_wait_->cancel();
  if (netns_) apply4(previous, lease4_);
  if (phase_ == EndpointPhase::Creating) return save_while_creating();
  if (e.kind == Kind::Renewed && previous && only_times_moved(*previous, e.lease))
    save_later(e.lease.lease_time, previous->expires_at());
  else
    save();
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
  if (phase_ == EndpointPhase::Creating) return save_while_creating();
  if (e.kind == Kind::Renewed && previous && only_times_moved(*previous, e.lease))
    save_later(e.lease.valid_lifetime, previous->expires_at());
  else
    save();
}

// Keeps the container's addresses (and IPv4 default route) equal to the leases: the plan of
// address_plan.hpp, carried out in the container's namespace.
void Endpoint::apply(const AddressPlan& plan) {
  if (!netns_ || plan.empty()) return;
  auto errors = netns_->apply_plan(container_index_, plan);
  if (!errors) {
    fail("changing the container's addresses: " + errors.error().message);
    return;
  }
  for (const auto& e : *errors) fail("in the container: " + e);
  for (const auto& step : plan)
    if (step.kind == AddressStep::Kind::ReplaceAddress && errors->empty())
      log::info(log_prefix() + "container address now " + step.prefix.to_string());
}

void Endpoint::apply4(const std::optional<dhcp4::Lease>& previous, const std::optional<dhcp4::Lease>& next) {
  apply(plan_lease4(previous, next, config_.options.gateway));
}

void Endpoint::apply6(const std::optional<dhcp6::Lease>& previous, const std::optional<dhcp6::Lease>& next) {
  apply(plan_lease6(previous, next, prefix6_));
}

void Endpoint::leave() {
  if (left_) return;
  left_ = true;
  phase_ = EndpointPhase::Left;
  save();
  // Until follow() has taken the clients into the container, their sockets are on the
  // container end as it was in the host namespace. Docker moves it at Join, and a container
  // that exits at once (`docker run --rm IMAGE true`) can leave before follow() has found it
  // there: from the old socket the RELEASE fails (ENXIO) and the server keeps the lease until
  // it expires. It goes out where the LAN is still reached instead, as after a restart.
  const bool waiting_to_resume = readopting_ && (!client4_ || client4_->state() == dhcp4::State::Stopped) &&
                                 (!client6_ || client6_->state() == dhcp6::State::Stopped);
  if (waiting_to_resume && !release_wired_) {
    // Left (or deleted) while re-adoption waits its turn after a restart (readopt): the clients
    // have not taken up the recorded leases yet, and release() sends nothing without one. They
    // take them up here, to release them from where the LAN is reached, as discard() does.
    auto [v4, v6] = take_up_for_release();
    wire_for_release(v4, v6);
  } else if (!followed_ && !sandbox_key_.empty() && !release_wired_) {
    wire_for_release(client4_ && lease4_, client6_ && lease6_);
  }
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

// The container end while it is in the host namespace, else the bridge (or the macvlan or
// ipvlan parent) itself with the container's MAC as the source.
void Endpoint::wire_for_release(bool v4, bool v6) {
  if (!v4 && !v6) return;
  release_wired_ = true;
  std::optional<InterfaceInfo> via = attachment_->release_path();
  if (!via) {
    warn("no interface left to send the RELEASE from (" + container_end() + " and " + config_.options.lan_text() +
         " are gone): the server keeps the lease until it expires");
    return;
  }
  if (v4) {
    auto packet = kernel_->open_dhcp4(*via);
    if (packet) start_v4(std::move(*packet));
    else warn("DHCPv4 socket on " + via->name + " for the RELEASE: " + packet.error().message);
  }
  if (v6) {
    auto udp = kernel_->open_dhcp6(*via, Clock::now(), /*while_tentative=*/true);
    if (udp) start_v6(std::move(*udp));
    else warn("DHCPv6 socket on " + via->name + " for the RELEASE: " + udp.error().message);
  }
}

void Endpoint::remove() {
  if (removed_) return;  // once: an attachment need not be idempotent itself
  leave();
  removed_ = true;
  attachment_->remove();
}

}  // namespace netdhcp
