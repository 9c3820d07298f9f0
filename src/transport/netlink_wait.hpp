// Waiting for the kernel, as events rather than polling: "until interface X exists in
// namespace N", "until the IPv6 link-local address of X is usable (no longer tentative)".
// The subscription is made first and the current state read after it, so nothing that
// happens in between is missed.
#pragma once

#include <string>
#include <vector>

#include "dhcp/clock.hpp"
#include "netlink/events.hpp"
#include "netlink/namespace.hpp"
#include "src/support/asio.hpp"

namespace netdhcp {

// Errors: the deadline passed ("interface eth1 did not appear in <ns> within 2 s"), or
// netlink failures.
asio::awaitable<Result<netlink::Link>> wait_for_link(const netlink::Namespace& ns, std::string name,
                                                     TimePoint deadline);

// Until every named link in `ns` is operationally up (IF_OPER_UP: carrier on and, for a bridge
// port, the kernel has processed it). A veth's carrier change is handled asynchronously after
// "ip link set up"; a frame sent before that is dropped. Errors: deadline, netlink failures.
asio::awaitable<Result<void>> wait_for_links_up(const netlink::Namespace& ns, std::vector<std::string> names,
                                                TimePoint deadline);

// Returns at the next link or address event in `ns`, or at the deadline.
asio::awaitable<void> wait_for_link_event(const netlink::Namespace& ns, TimePoint deadline);

// The link-local IPv6 address of link `index` once duplicate address detection is done.
// Errors: deadline, DAD failed, netlink failures.
asio::awaitable<Result<netlink::Address>> wait_for_link_local(const netlink::Namespace& ns, int index,
                                                              TimePoint deadline);

}  // namespace netdhcp

namespace netdhcp {

// Opens the network namespace file at `path` once it exists and is a namespace. Docker names
// the SandboxKey in Join; the namespace is nearly always there by the time we look, and is
// opened at once. When it is not yet (runc creates it and Docker bind-mounts it there when the
// container starts), inotify wakes us when the file appears, and a short retry covers the
// moment between the file's creation and the bind mount.
// Errors: not there by the deadline (with the last reason), inotify failures.
asio::awaitable<Result<netlink::Namespace>> wait_for_namespace(std::string path, TimePoint deadline);

}  // namespace netdhcp
