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
  const Error lost{"netlink event queue overrun: events were lost", ENOBUFS};
  while (true) {
    // The next datagram's real size first: a cut one would lose the events at its end. The
    // peek also reports (and clears) a pending overrun.
    ssize_t n = ::recv(socket_.fd(), nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    msghdr msg{};
    if (n >= 0) {
      if (n > static_cast<ssize_t>(buffer.size())) buffer.resize(static_cast<std::size_t>(n));
      iovec iov{buffer.data(), buffer.size()};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      n = ::recvmsg(socket_.fd(), &msg, MSG_DONTWAIT);
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return events;
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) return lost;
      return system_error("reading netlink events", errno);
    }
    if (msg.msg_flags & MSG_TRUNC) return lost;
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
