// Kernel calls that block for an RCU grace period (~10 ms here) run on one helper thread, so
// that the daemon's event loop never stalls on them: closing a packet socket (packet_release()
// calls synchronize_net()) and deleting a veth pair (unregister_netdevice()).
// The helper thread stays in the host's network namespace: it never enters another one.
#pragma once

#include <functional>

namespace netdhcp {
// Takes ownership of `fd` and closes it soon, off the calling thread.
void close_later(int fd);
// Runs `work` soon on the helper thread, in order with everything else queued there.
void run_later(std::function<void()> work);
}  // namespace netdhcp
