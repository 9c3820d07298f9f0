// Kernel calls that block for an RCU grace period (~10-16 ms here) run on helper threads, so
// that the daemon's event loop never stalls on them: closing a packet socket (packet_release()
// calls synchronize_net()) and deleting a veth pair (unregister_netdevice()), in order on one
// thread; at shutdown the closes run on up to 8 threads at once, which share grace periods.
// The helper threads stay in the host's network namespace: they never enter another one.
#pragma once

#include <functional>

namespace netdhcp {
// Takes ownership of `fd` and closes it soon, off the calling thread, in order with run_later's
// work (after close_in_parallel_from_now: in no particular order, up to 8 at once).
void close_later(int fd);
// At shutdown, when nothing else will be deleted: closes run side by side from now on.
void close_in_parallel_from_now();
// Runs `work` soon on the helper thread, in order with everything else queued there.
void run_later(std::function<void()> work);
}  // namespace netdhcp
