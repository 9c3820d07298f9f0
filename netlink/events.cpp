#include "netlink/events.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>

namespace netdhcp::netlink {

Result<Subscription> Subscription::open() {
  auto socket = Socket::open(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR);
  if (!socket) return socket.error();
  return Subscription(std::move(*socket));
}

Result<std::vector<Event>> Subscription::read() {
  std::vector<Event> events;
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  while (true) {
    ssize_t n = ::recv(socket_.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return events;
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) return Error{"netlink event queue overrun: events were lost", ENOBUFS};
      return system_error("reading netlink events", errno);
    }
    int remaining = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer.data()); mnl_nlmsg_ok(h, remaining);
         h = mnl_nlmsg_next(h, &remaining)) {
      if (auto link = parse_link(h)) {
        events.push_back(LinkEvent{h->nlmsg_type == RTM_DELLINK, std::move(*link)});
      } else if (auto address = parse_address(h)) {
        events.push_back(AddressEvent{h->nlmsg_type == RTM_DELADDR, std::move(*address)});
      }
    }
  }
}

}  // namespace netdhcp::netlink
