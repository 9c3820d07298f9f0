// One rtnetlink socket: sends a Request, matches replies by sequence number and port id, and
// turns the kernel's error into "RTM_NEWLINK veth dh-1a2b: File exists" (with the kernel's
// extended-ack text when it gives one).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "netdhcp/result.hpp"
#include "netdhcp/unique_fd.hpp"
#include "netlink/message.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace netdhcp::netlink {

// The kernel's answer to one request, read one datagram at a time. No I/O: Socket feeds it
// what it receives, tests feed it bytes.
class ReplyReader {
 public:
  // `what` names the request in errors; replies are matched by `sequence` and `port_id`.
  // `dump`/`wants_ack`: the request's NLM_F_DUMP and NLM_F_ACK flags.
  ReplyReader(std::string what, unsigned sequence, unsigned port_id, bool dump, bool wants_ack);

  // Takes the messages of one datagram; returns true once the answer is complete (an ACK, an
  // error, a dump's NLMSG_DONE, or the one message of a GET without NLM_F_ACK). Messages for
  // another sequence number or port are skipped.
  bool feed(const char* datagram, std::size_t length);
  bool complete() const { return complete_; }
  // Once complete: success; the kernel's errno as "<what>: File exists (kernel: <extack>)";
  // or "<what>: truncated netlink message" (EBADMSG) when a header claims more bytes than came.
  const Result<void>& result() const { return result_; }
  // A dump that a concurrent change interrupted (NLM_F_DUMP_INTR on any of its messages): its
  // contents may be inconsistent and must be read again.
  bool interrupted() const { return interrupted_; }
  // The answer's messages (neither ACK nor DONE), in order, each starting with its nlmsghdr.
  const std::vector<std::vector<char>>& messages() const { return messages_; }

 private:
  void finish(Result<void> result);
  std::string what_;
  unsigned sequence_;
  unsigned port_id_;
  bool dump_;
  bool wants_ack_;
  bool complete_ = false;
  bool interrupted_ = false;
  Result<void> result_;
  std::vector<std::vector<char>> messages_;
};

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
  // Errors: the kernel's errno with the request's description and extended-ack text;
  // ETIMEDOUT "<what>: no answer from the kernel within 5 s" (see set_reply_timeout);
  // EBADMSG for a truncated message; send and receive failures.
  Result<void> request(Request request);
  // Sends a request that answers with one or more messages (a GET or a DUMP); calls `on_message`
  // for each once the whole answer is in. A dump that a concurrent change interrupted
  // (NLM_F_DUMP_INTR) is read again, up to 3 times. Errors: as request(), and EINTR "<what>:
  // dump interrupted by concurrent changes 3 times".
  Result<void> query(Request request, const std::function<void(const nlmsghdr*)>& on_message);

  // How long request() and query() wait for the whole answer (default 5 s).
  void set_reply_timeout(std::chrono::milliseconds timeout) { reply_timeout_ = timeout; }

  int fd() const;
  unsigned port_id() const { return port_id_; }

 private:
  explicit Socket(mnl_socket* socket);
  Result<void> exchange(Request& request, const std::function<void(const nlmsghdr*)>* on_message);
  Result<void> receive(ReplyReader& reader, const std::string& what);

  mnl_socket* socket_ = nullptr;
  unsigned port_id_ = 0;
  unsigned next_sequence_ = 1;
  std::chrono::milliseconds reply_timeout_{5000};
};

}  // namespace netdhcp::netlink
