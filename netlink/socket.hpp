// One rtnetlink socket: sends a Request, matches replies by sequence number and port id, and
// turns the kernel's error into "RTM_NEWLINK veth dh-1a2b: File exists" (with the kernel's
// extended-ack text when it gives one).
#pragma once

#include <functional>

#include "netdhcp/result.hpp"
#include "netdhcp/unique_fd.hpp"
#include "netlink/message.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace netdhcp::netlink {

class Socket {
 public:
  // Opens a socket in the calling thread's current network namespace. `groups` subscribes to
  // multicast groups (RTMGRP_*; 0 for requests only).
  // Errors: socket() or bind() failed.
  static Result<Socket> open(unsigned groups = 0);

  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  ~Socket();

  // Sends the request and waits for the kernel's ACK.
  // Errors: the kernel's errno with the request's description and extended-ack text.
  Result<void> request(Request request);
  // Sends a request that answers with one or more messages (a GET or a DUMP); calls `on_message`
  // for each. Errors: as request().
  Result<void> query(Request request, const std::function<void(const nlmsghdr*)>& on_message);

  int fd() const;
  unsigned port_id() const { return port_id_; }

 private:
  explicit Socket(mnl_socket* socket);
  Result<void> exchange(Request& request, const std::function<void(const nlmsghdr*)>* on_message);

  mnl_socket* socket_ = nullptr;
  unsigned port_id_ = 0;
  unsigned next_sequence_ = 1;
};

}  // namespace netdhcp::netlink
