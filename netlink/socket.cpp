#include "netlink/socket.hpp"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace netdhcp::netlink {

Result<Socket> Socket::open(unsigned groups) {
  mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!s) return system_error("opening an rtnetlink socket", errno);
  Socket socket(s);
  int on = 1;
  // Ask for the kernel's explanation (NLMSGERR_ATTR_MSG), and do not echo our request back.
  mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &on, sizeof on);
  mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &on, sizeof on);
  if (mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) < 0) return system_error("binding an rtnetlink socket", errno);
  socket.port_id_ = mnl_socket_get_portid(s);
  return socket;
}

Socket::Socket(mnl_socket* socket) : socket_(socket) {}
Socket::Socket(Socket&& other) noexcept
    : socket_(std::exchange(other.socket_, nullptr)), port_id_(other.port_id_), next_sequence_(other.next_sequence_) {}
Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (socket_) mnl_socket_close(socket_);
    socket_ = std::exchange(other.socket_, nullptr);
    port_id_ = other.port_id_;
    next_sequence_ = other.next_sequence_;
  }
  return *this;
}
Socket::~Socket() {
  if (socket_) mnl_socket_close(socket_);
}

int Socket::fd() const { return mnl_socket_get_fd(socket_); }

Result<void> Socket::request(Request request) { return exchange(request, nullptr); }

Result<void> Socket::query(Request request, const std::function<void(const nlmsghdr*)>& on_message) {
  return exchange(request, &on_message);
}

namespace {

// The extended-ack message of an NLMSG_ERROR, if the kernel sent one. With NETLINK_CAP_ACK the
// attributes follow struct nlmsgerr directly.
std::string extack_text(const nlmsghdr* h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  std::string text;
  mnl_attr_parse(h, sizeof(nlmsgerr), [](const nlattr* attr, void* data) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
      *static_cast<std::string*>(data) = mnl_attr_get_str(attr);
    return MNL_CB_OK;
  }, &text);
  return text;
}

}  // namespace

ReplyReader::ReplyReader(std::string what, unsigned sequence, unsigned port_id, bool dump, bool wants_ack)
    : what_(std::move(what)), sequence_(sequence), port_id_(port_id), dump_(dump), wants_ack_(wants_ack) {}

void ReplyReader::finish(Result<void> result) {
  complete_ = true;
  result_ = std::move(result);
}

bool ReplyReader::feed(const char* datagram, std::size_t length) {
  int remaining = static_cast<int>(length);
  auto* h = reinterpret_cast<const nlmsghdr*>(datagram);
  for (; !complete_ && mnl_nlmsg_ok(h, remaining); h = mnl_nlmsg_next(h, &remaining)) {
    // Replies to someone else's request (or a stale one of ours) are not ours to read.
    if (h->nlmsg_seq != sequence_ || (h->nlmsg_pid != 0 && h->nlmsg_pid != port_id_)) continue;
    // The kernel marks every message of a dump that a change interrupted (nl_dump_check_consistent).
    if (dump_ && (h->nlmsg_flags & NLM_F_DUMP_INTR)) interrupted_ = true;
    if (h->nlmsg_type == NLMSG_ERROR) {
      if (h->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
        finish(Error{what_ + ": truncated netlink error", EBADMSG});
        break;
      }
      auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(h));
      if (err->error == 0) {  // the ACK
        finish({});
        break;
      }
      int e = -err->error;
      std::string message = what_ + ": " + std::strerror(e);
      if (auto text = extack_text(h); !text.empty()) message += " (kernel: " + text + ")";
      finish(Error{message, e});
      break;
    }
    if (h->nlmsg_type == NLMSG_DONE) {
      finish({});
      break;
    }
    const char* bytes = reinterpret_cast<const char*>(h);
    messages_.emplace_back(bytes, bytes + h->nlmsg_len);
    // A plain GET answers with one message and no ACK unless asked for.
    if (!dump_ && !wants_ack_) finish({});
  }
  // mnl_nlmsg_ok stops at a header that claims more than is left: the datagram was cut.
  if (!complete_ && remaining >= static_cast<int>(sizeof(nlmsghdr)))
    finish(Error{what_ + ": truncated netlink message", EBADMSG});
  return complete_;
}

// Reads datagrams into `reader` until its answer is complete or the reply timeout passes.
Result<void> Socket::receive(ReplyReader& reader, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + reply_timeout_;
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE * 4);
  const int fd = mnl_socket_get_fd(socket_);
  while (!reader.complete()) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd readable{fd, POLLIN, 0};
    int ready = left.count() > 0 ? ::poll(&readable, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0) {
      if (errno == EINTR) continue;
      return system_error(what + ": waiting for the reply", errno);
    }
    if (ready == 0) {
      auto ms = reply_timeout_.count();
      std::string after = ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
      return Error{what + ": no answer from the kernel within " + after, ETIMEDOUT};
    }
    // The next datagram's real size first, so that a large one is not cut (MSG_TRUNC).
    ssize_t n = ::recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    sockaddr_nl from{};
    msghdr msg{};
    if (n >= 0) {
      if (n > static_cast<ssize_t>(buffer.size())) buffer.resize(static_cast<std::size_t>(n));
      iovec iov{buffer.data(), buffer.size()};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return system_error(what + ": receiving the reply", errno);
    }
    if (msg.msg_flags & MSG_TRUNC) return Error{what + ": reply truncated (larger than " + std::to_string(buffer.size()) + " bytes)", EMSGSIZE};
    if (from.nl_pid != 0) continue;  // only the kernel answers requests
    reader.feed(buffer.data(), static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> Socket::exchange(Request& request, const std::function<void(const nlmsghdr*)>* on_message) {
  // iproute2 reports an interrupted dump ("Dump was interrupted and may be inconsistent");
  // we ask again, a bounded number of times.
  constexpr unsigned kDumpAttempts = 3;
  auto* header = reinterpret_cast<nlmsghdr*>(request.bytes.data());
  const bool dump = (header->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  const bool wants_ack = header->nlmsg_flags & NLM_F_ACK;
  for (unsigned attempt = 1;; ++attempt) {
    unsigned sequence = next_sequence_++;
    header->nlmsg_seq = sequence;
    header->nlmsg_pid = 0;
    if (mnl_socket_sendto(socket_, request.bytes.data(), request.bytes.size()) < 0)
      return system_error(request.what, errno);
    ReplyReader reader(request.what, sequence, port_id_, dump, wants_ack);
    if (auto received = receive(reader, request.what); !received) return received;
    if (!reader.result()) return reader.result();
    if (reader.interrupted()) {
      if (attempt < kDumpAttempts) continue;
      return Error{request.what + ": dump interrupted by concurrent changes " + std::to_string(kDumpAttempts) + " times",
                   EINTR};
    }
    if (on_message)
      for (const auto& message : reader.messages()) (*on_message)(reinterpret_cast<const nlmsghdr*>(message.data()));
    return {};
  }
}

}  // namespace netdhcp::netlink
