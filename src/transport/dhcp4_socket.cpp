#include "src/transport/dhcp4_socket.hpp"

#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "src/support/background.hpp"
#include "src/transport/receive.hpp"

namespace netdhcp {

namespace {

// Classic BPF over the network-layer packet (SOCK_DGRAM packet socket). Accepts IPv4 UDP
// to port 68 that is not a fragment and is a BOOTREPLY for our chaddr; ARP when instruction 4
// says so; never our own outgoing frames. The chaddr match keeps every other client's replies
// (broadcast ones reach every port of a bridge) and most of a rogue server's flood out of our
// queue: the kernel drops them without waking the daemon.
constexpr unsigned kDrop = 20;
std::array<sock_filter, 21> dhcp_filter(bool with_arp, MacAddress chaddr) {
  const auto& m = chaddr.octets;
  const __u32 high = static_cast<__u32>(m[0]) << 24 | static_cast<__u32>(m[1]) << 16 | static_cast<__u32>(m[2]) << 8 | m[3];
  const __u32 low = static_cast<__u32>(m[4]) << 8 | m[5];
  return {{
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<__u32>(SKF_AD_OFF + SKF_AD_PKTTYPE)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, kDrop - 2, 0),
      /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<__u32>(SKF_AD_OFF + SKF_AD_PROTOCOL)),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 1),
      /* 4 */ BPF_STMT(BPF_RET | BPF_K, with_arp ? 0xffffu : 0u),
      /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, kDrop - 6),
      /* 6 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),  // IP protocol
      /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, kDrop - 8),
      /* 8 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),  // flags + fragment offset
      /* 9 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, kDrop - 10, 0),
      /* 10 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),  // X = IP header length
      /* 11 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),   // UDP destination port
      /* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, dhcp4::kClientPort, 0, kDrop - 13),
      /* 13 */ BPF_STMT(BPF_LD | BPF_B | BPF_IND, 8),  // DHCP op
      /* 14 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, kDrop - 15),
      /* 15 */ BPF_STMT(BPF_LD | BPF_W | BPF_IND, 8 + 28),  // chaddr, first 4 bytes (a load past the end drops)
      /* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, high, 0, kDrop - 17),
      /* 17 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 8 + 32),  // chaddr, last 2
      /* 18 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, low, 0, kDrop - 19),
      /* 19 */ BPF_STMT(BPF_RET | BPF_K, 0xffffu),
      /* 20 */ BPF_STMT(BPF_RET | BPF_K, 0u),
  }};
}

Result<void> attach_filter(int fd, bool with_arp, MacAddress chaddr) {
  auto program = dhcp_filter(with_arp, chaddr);
  sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0)
    return system_error("attaching the DHCP packet filter", errno);
  return {};
}

}  // namespace

PacketSocket::~PacketSocket() {
  // The kernel's close of a packet socket waits for an RCU grace period: not on our thread.
  if (fd_) close_later(fd_.release());
}

void Dhcp4Socket::receive_into(dhcp4::Client& client, TimePoint now) {
  while (auto received = read()) {
    if (auto* dhcp = std::get_if<ReceivedDhcp4>(&*received)) {
      if (!client.on_packet(dhcp->payload, now)) continue;
      likely_servers_.clear();  // this exchange's server is known now
      if (dhcp->source_mac.is_zero()) {
        last_responder_.reset();  // (a frame to an earlier server's MAC would be a wrong guess)
        continue;
      }
      learn_neighbour(dhcp->source_ip, dhcp->source_mac);
      last_responder_ = dhcp->source_mac;
    } else if (auto* arp = std::get_if<ReceivedArp>(&*received)) {
      client.on_arp(arp->arp.sender_mac, arp->arp.sender_ip, arp->arp.target_ip, now);
    }
  }
}

std::vector<MacAddress> Dhcp4Socket::frame_destinations(const dhcp4::Transmit& t) const {
  if (t.kind != dhcp4::Transmit::Kind::Dhcp || !t.to_known_server || t.destination != kIpv4Broadcast) return {};
  if (last_responder_) return {*last_responder_};
  return likely_servers_;
}

void NeighbourCache::learn(Ipv4Address ip, MacAddress mac) {
  for (std::size_t i = 0; i < size_; ++i) {
    if (entries_[i].first == ip) {
      entries_[i].second = mac;
      return;
    }
  }
  if (size_ < kCapacity) {
    entries_[size_++] = {ip, mac};
    return;
  }
  entries_[oldest_] = {ip, mac};
  oldest_ = (oldest_ + 1) % kCapacity;
}

std::optional<MacAddress> NeighbourCache::find(Ipv4Address ip) const {
  for (std::size_t i = 0; i < size_; ++i)
    if (entries_[i].first == ip) return entries_[i].second;
  return std::nullopt;
}

void Dhcp4Socket::prepare(const dhcp4::Client& client) {
  bool probing = client.state() == dhcp4::State::Probing;
  if (probing != watching_arp_) {
    watch_arp(probing);
    watching_arp_ = probing;
  }
}

Result<PacketSocket> PacketSocket::open(const InterfaceInfo& interface, std::shared_ptr<const netlink::Namespace> netns) {
  // Protocol 0 until bind(): no packet is queued before the filter is in place.
  UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    int e = errno;
    if (e == EPERM) return Error{"cannot open a packet socket: needs CAP_NET_RAW (run as root)", e};
    return system_error("packet socket", e);
  }
  if (auto r = attach_filter(fd.get(), false, interface.mac); !r) return r.error();
  int on = 1;
  // Tells us when the kernel has not filled in the UDP checksum yet (veth offload).
  if (::setsockopt(fd.get(), SOL_PACKET, PACKET_AUXDATA, &on, sizeof on) < 0)
    return system_error("PACKET_AUXDATA", errno);
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = interface.index;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
    return system_error("binding the packet socket to " + interface.name, errno);
  return PacketSocket(std::move(fd), interface, std::move(netns));
}

void PacketSocket::watch_arp(bool on) { (void)attach_filter(fd_.get(), on, interface_.mac); }

std::optional<Received4> PacketSocket::read() {
  alignas(8) std::byte buffer[4096];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
  while (true) {
    sockaddr_ll from{};
    msghdr msg{};
    auto n = receive_whole(fd_.get(), buffer, &from, sizeof from, control, msg);
    if (!n) return std::nullopt;
    bool checksum_ready = true;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
        tpacket_auxdata aux;
        std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if (aux.tp_status & TP_STATUS_CSUMNOTREADY) checksum_ready = false;
      }
    }
    MacAddress source_mac;
    if (from.sll_halen == 6) std::memcpy(source_mac.octets.data(), from.sll_addr, 6);
    // A server with our own MAC (a sibling ipvlan interface, sharing the parent's) cannot be
    // sent a frame of its own: the kernel would not hand it over. Reported as none, so that
    // frames meant for it are broadcast.
    if (source_mac == interface_.mac) source_mac = MacAddress{};
    ByteView packet(buffer, *n);
    if (ntohs(from.sll_protocol) == ETH_P_ARP) {
      auto arp = parse_arp(packet);
      if (arp) return ReceivedArp{*arp};
      continue;
    }
    auto datagram = parse_ipv4_udp(packet, checksum_ready);
    if (!datagram || datagram->destination_port != dhcp4::kClientPort) continue;
    return ReceivedDhcp4{Bytes(datagram->payload.begin(), datagram->payload.end()), source_mac,
                         datagram->source};
  }
}

Result<void> PacketSocket::send_frame(std::uint16_t ethertype, MacAddress destination, ByteView packet) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ethertype);
  to.sll_ifindex = interface_.index;
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, destination.octets.data(), 6);
  if (::sendto(fd_.get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
    return system_error("sending on " + interface_.name, errno);
  return {};
}

// The UDP socket of a leased address, made in the interface's namespace (the daemon's thread
// runs in the host's, where the container's address does not exist). Its filter drops every
// datagram: the packet socket reads the replies, this one only keeps port 68 bound. False
// when the address is not configured on the interface (bind() refuses it) or a call failed.
bool PacketSocket::bind_udp(Ipv4Address address) {
  if (udp_ && udp_address_ == address) return true;
  udp_.reset();
  auto make = [] { return UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)); };
  UniqueFd fd;
  if (netns_) {
    auto made = netlink::inside(*netns_, [&]() -> Result<UniqueFd> { return make(); });
    if (made) fd = std::move(*made);
  } else {
    fd = make();
  }
  if (!fd) return false;
  sock_filter nothing[] = {BPF_STMT(BPF_RET | BPF_K, 0u)};
  sock_fprog program{1, nothing};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) < 0) return false;
  int on = 1;
  // Another DHCP client in the container may bind port 68 beside us (with SO_REUSEADDR too).
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  int index = interface_.index;  // by index: Docker renames the interface in the container
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTOIFINDEX, &index, sizeof index) < 0) return false;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(dhcp4::kClientPort);
  local.sin_addr.s_addr = htonl(address.to_u32());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) return false;
  udp_ = std::move(fd);
  udp_address_ = address;
  return true;
}

// Unicast from a configured address through the kernel's UDP stack, as a bound client does
// when it does not know the server's MAC (the kernel finds it by ARP).
bool PacketSocket::send_udp(const dhcp4::Transmit& t) {
  if (!udp_ || udp_address_ != t.source) return false;
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(dhcp4::kServerPort);
  remote.sin_addr.s_addr = htonl(t.destination.to_u32());
  return ::sendto(udp_.get(), t.payload.data(), t.payload.size(), 0, reinterpret_cast<sockaddr*>(&remote),
                  sizeof remote) >= 0;
}

namespace {
std::uint32_t xid_of(const Bytes& payload) {
  ByteReader r(payload);
  r.skip(4);  // op, htype, hlen, hops
  return r.u32();
}
}  // namespace

Result<void> PacketSocket::send(const dhcp4::Transmit& t) {
  Bytes packet;
  if (t.kind != dhcp4::Transmit::Kind::Dhcp) {
    // RFC 5227 section 2.1.1: probe with sender IP 0; section 2.3: announce with sender and
    // target IP both the address.
    ArpPacket arp;
    arp.operation = 1;
    arp.sender_mac = interface_.mac;
    arp.sender_ip = t.kind == dhcp4::Transmit::Kind::ArpAnnounce ? t.arp_address : kIpv4Any;
    arp.target_ip = t.arp_address;
    encode_arp(arp, packet);
    return send_frame(ETH_P_ARP, kMacBroadcast, packet);
  }
  // From a leased address (RENEWING, REBINDING, RELEASE): keep its port 68 bound.
  if (!t.source.is_unspecified()) bind_udp(t.source);
  bool unicast = t.destination != kIpv4Broadcast;
  MacAddress destination_mac = kMacBroadcast;
  if (unicast) {
    std::uint32_t xid = xid_of(t.payload);
    auto mac = neighbours_.find(t.destination);
    if (mac && last_frame_xid_ != xid) {
      destination_mac = *mac;
      last_unicast_path_ = "frame";
      last_frame_xid_ = xid;
    } else if (!t.source.is_unspecified() && send_udp(t)) {
      last_unicast_path_ = "udp";
      return {};
    } else {
      // Neither (e.g. after a restart, the address not configured): a broadcast frame, which
      // the server's stack still accepts for its own IP.
      last_unicast_path_ = "broadcast";
    }
  }
  encode_ipv4_udp(t.source, dhcp4::kClientPort, t.destination, dhcp4::kServerPort, t.payload, packet);
  // An IP broadcast meant for the server(s) known to answer (the first DISCOVER, the first
  // REQUEST in SELECTING): a frame to each one's MAC, which the bridge forwards to that port
  // alone instead of to all of them.
  if (auto servers = frame_destinations(t); !servers.empty()) {
    for (const MacAddress& server : servers)
      if (auto sent = send_frame(ETH_P_IP, server, packet); !sent) return sent;
    return {};
  }
  return send_frame(ETH_P_IP, destination_mac, packet);
}

}  // namespace netdhcp
