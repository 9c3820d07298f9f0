// Link and address change notifications (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR)
// in one namespace. The socket's fd can be awaited by an event loop; read() never blocks.
#pragma once

#include <variant>
#include <vector>

#include "netlink/address.hpp"
#include "netlink/link.hpp"

namespace netdhcp::netlink {

struct LinkEvent {
  bool removed = false;
  Link link;
};
struct AddressEvent {
  bool removed = false;
  Address address;
};
using Event = std::variant<LinkEvent, AddressEvent>;

class Subscription {
 public:
  // Subscribes in the calling thread's namespace (use netlink::inside() for another one).
  // Errors: socket or bind failures.
  static Result<Subscription> open();

  int fd() const { return socket_.fd(); }
  // Everything queued now, without blocking. Errors: ENOBUFS "netlink event queue overrun:
  // events were lost" when the kernel dropped events or a message came cut (the caller must
  // re-read the state it cares about); other receive errors.
  Result<std::vector<Event>> read();

 private:
  explicit Subscription(Socket socket) : socket_(std::move(socket)) {}
  Socket socket_;
};

}  // namespace netdhcp::netlink
