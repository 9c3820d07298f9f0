#include "netlink/socket.hpp"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

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

Result<void> Socket::exchange(Request& request, const std::function<void(const nlmsghdr*)>* on_message) {
  auto* header = reinterpret_cast<nlmsghdr*>(request.bytes.data());
  unsigned sequence = next_sequence_++;
  header->nlmsg_seq = sequence;
  header->nlmsg_pid = 0;
  bool dump = header->nlmsg_flags & NLM_F_DUMP;
  bool wants_ack = header->nlmsg_flags & NLM_F_ACK;
  if (mnl_socket_sendto(socket_, request.bytes.data(), request.bytes.size()) < 0)
    return system_error(request.what, errno);

  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE * 4);
  while (true) {
    ssize_t n = mnl_socket_recvfrom(socket_, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error(request.what + ": receiving the reply", errno);
    }
    int remaining = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer.data()); mnl_nlmsg_ok(h, remaining);
         h = mnl_nlmsg_next(h, &remaining)) {
      // Replies to someone else's request (or a stale one of ours) are not ours to read.
      if (h->nlmsg_seq != sequence || (h->nlmsg_pid != 0 && h->nlmsg_pid != port_id_)) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        if (h->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) return Error{request.what + ": truncated netlink error"};
        auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(h));
        if (err->error == 0) return {};  // the ACK
        int e = -err->error;
        std::string message = request.what + ": " + std::strerror(e);
        if (auto text = extack_text(h); !text.empty()) message += " (kernel: " + text + ")";
        return Error{message, e};
      }
      if (h->nlmsg_type == NLMSG_DONE) return {};
      if (on_message) (*on_message)(h);
      // A plain GET answers with one message and no ACK unless asked for.
      if (!dump && !wants_ack) return {};
    }
  }
}

}  // namespace netdhcp::netlink
