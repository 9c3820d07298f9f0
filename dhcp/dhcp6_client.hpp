// The DHCPv6 client for one IA_NA (RFC 8415 section 18) as a sans-I/O state machine: where a
// DHCPv6 address is obtained, renewed, rebound, lost, declined and released. Same contract as
// dhcp4::Client: the caller passes time in, feeds packets, drains transmits and events.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dhcp/clock.hpp"
#include "dhcp/dhcp6_packet.hpp"
#include "dhcp/loss_reason.hpp"
#include "dhcp/outbox.hpp"

namespace netdhcp::dhcp6 {

enum class State {
  Init,        // waiting out the initial delay
  Soliciting,  // SOLICIT sent, collecting ADVERTISEs
  Requesting,
  Bound,
  Renewing,   // after T1, RENEW to the server that gave the lease
  Rebinding,  // after T2, REBIND to any server
  Declining,
  Releasing,
  Stopped,
};
std::string_view to_string(State state);

struct Lease {
  Ipv6Address address;
  Seconds preferred_lifetime{0};
  Seconds valid_lifetime{0};
  Seconds t1{0};
  Seconds t2{0};
  std::uint32_t iaid = 0;
  Bytes server_duid;
  Ipv6Address server_address;  // where the REPLY came from (link-local, or a relay)
  std::vector<Ipv6Address> dns_servers;
  std::vector<std::string> search_domains;
  TimePoint acquired_at{};  // when the exchange that obtained it started

  TimePoint renew_at() const { return acquired_at + t1; }
  TimePoint rebind_at() const { return acquired_at + t2; }
  TimePoint expires_at() const { return acquired_at + valid_lifetime; }
  bool operator==(const Lease&) const = default;
};

struct ClientConfig {
  Bytes duid;  // our DUID (RFC 8415 section 11); required
  std::uint32_t iaid = 0;
  std::string fqdn;  // option 39; empty: not sent
  bool rapid_commit = false;
  // Put in the SOLICITs' IA_NA (RFC 8415 section 18.2.1: addresses as hints) until a lease is
  // bound or the address is declined: e.g. the address this client's identity had before.
  std::optional<Ipv6Address> address_hint;
  Duration initial_delay_max{0};  // RFC 8415 18.2.1 SOL_MAX_DELAY is a SHOULD; 0 = none
  // At least this long before the first SOLICIT (0: none): time for the Router Solicitation
  // that the socket sends first to be answered (see Dhcp6UdpSocket::open).
  Duration initial_delay_min{0};
};

struct Transmit {
  MessageType type;
  Bytes payload;  // to kAllServers, port 547
};

struct Event {
  enum class Kind { Bound, Renewed, AddressChanged, Expired, Declined, Released, Failed };
  Kind kind;
  Lease lease;
  std::optional<Lease> previous;
  std::string message;  // status text from the server (escaped)
  State from = State::Stopped;    // the state the client was in when this happened
  LossReason loss = LossReason::None;  // Expired, Withdrawn, Declined, Failed: why
};
std::string_view to_string(Event::Kind kind);

// Why a message gave no lease: what the client does next depends on the kind and the typed
// status code, never on the text (which is for people).
struct Refusal {
  enum class Kind { NoIaForUs, IaStatus, T1AboveT2, NoUsableAddress };
  Kind kind = Kind::NoIaForUs;
  StatusCode status = StatusCode::Success;  // Kind::IaStatus: the IA_NA's status code
  std::string text;                         // "NoAddrsAvail: <server message>", escaped
};

struct Counters {
  unsigned solicits_sent = 0;
  unsigned requests_sent = 0;
  unsigned renews_sent = 0;
  unsigned rebinds_sent = 0;
  unsigned advertises_received = 0;
  unsigned replies_received = 0;
  unsigned packets_ignored = 0;
  std::string last_status_message;
};

// RFC 8415 section 15: retransmission with IRT, MRT, MRC and MRD.
struct Retransmission {
  Duration irt{};
  Duration mrt{};        // 0: no ceiling
  unsigned mrc = 0;      // 0: no count limit
  std::optional<TimePoint> mrd_end;
  Duration rt{};
  unsigned count = 0;    // transmissions so far
  TimePoint started{};
};

class Client {
 public:
  Client(ClientConfig config, RandomSource random);

  void start(TimePoint now);
  // Carries on from a saved lease: BOUND, RENEWING or REBINDING, or SOLICIT if it expired.
  void resume(const Lease& lease, TimePoint now);
  void on_packet(ByteView payload, TimePoint now, Ipv6Address source = {});
  void on_timeout(TimePoint now);
  std::optional<TimePoint> next_deadline() const { return deadline_; }

  // The Client FQDN (option 39) sent from now on.
  void set_fqdn(std::string fqdn) { config_.fqdn = std::move(fqdn); }
  // Renews now rather than at T1 (RFC 8415 18.2.4 allows it). Only from BOUND.
  void renew(TimePoint now);
  // Sends RELEASE (retransmitted until a REPLY or REL_MAX_RC), then stops.
  void release(TimePoint now);
  bool releasing() const { return state_ == State::Releasing; }
  // DAD found the address in use: DECLINE it, then solicit again.
  void decline(TimePoint now);
  void stop();

  std::optional<Transmit> pop_transmit() { return outbox_.pop_transmit(); }
  std::optional<Event> pop_event() { return outbox_.pop_event(); }

  State state() const { return state_; }
  const std::optional<Lease>& lease() const { return lease_; }
  const Counters& counters() const { return counters_; }
  std::uint32_t transaction_id() const { return xid_; }

 private:
  Message new_message(MessageType type, TimePoint now) const;
  void transmit(TimePoint now);
  void begin(State state, TimePoint now, Duration irt, Duration mrt, unsigned mrc,
             std::optional<TimePoint> mrd_end);
  void begin_renewal(State state, TimePoint now);  // Renewing or Rebinding, from lease_
  void enter_soliciting(TimePoint now);
  void solicit_later(TimePoint now);  // after a refusal: Solicit again after a pause
  void keep_within_lease();           // no deadline past the held lease's valid lifetime
  bool holds_lease_while_searching() const;  // a lease kept in INIT, SOLICIT or REQUEST (after NoBinding)
  void enter_requesting(TimePoint now);
  void enter_bound(Lease lease);
  void lose_lease(TimePoint now, Event::Kind kind, LossReason reason, std::string message);
  bool accepts(const Message& m) const;
  bool awaits_reply(const Message& reply) const;
  std::optional<Lease> lease_from(const Message& m, Ipv6Address source, Refusal& refusal) const;
  void handle_reply(const Message& m, TimePoint now, Ipv6Address source);
  void emit(Event::Kind kind, Lease lease, std::string message = {},
            std::optional<Lease> previous = std::nullopt, LossReason loss = LossReason::None);

  ClientConfig config_;
  RandomSource random_;
  State state_ = State::Stopped;
  std::optional<TimePoint> deadline_;
  std::uint32_t xid_ = 0;
  Retransmission rtx_;
  std::optional<Message> best_advertise_;
  Ipv6Address best_advertise_source_;
  std::optional<Lease> lease_;
  std::optional<Lease> reported_;
  std::optional<Ipv6Address> requested_address_;
  std::optional<Ipv6Address> hint_;  // config_.address_hint, until bound or declined  // REQUEST after an ADVERTISE or NoBinding
  Bytes requested_server_;
  Duration sol_max_rt_;
  unsigned refusals_ = 0;  // refusals in a row since the last lease: the pause before the next Solicit
  Counters counters_;
  Outbox<Transmit, Event> outbox_;
};

}  // namespace netdhcp::dhcp6
