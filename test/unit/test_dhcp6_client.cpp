// The DHCPv6 client as scripted conversations on a virtual clock (RFC 8415 section 18).
#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <random>

#include "dhcp/dhcp6_client.hpp"
#include "dhcp/identity.hpp"
#include "test/unit/helpers.hpp"

using namespace netdhcp;
using namespace netdhcp::test;
using namespace netdhcp::dhcp6;

namespace {

Ipv6Address v6(const char* text) { return *Ipv6Address::parse(text); }
const MacAddress kMac = *MacAddress::parse("02:00:00:00:00:11");
constexpr std::uint32_t kIaid = 0x11223344;

struct Server {
  Bytes duid = make_duid_ll(*MacAddress::parse("02:00:5e:00:00:01"));
  Ipv6Address address = v6("fd00:18::100");
  std::uint32_t t1 = 1800, t2 = 2880, preferred = 3600, valid = 3600;
  std::optional<std::uint8_t> preference;
  std::optional<Status> ia_status;
  std::optional<Status> top_status;

  Bytes reply(const Transmit& to, MessageType type, bool rapid = false) const {
    auto request = parse(to.payload);
    REQUIRE(request.ok());
    Message m;
    m.type = type;
    m.transaction_id = request->transaction_id;
    m.add(option::ServerId, duid);
    m.add(option::ClientId, request->find(option::ClientId)->data);
    if (rapid) m.add(option::RapidCommit, {});
    if (preference) m.add(option::Preference, Bytes{std::byte{*preference}});
    if (top_status) m.add(option::StatusCode, encode_status(*top_status));
    IaNa ia;
    ia.iaid = kIaid;
    ia.t1 = t1;
    ia.t2 = t2;
    if (ia_status) ia.status = ia_status;
    else ia.addresses.push_back({address, preferred, valid, std::nullopt});
    m.add(option::IaNa, encode_ia_na(ia));
    Bytes dns(v6("fd00:18::53").octets.size());
    std::memcpy(dns.data(), v6("fd00:18::53").octets.data(), 16);
    m.add(option::DnsServers, dns);
    Bytes out;
    encode(m, out);
    return out;
  }
};

struct Harness {
  ClientConfig config;
  Client client;
  TimePoint now = t0;

  explicit Harness(ClientConfig c = default_config(), RandomSource random = midpoint_random())
      : config(c), client(c, std::move(random)) {}
  static ClientConfig default_config() {
    ClientConfig c;
    c.duid = make_duid_ll(kMac);
    c.iaid = kIaid;
    c.fqdn = "web-1";
    return c;
  }
  Transmit sent() {
    auto t = client.pop_transmit();
    REQUIRE(t);
    return *t;
  }
  Message sent_message() { return parse(sent().payload).value(); }
  Event event() {
    auto e = client.pop_event();
    REQUIRE(e);
    return *e;
  }
  void advance_to_deadline() {
    REQUIRE(client.next_deadline());
    now = *client.next_deadline();
    client.on_timeout(now);
  }
  void deliver(const Bytes& wire) { client.on_packet(wire, now, v6("fe80::1")); }
  // After a NoAddrsAvail refusal: reported as Failed, nothing sent at once. Returns how long
  // until the next SOLICIT, and that SOLICIT.
  std::pair<double, Transmit> refused_then_next_solicit() {
    Event e = event();
    CHECK(e.kind == Event::Kind::Failed);
    CHECK(e.message.find("NoAddrsAvail") != std::string::npos);
    CHECK_FALSE(client.pop_transmit());
    TimePoint refused = now;
    advance_to_deadline();
    Transmit solicit = sent();
    CHECK(parse(solicit.payload)->type == MessageType::Solicit);
    return {seconds(now - refused), solicit};
  }
  Lease bind(const Server& server) {
    client.start(now);
    Transmit solicit = sent();
    Server s = server;
    s.preference = 255;
    deliver(s.reply(solicit, MessageType::Advertise));
    deliver(server.reply(sent(), MessageType::Reply));
    Event e = event();
    REQUIRE(e.kind == Event::Kind::Bound);
    return e.lease;
  }
};

}  // namespace

// SOLICIT carries our DUID, the IA_NA, the ORO for DNS and search list, FQDN, elapsed time 0.
TEST_CASE("SOLICIT contents and first retransmission", "[dhcp6]") {
  Harness h;
  h.client.start(h.now);
  Message m = h.sent_message();
  CHECK(m.type == MessageType::Solicit);
  CHECK(m.find(option::ClientId)->data == h.config.duid);
  auto ias = m.ia_nas();
  REQUIRE(ias.size() == 1);
  CHECK(ias[0].iaid == kIaid);
  auto* oro = m.find(option::Oro);
  REQUIRE(oro);
  CHECK(hex(oro->data).find("00170018") != std::string::npos);
  CHECK(hex(m.find(option::ElapsedTime)->data) == "0000");
  CHECK(m.find(option::ClientFqdn));
  CHECK_FALSE(m.find(option::RapidCommit));
  // RFC 8415 15: first RT = IRT + RAND*IRT with RAND > 0 for Solicit: in (1.0, 1.1] s.
  for (std::uint32_t r : {0u, 0xffffffffu}) {
    Harness hr(Harness::default_config(), sequence_random({5, r}));
    hr.client.start(hr.now);
    double rt = seconds(*hr.client.next_deadline() - hr.now);
    CHECK(rt > 1.0);
    CHECK(rt <= 1.1 + 1e-9);
  }
}

// RFC 8415 18.2.1: with a minimum initial delay (time for our Router Solicitation to be
// answered) nothing goes out at start; the SOLICIT leaves when the delay ends, as the first
// message of its exchange, and its retransmission is timed from then.
TEST_CASE("first SOLICIT waits the minimum initial delay", "[dhcp6]") {
  ClientConfig config = Harness::default_config();
  config.initial_delay_min = 5ms;
  Harness h(config);
  h.client.start(h.now);
  CHECK_FALSE(h.client.pop_transmit());
  CHECK(h.client.state() == State::Init);
  REQUIRE(h.client.next_deadline());
  CHECK(*h.client.next_deadline() - h.now == 5ms);
  h.now += 4ms;
  h.client.on_timeout(h.now);
  CHECK_FALSE(h.client.pop_transmit());
  h.advance_to_deadline();
  Message solicit = h.sent_message();
  CHECK(solicit.type == MessageType::Solicit);
  CHECK(hex(solicit.find(option::ElapsedTime)->data) == "0000");
  double rt = seconds(*h.client.next_deadline() - h.now);
  CHECK(rt > 1.0);
  CHECK(rt <= 1.1 + 1e-9);
  CHECK(h.client.counters().solicits_sent == 1);
}

// The delay is drawn between the minimum and the maximum, and neither end passes
// SOL_MAX_DELAY (1 s, RFC 8415 7.6).
TEST_CASE("initial SOLICIT delay range", "[dhcp6]") {
  auto delay = [](Duration low, Duration high, std::uint32_t random) {
    ClientConfig config = Harness::default_config();
    config.initial_delay_min = low;
    config.initial_delay_max = high;
    Harness h(config, sequence_random({random}));
    h.client.start(h.now);
    return *h.client.next_deadline() - h.now;
  };
  CHECK(delay(10ms, 30ms, 0) == 10ms);
  CHECK(delay(10ms, 30ms, 0xffffffffu) == 30ms);
  CHECK(delay(10ms, 0ms, 0x7fffffffu) == 10ms);  // a maximum below the minimum: the minimum
  CHECK(delay(5s, 0ms, 0) == 1s);
  CHECK(delay(0ms, 5s, 0xffffffffu) == 1s);
}

// Advertises are collected for the first RT; the highest preference wins.
TEST_CASE("collect ADVERTISEs, REQUEST the best", "[dhcp6]") {
  Harness h;
  Server low, high;
  high.duid = to_bytes("other-server");
  high.address = v6("fd00:18::200");
  high.preference = 10;
  h.client.start(h.now);
  Transmit solicit = h.sent();
  h.deliver(low.reply(solicit, MessageType::Advertise));
  h.deliver(high.reply(solicit, MessageType::Advertise));
  CHECK_FALSE(h.client.pop_transmit());  // still collecting
  h.advance_to_deadline();
  Message request = h.sent_message();
  CHECK(request.type == MessageType::Request);
  CHECK(request.find(option::ServerId)->data == high.duid);
  CHECK(request.ia_nas()[0].addresses[0].address == high.address);
  Transmit request_transmit{MessageType::Request, {}};
  encode(request, request_transmit.payload);
  h.deliver(low.reply(request_transmit, MessageType::Reply));
  CHECK(h.client.state() == State::Requesting);  // a Reply from the other server is ignored
  h.deliver(high.reply(request_transmit, MessageType::Reply));
  Event e = h.event();
  CHECK(e.kind == Event::Kind::Bound);
  CHECK(e.lease.address == high.address);
  CHECK(e.lease.server_duid == high.duid);
  CHECK(e.lease.dns_servers == std::vector{v6("fd00:18::53")});
}

// Preference 255 means: stop collecting, request now.
TEST_CASE("ADVERTISE with preference 255 is acted on at once", "[dhcp6]") {
  Harness h;
  Server server;
  server.preference = 255;
  h.client.start(h.now);
  h.deliver(server.reply(h.sent(), MessageType::Advertise));
  CHECK(h.sent_message().type == MessageType::Request);
}

// An ADVERTISE without addresses (NoAddrsAvail) is ignored (RFC 8415 18.2.9).
TEST_CASE("ADVERTISE without addresses is ignored", "[dhcp6]") {
  Harness h;
  Server server;
  server.ia_status = Status{StatusCode::NoAddrsAvail, "pool exhausted"};
  h.client.start(h.now);
  h.deliver(server.reply(h.sent(), MessageType::Advertise));
  h.advance_to_deadline();
  CHECK(h.sent_message().type == MessageType::Solicit);
  CHECK(h.client.counters().last_status_message.find("pool exhausted") != std::string::npos);
}

// Rapid Commit: SOLICIT asks, a REPLY with Rapid Commit binds; without it, it is ignored.
TEST_CASE("DHCPv6 rapid commit", "[dhcp6]") {
  ClientConfig config = Harness::default_config();
  config.rapid_commit = true;
  Harness h(config);
  Server server;
  h.client.start(h.now);
  Transmit solicit = h.sent();
  CHECK(parse(solicit.payload)->find(option::RapidCommit));
  h.deliver(server.reply(solicit, MessageType::Reply, false));
  CHECK(h.client.state() == State::Soliciting);
  h.deliver(server.reply(solicit, MessageType::Reply, true));
  CHECK(h.event().kind == Event::Kind::Bound);
}

// Replies for another transaction or client, or without a server id, change nothing.
TEST_CASE("foreign DHCPv6 replies are ignored", "[dhcp6]") {
  Harness h;
  Server server;
  server.preference = 255;
  h.client.start(h.now);
  Transmit solicit = h.sent();
  Bytes good = server.reply(solicit, MessageType::Advertise);
  Bytes wrong_xid = good;
  wrong_xid[3] ^= std::byte{1};
  auto other = parse(good).value();
  for (auto& o : other.options)
    if (o.code == option::ClientId) o.data.back() ^= std::byte{1};
  Bytes wrong_client;
  encode(other, wrong_client);
  auto anonymous = parse(good).value();
  std::erase_if(anonymous.options, [](const Option& o) { return o.code == option::ServerId; });
  Bytes no_server;
  encode(anonymous, no_server);
  for (const Bytes* b : {&wrong_xid, &wrong_client, &no_server}) h.deliver(*b);
  h.deliver(Bytes{std::byte{2}});
  CHECK(h.client.state() == State::Soliciting);
  CHECK(h.client.counters().packets_ignored == 4);
}

// T1 = 0 and T2 = 0 let the client choose 0.5 and 0.8 of the preferred lifetime.
TEST_CASE("client-chosen T1 and T2", "[dhcp6]") {
  Server server;
  server.t1 = server.t2 = 0;
  server.preferred = 1000;
  server.valid = 2000;
  Harness h;
  Lease lease = h.bind(server);
  CHECK(lease.t1 == 500s);
  CHECK(lease.t2 == 800s);
  CHECK(lease.valid_lifetime == 2000s);
}

// RFC 8415 21.4: T1/T2 of 0 are the client's to choose, but never so that it renews at
// round-trip rate: a preferred lifetime of 0 bases them on the valid lifetime, a short one on
// 4 s, a T2 at or past the valid lifetime is replaced, and a valid lifetime under 4 s is raised.
TEST_CASE("DHCPv6 T1 and T2 have floors", "[dhcp6]") {
  struct Row {
    std::uint32_t t1, t2, preferred, valid;
    Seconds want_t1, want_t2, want_valid;
  };
  const Row rows[] = {
      {0, 0, 0, 2000, 1000s, 1600s, 2000s},       // preferred 0: from the valid lifetime
      {0, 0, 1, 2000, 2s, 3s, 2000s},             // preferred 1 s: from 4 s
      {0, 100, 1000, 2000, 100s, 100s, 2000s},    // T1 chosen, not past the server's T2
      {500, 0, 1000, 2000, 500s, 800s, 2000s},    // T2 chosen
      {100, 2000, 1000, 2000, 1000s, 1600s, 2000s},  // T2 = valid lifetime: both replaced
      {0xffffffff, 0xffffffff, 1000, 2000, 1000s, 1600s, 2000s},  // "infinity" past the lease
      {0, 0, 1, 1, 2s, 3s, 4s},                   // one-second lease
      {2, 4, 6, 6, 2s, 4s, 6s},                   // 6 s (Kea in the lifecycle test): as given
  };
  for (const Row& row : rows) {
    CAPTURE(row.t1, row.t2, row.preferred, row.valid);
    Server server;
    server.t1 = row.t1;
    server.t2 = row.t2;
    server.preferred = row.preferred;
    server.valid = row.valid;
    Harness h;
    Lease lease = h.bind(server);
    CHECK(lease.t1 == row.want_t1);
    CHECK(lease.t2 == row.want_t2);
    CHECK(lease.valid_lifetime == row.want_valid);
    CHECK(h.client.state() == State::Bound);
    REQUIRE(h.client.next_deadline());
    CHECK(*h.client.next_deadline() > h.now);
    CHECK_FALSE(h.client.pop_transmit());
  }
}

// RENEW at T1 to the same server; REBIND at T2 without server id; expiry at valid lifetime.
TEST_CASE("DHCPv6 renew, rebind, expire", "[dhcp6]") {
  Harness h;
  Server server;
  Lease lease = h.bind(server);
  h.advance_to_deadline();
  CHECK(h.now == lease.renew_at());
  Message renew = h.sent_message();
  CHECK(renew.type == MessageType::Renew);
  CHECK(renew.find(option::ServerId)->data == server.duid);
  CHECK(renew.ia_nas()[0].addresses[0].address == server.address);
  // REN_TIMEOUT 10 s, doubling; MRD ends at T2.
  h.advance_to_deadline();
  CHECK(seconds(h.now - lease.renew_at()) == Approx(10).margin(0.01));
  auto elapsed = ByteReader(h.sent_message().find(option::ElapsedTime)->data).u16();
  CHECK(elapsed >= 999);  // hundredths of a second since the first RENEW
  CHECK(elapsed <= 1000);
  while (h.client.state() == State::Renewing) {
    h.advance_to_deadline();
    if (h.client.state() == State::Renewing) (void)h.sent();
  }
  CHECK(h.now == lease.rebind_at());
  Message rebind = h.sent_message();
  CHECK(rebind.type == MessageType::Rebind);
  CHECK_FALSE(rebind.find(option::ServerId));
  while (h.client.state() == State::Rebinding) {
    h.advance_to_deadline();
    if (h.client.state() == State::Rebinding) (void)h.sent();
  }
  CHECK(h.now == lease.expires_at());
  Event e = h.event();
  CHECK(e.kind == Event::Kind::Expired);
  CHECK(e.lease.address == server.address);
  CHECK(h.sent_message().type == MessageType::Solicit);
}

namespace {

// The times of the Renews and Rebinds a bound client sends from T1 until its lease expires with
// no answer at all.
struct Renewal {
  TimePoint at;
  MessageType type;
};
std::vector<Renewal> unanswered_renewals(Harness& h, const Lease& lease) {
  std::vector<Renewal> sent;
  h.now = lease.renew_at();
  h.client.on_timeout(h.now);
  while (h.client.state() == State::Renewing || h.client.state() == State::Rebinding) {
    while (auto t = h.client.pop_transmit()) sent.push_back({h.now, t->type});
    h.advance_to_deadline();
  }
  CHECK(h.now == lease.expires_at());
  CHECK(h.event().kind == Event::Kind::Expired);
  return sent;
}

}  // namespace

// A 10 s lifetime (T1 5 s, T2 8 s): REN_TIMEOUT and REB_TIMEOUT (10 s) would leave one Renew and
// one Rebind; the timeouts are at most a 40th of the valid lifetime instead, 250 ms (RAND a
// nanosecond under 0 here, so a 13th Renew and a 9th Rebind may just fit before T2 and expiry).
TEST_CASE("a 10 s DHCPv6 lifetime sends 20 Renews and Rebinds from T1 to expiry", "[dhcp6]") {
  Harness h;
  Server server;
  server.t1 = 5;
  server.t2 = 8;
  server.preferred = server.valid = 10;
  Lease lease = h.bind(server);
  std::vector<Renewal> sent = unanswered_renewals(h, lease);
  std::size_t renews = 0, rebinds = 0;
  for (const Renewal& r : sent) {
    bool renew = r.type == MessageType::Renew;
    REQUIRE((renew || r.type == MessageType::Rebind));
    TimePoint phase_start = renew ? lease.renew_at() : lease.rebind_at();
    double step = static_cast<double>(renew ? renews++ : rebinds++);
    CAPTURE(renews, rebinds);
    CHECK(seconds(r.at - phase_start) == Approx(step * 0.25).margin(0.001));
    CHECK(r.at < (renew ? lease.rebind_at() : lease.expires_at()));
  }
  CHECK(renews >= 12);
  CHECK(rebinds >= 8);
  CHECK(std::is_partitioned(sent.begin(), sent.end(), [](const Renewal& r) { return r.type == MessageType::Renew; }));
}

// With RAND at its ends the timeouts stay within 10 % of a 40th of the lifetime (20 s: 500 ms),
// and never under 250 ms (a 4 s lifetime, the shortest taken: every 250 ms +-10 %).
TEST_CASE("DHCPv6 renewal timeouts of short lifetimes", "[dhcp6]") {
  for (std::uint32_t valid : {4u, 20u}) {
    for (std::uint32_t r : {0u, 0xffffffffu}) {
      CAPTURE(valid, r);
      Harness h(Harness::default_config(), sequence_random({5, r}));
      Server server;
      server.t1 = server.t2 = 0;
      server.preferred = server.valid = valid;
      Lease lease = h.bind(server);
      std::vector<Renewal> sent = unanswered_renewals(h, lease);
      double interval = valid == 4 ? 0.25 : 0.5;
      for (std::size_t i = 1; i < sent.size(); ++i) {
        if (sent[i].type != sent[i - 1].type) continue;
        double gap = seconds(sent[i].at - sent[i - 1].at);
        CHECK(gap >= interval * 0.9 - 1e-6);
        CHECK(gap <= interval * 1.1 + 1e-6);
      }
      CHECK(sent.size() >= (valid == 4 ? 6u : 14u));
    }
  }
}

// A one-day lifetime keeps RFC 8415 18.2.4 and 18.2.5 as written: REN_TIMEOUT 10 s doubling to
// REN_MAX_RT 600 s until T2, then REB_TIMEOUT 10 s doubling to REB_MAX_RT until expiry.
TEST_CASE("a one-day DHCPv6 lifetime keeps RFC 8415's renewal timeouts", "[dhcp6]") {
  Harness h;
  Server server;
  server.t1 = 43200;
  server.t2 = 69120;
  server.preferred = server.valid = 86400;
  Lease lease = h.bind(server);
  std::vector<Renewal> sent = unanswered_renewals(h, lease);
  const double expected_gaps[] = {10, 20, 40, 80, 160, 320, 600, 600, 600};
  for (TimePoint phase_start : {lease.renew_at(), lease.rebind_at()}) {
    auto first = std::find_if(sent.begin(), sent.end(), [&](const Renewal& r) { return r.at == phase_start; });
    REQUIRE(first != sent.end());
    for (std::size_t i = 0; i < std::size(expected_gaps); ++i) {
      CAPTURE(i);
      CHECK(seconds(first[i + 1].at - first[i].at) == Approx(expected_gaps[i]).margin(0.01));
    }
  }
}

// 30 % of packets dropped each way, at random (a fixed seed), for 2,000 renewals of a 10 s
// lifetime: the lease is kept in at least 99.9 % of them (one Renew and one Rebind kept it in
// 74.6 %).
TEST_CASE("a 10 s DHCPv6 lifetime survives 30 % loss each way", "[dhcp6]") {
  Harness h(Harness::default_config(), counting_random());
  Server server;
  server.t1 = 5;
  server.t2 = 8;
  server.preferred = server.valid = 10;
  std::mt19937 rng(11);
  auto dropped = [&rng] { return rng() < 0.3 * 4294967296.0; };
  std::vector<std::pair<TimePoint, Bytes>> in_flight;  // replies on their way, 1 ms each
  unsigned renewed = 0, expired = 0, bound = 0;
  h.client.start(h.now);
  while (renewed + expired < 2000) {
    while (auto t = h.client.pop_transmit()) {
      MessageType answer = t->type == MessageType::Solicit ? MessageType::Advertise : MessageType::Reply;
      if (dropped() || dropped()) continue;
      in_flight.emplace_back(h.now + 1ms, server.reply(*t, answer));
    }
    while (auto e = h.client.pop_event()) {
      if (e->kind == Event::Kind::Renewed) ++renewed;
      else if (e->kind == Event::Kind::Expired) ++expired;
      else if (e->kind == Event::Kind::Bound) ++bound;
    }
    REQUIRE(h.client.next_deadline());
    auto first = std::min_element(in_flight.begin(), in_flight.end(),
                                  [](const auto& a, const auto& b) { return a.first < b.first; });
    if (first != in_flight.end() && first->first <= *h.client.next_deadline()) {
      h.now = first->first;
      Bytes reply = std::move(first->second);
      in_flight.erase(first);
      h.deliver(reply);
    } else {
      h.advance_to_deadline();
    }
  }
  CAPTURE(renewed, expired, bound);
  CHECK(renewed >= 1998);  // >= 99.9 % of 2,000
  CHECK(bound == expired + 1);
}

// A renewal Reply with a new address (old one at lifetime 0) changes the address.
TEST_CASE("address change on renew", "[dhcp6]") {
  Harness h;
  Server server;
  Lease lease = h.bind(server);
  h.advance_to_deadline();
  Transmit renew = h.sent();
  Server moved = server;
  moved.address = v6("fd00:18::300");
  h.deliver(moved.reply(renew, MessageType::Reply));
  Event e = h.event();
  CHECK(e.kind == Event::Kind::AddressChanged);
  CHECK(e.lease.address == moved.address);
  CHECK(e.previous->address == lease.address);
}

// NoBinding in reply to RENEW: send a REQUEST for the same address (RFC 8415 18.2.10.1).
TEST_CASE("NoBinding on renew leads to REQUEST", "[dhcp6]") {
  Harness h;
  Server server;
  h.bind(server);
  h.advance_to_deadline();
  Transmit renew = h.sent();
  Server forgot = server;
  forgot.ia_status = Status{StatusCode::NoBinding, ""};
  h.deliver(forgot.reply(renew, MessageType::Reply));
  Message request = h.sent_message();
  CHECK(request.type == MessageType::Request);
  CHECK(request.ia_nas()[0].addresses[0].address == server.address);
  Transmit t{MessageType::Request, {}};
  encode(request, t.payload);
  h.deliver(server.reply(t, MessageType::Reply));
  CHECK(h.event().kind == Event::Kind::Renewed);
}

// NoAddrsAvail in reply to REQUEST: report Failed and solicit again, not at once but after a
// pause that doubles with each refusal in a row (RFC 8415 14.1: the same server would refuse again
// at its round-trip rate).
TEST_CASE("NoAddrsAvail on request", "[dhcp6]") {
  Harness h;
  Server server;
  server.preference = 255;
  Server empty = server;
  empty.ia_status = Status{StatusCode::NoAddrsAvail, "no addresses"};
  h.client.start(h.now);
  Transmit solicit = h.sent();
  std::vector<double> pauses;
  for (int round = 0; round < 4; ++round) {
    h.deliver(server.reply(solicit, MessageType::Advertise));
    Transmit request = h.sent();
    REQUIRE(parse(request.payload)->type == MessageType::Request);
    h.deliver(empty.reply(request, MessageType::Reply));
    h.deliver(server.reply(request, MessageType::Reply));  // a late Reply to that Request: ignored
    auto [pause, next] = h.refused_then_next_solicit();
    pauses.push_back(pause);
    solicit = next;
  }
  REQUIRE(pauses.size() == 4);
  for (std::size_t i = 0; i < pauses.size(); ++i) CHECK(pauses[i] == Approx(double(1 << i)).margin(0.01));
  // A lease ends the run of refusals: the next refusal pauses 1 s again.
  h.deliver(server.reply(solicit, MessageType::Advertise));
  h.deliver(server.reply(h.sent(), MessageType::Reply));
  CHECK(h.event().kind == Event::Kind::Bound);
  h.advance_to_deadline();  // T1: Renew
  Server forgot = server;
  forgot.ia_status = Status{StatusCode::NoBinding, ""};
  h.deliver(forgot.reply(h.sent(), MessageType::Reply));
  h.deliver(empty.reply(h.sent(), MessageType::Reply));  // the Request after NoBinding, refused
  CHECK(h.refused_then_next_solicit().first == Approx(1.0).margin(0.01));
}

// Rapid commit (Kea's "rapid-commit": true) with no address to give: the Reply to the Solicit says
// NoAddrsAvail. Reported, and the Solicit goes on with its retransmission schedule (RT doubling),
// as after an Advertise with no addresses: no new Solicit in answer to each refusal.
TEST_CASE("a rapid-commit Solicit refused backs off", "[dhcp6]") {
  ClientConfig config = Harness::default_config();
  config.rapid_commit = true;
  Harness h(config);
  Server empty;
  empty.ia_status = Status{StatusCode::NoAddrsAvail, "pool exhausted"};
  h.client.start(h.now);
  Transmit solicit = h.sent();
  std::vector<double> gaps;
  for (int i = 0; i < 5; ++i) {
    h.deliver(empty.reply(solicit, MessageType::Reply, /*rapid=*/true));
    CHECK(h.client.state() == State::Soliciting);
    auto [gap, next] = h.refused_then_next_solicit();
    gaps.push_back(gap);
    solicit = next;
  }
  // SOL_TIMEOUT 1 s (RAND > 0 on the first), then doubling: 2, 4, 8, 16 s.
  REQUIRE(gaps.size() == 5);
  CHECK(gaps[0] == Approx(1.0).margin(0.11));
  for (std::size_t i = 1; i < gaps.size(); ++i) CHECK(gaps[i] == Approx(2 * gaps[i - 1]).margin(0.01));
  CHECK(h.client.counters().solicits_sent == 6);
}

// NoBinding to a Renew keeps the address while the Request for it goes out (18.2.10.1). If that
// Request goes unanswered, or is refused and no server answers the Solicits after it, the
// address is dropped when its valid lifetime ends, not used past it.
TEST_CASE("an address held after NoBinding is dropped at its valid lifetime", "[dhcp6]") {
  Server server;
  server.t1 = 50;
  server.t2 = 80;
  server.preferred = server.valid = 100;
  Server forgot = server;
  forgot.ia_status = Status{StatusCode::NoBinding, ""};
  Server empty = server;
  empty.ia_status = Status{StatusCode::NoAddrsAvail, ""};
  for (bool refused : {false, true}) {
    CAPTURE(refused);
    Harness h;
    Lease lease = h.bind(server);
    h.advance_to_deadline();  // T1
    h.deliver(forgot.reply(h.sent(), MessageType::Reply));
    Transmit request = h.sent();
    REQUIRE(parse(request.payload)->type == MessageType::Request);
    if (refused) {
      h.deliver(empty.reply(request, MessageType::Reply));
      CHECK(h.event().kind == Event::Kind::Failed);
    }
    CHECK(h.client.lease());  // still held: its lifetime has not ended
    while (h.now < lease.expires_at()) {
      REQUIRE(h.client.lease());
      h.advance_to_deadline();
      while (h.client.pop_transmit()) {}
    }
    CHECK(h.now == lease.expires_at());
    Event e = h.event();
    while (e.kind == Event::Kind::Failed) e = h.event();
    CHECK(e.kind == Event::Kind::Expired);
    CHECK(e.loss == LossReason::Expired);
    CHECK(e.lease.address == server.address);
    CHECK_FALSE(h.client.lease());
    CHECK(h.client.state() == State::Soliciting);
  }
}

// Status messages are the server's text: escaped before they reach an event or the counters
// (in an IA_NA, at the top level of a Reply, in an Advertise).
TEST_CASE("DHCPv6 status text is escaped", "[dhcp6]") {
  const std::string raw = "none\nnet-dhcp: bound \x1b]0;x\x07";
  const std::string shown = "none\\x0anet-dhcp: bound \\x1b]0;x\\x07";
  Server server;
  server.preference = 255;
  {
    Harness h;
    h.client.start(h.now);
    h.deliver(server.reply(h.sent(), MessageType::Advertise));
    Server empty = server;
    empty.ia_status = Status{StatusCode::NoAddrsAvail, raw};
    h.deliver(empty.reply(h.sent(), MessageType::Reply));
    Event e = h.event();
    REQUIRE(e.kind == Event::Kind::Failed);
    CHECK(e.message == "NoAddrsAvail: " + shown);
    CHECK(h.client.counters().last_status_message == e.message);
  }
  {
    Harness h;
    h.client.start(h.now);
    h.deliver(server.reply(h.sent(), MessageType::Advertise));
    Server busy = server;
    busy.top_status = Status{StatusCode::UnspecFail, raw};
    h.deliver(busy.reply(h.sent(), MessageType::Reply));
    CHECK(h.client.counters().last_status_message == "UnspecFail: " + shown);
  }
  {
    Harness h;
    h.client.start(h.now);
    Server none = server;
    none.ia_status = Status{StatusCode::NoAddrsAvail, raw};
    none.top_status = Status{StatusCode::NoAddrsAvail, raw};
    h.deliver(none.reply(h.sent(), MessageType::Advertise));
    CHECK(h.client.counters().last_status_message == "NoAddrsAvail: " + shown);
  }
}

// Events carry why a lease was lost as a typed reason, and the client acts on the typed
// status code, not on its text: a status message that says "NoBinding" under another code is
// not NoBinding.
TEST_CASE("DHCPv6 loss reasons and status codes are typed", "[dhcp6]") {
  Server server;
  {  // the server sets the address's lifetimes to 0 in its Reply to RENEW
    Harness h;
    h.bind(server);
    h.client.renew(h.now);
    Server withdrawn = server;
    withdrawn.preferred = withdrawn.valid = 0;
    h.deliver(withdrawn.reply(h.sent(), MessageType::Reply));
    Event e = h.event();
    CHECK(e.kind == Event::Kind::Expired);
    CHECK(e.loss == LossReason::Withdrawn);
  }
  {  // no answer until the valid lifetime ends
    Harness h;
    Lease lease = h.bind(server);
    while (h.now < lease.expires_at()) {
      h.advance_to_deadline();
      while (h.client.pop_transmit()) {}
    }
    Event e = h.event();
    CHECK(e.kind == Event::Kind::Expired);
    CHECK(e.loss == LossReason::Expired);
  }
  {  // NoAddrsAvail to a REQUEST
    Harness h;
    h.client.start(h.now);
    Server eager = server;
    eager.preference = 255;
    h.deliver(eager.reply(h.sent(), MessageType::Advertise));
    Server empty = server;
    empty.ia_status = Status{StatusCode::NoAddrsAvail, ""};
    h.deliver(empty.reply(h.sent(), MessageType::Reply));
    Event e = h.event();
    CHECK(e.kind == Event::Kind::Failed);
    CHECK(e.loss == LossReason::Failed);
  }
  {  // UnspecFail whose text starts with "NoBinding": no REQUEST, the RENEW is retransmitted
    Harness h;
    h.bind(server);
    h.client.renew(h.now);
    Server odd = server;
    odd.ia_status = Status{StatusCode::UnspecFail, "NoBinding? try later"};
    h.deliver(odd.reply(h.sent(), MessageType::Reply));
    CHECK(h.client.state() == State::Renewing);
    CHECK_FALSE(h.client.pop_transmit());
    CHECK_FALSE(h.client.pop_event());
  }
  {  // bound, renewed and declined lose nothing
    Harness h;
    h.client.start(h.now);
    Server eager = server;
    eager.preference = 255;
    h.deliver(eager.reply(h.sent(), MessageType::Advertise));
    h.deliver(server.reply(h.sent(), MessageType::Reply));
    CHECK(h.event().loss == LossReason::None);
    h.client.decline(h.now);
    Event declined = h.event();
    CHECK(declined.kind == Event::Kind::Declined);
    CHECK(declined.loss == LossReason::Declined);
  }
}

// REQUEST: REQ_TIMEOUT 1 s doubling to REQ_MAX_RT 30 s, REQ_MAX_RC 10, then SOLICIT again.
TEST_CASE("REQUEST retransmission limits", "[dhcp6]") {
  Harness h;
  Server server;
  server.preference = 255;
  h.client.start(h.now);
  h.deliver(server.reply(h.sent(), MessageType::Advertise));
  (void)h.sent();
  std::vector<double> gaps;
  while (true) {
    TimePoint before = h.now;
    h.advance_to_deadline();
    gaps.push_back(seconds(h.now - before));
    Message m = h.sent_message();
    if (m.type != MessageType::Request) break;
  }
  std::vector<double> expected = {1, 2, 4, 8, 16, 30, 30, 30, 30, 30};
  REQUIRE(gaps.size() == expected.size());
  for (std::size_t i = 0; i < gaps.size(); ++i) CHECK(gaps[i] == Approx(expected[i]).margin(0.01));
  CHECK(h.client.counters().requests_sent == 10);
}

// RELEASE: retransmitted until a REPLY (or REL_MAX_RC), Released reported at once.
TEST_CASE("DHCPv6 release", "[dhcp6]") {
  Harness h;
  Server server;
  Lease lease = h.bind(server);
  h.client.release(h.now);
  CHECK(h.event().kind == Event::Kind::Released);
  Message release = h.sent_message();
  CHECK(release.type == MessageType::Release);
  CHECK(release.find(option::ServerId)->data == server.duid);
  CHECK(release.ia_nas()[0].addresses[0].address == lease.address);
  CHECK(h.client.releasing());
  int sent = 1;
  while (h.client.releasing()) {
    h.advance_to_deadline();
    if (h.client.pop_transmit()) ++sent;
  }
  CHECK(sent == 4);
  CHECK(h.client.state() == State::Stopped);

  Harness h2;
  h2.bind(server);
  h2.client.release(h2.now);
  Transmit r = h2.sent();
  h2.deliver(server.reply(r, MessageType::Reply));
  CHECK(h2.client.state() == State::Stopped);
}

// A Reply only answers a message the client is waiting on: a repeated Reply (same xid) while
// BOUND, or one after the RELEASE was answered (STOPPED), changes nothing; a Reply to RENEW
// from a server other than the lease's is not the answer (RFC 8415 16.6: servers discard a
// Renew with another's Server Identifier).
TEST_CASE("DHCPv6 Reply outside an exchange is ignored", "[dhcp6]") {
  Harness h;
  Server server;
  h.client.start(h.now);
  Server eager = server;
  eager.preference = 255;
  h.deliver(eager.reply(h.sent(), MessageType::Advertise));
  Transmit request = h.sent();
  Bytes reply = server.reply(request, MessageType::Reply);
  h.deliver(reply);
  REQUIRE(h.event().kind == Event::Kind::Bound);
  auto deadline = h.client.next_deadline();
  unsigned ignored = h.client.counters().packets_ignored;
  h.now += 5s;
  h.deliver(reply);  // the server's retransmission, or a replay
  CHECK(h.client.state() == State::Bound);
  CHECK_FALSE(h.client.pop_event());
  CHECK(h.client.next_deadline() == deadline);
  CHECK(h.client.counters().packets_ignored == ignored + 1);

  h.client.renew(h.now);
  Transmit renew = h.sent();
  Server other = server;
  other.duid = to_bytes("other-server");
  other.address = v6("fd00:18::400");
  h.deliver(other.reply(renew, MessageType::Reply));
  CHECK(h.client.state() == State::Renewing);
  CHECK_FALSE(h.client.pop_event());

  h.client.release(h.now);
  REQUIRE(h.event().kind == Event::Kind::Released);
  Transmit release = h.sent();
  Bytes released = server.reply(release, MessageType::Reply);
  h.deliver(released);
  REQUIRE(h.client.state() == State::Stopped);
  h.deliver(released);
  h.deliver(server.reply(request, MessageType::Reply));
  CHECK(h.client.state() == State::Stopped);
  CHECK_FALSE(h.client.pop_event());
  CHECK_FALSE(h.client.next_deadline());
}

// DAD failure: DECLINE the address, then start over with SOLICIT.
TEST_CASE("DHCPv6 decline", "[dhcp6]") {
  Harness h;
  Server server;
  h.bind(server);
  h.client.decline(h.now);
  CHECK(h.event().kind == Event::Kind::Declined);
  Transmit decline = h.sent();
  CHECK(decline.type == MessageType::Decline);
  h.deliver(server.reply(decline, MessageType::Reply));
  CHECK(h.sent_message().type == MessageType::Solicit);
}

// A saved lease resumes in the state its times call for.
TEST_CASE("resume DHCPv6 lease", "[dhcp6]") {
  Server server;
  Harness first;
  Lease lease = first.bind(server);
  Harness h;
  h.now = lease.acquired_at + 2000s;
  h.client.resume(lease, h.now);
  CHECK(h.client.state() == State::Renewing);
  CHECK(h.sent_message().type == MessageType::Renew);
  Harness late;
  late.now = lease.expires_at();
  late.client.resume(lease, late.now);
  CHECK(late.event().kind == Event::Kind::Expired);
  CHECK(late.sent_message().type == MessageType::Solicit);
}

// renew() from BOUND sends a RENEW at once, with the new FQDN.
TEST_CASE("DHCPv6 renew now with a new FQDN", "[dhcp6]") {
  Harness h;
  Server server;
  h.bind(server);
  h.client.set_fqdn("web-2");
  h.client.renew(h.now + 5s);
  Message renew = h.sent_message();
  CHECK(renew.type == MessageType::Renew);
  CHECK(hex(renew.find(option::ClientFqdn)->data) == "0005" "7765622d32");
}

// RFC 8415 18.2.1: addresses in a SOLICIT's IA_NA are hints. The address an identity had goes
// in every SOLICIT until bound; the REQUEST then asks for what the server advertised.
TEST_CASE("address_hint: the SOLICIT's IA_NA carries it until bound", "[dhcp6]") {
  ClientConfig config = Harness::default_config();
  config.address_hint = v6("fd00:18::77");
  Harness h(config);
  h.client.start(h.now);
  Message solicit = h.sent_message();
  auto ias = solicit.ia_nas();
  REQUIRE(ias.size() == 1);
  REQUIRE(ias[0].addresses.size() == 1);
  CHECK(ias[0].addresses[0].address == v6("fd00:18::77"));
  CHECK(ias[0].addresses[0].valid_lifetime == 0);
  h.advance_to_deadline();
  Message again = h.sent_message();
  CHECK(again.type == MessageType::Solicit);
  CHECK(again.ia_nas().at(0).addresses.at(0).address == v6("fd00:18::77"));
  Harness plain;
  plain.client.start(plain.now);
  CHECK(plain.sent_message().ia_nas().at(0).addresses.empty());
}
