// Reading one datagram from a socket without waiting, for the packet, UDP and ICMPv6 sockets.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <optional>
#include <span>

namespace netdhcp {

// The next whole datagram on `fd`: its bytes into `buffer`, the sender into `from` (`from_size`
// bytes), ancillary data into `control` (may be empty); `msg` is left describing it, for
// CMSG_FIRSTHDR. A datagram cut short (MSG_TRUNC, or MSG_CTRUNC) is skipped: a cut message
// would parse as a shorter one, its last options lost. Returns its size, or nullopt when none
// is waiting (or on an error, which the next wait reports again).
inline std::optional<std::size_t> receive_whole(int fd, std::span<std::byte> buffer, void* from, socklen_t from_size,
                                                std::span<char> control, msghdr& msg) {
  while (true) {
    iovec iov{buffer.data(), buffer.size()};
    msg = msghdr{};
    msg.msg_name = from;
    msg.msg_namelen = from_size;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.empty() ? nullptr : control.data();
    msg.msg_controllen = control.size();
    ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) continue;
    msg.msg_iov = nullptr;  // (iov goes out of scope; only the control data is read later)
    msg.msg_iovlen = 0;
    return static_cast<std::size_t>(n);
  }
}

}  // namespace netdhcp
