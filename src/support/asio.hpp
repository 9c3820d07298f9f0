// The Asio pieces src/ uses, in one place.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dhcp/clock.hpp"

namespace netdhcp {
namespace asio = boost::asio;
inline constexpr auto use_awaitable_tuple = asio::as_tuple(asio::use_awaitable);
// Every timer of the daemon runs on Clock (CLOCK_BOOTTIME, dhcp/clock.hpp), so that a lease's
// deadlines count the time a suspended host slept. Asio's reactor waits at most 5 minutes
// before it reads the clock again: a resumed host catches up on its timers within that.
using Timer = asio::basic_waitable_timer<Clock>;
}  // namespace netdhcp
