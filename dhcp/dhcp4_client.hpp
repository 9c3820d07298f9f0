// The DHCPv4 client (RFC 2131 section 4.4) as a sans-I/O state machine: where a lease is
// obtained, renewed, rebound, lost and released. The caller owns sockets and timers:
//
//   client.start(now);
//   loop: send every client.pop_transmit(); handle every client.pop_event();
//         wait for a packet (client.on_packet(bytes, now)) or client.next_deadline()
//         (client.on_timeout(now)).
//
// Nothing here reads a clock, draws randomness of its own, logs or calls back.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "dhcp/clock.hpp"
#include "dhcp/dhcp4_lease.hpp"
#include "dhcp/dhcp4_packet.hpp"
#include "dhcp/loss_reason.hpp"
#include "dhcp/outbox.hpp"

namespace netdhcp::dhcp4 {

enum class State {
  Init,        // waiting to send DHCPDISCOVER (after a NAK backoff or a DECLINE)
  Selecting,   // DHCPDISCOVER sent, waiting for an offer
  Requesting,  // DHCPREQUEST for an offer sent
  Rebooting,   // INIT-REBOOT: DHCPREQUEST for a previously held address sent
  Probing,     // RFC 5227 ARP probe of the acknowledged address
  Bound,
  Renewing,   // unicast DHCPREQUEST to the leasing server (after T1)
  Rebinding,  // broadcast DHCPREQUEST to any server (after T2)
  Stopped,    // released, or never started
};
std::string_view to_string(State state);

struct ClientConfig {
  MacAddress mac;
  Bytes client_id;  // option 61 value (RFC 4361: 0xff, IAID, DUID); empty: none sent
  std::string hostname;  // option 12; empty: none sent
  std::string vendor_class = "net-dhcp";
  bool rapid_commit = false;       // RFC 4039
  bool broadcast_flag = false;     // ask servers to broadcast replies (RFC 2131 section 4.1)
  bool arp_probe = false;          // RFC 5227 probe of the address before using it
  std::optional<Ipv4Address> previous_address;  // start in INIT-REBOOT with this address
  // Asked for in the DISCOVERs (option 50, RFC 2131 section 4.4.1) until a lease is bound or
  // the server refuses (NAK) or the address is declined: e.g. the address this client's identity
  // had before. The server may give another.
  std::optional<Ipv4Address> address_hint;
  std::uint16_t max_message_size = 1500;          // option 57
  Duration initial_delay_max{0};  // random delay before the first DISCOVER (0: none)
};

struct Transmit {
  enum class Kind { Dhcp, ArpProbe, ArpAnnounce };
  Kind kind = Kind::Dhcp;
  MessageType type = MessageType::Discover;  // Kind::Dhcp only
  Bytes payload;                             // the DHCP message (UDP payload)
  Ipv4Address source;                        // IP source: 0.0.0.0 or our leased address
  Ipv4Address destination = kIpv4Broadcast;  // broadcast, or the server for unicast
  // A broadcast the socket may put in frames to known servers' MACs rather than to every port
  // of the LAN: the client's very first DHCPDISCOVER after start() (to the servers that answered
  // other endpoints on the LAN, see Client::send_discover) and the first DHCPREQUEST in
  // SELECTING (to the server whose OFFER it takes, see Client::send_request). Retransmissions
  // are broadcast frames.
  bool to_known_server = false;
  Ipv4Address arp_address;                   // Kind::Arp*: the address probed or announced
};

struct Event {
  enum class Kind {
    Bound,           // a lease, where none was held: configure it
    Renewed,         // the address held is confirmed (other options may have changed): apply
    AddressChanged,  // the server moved us: replace `previous` by `lease`
    Expired,         // the lease ran out: stop using the address
    Nak,             // the server refused: stop using the address; the client starts over
    Declined,        // the offered address was in use (ARP conflict or decline())
    Released,        // release() sent a DHCPRELEASE
  };
  Kind kind;
  Lease lease;                    // the new lease, or the one lost / released
  std::optional<Lease> previous;  // AddressChanged: the lease it replaces
  std::string message;            // NAK text (option 56, escaped), conflict details
  State from = State::Stopped;    // the state the client was in when this happened
  LossReason loss = LossReason::None;  // Expired, Nak, Declined: why the lease was lost
};
std::string_view to_string(Event::Kind kind);

// Counters for error messages ("no DHCPOFFER after 10 s (4 DISCOVERs sent)") and metrics.
struct Counters {
  unsigned discovers_sent = 0;
  unsigned requests_sent = 0;
  unsigned offers_received = 0;
  unsigned acks_received = 0;
  unsigned naks_received = 0;
  unsigned packets_ignored = 0;
  std::optional<Ipv4Address> last_offer_address;
  std::optional<Ipv4Address> last_offer_server;
  std::string last_nak_message;
};

class Client {
 public:
  Client(ClientConfig config, RandomSource random);

  void start(TimePoint now);
  // Carries on from a lease held before (e.g. by an earlier run of the daemon): BOUND,
  // RENEWING or REBINDING depending on `now`, INIT-REBOOT if it has already expired.
  void resume(const Lease& lease, TimePoint now);
  // A DHCP message (the UDP payload) received on the interface. Returns whether the client
  // took it: true if it passed the checks for the current state (xid, chaddr, client id,
  // server) and moved the client on; false if it was ignored (counted in packets_ignored).
  bool on_packet(ByteView payload, TimePoint now);
  // An ARP packet received on the interface while probing (RFC 5227 section 2.1.1).
  void on_arp(MacAddress sender_mac, Ipv4Address sender_ip, Ipv4Address target_ip, TimePoint now);
  void on_timeout(TimePoint now);
  std::optional<TimePoint> next_deadline() const { return deadline_; }

  // The hostname (option 12) sent from now on; e.g. once the container's name is known.
  void set_hostname(std::string hostname) { config_.hostname = std::move(hostname); }
  // Renews now rather than at T1 (RFC 2131 4.4.5 lets a bound client extend its lease at any
  // time), e.g. to tell the server a new hostname. Only from BOUND.
  void renew(TimePoint now);
  // Sends DHCPRELEASE for the held lease (if any) and stops.
  void release(TimePoint now);
  // The caller found the leased address in use: DHCPDECLINE, then start over after 10 s.
  void decline(TimePoint now, std::string reason);
  // Stops without telling the server (the lease stays valid on the server).
  void stop();

  std::optional<Transmit> pop_transmit() { return outbox_.pop_transmit(); }
  std::optional<Event> pop_event() { return outbox_.pop_event(); }

  State state() const { return state_; }
  const std::optional<Lease>& lease() const { return lease_; }
  const Counters& counters() const { return counters_; }
  const ClientConfig& config() const { return config_; }
  std::uint32_t xid() const { return xid_; }

 private:
  Packet new_message(MessageType type, TimePoint now) const;
  void send(Packet packet, Ipv4Address source, Ipv4Address destination, bool to_known_server = false);
  void send_discover(TimePoint now);
  void send_request(TimePoint now);
  void enter_init(TimePoint now, Duration delay);
  void enter_requesting(const Packet& offer, TimePoint now);
  void enter_bound(Lease lease);
  void enter_renewing(TimePoint now);
  void enter_rebinding(TimePoint now);
  bool handle_ack(const Packet& ack, TimePoint now);
  void handle_nak(const Packet& nak, TimePoint now);
  void schedule_bound_deadline();
  void schedule_renewal_retransmit(TimePoint now, TimePoint phase_end);
  void step_probe(TimePoint now);
  void emit(Event::Kind kind, Lease lease, std::string message = {},
            std::optional<Lease> previous = std::nullopt);
  bool accepts(const Packet& packet) const;
  Lease lease_from_ack(const Packet& ack) const;
  void new_exchange(TimePoint now);

  ClientConfig config_;
  RandomSource random_;
  State state_ = State::Stopped;
  std::optional<TimePoint> deadline_;
  std::uint32_t xid_ = 0;
  TimePoint exchange_started_{};  // for 'secs'
  // RFC 2131 4.4.1: "the time at which the original request was sent" starts the lease.
  TimePoint lease_start_{};
  unsigned transmissions_ = 0;    // of the current message
  unsigned nak_streak_ = 0;       // consecutive NAKs, for the backoff
  // start() until the first DISCOVER is sent: that one may go to the LAN's known servers alone
  // (send_discover). Not one after a NAK, a DECLINE, an expiry or a resume(): the server last
  // heard may be the one that refused, or a router that relayed a renewal.
  bool first_discover_pending_ = false;
  std::optional<Ipv4Address> requested_address_;
  std::optional<Ipv4Address> hint_;  // config_.address_hint, until bound, NAKed or declined
  std::optional<Ipv4Address> selected_server_;
  std::optional<Lease> lease_;          // the lease currently held (bound or being renewed)
  std::optional<Lease> pending_lease_;  // acknowledged, being probed
  std::optional<Lease> reported_;       // last lease reported to the caller and not yet lost
  unsigned probes_sent_ = 0;
  unsigned announcements_left_ = 0;
  TimePoint announce_at_{};
  Counters counters_;
  Outbox<Transmit, Event> outbox_;
};

}  // namespace netdhcp::dhcp4
