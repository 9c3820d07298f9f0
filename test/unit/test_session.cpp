// The I/O coroutine (src/dhcp_session.hpp) on a real io_context, driven through fake sockets:
// a datagram socketpair plays the wire, the test plays the server.
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "dhcp/identity.hpp"
#include "src/transport/dhcp4_socket.hpp"
#include "src/transport/dhcp6_socket.hpp"
#include "src/plugin/pacer.hpp"
#include "test/unit/helpers.hpp"

using namespace netdhcp;
using namespace netdhcp::test;

namespace {

struct SocketPair {
  UniqueFd client, server;
  SocketPair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    client.reset(fds[0]);
    server.reset(fds[1]);
  }
};

// A Dhcp4Socket whose wire is one end of a socketpair.
class FakeDhcp4Socket : public Dhcp4Socket {
 public:
  explicit FakeDhcp4Socket(int fd) : fd_(fd) {}
  int wait_handle() const override { return fd_; }
  std::optional<Received4> read() override {
    std::byte buffer[2048];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return ReceivedDhcp4{Bytes(buffer, buffer + n), {}, {}};
  }
  Result<void> send(const dhcp4::Transmit& t) override {
    if (::send(fd_, t.payload.data(), t.payload.size(), 0) < 0) return system_error("send", errno);
    return {};
  }
  void watch_arp(bool) override {}

 private:
  int fd_;
};

Bytes answer4(const Bytes& request_wire, dhcp4::MessageType type) {
  auto request = dhcp4::parse(request_wire).value();
  dhcp4::Packet p;
  p.op = 2;
  p.xid = request.xid;
  p.chaddr = request.chaddr;
  p.yiaddr = *Ipv4Address::parse("198.18.0.42");
  p.add_u8(dhcp4::option::MessageType, static_cast<std::uint8_t>(type));
  p.add_address(dhcp4::option::ServerId, *Ipv4Address::parse("198.18.0.1"));
  p.add_u32(dhcp4::option::LeaseTime, 3600);
  Bytes out;
  dhcp4::encode(p, out);
  return out;
}

Bytes receive(int fd, asio::io_context& io) {
  std::byte buffer[2048];
  for (int i = 0; i < 2000; ++i) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n >= 0) return Bytes(buffer, buffer + n);
    io.run_one_for(std::chrono::milliseconds(5));
  }
  FAIL("nothing sent within the deadline");
  return {};
}

}  // namespace

// The session sends the DISCOVER, feeds the OFFER and ACK it reads, and reports Bound.
TEST_CASE("DHCPv4 session binds through a fake socket", "[session]") {
  SocketPair wire;
  FakeDhcp4Socket socket(wire.client.get());
  dhcp4::ClientConfig config;
  config.mac = *MacAddress::parse("02:00:00:00:00:11");
  dhcp4::Client client(config, [] { return 0x12345678u; });
  asio::io_context io;
  Dhcp4Session session(io.get_executor(), client, socket);
  std::vector<dhcp4::Event::Kind> events;
  client.start(Clock::now());
  asio::co_spawn(io, session.run([&](const dhcp4::Event& e) {
    events.push_back(e.kind);
    session.stop();
  }), asio::detached);

  Bytes discover = receive(wire.server.get(), io);
  CHECK(dhcp4::parse(discover)->message_type() == dhcp4::MessageType::Discover);
  ::send(wire.server.get(), "garbage", 7, 0);  // dropped by the client, not fatal
  Bytes offer = answer4(discover, dhcp4::MessageType::Offer);
  ::send(wire.server.get(), offer.data(), offer.size(), 0);
  Bytes request = receive(wire.server.get(), io);
  CHECK(dhcp4::parse(request)->message_type() == dhcp4::MessageType::Request);
  Bytes ack = answer4(request, dhcp4::MessageType::Ack);
  ::send(wire.server.get(), ack.data(), ack.size(), 0);
  io.run_for(std::chrono::seconds(5));  // returns once the session stopped
  REQUIRE(events == std::vector{dhcp4::Event::Kind::Bound});
  CHECK(client.lease()->address == *Ipv4Address::parse("198.18.0.42"));
  CHECK(client.counters().packets_ignored == 1);
}

// With no answer the session retransmits on the client's deadline (real timer, ~1 s).
TEST_CASE("DHCPv4 session retransmits on the deadline", "[session]") {
  SocketPair wire;
  FakeDhcp4Socket socket(wire.client.get());
  dhcp4::ClientConfig config;
  config.mac = *MacAddress::parse("02:00:00:00:00:11");
  dhcp4::Client client(config, [] { return 0u; });  // jitter -0.5 s: first retransmission at 0.5 s
  asio::io_context io;
  Dhcp4Session session(io.get_executor(), client, socket);
  client.start(Clock::now());
  asio::co_spawn(io, session.run(nullptr), asio::detached);
  Bytes first = receive(wire.server.get(), io);
  Bytes second = receive(wire.server.get(), io);
  CHECK(dhcp4::parse(first)->xid == dhcp4::parse(second)->xid);
  CHECK(client.counters().discovers_sent == 2);
  session.stop();
  io.run_for(std::chrono::seconds(1));
}

// src/pacer.hpp: a boot storm's starts are spread, a lone start never waits.
TEST_CASE("the pacer lets a burst through, then spaces starts out", "[pacer]") {
  using namespace std::chrono_literals;
  Pacer pacer(20, 10ms);
  TimePoint now = t0;
  for (int i = 0; i < 20; ++i) REQUIRE(pacer.next(now) == Duration::zero());
  // The 21st to 25th at the same moment: 10, 20, ... 50 ms.
  for (int i = 1; i <= 5; ++i) REQUIRE(pacer.next(now) == i * 10ms);
  // Once the bucket has drained (250 ms of starts' worth), a start goes at once again.
  REQUIRE(pacer.next(now + 300ms) == Duration::zero());
  // Steady starts slower than one per 10 ms never wait.
  Pacer steady(20, 10ms);
  for (int i = 0; i < 1000; ++i) REQUIRE(steady.next(t0 + i * 11ms) == Duration::zero());
}

namespace {

// A FakeDhcp4Socket whose replies come from a server's MAC and IP, and which records what it
// is asked to learn.
class LearningSocket : public FakeDhcp4Socket {
 public:
  using FakeDhcp4Socket::FakeDhcp4Socket;
  std::optional<Received4> read() override {
    auto received = FakeDhcp4Socket::read();
    if (received) {
      auto& dhcp = std::get<ReceivedDhcp4>(*received);
      dhcp.source_mac = *MacAddress::parse("02:00:5e:00:00:01");
      dhcp.source_ip = *Ipv4Address::parse("198.18.0.1");
    }
    return received;
  }
  void learn_neighbour(Ipv4Address ip, MacAddress mac) override { learnt.emplace_back(ip, mac); }
  std::vector<std::pair<Ipv4Address, MacAddress>> learnt;
};

}  // namespace

// The server's MAC is learnt only from a reply the client took: one with another xid (a
// forgery, or someone else's) teaches nothing.
TEST_CASE("DHCPv4 neighbours are learnt from taken replies only", "[session]") {
  SocketPair wire;
  LearningSocket socket(wire.client.get());
  dhcp4::ClientConfig config;
  config.mac = *MacAddress::parse("02:00:00:00:00:21");
  dhcp4::Client client(config, midpoint_random());
  client.start(t0);
  auto discover = client.pop_transmit();
  REQUIRE(discover);
  auto offer = dhcp4::parse(answer4(discover->payload, dhcp4::MessageType::Offer)).value();
  offer.xid ^= 1;
  Bytes forged;
  dhcp4::encode(offer, forged);
  REQUIRE(::send(wire.server.get(), forged.data(), forged.size(), 0) > 0);
  socket.receive_into(client, t0);
  CHECK(socket.learnt.empty());
  CHECK(client.state() == dhcp4::State::Selecting);
  Bytes real = answer4(discover->payload, dhcp4::MessageType::Offer);
  REQUIRE(::send(wire.server.get(), real.data(), real.size(), 0) > 0);
  socket.receive_into(client, t0);
  REQUIRE(socket.learnt.size() == 1);
  CHECK(socket.learnt[0].first == *Ipv4Address::parse("198.18.0.1"));
  CHECK(client.state() == dhcp4::State::Requesting);
}

// The cache holds at most kCapacity servers; the oldest goes first; a known server is updated
// in place.
TEST_CASE("the neighbour cache is bounded", "[session]") {
  NeighbourCache cache;
  auto ip = [](int i) { return *Ipv4Address::parse(("198.18.1." + std::to_string(i)).c_str()); };
  auto mac = [](int i) { return *MacAddress::parse("02:00:00:00:01:" + std::string(i < 16 ? "0" : "") + [&] {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%x", i);
    return std::string(hex);
  }()); };
  for (int i = 1; i <= 100; ++i) cache.learn(ip(i), mac(i));
  CHECK(cache.size() == NeighbourCache::kCapacity);
  CHECK_FALSE(cache.find(ip(1)));
  CHECK_FALSE(cache.find(ip(96)));
  for (int i = 97; i <= 100; ++i) CHECK(cache.find(ip(i)) == mac(i));
  cache.learn(ip(100), mac(1));
  CHECK(cache.size() == NeighbourCache::kCapacity);
  CHECK(cache.find(ip(100)) == mac(1));
}
