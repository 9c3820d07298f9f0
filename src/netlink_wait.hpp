// Waiting for the kernel, as events rather than polling: "until interface X exists in
// namespace N", "until the IPv6 link-local address of X is usable (no longer tentative)".
// The subscription is made first and the current state read after it, so nothing that
// happens in between is missed.
#pragma once

#include "dhcp/clock.hpp"
#include "netlink/events.hpp"
#include "netlink/namespace.hpp"
#include "src/asio.hpp"

namespace netdhcp {

// Errors: the deadline passed ("interface eth1 did not appear in <ns> within 2 s"), or
// netlink failures.
asio::awaitable<Result<netlink::Link>> wait_for_link(const netlink::Namespace& ns, std::string name,
                                                     TimePoint deadline);

// The link-local IPv6 address of link `index` once duplicate address detection is done.
// Errors: deadline, DAD failed, netlink failures.
asio::awaitable<Result<netlink::Address>> wait_for_link_local(const netlink::Namespace& ns, int index,
                                                              TimePoint deadline);

}  // namespace netdhcp
