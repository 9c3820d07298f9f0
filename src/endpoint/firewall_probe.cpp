#include "src/endpoint/firewall_probe.hpp"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <fstream>
#include <random>

#include "dhcp/ip_udp.hpp"
#include "netdhcp/scope_exit.hpp"
#include "netlink/link.hpp"
#include "netlink/namespace.hpp"
#include "src/support/background.hpp"
#include "dhcp/clock.hpp"

namespace netdhcp {

using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

// One end of the probe: a veth whose host end is a port of the bridge and whose other end sits
// in a namespace of its own (so the host sees nothing but a bridge port for a moment). Outside
// the anonymous namespace: it lives in the probe coroutine's frame (-Wsubobject-linkage).
struct ProbePort {
  netlink::Namespace ns;
  std::string host_end;
  netlink::Link inner;
};

namespace {

constexpr auto kWait = 300ms;      // for all frames, retransmissions included
constexpr auto kResendEvery = 100ms;
const std::string kMarker = "net-dhcp bridge firewall probe";

bool sysctl_is_one(const char* path) {
  std::string value;
  std::ifstream(path) >> value;
  return value == "1";
}

// protocol 0: sends only. ETH_P_ALL: receives every frame on the link.
Result<UniqueFd> packet_socket(int index, int protocol) {
  UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(protocol)));
  if (!fd) return system_error("probe packet socket", errno);
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(protocol);
  address.sll_ifindex = index;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
    return system_error("binding the probe socket", errno);
  return fd;
}

Result<ProbePort> make_port(netlink::Socket& host, const std::string& name, int bridge_index, MacAddress mac) {
  auto ns = netlink::Namespace::create();
  if (!ns) return ns.error();
  netlink::VethSpec spec;
  spec.name = name;
  spec.peer_name = "probe";
  spec.peer_mac = mac;
  spec.peer_namespace_fd = ns->fd().get();
  if (auto r = netlink::create_veth(host, spec); !r) return r.error();
  auto outer = netlink::find_link(host, name);
  if (!outer) return outer.error();
  if (auto r = netlink::set_master(host, *outer, bridge_index); !r) return r.error();
  if (auto r = netlink::set_up(host, *outer, true); !r) return r.error();
  auto inside = netlink::inside(*ns, [] { return netlink::Socket::open(); });
  if (!inside) return inside.error();
  auto inner = netlink::find_link(*inside, "probe");
  if (!inner) return inner.error();
  if (auto r = netlink::set_up(*inside, *inner, true); !r) return r.error();
  return ProbePort{std::move(*ns), name, *inner};
}

// fe80::/64 with the modified EUI-64 of `mac` (RFC 4291 appendix A): the link-local source a
// container's DHCPv6 client would use.
Ipv6Address link_local_of(const MacAddress& mac) {
  Ipv6Address a;
  a.octets[0] = 0xfe;
  a.octets[1] = 0x80;
  a.octets[8] = mac.octets[0] ^ 0x02;
  a.octets[9] = mac.octets[1];
  a.octets[10] = mac.octets[2];
  a.octets[11] = 0xff;
  a.octets[12] = 0xfe;
  a.octets[13] = mac.octets[3];
  a.octets[14] = mac.octets[4];
  a.octets[15] = mac.octets[5];
  return a;
}

// Is this received frame one of ours, and of which family?
bool is_probe4(ByteView frame) {
  auto d = parse_ipv4_udp(frame, false);
  return d && d->destination_port == 67 && to_string(d->payload) == kMarker;
}
bool is_probe6(ByteView frame) {
  constexpr std::size_t kHeaders = 40 + 8;
  if (frame.size() != kHeaders + kMarker.size()) return false;
  ByteReader r(frame);
  bool version6 = (r.u8() >> 4) == 6;
  r.skip(5);
  bool udp = r.u8() == 17;
  r.skip(1 + 32);
  r.skip(2);
  bool to_server = r.u16() == 547;
  r.skip(4);
  return r.ok() && version6 && udp && to_server && to_string(r.rest()) == kMarker;
}

// The host end of each port is deleted (which removes its peer and, with the last fd, the
// namespace) on the helper thread: deleting a veth waits for an RCU grace period.
void remove_ports(std::vector<std::string> names) {
  run_later([names = std::move(names)] {
    auto host = netlink::Socket::open();
    if (!host) return;
    for (const auto& name : names)
      if (auto link = netlink::find_link(*host, name)) (void)netlink::delete_link(*host, *link);
  });
}

std::string dropped_message(const std::string& bridge, bool v4_dropped, bool v6_dropped) {
  std::string what, why, fix;
  if (v4_dropped && v6_dropped) {
    what = "IPv4 and IPv6 traffic";
    why = "net.bridge.bridge-nf-call-iptables and -ip6tables are 1, and the FORWARD chains of iptables and ip6tables, "
          "whose policy Docker sets to DROP, do not accept it";
    fix = "iptables -I FORWARD -i " + bridge + " -j ACCEPT; ip6tables -I FORWARD -i " + bridge + " -j ACCEPT";
  } else if (v4_dropped) {
    what = "traffic";
    why = "net.bridge.bridge-nf-call-iptables is 1 and iptables' FORWARD chain, whose policy Docker sets to DROP, does "
          "not accept it";
    fix = "iptables -I FORWARD -i " + bridge + " -j ACCEPT";
  } else {
    what = "IPv6 traffic";
    why = "net.bridge.bridge-nf-call-ip6tables is 1 and ip6tables' FORWARD chain does not accept it; Docker 28 sets its "
          "policy to DROP as soon as any Docker network has IPv6";
    fix = "ip6tables -I FORWARD -i " + bridge + " -j ACCEPT";
  }
  return "the host firewall drops " + what + " bridged through " + bridge + " (" + why + "), so containers would never hear " +
         (v4_dropped ? "the DHCP server" : "the DHCPv6 server") + ". Fix: " + fix +
         " (made persistent the way your distribution does), or -o firewall_check=false";
}

}  // namespace

Bytes dhcp6_probe_packet(const Ipv6Address& source, ByteView payload) {
  static const Ipv6Address kAllDhcpServers = *Ipv6Address::parse("ff02::1:2");
  std::uint16_t udp_length = static_cast<std::uint16_t>(8 + payload.size());
  Bytes out;
  ByteWriter w(out);
  w.u32(0x60000000);  // version 6, traffic class 0, flow label 0
  w.u16(udp_length);
  w.u8(17);  // next header: UDP
  w.u8(1);   // hop limit: link-local multicast goes no further (RFC 8415 section 7.1)
  w.bytes(as_bytes(std::string_view(reinterpret_cast<const char*>(source.octets.data()), 16)));
  w.bytes(as_bytes(std::string_view(reinterpret_cast<const char*>(kAllDhcpServers.octets.data()), 16)));
  std::size_t udp_start = out.size();
  w.u16(546);
  w.u16(547);
  w.u16(udp_length);
  w.u16(0);
  w.bytes(payload);
  // Pseudo-header: both addresses, the upper-layer length and the next header.
  std::uint32_t sum = 0;
  for (const auto* a : {&source, &kAllDhcpServers})
    for (std::size_t i = 0; i < 16; i += 2) sum += static_cast<std::uint32_t>(a->octets[i]) << 8 | a->octets[i + 1];
  sum += udp_length;
  sum += 17;
  std::uint16_t checksum = internet_checksum(ByteView(out).subspan(udp_start), sum);
  w.patch_u16(udp_start + 6, checksum == 0 ? 0xffff : checksum);  // 0 means "none", forbidden over IPv6
  return out;
}

asio::awaitable<Result<ProbeVerdict>> probe_bridge_forwarding(std::string bridge, int bridge_index, ProbeFamilies families) {
  // Bridged frames meet a family's FORWARD chain only when br_netfilter hands them to it.
  bool probe4 = families.ipv4 && sysctl_is_one("/proc/sys/net/bridge/bridge-nf-call-iptables");
  bool probe6 = families.ipv6 && sysctl_is_one("/proc/sys/net/bridge/bridge-nf-call-ip6tables");
  if (!probe4 && !probe6) co_return ProbeVerdict{};

  auto host = netlink::Socket::open();
  if (!host) co_return host.error();
  std::mt19937 random(std::random_device{}());
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", static_cast<unsigned>(random() & 0xffffff));
  MacAddress mac_a{{0x02, 0x6e, 0x64, 0x00, 0x00, 0x0a}}, mac_b{{0x02, 0x6e, 0x64, 0x00, 0x00, 0x0b}};
  mac_a.octets[3] = mac_b.octets[3] = static_cast<std::uint8_t>(random());
  std::vector<std::string> names{std::string("ndp") + suffix + "a", std::string("ndp") + suffix + "b"};
  auto a = make_port(*host, names[0], bridge_index, mac_a);
  auto b = a ? make_port(*host, names[1], bridge_index, mac_b) : Result<ProbePort>(a.error());
  if (!a || !b) {
    remove_ports(names);
    co_return Error{"probing the firewall on " + bridge + ": " + (!a ? a.error() : b.error()).message};
  }
  auto receiver = netlink::inside(b->ns, [&] { return packet_socket(b->inner.index, ETH_P_ALL); });
  auto sender = netlink::inside(a->ns, [&] { return packet_socket(a->inner.index, 0); });
  if (!receiver || !sender) {
    if (receiver) close_later(receiver->release());
    if (sender) close_later(sender->release());
    remove_ports(names);
    co_return Error{"probing the firewall on " + bridge + ": " + (!receiver ? receiver.error() : sender.error()).message};
  }
  // Frames shaped like a container's first DHCP packets (UDP 68 -> 67 to the broadcast
  // address; UDP 546 -> 547 from a link-local address to ff02::1:2), but addressed to the other
  // probe port's MAC: the bridge delivers them there (flooding them at worst to a MAC no one on
  // the LAN has), through the same FORWARD rules a container's DISCOVER and SOLICIT meet.
  Bytes packet4, packet6 = dhcp6_probe_packet(link_local_of(mac_a), as_bytes(kMarker));
  encode_ipv4_udp(kIpv4Any, 68, kIpv4Broadcast, 67, as_bytes(kMarker), packet4);
  // A std::function, not a lambda's own type: it lives in the coroutine frame.
  std::function<void(const Bytes&, int)> send = [&](const Bytes& packet, int protocol) {
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(protocol);
    to.sll_ifindex = a->inner.index;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, mac_b.octets.data(), 6);
    ::sendto(sender->get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  };

  auto executor = co_await asio::this_coro::executor;
  // `readable` owns the receiving fd from here on; the guard removes the ports and closes the
  // sender however the coroutine ends (also when it is destroyed while it waits, at shutdown).
  asio::posix::stream_descriptor readable(executor, receiver->release());
  ScopeExit cleanup([&] {
    if (readable.is_open()) close_later(readable.release());
    close_later(sender->release());
    remove_ports(names);
  });
  Timer timer(executor);
  bool arrived4 = !probe4, arrived6 = !probe6;
  TimePoint deadline = Clock::now() + kWait;
  TimePoint next_send = Clock::now();
  while (!(arrived4 && arrived6) && Clock::now() < deadline) {
    if (Clock::now() >= next_send) {
      if (!arrived4) send(packet4, ETH_P_IP);
      if (!arrived6) send(packet6, ETH_P_IPV6);
      next_send += kResendEvery;
    }
    timer.expires_at(std::min(next_send, deadline));
    auto which = co_await (readable.async_wait(asio::posix::descriptor_base::wait_read, use_awaitable_tuple) ||
                           timer.async_wait(use_awaitable_tuple));
    if (which.index() == 1) continue;
    std::byte buffer[2048];
    sockaddr_ll from{};
    socklen_t from_length = sizeof from;
    ssize_t n;
    while ((n = ::recvfrom(readable.native_handle(), buffer, sizeof buffer, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
                           &from_length)) > 0) {
      ByteView frame(buffer, static_cast<std::size_t>(n));
      if (from.sll_pkttype == PACKET_OUTGOING) continue;  // namespace b's own ND and MLD
      if (ntohs(from.sll_protocol) == ETH_P_IP && is_probe4(frame)) arrived4 = true;
      if (ntohs(from.sll_protocol) == ETH_P_IPV6 && is_probe6(frame)) arrived6 = true;
      from_length = sizeof from;
    }
  }
  ProbeVerdict verdict{!arrived4, !arrived6, {}};
  if (verdict.dropped()) verdict.message = dropped_message(bridge, verdict.dropped4, verdict.dropped6);
  co_return verdict;
}

}  // namespace netdhcp
