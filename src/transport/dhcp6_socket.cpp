#include "src/transport/dhcp6_socket.hpp"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "dhcp/router_advert.hpp"
#include "src/support/log.hpp"
#include "src/transport/receive.hpp"

namespace netdhcp {

namespace {

// RFC 4861 6.3.7: a host sends Router Solicitations when an interface is enabled; the container
// end has accept_ra=0 in the host namespace, so its kernel sends none, and we send one before
// the first SOLICIT. Why it matters: dnsmasq looks a DHCPv6 client's MAC up in its host's
// neighbour table before it answers, and when the client is not there it sends a Neighbor
// Solicitation and sleeps 100 ms (get_client_mac() in its dhcp6.c), for every new client. A
// router, or dnsmasq answering the RS with a unicast RA, puts us in that table first.
Result<void> send_router_solicitation(const InterfaceInfo& interface, const Ipv6Address& link_local) {
  UniqueFd fd(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMPV6));
  if (!fd) return system_error("ICMPv6 socket", errno);
  int hops = 255;  // RFC 4861 6.1.1: an RS with another hop limit is dropped
  int index = interface.index;
  if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) < 0 ||
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) < 0)
    return system_error("ICMPv6 socket options", errno);
  sockaddr_in6 local{};
  local.sin6_family = AF_INET6;
  std::memcpy(&local.sin6_addr, link_local.octets.data(), 16);
  local.sin6_scope_id = static_cast<std::uint32_t>(index);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) < 0)
    return system_error("binding the ICMPv6 socket to " + link_local.to_string(), errno);
  Bytes solicitation;
  encode_router_solicitation(interface.mac, solicitation);
  sockaddr_in6 all_routers{};
  all_routers.sin6_family = AF_INET6;
  all_routers.sin6_addr.s6_addr[0] = 0xff;
  all_routers.sin6_addr.s6_addr[1] = 0x02;
  all_routers.sin6_addr.s6_addr[15] = 0x02;  // ff02::2
  all_routers.sin6_scope_id = static_cast<std::uint32_t>(index);
  if (::sendto(fd.get(), solicitation.data(), solicitation.size(), 0, reinterpret_cast<sockaddr*>(&all_routers),
               sizeof all_routers) < 0)
    return system_error("sending a Router Solicitation on " + interface.name, errno);
  return {};
}

Result<UniqueFd> bind_client_socket(const InterfaceInfo& interface, const Ipv6Address& link_local, bool freebind) {
  UniqueFd fd(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return system_error("DHCPv6 socket", errno);
  int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  int bound_index = interface.index;  // by index: Docker renames the interface in the container
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTOIFINDEX, &bound_index, sizeof bound_index) < 0)
    return system_error("binding the DHCPv6 socket to " + interface.name, errno);
  int hops = 1;  // RFC 8415: link-scoped multicast
  ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
  int index = interface.index;
  if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) < 0)
    return system_error("IPV6_MULTICAST_IF", errno);
  int off = 0;
  ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof off);
  if (freebind) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_FREEBIND, &on, sizeof on);
  sockaddr_in6 local{};
  local.sin6_family = AF_INET6;
  local.sin6_port = htons(dhcp6::kClientPort);
  std::memcpy(&local.sin6_addr, link_local.octets.data(), 16);
  local.sin6_scope_id = static_cast<std::uint32_t>(interface.index);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) < 0)
    return system_error("binding [" + link_local.to_string() + "%" + interface.name + "]:546", errno);
  return fd;
}

}  // namespace

Result<Dhcp6UdpSocket> Dhcp6UdpSocket::open(const InterfaceInfo& interface, TimePoint deadline, bool while_tentative) {
  // A link-local address appears when the link comes up and cannot be bound while duplicate
  // address detection runs (EADDRNOTAVAIL). This one-shot path waits in small steps; the
  // daemon waits for the netlink event instead.
  Error last{"interface " + interface.name + " has no IPv6 link-local address (is IPv6 disabled on it?)"};
  while (true) {
    if (auto address = link_local_address(interface.name)) {
      auto fd = bind_client_socket(interface, *address, while_tentative);
      if (fd) {
        // Not from a tentative address (RFC 4862 5.4), and only worth it before a SOLICIT.
        if (!while_tentative)
          if (auto sent = send_router_solicitation(interface, *address); !sent)
            log::debug("DHCPv6 on " + interface.name + ": no Router Solicitation: " + sent.error().message);
        return Dhcp6UdpSocket(std::move(*fd), interface);
      }
      last = fd.error();
      if (last.errno_value != EADDRNOTAVAIL) return last;
      last.message += " (the address is still tentative: duplicate address detection)";
    }
    if (Clock::now() >= deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<ReceivedDhcp6> Dhcp6UdpSocket::read() {
  std::byte buffer[8192];
  sockaddr_in6 from{};
  msghdr msg{};
  auto n = receive_whole(fd_.get(), buffer, &from, sizeof from, {}, msg);
  if (!n) return std::nullopt;
  ReceivedDhcp6 r;
  r.payload.assign(buffer, buffer + *n);
  std::memcpy(r.source.octets.data(), &from.sin6_addr, 16);
  return r;
}

Result<UniqueFd> open_router_advertisement_socket(int index) {
  UniqueFd fd(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMPV6));
  if (!fd) return system_error("ICMPv6 socket", errno);
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &filter);
  int on = 1;
  if (::setsockopt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0 ||
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on) < 0 ||
      ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTOIFINDEX, &index, sizeof index) < 0)
    return system_error("ICMPv6 socket options", errno);
  return fd;
}

std::optional<ReceivedRouterAdvert> read_router_advertisement(int fd) {
  std::byte buffer[1500];  // an RA fits the link MTU; a larger one is cut and skipped
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  sockaddr_in6 from{};
  msghdr msg{};
  auto n = receive_whole(fd, buffer, &from, sizeof from, control, msg);
  if (!n) return std::nullopt;
  ReceivedRouterAdvert ra;
  ra.icmp.assign(buffer, buffer + *n);
  std::memcpy(ra.source.octets.data(), &from.sin6_addr, 16);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int)))
      std::memcpy(&ra.hop_limit, CMSG_DATA(c), sizeof(int));
  return ra;
}

Result<void> Dhcp6UdpSocket::send(const dhcp6::Transmit& transmit) {
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_port = htons(dhcp6::kServerPort);
  std::memcpy(&to.sin6_addr, dhcp6::kAllServers.octets.data(), 16);
  to.sin6_scope_id = static_cast<std::uint32_t>(interface_.index);
  if (::sendto(fd_.get(), transmit.payload.data(), transmit.payload.size(), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof to) < 0)
    return system_error("sending DHCPv6 " + std::string(dhcp6::to_string(transmit.type)) + " on " + interface_.name,
                        errno);
  return {};
}

}  // namespace netdhcp
