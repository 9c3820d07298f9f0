#include "dhcp/dhcp4_client.hpp"

#include <algorithm>

#include "dhcp/server_text.hpp"

namespace netdhcp::dhcp4 {

using namespace std::chrono_literals;

std::string_view to_string(State state) {
  switch (state) {
    case State::Init: return "init";
    case State::Selecting: return "selecting";
    case State::Requesting: return "requesting";
    case State::Rebooting: return "rebooting";
    case State::Probing: return "probing";
    case State::Bound: return "bound";
    case State::Renewing: return "renewing";
    case State::Rebinding: return "rebinding";
    case State::Stopped: return "stopped";
  }
  return "unknown";
}

std::string_view to_string(Event::Kind kind) {
  switch (kind) {
    case Event::Kind::Bound: return "bound";
    case Event::Kind::Renewed: return "renewed";
    case Event::Kind::AddressChanged: return "address-changed";
    case Event::Kind::Expired: return "expired";
    case Event::Kind::Nak: return "nak";
    case Event::Kind::Declined: return "declined";
    case Event::Kind::Released: return "released";
  }
  return "unknown";
}

namespace {

// RFC 2131 section 4.1: "the delay before the first retransmission SHOULD be 4 seconds
// randomized by the value of a uniform random number chosen from the range -1 to +1 ...
// The delay before the next retransmission SHOULD be 8 seconds ... up to a maximum of 64".
// We start at 1 s (jitter +-0.5 s) instead of 4 s: a container start waits on this exchange,
// and one lost packet on a quiet LAN must not cost it 4 seconds. The doubling and the 64 s
// ceiling are the RFC's.
Duration retransmit_delay(unsigned transmissions, const RandomSource& random) {
  unsigned exponent = transmissions == 0 ? 0 : std::min(transmissions - 1, 6u);
  Duration base = std::min<Duration>(Seconds(1u << exponent), 64s);
  return base + random_between(random, -500ms, 500ms);
}

// How often a DHCPREQUEST in REQUESTING or INIT-REBOOT is sent before starting over
// (RFC 2131 section 3.1.5: "after employing the retransmission algorithm"): 1+2+4+8 s.
constexpr unsigned kMaxRequestTransmissions = 4;

// RFC 2131 section 4.4.5: "In both RENEWING and REBINDING states, if the client receives no
// response to its DHCPREQUEST message, the client SHOULD wait one-half of the remaining time
// until T2 (in RENEWING state) and one-half of the remaining lease time (in REBINDING state),
// down to a minimum of 60 seconds, before retransmitting the DHCPREQUEST message."
// That is: halve the time left while the half is at least 60 s, then retransmit every 60 s.
// A one-day lease (T1 12 h, T2 21 h) gets some 20 REQUESTs between T1 and expiry that way; a
// 10 s lease (T1 5 s, T2 8 s) would get one per phase, two in all, and lose its address to a
// renewal and a rebind both dropped. Deviation: the 60 s interval is at most a 40th of the
// lease (never under kShortestRenewalInterval). With the default T1 and T2 a lease under 5
// minutes then gets about 20 REQUESTs from T1 to expiry (a 10 s lease: every 250 ms, 12 while
// RENEWING and 8 while REBINDING), enough to keep it through 30 % loss each way (all 20
// unanswered: 0.51^20 = 1.4e-6 of renewals); longer ones get 8 or more, as the RFC gives a
// lease of 40 minutes, from which on it is followed exactly. The same interval bounds the
// DHCPv6 Renew and Rebind timeouts (dhcp6_client.cpp, renewal_interval_ceiling).
constexpr Duration kRfcRenewalInterval = 60s;
constexpr unsigned kRenewalIntervalsPerLease = 40;
// Well above a LAN's round trip, so that a slow server's answer is not raced by a stream of
// duplicates; leases of 10 s and less come down to it (4 s, kMinLeaseTime: 8 REQUESTs in 2 s).
constexpr Duration kShortestRenewalInterval = 250ms;

Duration renewal_interval(Seconds lease_time) {
  return std::clamp<Duration>(Duration(lease_time) / kRenewalIntervalsPerLease, kShortestRenewalInterval,
                              kRfcRenewalInterval);
}

Duration renewal_retransmit_delay(TimePoint now, TimePoint phase_end, Seconds lease_time) {
  Duration half = (phase_end - now) / 2;
  return half >= kRfcRenewalInterval ? half : renewal_interval(lease_time);
}

// The shortest lease taken as given. RFC 2131 sets no minimum, but a lease of a second or two
// would give T1 and T2 of 0 s in whole seconds, and the client would renew at round-trip rate
// (the daemon rewriting its record each time). dhcpcd raises leases under 20 s
// (DHCP_MIN_LEASE); this raises only leases under 4 s, which no real server hands out (Kea
// can, and the tests use 4 s leases), so that T1 = 2 s < T2 = 3 s < lease. Raising further
// would keep an address well past the server's expiry.
constexpr Seconds kMinLeaseTime{4};

// RFC 2131 section 4.4.5: "T1 defaults to (0.5 * duration_of_lease).  T2 defaults to (0.875 *
// duration_of_lease)." The server's options 58 and 59 are kept only when 0 < T1 < T2 < lease,
// checked in the order of systemd's sd-dhcp-client (client_set_lease_timeouts): a T2 of 0 or
// not below the lease is replaced, then a T1 of 0 or not below T2, then T2 again if T1 still
// is not below it. With lease_time >= kMinLeaseTime the defaults satisfy the order.
void choose_renewal_times(Lease& lease, std::optional<std::uint32_t> t1, std::optional<std::uint32_t> t2) {
  const Seconds total = lease.lease_time;
  const Seconds default_t1 = total / 2;
  const Seconds default_t2 = total * 7 / 8;
  Seconds chosen_t2 = Seconds(t2.value_or(0));
  if (chosen_t2 == Seconds::zero() || chosen_t2 >= total) chosen_t2 = default_t2;
  Seconds chosen_t1 = Seconds(t1.value_or(0));
  if (chosen_t1 == Seconds::zero() || chosen_t1 >= chosen_t2) chosen_t1 = default_t1;
  if (chosen_t1 >= chosen_t2) chosen_t2 = default_t2;
  lease.t1 = chosen_t1;
  lease.t2 = chosen_t2;
}

// RFC 2131 section 3.1.5: "The client SHOULD wait a minimum of ten seconds before restarting
// the configuration process to avoid excessive network traffic in case of looping."
constexpr Duration kDeclineWait = 10s;

// A server that keeps NAKing must not be hammered: start over at once the first time, then
// wait 2, 4, ... up to 64 s.
Duration nak_backoff(unsigned nak_streak) {
  if (nak_streak <= 1) return Duration::zero();
  return std::min<Duration>(Seconds(1u << std::min(nak_streak - 1, 6u)), 64s);
}

// RFC 5227 section 1.1 constants.
constexpr Duration kProbeWait = 1s;
constexpr unsigned kProbeNum = 3;
constexpr Duration kProbeMin = 1s;
constexpr Duration kProbeMax = 2s;
constexpr Duration kAnnounceWait = 2s;
constexpr unsigned kAnnounceNum = 2;
constexpr Duration kAnnounceInterval = 2s;

// Classful default when a server sends no subnet mask (RFC 2131 leaves it to the client).
int classful_prefix(Ipv4Address a) {
  if (a.octets[0] < 128) return 8;
  if (a.octets[0] < 192) return 16;
  return 24;
}

std::uint16_t secs_since(TimePoint start, TimePoint now) {
  auto s = std::chrono::duration_cast<Seconds>(now - start).count();
  return static_cast<std::uint16_t>(std::clamp<long long>(s, 0, 0xffff));
}

}  // namespace

Client::Client(ClientConfig config, RandomSource random)
    : config_(std::move(config)), random_(std::move(random)) {}

void Client::new_exchange(TimePoint now) {
  xid_ = random_();
  exchange_started_ = now;
  lease_start_ = now;
  transmissions_ = 0;
}

Packet Client::new_message(MessageType type, TimePoint now) const {
  Packet p;
  p.op = 1;
  p.xid = xid_;
  p.secs = secs_since(exchange_started_, now);
  p.set_client_mac(config_.mac);
  p.add_u8(option::MessageType, static_cast<std::uint8_t>(type));
  if (!config_.client_id.empty()) p.add(option::ClientId, config_.client_id);
  return p;
}

// RFC 2131 Table 5 fields shared by DISCOVER and REQUEST: hostname, vendor class, parameter
// request list (from dhcp4_lease.hpp's table), maximum message size.
static void add_request_options(Packet& p, const ClientConfig& config) {
  if (!config.hostname.empty()) p.add_string(option::HostName, config.hostname);
  if (!config.vendor_class.empty()) p.add_string(option::VendorClass, config.vendor_class);
  p.add(option::ParameterRequestList, ByteView(reinterpret_cast<const std::byte*>(kParameterRequestList.data()),
                                               kParameterRequestList.size()));
  p.add_u16(option::MaxMessageSize, config.max_message_size);
}

void Client::send(Packet packet, Ipv4Address source, Ipv4Address destination, bool to_known_server) {
  if (config_.broadcast_flag && destination == kIpv4Broadcast) packet.flags |= Packet::kBroadcastFlag;
  Transmit t;
  t.kind = Transmit::Kind::Dhcp;
  t.type = *packet.message_type();
  encode(packet, t.payload);
  t.source = source;
  t.destination = destination;
  t.to_known_server = to_known_server;
  outbox_.send(std::move(t));
  ++transmissions_;
}

void Client::start(TimePoint now) {
  counters_ = {};
  lease_.reset();
  hint_ = config_.address_hint;
  first_discover_pending_ = !config_.previous_address;
  if (config_.previous_address) {
    // RFC 2131 section 3.2: INIT-REBOOT, ask for the address we had.
    state_ = State::Rebooting;
    new_exchange(now);
    requested_address_ = config_.previous_address;
    selected_server_.reset();
    send_request(now);
    return;
  }
  enter_init(now, random_between(random_, Duration::zero(), config_.initial_delay_max));
}

void Client::resume(const Lease& lease, TimePoint now) {
  counters_ = {};
  first_discover_pending_ = false;
  reported_ = lease;
  if (now >= lease.expires_at()) {
    lease_.reset();
    state_ = State::Rebooting;
    new_exchange(now);
    requested_address_ = lease.address;
    selected_server_.reset();
    send_request(now);
    return;
  }
  lease_ = lease;
  state_ = State::Bound;
  schedule_bound_deadline();
  if (now >= lease.rebind_at()) {
    enter_rebinding(now);
  } else if (now >= lease.renew_at()) {
    enter_renewing(now);
  }
}

void Client::enter_init(TimePoint now, Duration delay) {
  state_ = State::Init;
  lease_.reset();
  pending_lease_.reset();
  requested_address_.reset();
  selected_server_.reset();
  if (delay <= Duration::zero()) {
    send_discover(now);
  } else {
    deadline_ = now + delay;
  }
}

void Client::send_discover(TimePoint now) {
  if (state_ != State::Selecting) new_exchange(now);
  state_ = State::Selecting;
  Packet p = new_message(MessageType::Discover, now);
  if (config_.rapid_commit) p.add(option::RapidCommit, {});
  if (hint_) p.add_address(option::RequestedAddress, *hint_);
  add_request_options(p, config_);
  // The very first DISCOVER after start() may go, still to 255.255.255.255, in frames to the
  // MACs of the servers known to answer on the LAN (those that answered other endpoints: the
  // socket's choice): at a thousand bridge ports a broadcast frame costs the exchange ~2.5 ms
  // (send_request's note). A LAN's servers rarely change; when the guess is wrong (a server
  // replaced, its pool exhausted, another that answers this client and has not been heard yet)
  // nothing answers, and the retransmissions, a second later, are broadcast frames as RFC 2131
  // section 4.4.1 has them. Every later exchange (after a NAK, a DECLINE, an expiry) starts
  // with a broadcast, for every server.
  bool to_known_servers = first_discover_pending_;
  first_discover_pending_ = false;
  send(std::move(p), kIpv4Any, kIpv4Broadcast, to_known_servers);
  ++counters_.discovers_sent;
  deadline_ = now + retransmit_delay(transmissions_, random_);
}

// RFC 2131 section 4.3.2 / Table 5: which fields a DHCPREQUEST carries depends on the state.
void Client::send_request(TimePoint now) {
  Packet p = new_message(MessageType::Request, now);
  Ipv4Address source = kIpv4Any;
  Ipv4Address destination = kIpv4Broadcast;
  bool to_known_server = false;
  switch (state_) {
    case State::Requesting:  // SELECTING: requested address and server identifier, no ciaddr
      p.add_address(option::RequestedAddress, *requested_address_);
      p.add_address(option::ServerId, *selected_server_);
      // RFC 2131 section 4.4.1 broadcasts it so that the other servers that offered learn they
      // were not chosen. We take the first OFFER at once, so there are rarely others; Kea and
      // dnsmasq record nothing for an offer, and a server that sets the address aside until its
      // offer times out only lends it later. A broadcast, though, reaches every port of the bridge:
      // with 1000 containers on it that costs the host ~2.5 ms of CPU and the exchange as much
      // (scripts/bench scale). So the first one goes, still to 255.255.255.255, in a frame to
      // the MAC the OFFER came from (the server's, or its relay's); if it goes unanswered, the
      // retransmissions are broadcast as the RFC has them.
      to_known_server = transmissions_ == 0;
      break;
    case State::Rebooting:  // INIT-REBOOT: requested address, no server identifier
      p.add_address(option::RequestedAddress, *requested_address_);
      break;
    case State::Renewing:  // ciaddr, unicast to the server
      p.ciaddr = lease_->address;
      source = lease_->address;
      destination = lease_->server_id;
      break;
    case State::Rebinding:  // ciaddr, broadcast
      p.ciaddr = lease_->address;
      source = lease_->address;
      break;
    default:
      return;
  }
  add_request_options(p, config_);
  send(std::move(p), source, destination, to_known_server);
  ++counters_.requests_sent;
}

void Client::enter_requesting(const Packet& offer, TimePoint now) {
  state_ = State::Requesting;
  requested_address_ = offer.yiaddr;
  selected_server_ = offer.address_option(option::ServerId);
  transmissions_ = 0;  // same xid (RFC 2131 section 4.4.1), new retransmission schedule
  lease_start_ = now;
  send_request(now);
  deadline_ = now + retransmit_delay(transmissions_, random_);
}

Lease Client::lease_from_ack(const Packet& ack) const {
  Lease lease;
  lease.address = ack.yiaddr;
  auto mask = ack.address_option(option::SubnetMask);
  auto prefix = mask ? netmask_prefix_length(*mask) : std::nullopt;
  lease.prefix_length = prefix ? *prefix : classful_prefix(ack.yiaddr);
  lease.server_id = ack.address_option(option::ServerId).value_or(Ipv4Address{});
  decode_lease_options(ack, lease);
  lease.lease_time = std::max(Seconds(*ack.u32_option(option::LeaseTime)), kMinLeaseTime);
  choose_renewal_times(lease, ack.u32_option(option::RenewalTime), ack.u32_option(option::RebindingTime));
  lease.acquired_at = lease_start_;
  return lease;
}

bool Client::accepts(const Packet& p) const {
  if (p.op != 2 || p.xid != xid_ || p.htype != 1 || p.hlen != 6) return false;
  if (p.client_mac() != config_.mac) return false;
  // RFC 6842: a server that returns option 61 returns ours; any other is someone else's reply.
  if (auto id = p.find(option::ClientId); id && !config_.client_id.empty() && *id != config_.client_id)
    return false;
  return p.message_type().has_value();
}

bool Client::on_packet(ByteView payload, TimePoint now) {
  auto parsed = parse(payload);
  if (!parsed || !accepts(*parsed)) {
    ++counters_.packets_ignored;
    return false;
  }
  const Packet& p = *parsed;
  MessageType type = *p.message_type();
  auto server = p.address_option(option::ServerId);

  switch (state_) {
    case State::Selecting:
      if (type == MessageType::Offer && server && !p.yiaddr.is_unspecified()) {
        ++counters_.offers_received;
        counters_.last_offer_address = p.yiaddr;
        counters_.last_offer_server = server;
        enter_requesting(p, now);
        return true;
      }
      // RFC 4039 section 4: an ACK carrying Rapid Commit answers our DISCOVER directly.
      if (type == MessageType::Ack && config_.rapid_commit && p.find(option::RapidCommit) && server) {
        selected_server_ = server;
        return handle_ack(p, now);
      }
      break;
    case State::Requesting:
      // RFC 2131 section 4.4.1: only the selected server's answer counts.
      if (server != selected_server_) break;
      if (type == MessageType::Ack) return handle_ack(p, now);
      if (type == MessageType::Nak) {
        handle_nak(p, now);
        return true;
      }
      break;
    case State::Renewing:
      // RFC 2131 section 4.4.5: RENEWING asks the server that gave the lease, by unicast; an
      // answer naming another server is not the answer (sd-dhcp-client ignores such a NAK).
      if (!lease_ || server != lease_->server_id) break;
      [[fallthrough]];
    case State::Rebooting:
    case State::Rebinding:
      if (type == MessageType::Ack && server) return handle_ack(p, now);
      if (type == MessageType::Nak) {
        handle_nak(p, now);
        return true;
      }
      break;
    default:
      break;
  }
  ++counters_.packets_ignored;
  return false;
}

bool Client::handle_ack(const Packet& ack, TimePoint now) {
  // RFC 2131 section 3.5: a DHCPACK in response to a DHCPREQUEST MUST carry the lease time.
  // A lease time of 0 ends as it begins: ignored, as sd-dhcp-client does ("received lease
  // lacks address, server address or lease lifetime").
  auto lease_time = ack.u32_option(option::LeaseTime);
  if (ack.yiaddr.is_unspecified() || !lease_time || *lease_time == 0) {
    ++counters_.packets_ignored;
    return false;
  }
  ++counters_.acks_received;
  Lease lease = lease_from_ack(ack);
  bool renewal = state_ == State::Renewing || state_ == State::Rebinding;
  if (config_.arp_probe && !renewal && state_ != State::Rebooting) {
    state_ = State::Probing;
    pending_lease_ = lease;
    probes_sent_ = 0;
    // RFC 5227 section 2.1.1: wait a random time in [0, PROBE_WAIT] before the first probe.
    deadline_ = now + random_between(random_, Duration::zero(), kProbeWait);
    return true;
  }
  enter_bound(std::move(lease));
  return true;
}

void Client::enter_bound(Lease lease) {
  nak_streak_ = 0;
  lease_ = lease;
  pending_lease_.reset();
  if (reported_ && reported_->address != lease.address) {
    emit(Event::Kind::AddressChanged, lease, {}, reported_);
  } else if (reported_) {
    emit(Event::Kind::Renewed, lease);
  } else {
    hint_.reset();
    emit(Event::Kind::Bound, lease);
  }
  state_ = State::Bound;  // after emit(): the event records where it came from
  reported_ = lease;
  schedule_bound_deadline();
}

void Client::schedule_bound_deadline() {
  deadline_ = lease_->renew_at();
  if (announcements_left_ > 0) deadline_ = std::min(*deadline_, announce_at_);
}

void Client::handle_nak(const Packet& nak, TimePoint now) {
  ++counters_.naks_received;
  ++nak_streak_;
  std::string message = printable(nak.string_option(option::Message).value_or(""));
  counters_.last_nak_message = message;
  Lease lost = lease_ ? *lease_ : Lease{};
  if (!lease_ && requested_address_) lost.address = *requested_address_;
  reported_.reset();  // the caller stops using the address; the next lease is a new Bound
  emit(Event::Kind::Nak, lost, message);
  // RFC 2131 section 3.1.5 / 4.4.5: on DHCPNAK, stop using the address and restart at INIT.
  hint_.reset();
  enter_init(now, nak_backoff(nak_streak_));
}

void Client::enter_renewing(TimePoint now) {
  state_ = State::Renewing;
  new_exchange(now);
  send_request(now);
  schedule_renewal_retransmit(now, lease_->rebind_at());
}

void Client::enter_rebinding(TimePoint now) {
  state_ = State::Rebinding;
  new_exchange(now);
  send_request(now);
  schedule_renewal_retransmit(now, lease_->expires_at());
}

void Client::schedule_renewal_retransmit(TimePoint now, TimePoint phase_end) {
  deadline_ = std::min(now + renewal_retransmit_delay(now, phase_end, lease_->lease_time), phase_end);
}

void Client::step_probe(TimePoint now) {
  const Lease& candidate = *pending_lease_;
  if (probes_sent_ < kProbeNum) {
    Transmit t;
    t.kind = Transmit::Kind::ArpProbe;
    t.arp_address = candidate.address;
    outbox_.send(t);
    ++probes_sent_;
    deadline_ = probes_sent_ < kProbeNum ? now + random_between(random_, kProbeMin, kProbeMax)
                                         : now + kAnnounceWait;
    return;
  }
  // RFC 5227 section 2.3: no conflict by ANNOUNCE_WAIT after the last probe: announce and use.
  announcements_left_ = kAnnounceNum;
  announce_at_ = now;
  Lease lease = candidate;
  enter_bound(std::move(lease));
}

void Client::on_arp(MacAddress sender_mac, Ipv4Address sender_ip, Ipv4Address target_ip,
                    TimePoint now) {
  if (state_ != State::Probing || sender_mac == config_.mac) return;
  const Ipv4Address candidate = pending_lease_->address;
  // RFC 5227 section 2.1.1: a conflict is any ARP packet whose sender IP is the probed address,
  // or a probe from another host (sender IP 0) for the same target.
  bool conflict = sender_ip == candidate || (sender_ip.is_unspecified() && target_ip == candidate);
  if (!conflict) return;
  lease_ = pending_lease_;
  decline(now, candidate.to_string() + " is in use by " + sender_mac.to_string());
}

void Client::decline(TimePoint now, std::string reason) {
  std::optional<Lease> declined = pending_lease_ ? pending_lease_ : lease_;
  if (!declined) return;
  Packet p = new_message(MessageType::Decline, now);
  p.add_address(option::RequestedAddress, declined->address);
  p.add_address(option::ServerId, declined->server_id);
  send(std::move(p), kIpv4Any, kIpv4Broadcast);
  emit(Event::Kind::Declined, *declined, std::move(reason));
  if (reported_ && reported_->address == declined->address) reported_.reset();
  hint_.reset();
  enter_init(now, kDeclineWait);
}

void Client::renew(TimePoint now) {
  if (state_ != State::Bound || !lease_) return;
  announcements_left_ = 0;
  enter_renewing(now);
}

void Client::release(TimePoint now) {
  if (lease_ && (state_ == State::Bound || state_ == State::Renewing || state_ == State::Rebinding)) {
    new_exchange(now);
    // RFC 2131 section 4.4.6 / Table 5: ciaddr and server identifier, unicast to the server.
    Packet p = new_message(MessageType::Release, now);
    p.ciaddr = lease_->address;
    p.add_address(option::ServerId, lease_->server_id);
    send(std::move(p), lease_->address, lease_->server_id);
    emit(Event::Kind::Released, *lease_);
  }
  stop();
}

void Client::stop() {
  state_ = State::Stopped;
  deadline_.reset();
  lease_.reset();
  pending_lease_.reset();
  reported_.reset();
  announcements_left_ = 0;
}

void Client::on_timeout(TimePoint now) {
  // Handles every deadline that has passed, e.g. after the host slept through T1 and T2.
  for (int guard = 0; guard < 16 && deadline_ && *deadline_ <= now; ++guard) {
    switch (state_) {
      case State::Init:
        send_discover(now);
        break;
      case State::Selecting:
        send_discover(now);
        break;
      case State::Requesting:
      case State::Rebooting:
        if (transmissions_ >= kMaxRequestTransmissions) {
          enter_init(now, Duration::zero());
        } else {
          send_request(now);
          deadline_ = now + retransmit_delay(transmissions_, random_);
        }
        break;
      case State::Probing:
        step_probe(now);
        break;
      case State::Bound:
        if (announcements_left_ > 0 && announce_at_ <= now) {
          Transmit t;
          t.kind = Transmit::Kind::ArpAnnounce;
          t.arp_address = lease_->address;
          outbox_.send(t);
          --announcements_left_;
          announce_at_ = now + kAnnounceInterval;
          schedule_bound_deadline();
        } else if (now >= lease_->renew_at()) {
          announcements_left_ = 0;
          enter_renewing(now);
        } else {
          schedule_bound_deadline();
        }
        break;
      case State::Renewing:
        if (now >= lease_->rebind_at()) {
          enter_rebinding(now);
        } else {
          send_request(now);
          schedule_renewal_retransmit(now, lease_->rebind_at());
        }
        break;
      case State::Rebinding:
        if (now >= lease_->expires_at()) {
          // RFC 2131 section 4.4.5: "If the lease expires before the client receives a
          // DHCPACK, the client moves to INIT state, MUST immediately stop any other network
          // processing and requests network initialization parameters as if the client were
          // uninitialized."
          Lease expired = *lease_;
          reported_.reset();
          emit(Event::Kind::Expired, expired);
          enter_init(now, Duration::zero());
        } else {
          send_request(now);
          schedule_renewal_retransmit(now, lease_->expires_at());
        }
        break;
      case State::Stopped:
        deadline_.reset();
        break;
    }
  }
}

void Client::emit(Event::Kind kind, Lease lease, std::string message, std::optional<Lease> previous) {
  LossReason loss = kind == Event::Kind::Expired    ? LossReason::Expired
                    : kind == Event::Kind::Nak      ? LossReason::Nak
                    : kind == Event::Kind::Declined ? LossReason::Declined
                                                    : LossReason::None;
  outbox_.emit(Event{kind, std::move(lease), std::move(previous), std::move(message), state_, loss});
}

}  // namespace netdhcp::dhcp4
