#include "dhcp/dhcp6_client.hpp"

#include <algorithm>

#include "dhcp/server_text.hpp"

namespace netdhcp::dhcp6 {

using namespace std::chrono_literals;

std::string_view to_string(State state) {
  switch (state) {
    case State::Init: return "init";
    case State::Soliciting: return "soliciting";
    case State::Requesting: return "requesting";
    case State::Bound: return "bound";
    case State::Renewing: return "renewing";
    case State::Rebinding: return "rebinding";
    case State::Declining: return "declining";
    case State::Releasing: return "releasing";
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
    case Event::Kind::Declined: return "declined";
    case Event::Kind::Released: return "released";
    case Event::Kind::Failed: return "failed";
  }
  return "unknown";
}

namespace {

// RFC 8415 section 7.6: transmission and retransmission parameters.
constexpr Duration SOL_TIMEOUT = 1s;
constexpr Duration SOL_MAX_RT = 3600s;
constexpr Duration REQ_TIMEOUT = 1s;
constexpr Duration REQ_MAX_RT = 30s;
constexpr unsigned REQ_MAX_RC = 10;
constexpr Duration REN_TIMEOUT = 10s;
constexpr Duration REN_MAX_RT = 600s;
constexpr Duration REB_TIMEOUT = 10s;
constexpr Duration REB_MAX_RT = 600s;
constexpr Duration REL_TIMEOUT = 1s;
constexpr unsigned REL_MAX_RC = 4;
constexpr Duration DEC_TIMEOUT = 1s;
constexpr unsigned DEC_MAX_RC = 4;

// RFC 8415 sections 18.2.4 and 18.2.5: Renew starts at REN_TIMEOUT (10 s) and doubles up to
// REN_MAX_RT (600 s) until T2, Rebind likewise with REB_TIMEOUT and REB_MAX_RT until the valid
// lifetime ends. A 10 s lifetime (T1 5 s, T2 8 s) gets one Renew and one Rebind that way, and a
// lease lost whenever both are dropped. Deviation, as for DHCPv4 (dhcp4_client.cpp,
// renewal_interval): no timeout is longer than a 40th of the valid lifetime (nor shorter than
// 250 ms), so that a lifetime of 10 s or more gets 20 or more messages from T1 to expiry with
// T1 and T2 at .5 and .8 of it (a 10 s lifetime: every 250 ms, +-10 %), and 4 s gets 9. The
// IRT is the RFC's from a valid lifetime of 400 s on, the MRT from 6 h 40 min on.
constexpr unsigned kRenewalIntervalsPerLifetime = 40;
constexpr Duration kShortestRenewalInterval = 250ms;

Duration renewal_interval_ceiling(Seconds valid_lifetime) {
  return std::max<Duration>(Duration(valid_lifetime) / kRenewalIntervalsPerLifetime, kShortestRenewalInterval);
}

// RFC 8415 section 15: "RAND is a random number chosen with a uniform distribution between
// -0.1 and +0.1". For the first Solicit "RAND MUST be strictly greater than 0".
Duration randomize(Duration base, const RandomSource& random, bool positive_only) {
  Duration tenth = base / 10;
  return base + random_between(random, positive_only ? Duration(1) : -tenth, tenth);
}

// RFC 8415 section 15:
//   RT for the first message transmission is based on IRT:  RT = IRT + RAND*IRT
//   RT for each subsequent message transmission:            RT = 2*RTprev + RAND*RTprev
//   MRT specifies an upper bound on RT:  if (RT > MRT) RT = MRT + RAND*MRT
Duration next_rt(const Retransmission& r, const RandomSource& random, bool solicit) {
  Duration rt = r.count == 0 ? randomize(r.irt, random, solicit)
                             : 2 * r.rt + (randomize(r.rt, random, false) - r.rt);
  if (r.mrt > Duration::zero() && rt > r.mrt) rt = randomize(r.mrt, random, false);
  return rt;
}

// The shortest valid lifetime taken as given, and the shortest base for client-chosen T1/T2:
// as for DHCPv4 (dhcp4_client.cpp, kMinLeaseTime), a lifetime of a few seconds would have the
// client renew at round-trip rate.
constexpr Seconds kMinLifetime{4};

// RFC 8415 section 21.4: "If the time at which the addresses in an IA_NA are to be renewed is
// to be left to the discretion of the client, the server sets the T1 and T2 values to 0", and
// "Recommended values for T1 and T2 are .5 and .8 times the shortest preferred lifetime of the
// addresses in the IA". A preferred lifetime of 0 (a deprecated address) gives no base: the
// valid lifetime is used, as systemd's sd-dhcp6-lease does (dhcp6_lease_compute_ia_timeout);
// a short one is raised to kMinLifetime. A T2 at or past the valid lifetime would renew an
// expired address: both are chosen from the valid lifetime (systemd does the same). A chosen
// T1 past the server's T2 is lowered to it. Result: 0 < T1 <= T2 < valid lifetime (RFC 8415
// allows T1 = T2; T1 > T2 with both non-zero was refused before this, in lease_from).
void choose_renewal_times(Lease& lease, std::uint32_t t1, std::uint32_t t2) {
  const Seconds valid = lease.valid_lifetime;  // >= kMinLifetime
  const Seconds preferred = lease.preferred_lifetime;
  const Seconds base = preferred == Seconds::zero() ? valid : std::min(std::max(preferred, kMinLifetime), valid);
  lease.t1 = t1 ? Seconds(t1) : base / 2;
  lease.t2 = t2 ? Seconds(t2) : base * 4 / 5;
  if (lease.t2 >= valid) {
    lease.t1 = valid / 2;
    lease.t2 = valid * 4 / 5;
  }
  lease.t1 = std::min(lease.t1, lease.t2);
}

// RFC 8415 18.2.1: "The first Solicit message from the client on the interface SHOULD be
// delayed by a random amount of time between 0 and SOL_MAX_DELAY. In the case of a Solicit
// message transmitted when DHCP is initiated by IPv6 Neighbor Discovery, the delay gives the
// amount of time to wait after IPv6 Neighbor Discovery causes the client to invoke the stateful
// address autoconfiguration protocol." SOL_MAX_DELAY is 1 s; the caller picks a range inside it,
// the lower end leaving its Router Solicitation time to be answered.
Duration initial_solicit_delay(const ClientConfig& config, const RandomSource& random) {
  constexpr Duration SOL_MAX_DELAY = 1s;
  Duration low = std::min(config.initial_delay_min, SOL_MAX_DELAY);
  Duration high = std::clamp(config.initial_delay_max, low, SOL_MAX_DELAY);
  return random_between(random, low, high);
}

// "NoAddrsAvail: <the server's message>", the message escaped: it goes into events, counters
// and from there into logs and error texts.
std::string describe_status(const Status& status) {
  std::string text(to_string(status.code));
  if (!status.message.empty()) text += ": " + printable(status.message);
  return text;
}

std::uint16_t elapsed_hundredths(TimePoint start, TimePoint now, unsigned count) {
  if (count == 0) return 0;  // RFC 8415 21.9: 0 in the first message of an exchange
  auto cs = std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count() / 10;
  return static_cast<std::uint16_t>(std::clamp<long long>(cs, 0, 0xffff));
}

}  // namespace

Client::Client(ClientConfig config, RandomSource random)
    : config_(std::move(config)), random_(std::move(random)), sol_max_rt_(SOL_MAX_RT) {}

Message Client::new_message(MessageType type, TimePoint now) const {
  Message m;
  m.type = type;
  m.transaction_id = xid_;
  m.add(option::ClientId, config_.duid);
  Bytes elapsed;
  ByteWriter(elapsed).u16(elapsed_hundredths(rtx_.started, now, rtx_.count));
  m.add(option::ElapsedTime, elapsed);
  return m;
}

void Client::begin(State state, TimePoint now, Duration irt, Duration mrt, unsigned mrc,
                   std::optional<TimePoint> mrd_end) {
  state_ = state;
  xid_ = random_() & 0xffffff;
  rtx_ = Retransmission{irt, mrt, mrc, mrd_end, Duration{}, 0, now};
  transmit(now);
}

// Builds and queues the message for the current state, then schedules the retransmission.
void Client::transmit(TimePoint now) {
  Message m;
  IaNa ia;
  ia.iaid = config_.iaid;
  auto add_oro = [&m] {
    Bytes oro;
    ByteWriter w(oro);
    w.u16(option::DnsServers);
    w.u16(option::DomainList);
    w.u16(option::SolMaxRt);
    m.add(option::Oro, oro);
  };
  auto add_fqdn = [&m, this] {
    if (!config_.fqdn.empty()) m.add(option::ClientFqdn, encode_client_fqdn(config_.fqdn));
  };
  auto add_held_address = [&ia, this] {
    if (lease_) ia.addresses.push_back(IaAddress{lease_->address, 0, 0, std::nullopt});
  };
  switch (state_) {
    case State::Soliciting:
      m = new_message(MessageType::Solicit, now);
      if (config_.rapid_commit) m.add(option::RapidCommit, {});
      if (hint_) ia.addresses.push_back(IaAddress{*hint_, 0, 0, std::nullopt});
      m.add(option::IaNa, encode_ia_na(ia));
      add_oro();
      add_fqdn();
      ++counters_.solicits_sent;
      break;
    case State::Requesting:
      m = new_message(MessageType::Request, now);
      m.add(option::ServerId, requested_server_);
      if (requested_address_) ia.addresses.push_back(IaAddress{*requested_address_, 0, 0, std::nullopt});
      m.add(option::IaNa, encode_ia_na(ia));
      add_oro();
      add_fqdn();
      ++counters_.requests_sent;
      break;
    case State::Renewing:
      m = new_message(MessageType::Renew, now);
      m.add(option::ServerId, lease_->server_duid);
      add_held_address();
      m.add(option::IaNa, encode_ia_na(ia));
      add_oro();
      add_fqdn();
      ++counters_.renews_sent;
      break;
    case State::Rebinding:
      m = new_message(MessageType::Rebind, now);
      add_held_address();
      m.add(option::IaNa, encode_ia_na(ia));
      add_oro();
      add_fqdn();
      ++counters_.rebinds_sent;
      break;
    case State::Releasing:
    case State::Declining:
      m = new_message(state_ == State::Releasing ? MessageType::Release : MessageType::Decline, now);
      m.add(option::ServerId, lease_->server_duid);
      add_held_address();
      m.add(option::IaNa, encode_ia_na(ia));
      break;
    default:
      return;
  }
  Transmit t{m.type, {}};
  encode(m, t.payload);
  outbox_.send(std::move(t));
  rtx_.rt = next_rt(rtx_, random_, state_ == State::Soliciting);
  ++rtx_.count;
  deadline_ = now + rtx_.rt;
  if (rtx_.mrd_end) deadline_ = std::min(*deadline_, *rtx_.mrd_end);
  keep_within_lease();
}

// A lease still held while soliciting or requesting (a Request after NoBinding that was refused
// or went unanswered) is used until its valid lifetime ends, not beyond (RFC 8415 18.2.10.1):
// the next deadline comes no later than that, and on_timeout drops it then.
void Client::keep_within_lease() {
  if (holds_lease_while_searching() && deadline_) deadline_ = std::min(*deadline_, lease_->expires_at());
}

bool Client::holds_lease_while_searching() const {
  return lease_ && (state_ == State::Init || state_ == State::Soliciting || state_ == State::Requesting);
}

void Client::start(TimePoint now) {
  counters_ = {};
  refusals_ = 0;
  lease_.reset();
  reported_.reset();
  hint_ = config_.address_hint;
  Duration delay = initial_solicit_delay(config_, random_);
  if (delay > Duration::zero()) {
    state_ = State::Init;
    deadline_ = now + delay;
  } else {
    enter_soliciting(now);
  }
}

void Client::resume(const Lease& lease, TimePoint now) {
  counters_ = {};
  reported_ = lease;
  if (now >= lease.expires_at()) {
    lose_lease(now, Event::Kind::Expired, LossReason::Expired, "saved lease expired");
    return;
  }
  lease_ = lease;
  if (now >= lease.rebind_at()) {
    begin_renewal(State::Rebinding, now);
  } else if (now >= lease.renew_at()) {
    begin_renewal(State::Renewing, now);
  } else {
    state_ = State::Bound;
    deadline_ = lease.renew_at();
  }
}

// RFC 8415 18.2.4: a Renew's MRD is the time until T2; 18.2.5: a Rebind's, until the valid
// lifetime ends.
void Client::begin_renewal(State state, TimePoint now) {
  const Lease& lease = *lease_;
  Duration ceiling = renewal_interval_ceiling(lease.valid_lifetime);
  if (state == State::Renewing) {
    begin(state, now, std::min(REN_TIMEOUT, ceiling), std::min(REN_MAX_RT, ceiling), 0, lease.rebind_at());
  } else {
    begin(state, now, std::min(REB_TIMEOUT, ceiling), std::min(REB_MAX_RT, ceiling), 0, lease.expires_at());
  }
}

void Client::enter_soliciting(TimePoint now) {
  best_advertise_.reset();
  requested_address_.reset();
  begin(State::Soliciting, now, SOL_TIMEOUT, sol_max_rt_, 0, std::nullopt);
}

// RFC 8415 section 14.1: a client "MUST limit the rate at which it sends messages", its example
// being a client that, refused, "restarts the server discovery process" and gets the same answer:
// a Solicit sent at once after a refusal would go round at the server's round-trip rate. The
// next one goes after a pause that starts at SOL_TIMEOUT and doubles with each refusal in a row,
// up to SOL_MAX_RT (the Solicit's own retransmission schedule, section 15).
void Client::solicit_later(TimePoint now) {
  Duration pause = SOL_TIMEOUT;
  for (unsigned i = 0; i < refusals_ && pause < sol_max_rt_; ++i) pause *= 2;
  ++refusals_;
  best_advertise_.reset();
  requested_address_.reset();
  state_ = State::Init;  // on_timeout: Solicit
  deadline_ = now + randomize(std::min(pause, sol_max_rt_), random_, /*positive_only=*/false);
  keep_within_lease();
}

void Client::enter_requesting(TimePoint now) {
  const Message& advertise = *best_advertise_;
  requested_server_ = advertise.find(option::ServerId)->data;
  requested_address_.reset();
  for (const auto& ia : advertise.ia_nas())
    for (const auto& a : ia.addresses)
      if (!requested_address_ && a.valid_lifetime > 0) requested_address_ = a.address;
  best_advertise_.reset();
  begin(State::Requesting, now, REQ_TIMEOUT, REQ_MAX_RT, REQ_MAX_RC, std::nullopt);
}

bool Client::accepts(const Message& m) const {
  if (m.transaction_id != xid_) return false;
  if (m.type != MessageType::Advertise && m.type != MessageType::Reply) return false;
  // RFC 8415 section 16.3/16.10: discard if Client Identifier is missing or not ours, or
  // Server Identifier is missing.
  auto* client = m.find(option::ClientId);
  if (!client || client->data != config_.duid) return false;
  return m.find(option::ServerId) != nullptr;
}

// Whether `reply` answers the message this state sent. BOUND, INIT and STOPPED sent nothing
// that waits for a Reply: a repeated or replayed one with the last xid must not rebind or
// revive the client. A Request, Renew, Decline or Release named its server (RFC 8415 16.4,
// 16.6, 16.8, 16.9: servers discard those messages if the Server Identifier is another's),
// so only that server answers; a Rebind goes to any server.
bool Client::awaits_reply(const Message& reply) const {
  const Bytes& server = reply.find(option::ServerId)->data;
  switch (state_) {
    case State::Soliciting:
      return config_.rapid_commit && reply.find(option::RapidCommit);  // RFC 8415 18.2.1
    case State::Requesting:
      return server == requested_server_;
    case State::Renewing:
    case State::Releasing:
    case State::Declining:
      return lease_ && server == lease_->server_duid;
    case State::Rebinding:
      return true;
    case State::Init:
    case State::Bound:
    case State::Stopped:
      return false;
  }
  return false;
}

std::optional<Lease> Client::lease_from(const Message& m, Ipv6Address source, Refusal& refusal) const {
  for (const auto& ia : m.ia_nas()) {
    if (ia.iaid != config_.iaid) continue;
    if (ia.status && ia.status->code != StatusCode::Success) {
      refusal = {Refusal::Kind::IaStatus, ia.status->code, describe_status(*ia.status)};
      return std::nullopt;
    }
    // RFC 8415 section 21.4: "If a client receives an IA_NA with T1 greater than T2 and both
    // T1 and T2 are greater than 0, the client discards the IA_NA option".
    if (ia.t1 > 0 && ia.t2 > 0 && ia.t1 > ia.t2) {
      refusal = {Refusal::Kind::T1AboveT2, StatusCode::Success, "IA_NA with T1 > T2"};
      return std::nullopt;
    }
    // Prefer the address we hold or asked for, if the server still gives it.
    const IaAddress* chosen = nullptr;
    for (const auto& a : ia.addresses) {
      // RFC 8415 section 21.6: discard an address whose preferred lifetime exceeds its valid one.
      if (a.valid_lifetime == 0 || a.preferred_lifetime > a.valid_lifetime) continue;
      if (a.status && a.status->code != StatusCode::Success) continue;
      bool ours = (lease_ && lease_->address == a.address) || (requested_address_ && *requested_address_ == a.address);
      if (!chosen || ours) chosen = &a;
    }
    if (!chosen) {
      refusal = {Refusal::Kind::NoUsableAddress, StatusCode::Success, "no usable address in IA_NA"};
      return std::nullopt;
    }
    Lease lease;
    lease.address = chosen->address;
    lease.preferred_lifetime = Seconds(chosen->preferred_lifetime);
    lease.valid_lifetime = std::max(Seconds(chosen->valid_lifetime), kMinLifetime);
    lease.iaid = ia.iaid;
    lease.server_duid = m.find(option::ServerId)->data;
    lease.server_address = source;
    lease.dns_servers = m.dns_servers().value_or(std::vector<Ipv6Address>{});
    lease.search_domains = m.domain_list().value_or(std::vector<std::string>{});
    lease.acquired_at = rtx_.started;
    choose_renewal_times(lease, ia.t1, ia.t2);
    return lease;
  }
  refusal = {Refusal::Kind::NoIaForUs, StatusCode::Success, "no IA_NA for our IAID"};
  return std::nullopt;
}

void Client::on_packet(ByteView payload, TimePoint now, Ipv6Address source) {
  auto parsed = parse(payload);
  if (!parsed || !accepts(*parsed)) {
    ++counters_.packets_ignored;
    return;
  }
  const Message& m = *parsed;
  if (auto rt = m.sol_max_rt(); rt && *rt >= 60 && *rt <= 86400) sol_max_rt_ = Seconds(*rt);  // RFC 8415 21.24

  if (state_ == State::Soliciting && m.type == MessageType::Advertise) {
    Refusal refusal;
    // RFC 8415 section 18.2.9: ignore an Advertise with no addresses.
    if (!lease_from(m, source, refusal)) {
      if (auto st = m.status()) counters_.last_status_message = describe_status(*st);
      else counters_.last_status_message = refusal.text;
      ++counters_.packets_ignored;
      return;
    }
    ++counters_.advertises_received;
    std::uint8_t preference = m.preference().value_or(0);
    if (!best_advertise_ || preference > best_advertise_->preference().value_or(0)) {
      best_advertise_ = m;
      best_advertise_source_ = source;
    }
    // RFC 8415 section 18.2.1: act at once on preference 255, or on any Advertise once the
    // first RT has passed; otherwise collect until the first RT ends (on_timeout).
    if (preference == 255 || rtx_.count > 1) enter_requesting(now);
    return;
  }
  if (m.type == MessageType::Reply && awaits_reply(m)) {
    handle_reply(m, now, source);
    return;
  }
  ++counters_.packets_ignored;
}

void Client::handle_reply(const Message& m, TimePoint now, Ipv6Address source) {
  ++counters_.replies_received;
  if (state_ == State::Releasing || state_ == State::Declining) {
    bool declined = state_ == State::Declining;
    lease_.reset();
    if (declined) {
      enter_soliciting(now);
    } else {
      stop();
    }
    return;
  }
  auto status = m.status();
  if (status && status->code != StatusCode::Success) {
    counters_.last_status_message = describe_status(*status);
    // RFC 8415 section 18.2.10.1: NotOnLink to a Request -> start over with a Solicit (after a
    // pause: solicit_later);
    // UseMulticast -> we always multicast, so retransmit; UnspecFail -> retransmit (rate-limited
    // by the retransmission schedule).
    if (status->code == StatusCode::NotOnLink && state_ == State::Requesting) solicit_later(now);
    return;
  }
  Refusal refusal;
  auto lease = lease_from(m, source, refusal);
  if (!lease) {
    counters_.last_status_message = refusal.text;
    bool no_binding = refusal.kind == Refusal::Kind::IaStatus && refusal.status == StatusCode::NoBinding;
    if (no_binding && (state_ == State::Renewing || state_ == State::Rebinding)) {
      // RFC 8415 section 18.2.10.1: NoBinding to Renew/Rebind -> send a Request for the IA.
      requested_server_ = m.find(option::ServerId)->data;
      requested_address_ = lease_ ? std::optional(lease_->address) : std::nullopt;
      begin(State::Requesting, now, REQ_TIMEOUT, REQ_MAX_RT, REQ_MAX_RC, std::nullopt);
      return;
    }
    if (state_ == State::Requesting || state_ == State::Soliciting) {
      emit(Event::Kind::Failed, lease_ ? *lease_ : Lease{}, refusal.text, std::nullopt, LossReason::Failed);
      // Refused a Request: Solicit again, after a pause. Refused a rapid-commit Solicit: as
      // for an Advertise with no addresses (18.2.9), the Solicit goes on being retransmitted
      // on its own schedule, its interval doubling.
      if (state_ == State::Requesting) solicit_later(now);
      return;
    }
    if (refusal.kind == Refusal::Kind::NoUsableAddress && lease_) {
      // The server set our address's lifetimes to 0: it is gone.
      lose_lease(now, Event::Kind::Expired, LossReason::Withdrawn, "server withdrew " + lease_->address.to_string());
    }
    return;
  }
  enter_bound(std::move(*lease));
}

void Client::enter_bound(Lease lease) {
  lease_ = lease;
  refusals_ = 0;
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
  deadline_ = lease.renew_at();
}

void Client::lose_lease(TimePoint now, Event::Kind kind, LossReason reason, std::string message) {
  Lease lost = lease_ ? *lease_ : reported_ ? *reported_ : Lease{};
  lease_.reset();
  reported_.reset();
  emit(kind, lost, std::move(message), std::nullopt, reason);
  enter_soliciting(now);
}

void Client::on_timeout(TimePoint now) {
  for (int guard = 0; guard < 16 && deadline_ && *deadline_ <= now; ++guard) {
    if (holds_lease_while_searching() && now >= lease_->expires_at()) {
      lose_lease(now, Event::Kind::Expired, LossReason::Expired, "valid lifetime ended before a server confirmed it");
      continue;
    }
    switch (state_) {
      case State::Init:
        enter_soliciting(now);
        break;
      case State::Soliciting:
        if (best_advertise_) {
          enter_requesting(now);
        } else {
          transmit(now);
        }
        break;
      case State::Requesting:
        if (rtx_.count >= rtx_.mrc) {
          enter_soliciting(now);  // RFC 8415 18.2.2: REQ_MAX_RC reached, find another server
        } else {
          transmit(now);
        }
        break;
      case State::Bound:
        if (now >= lease_->rebind_at()) {
          begin_renewal(State::Rebinding, now);
        } else {
          // RFC 8415 18.2.4: Renew at T1; MRD is the time until T2.
          begin_renewal(State::Renewing, now);
        }
        break;
      case State::Renewing:
        if (now >= lease_->rebind_at()) {
          // RFC 8415 18.2.5: Rebind at T2; MRD is until the valid lifetimes end.
          begin_renewal(State::Rebinding, now);
        } else {
          transmit(now);
        }
        break;
      case State::Rebinding:
        if (now >= lease_->expires_at()) {
          lose_lease(now, Event::Kind::Expired, LossReason::Expired, "valid lifetime ended without a reply");
        } else {
          transmit(now);
        }
        break;
      case State::Releasing:
      case State::Declining:
        if (rtx_.count >= rtx_.mrc) {
          // RFC 8415 18.2.7/18.2.8: give up after REL_MAX_RC / DEC_MAX_RC transmissions.
          bool declined = state_ == State::Declining;
          lease_.reset();
          if (declined) enter_soliciting(now);
          else stop();
        } else {
          transmit(now);
        }
        break;
      case State::Stopped:
        deadline_.reset();
        break;
    }
  }
}

void Client::renew(TimePoint now) {
  if (state_ != State::Bound || !lease_) return;
  begin_renewal(State::Renewing, now);
}

void Client::release(TimePoint now) {
  if (lease_ && (state_ == State::Bound || state_ == State::Renewing || state_ == State::Rebinding)) {
    emit(Event::Kind::Released, *lease_);
    reported_.reset();
    begin(State::Releasing, now, REL_TIMEOUT, Duration::zero(), REL_MAX_RC, std::nullopt);
    return;
  }
  stop();
}

void Client::decline(TimePoint now) {
  if (!lease_) return;
  emit(Event::Kind::Declined, *lease_, "duplicate address detected", std::nullopt, LossReason::Declined);
  reported_.reset();
  begin(State::Declining, now, DEC_TIMEOUT, Duration::zero(), DEC_MAX_RC, std::nullopt);
}

void Client::stop() {
  state_ = State::Stopped;
  deadline_.reset();
  lease_.reset();
  reported_.reset();
}

void Client::emit(Event::Kind kind, Lease lease, std::string message, std::optional<Lease> previous,
                  LossReason loss) {
  outbox_.emit(Event{kind, std::move(lease), std::move(previous), std::move(message), state_, loss});
}

}  // namespace netdhcp::dhcp6
