// Kernel calls that block for an RCU grace period (~10-16 ms here) run on helper threads, so
// that the daemon's event loop never stalls on them: closing a packet socket (packet_release()
// calls synchronize_net()) on up to 8 threads at once, which then share grace periods, and
// deleting a veth pair (unregister_netdevice()) or other ordered work on one thread.
// The helper threads stay in the host's network namespace: they never enter another one.
#pragma once

#include <functional>

namespace netdhcp {
// Takes ownership of `fd` and closes it soon, off the calling thread (in no particular order
// with other closes or with run_later's work).
void close_later(int fd);
// Runs `work` soon on the helper thread, in order with everything else queued there.
void run_later(std::function<void()> work);
}  // namespace netdhcp
