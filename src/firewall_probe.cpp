#include "src/firewall_probe.hpp"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <chrono>
#include <fstream>
#include <random>

#include "dhcp/ip_udp.hpp"
#include "netlink/link.hpp"
#include "netlink/namespace.hpp"
#include "src/background.hpp"

namespace netdhcp {

namespace {

constexpr int kWaitMs = 300;
const std::string kMarker = "net-dhcp bridge firewall probe";

Result<UniqueFd> packet_socket(int index) {
  UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP)));
  if (!fd) return system_error("probe packet socket", errno);
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_IP);
  address.sll_ifindex = index;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
    return system_error("binding the probe socket", errno);
  return fd;
}

// One end of the probe: a veth whose host end is a port of the bridge and whose other end sits
// in a namespace of its own (so the host sees nothing but a bridge port for a moment).
struct ProbePort {
  netlink::Namespace ns;
  std::string host_end;
  netlink::Link inner;
};

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

}  // namespace

Result<void> probe_bridge_forwarding(const std::string& bridge, int bridge_index) {
  std::string enabled;
  std::ifstream("/proc/sys/net/bridge/bridge-nf-call-iptables") >> enabled;
  if (enabled != "1") return {};  // bridged frames do not meet iptables at all

  auto host = netlink::Socket::open();
  if (!host) return host.error();
  std::mt19937 random(std::random_device{}());
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", static_cast<unsigned>(random() & 0xffffff));
  MacAddress mac_a{{0x02, 0x6e, 0x64, 0x00, 0x00, 0x0a}}, mac_b{{0x02, 0x6e, 0x64, 0x00, 0x00, 0x0b}};
  mac_a.octets[3] = mac_b.octets[3] = static_cast<std::uint8_t>(random());
  auto a = make_port(*host, std::string("ndp") + suffix + "a", bridge_index, mac_a);
  auto b = a ? make_port(*host, std::string("ndp") + suffix + "b", bridge_index, mac_b) : Result<ProbePort>(a.error());
  auto cleanup = [&] {
    for (const char* end : {"a", "b"})
      if (auto link = netlink::find_link(*host, std::string("ndp") + suffix + end)) (void)netlink::delete_link(*host, *link);
  };
  if (!a || !b) {
    cleanup();
    return Error{"probing the firewall on " + bridge + ": " + (!a ? a.error() : b.error()).message};
  }
  auto receiver = netlink::inside(b->ns, [&] { return packet_socket(b->inner.index); });
  auto sender = netlink::inside(a->ns, [&] { return packet_socket(a->inner.index); });
  if (!receiver || !sender) {
    cleanup();
    return Error{"probing the firewall on " + bridge + ": " + (!receiver ? receiver.error() : sender.error()).message};
  }
  // A DHCP-shaped datagram (UDP 68 -> 67, to the broadcast address) in a frame addressed to
  // the other probe port's MAC: the bridge delivers it there (flooding it at worst to a MAC no
  // one on the LAN has), through the same FORWARD rules a container's DHCPDISCOVER meets.
  Bytes packet;
  encode_ipv4_udp(kIpv4Any, 68, kIpv4Broadcast, 67, as_bytes(kMarker), packet);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = a->inner.index;
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, mac_b.octets.data(), 6);
  bool arrived = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  for (int attempt = 0; attempt < 3 && !arrived; ++attempt) {
    ::sendto(sender->get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    while (!arrived) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) break;
      pollfd p{receiver->get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<long long>(left, kWaitMs / 3))) <= 0) break;
      std::byte buffer[2048];
      ssize_t n = ::recv(receiver->get(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        auto d = parse_ipv4_udp(ByteView(buffer, static_cast<std::size_t>(n)), false);
        arrived = d && to_string(d->payload) == kMarker;
      }
    }
  }
  close_later(receiver->release());
  close_later(sender->release());
  cleanup();
  if (arrived) return {};
  return Error{"the host firewall drops traffic bridged through " + bridge +
               " (net.bridge.bridge-nf-call-iptables is 1 and iptables' FORWARD chain, whose policy Docker sets to "
               "DROP, does not accept it), so containers would never hear the DHCP server. Fix: iptables -I FORWARD -i " +
               bridge + " -j ACCEPT (and ip6tables -I FORWARD -i " + bridge + " -j ACCEPT for IPv6), or -o firewall_check=false"};
}

}  // namespace netdhcp
