// Closing a packet socket makes the kernel wait for an RCU grace period (packet_release()
// calls synchronize_net(), ~10 ms here). The daemon's one event-loop thread must not stall on
// that for every endpoint it tears down, so such descriptors are closed on a helper thread.
#pragma once

namespace netdhcp {
// Takes ownership of `fd` and closes it soon, off the calling thread.
void close_later(int fd);
}  // namespace netdhcp
