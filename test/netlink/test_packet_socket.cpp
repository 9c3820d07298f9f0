// src/transport's DHCPv4 packet socket against the real kernel, as root: a veth pair inside a
// namespace the test creates, the client on one end, a raw socket standing in for the server on
// the other, reading the frames as they left.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "dhcp/dhcp4_client.hpp"
#include "dhcp/dhcp4_packet.hpp"
#include "dhcp/ip_udp.hpp"
#include "netlink/link.hpp"
#include "netlink/namespace.hpp"
#include "src/transport/dhcp4_socket.hpp"

using namespace netdhcp;
using namespace netdhcp::netlink;
using namespace std::chrono_literals;

namespace {

const MacAddress kClientMac = *MacAddress::parse("02:00:00:00:07:01");
const MacAddress kServerMac = *MacAddress::parse("02:00:00:00:07:fe");
const Ipv4Address kServerIp = *Ipv4Address::parse("198.18.7.1");

struct Frame {
  MacAddress destination;
  std::optional<dhcp4::Packet> dhcp;
  Ipv4Address ip_destination;
};

// The server's end: every frame on its interface, and frames it sends as the server.
class ServerEnd {
 public:
  explicit ServerEnd(int index) : index_(index) {
    fd_ = UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
    REQUIRE(fd_);
    sockaddr_ll at{};
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ETH_P_ALL);
    at.sll_ifindex = index;
    REQUIRE(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
  }

  // The next DHCP frame from the client, within a second.
  Frame next_dhcp() {
    for (auto until = std::chrono::steady_clock::now() + 1s; std::chrono::steady_clock::now() < until;) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      std::byte buffer[2048];
      sockaddr_ll from{};
      socklen_t length = sizeof from;
      ssize_t n = ::recvfrom(fd_.get(), buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (n < 14 || from.sll_pkttype == PACKET_OUTGOING) continue;
      if (std::to_integer<int>(buffer[12]) != 0x08 || std::to_integer<int>(buffer[13]) != 0x00) continue;  // IPv4 only
      auto datagram = parse_ipv4_udp(ByteView(buffer + 14, static_cast<std::size_t>(n) - 14), false);
      if (!datagram || datagram->destination_port != dhcp4::kServerPort) continue;
      Frame frame;
      for (int i = 0; i < 6; ++i) frame.destination.octets[i] = std::to_integer<std::uint8_t>(buffer[i]);
      frame.ip_destination = datagram->destination;
      auto parsed = dhcp4::parse(datagram->payload);
      if (parsed) frame.dhcp = *parsed;
      return frame;
    }
    FAIL("no DHCP frame from the client within a second");
    return {};
  }

  // A reply of `type` to `request`, as the server would send it: from its MAC (or `from`) and
  // IP, to the client's MAC.
  void answer(const dhcp4::Packet& request, dhcp4::MessageType type, MacAddress from = kServerMac) {
    dhcp4::Packet p;
    p.op = 2;
    p.xid = request.xid;
    p.chaddr = request.chaddr;
    p.yiaddr = *Ipv4Address::parse("198.18.7.42");
    p.add_u8(dhcp4::option::MessageType, static_cast<std::uint8_t>(type));
    p.add_address(dhcp4::option::ServerId, kServerIp);
    p.add_u32(dhcp4::option::LeaseTime, 3600);
    Bytes payload;
    dhcp4::encode(p, payload);
    Bytes ip;
    encode_ipv4_udp(kServerIp, dhcp4::kServerPort, *Ipv4Address::parse("198.18.7.42"), dhcp4::kClientPort, payload, ip);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_IP);
    to.sll_ifindex = index_;
    to.sll_halen = 6;
    Bytes frame;
    for (auto b : kClientMac.octets) frame.push_back(std::byte{b});
    for (auto b : from.octets) frame.push_back(std::byte{b});
    frame.push_back(std::byte{0x08});
    frame.push_back(std::byte{0x00});
    frame.insert(frame.end(), ip.begin(), ip.end());
    REQUIRE(::sendto(fd_.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
            static_cast<ssize_t>(frame.size()));
  }

 private:
  int index_;
  UniqueFd fd_;
};

bool wait_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 1000) == 1;
}

}  // namespace

namespace {
// In a namespace of the test's own: a veth pair nd-cl (the client's, kClientMac) / nd-sv (the
// server's, kServerMac), both ends operationally up, the server's raw end on nd-sv, our packet
// socket on nd-cl and a client with a fixed xid.
struct ClientServerPair {
  Namespace ns = Namespace::create().value();
  Enter enter{ns};
  std::optional<ServerEnd> server;
  std::optional<PacketSocket> packet_socket;
  std::optional<dhcp4::Client> client;

  ClientServerPair() {
    REQUIRE(enter.ok());
    auto socket = netlink::Socket::open().value();
    VethSpec spec;
    spec.name = "nd-cl";
    spec.peer_name = "nd-sv";
    spec.mac = kClientMac;
    spec.peer_mac = kServerMac;
    REQUIRE(create_veth(socket, spec).ok());
    auto client_link = find_link(socket, "nd-cl").value();
    auto server_link = find_link(socket, "nd-sv").value();
    REQUIRE(set_up(socket, server_link, true).ok());
    REQUIRE(set_up(socket, client_link, true).ok());
    // Both ends operationally up, not only the client's carrier: the server's frames leave
    // through nd-sv, and one sent before the kernel's link watch has activated its queue (which
    // it reports as operstate UP) is dropped without an error. A test failed about one run in
    // ten while it waited for nd-cl's carrier alone.
    auto up = [&](const char* name) { return find_link(socket, name)->operstate == 6; /* IF_OPER_UP */ };
    for (auto until = std::chrono::steady_clock::now() + 5s; !up("nd-cl") || !up("nd-sv");) {
      REQUIRE(std::chrono::steady_clock::now() < until);
      ::poll(nullptr, 0, 5);
    }
    server.emplace(server_link.index);
    packet_socket.emplace(PacketSocket::open(InterfaceInfo{"nd-cl", client_link.index, kClientMac, 1500, true}).value());
    dhcp4::ClientConfig config;
    config.mac = kClientMac;
    client.emplace(config, [] { return 0x7fffffffu; });
  }

  // The client started, its DISCOVER sent, answered by an OFFER from `offer_from`, and the
  // REQUEST that follows sent: each as the client queued it and as the server's end saw it.
  struct Selecting {
    dhcp4::Transmit discover, request;
    Frame discover_frame, request_frame;
  };
  Selecting discover_offer_request(MacAddress offer_from = kServerMac) {
    Selecting out;
    client->start(TimePoint{});
    auto discover = client->pop_transmit();
    REQUIRE(discover);
    out.discover = *discover;
    REQUIRE(packet_socket->send(*discover).ok());
    out.discover_frame = server->next_dhcp();
    REQUIRE(out.discover_frame.dhcp);
    REQUIRE(out.discover_frame.dhcp->message_type() == dhcp4::MessageType::Discover);
    server->answer(*out.discover_frame.dhcp, dhcp4::MessageType::Offer, offer_from);
    REQUIRE(wait_readable(packet_socket->wait_handle()));
    packet_socket->receive_into(*client, TimePoint{});
    REQUIRE(client->state() == dhcp4::State::Requesting);
    auto request = client->pop_transmit();
    REQUIRE(request);
    out.request = *request;
    REQUIRE(packet_socket->send(*request).ok());
    out.request_frame = server->next_dhcp();
    REQUIRE(out.request_frame.dhcp);
    REQUIRE(out.request_frame.dhcp->message_type() == dhcp4::MessageType::Request);
    return out;
  }
};
}  // namespace

// The first DISCOVER goes in a frame to each server that answered on the LAN lately, when the
// socket was told of them (Driver::lan_servers4_: other endpoints' exchanges); unanswered, it is
// retransmitted as a broadcast frame, for whichever server is there now.
TEST_CASE("the first DISCOVER is a frame to each of the LAN's servers, its retransmission a broadcast", "[transport][kernel]") {
  ClientServerPair pair;
  ServerEnd& server = *pair.server;
  PacketSocket& packet_socket = *pair.packet_socket;
  dhcp4::Client& client = *pair.client;
  const MacAddress other_server = *MacAddress::parse("02:00:5e:10:00:09");  // (its frame reaches nd-sv too)
  packet_socket.assume_servers({kServerMac, other_server});
  TimePoint now{};
  client.start(now);

  auto discover = client.pop_transmit();
  REQUIRE(discover);
  REQUIRE(packet_socket.send(*discover).ok());
  for (const MacAddress& to : {kServerMac, other_server}) {
    Frame sent = server.next_dhcp();
    REQUIRE(sent.dhcp);
    CHECK(sent.dhcp->message_type() == dhcp4::MessageType::Discover);
    CHECK(sent.destination == to);
    CHECK(sent.ip_destination == kIpv4Broadcast);
  }

  auto deadline = client.next_deadline();
  REQUIRE(deadline);
  client.on_timeout(*deadline);
  auto again = client.pop_transmit();
  REQUIRE(again);
  CHECK(again->type == dhcp4::MessageType::Discover);
  REQUIRE(packet_socket.send(*again).ok());
  Frame sent = server.next_dhcp();
  REQUIRE(sent.dhcp);
  CHECK(sent.destination == kMacBroadcast);
}

// The first DHCPREQUEST in SELECTING goes to the offering server's MAC only (a bridge forwards it
// to one port, not to all of them); unanswered, it is retransmitted as a broadcast frame. The
// DISCOVER before it, with no server known yet, is a broadcast frame.
TEST_CASE("the first SELECTING request is a frame to the offering server's MAC", "[transport][kernel]") {
  ClientServerPair pair;
  auto selecting = pair.discover_offer_request();
  CHECK(selecting.discover.to_known_server);  // but the socket knows no server yet
  CHECK(selecting.discover_frame.destination == kMacBroadcast);
  CHECK(selecting.request.to_known_server);
  CHECK(selecting.request_frame.destination == kServerMac);
  CHECK(selecting.request_frame.ip_destination == kIpv4Broadcast);  // still a broadcast to the servers' IP stacks

  ServerEnd& server = *pair.server;
  PacketSocket& packet_socket = *pair.packet_socket;
  dhcp4::Client& client = *pair.client;
  // No ACK: the retransmission is a broadcast frame, for every server (RFC 2131 section 4.4.1).
  auto deadline = client.next_deadline();
  REQUIRE(deadline);
  client.on_timeout(*deadline);
  auto again = client.pop_transmit();
  REQUIRE(again);
  CHECK(again->type == dhcp4::MessageType::Request);
  CHECK_FALSE(again->to_known_server);
  REQUIRE(packet_socket.send(*again).ok());
  Frame sent = server.next_dhcp();
  REQUIRE(sent.dhcp);
  CHECK(sent.destination == kMacBroadcast);
}

// An OFFER from our own MAC (a server in a sibling ipvlan interface, which shares the parent's
// MAC): a frame to that MAC would not reach it, so the first REQUEST is a broadcast frame, and
// the socket names no server for the LAN's list.
TEST_CASE("a reply from our own MAC leaves the first SELECTING request a broadcast frame", "[transport][kernel]") {
  ClientServerPair pair;
  auto selecting = pair.discover_offer_request(kClientMac);
  CHECK_FALSE(pair.packet_socket->last_responder());
  CHECK(selecting.request.to_known_server);
  CHECK(selecting.request_frame.destination == kMacBroadcast);
}
