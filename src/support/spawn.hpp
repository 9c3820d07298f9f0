// Detached coroutines whose failures are seen. asio::detached drops the exception of a
// coroutine that throws, and with it whatever that coroutine was keeping alive (an endpoint's
// renewals, an HTTP session): spawn() logs it with what the coroutine was doing and hands the
// message to `on_failure`, e.g. to mark an endpoint failed in status and metrics.
#pragma once

#include <exception>
#include <functional>
#include <string>

#include "src/support/asio.hpp"

namespace netdhcp {

using FailureHandler = std::function<void(const std::string& message)>;

// The text of an exception (what() of a std::exception, "unknown exception" otherwise).
std::string describe_exception(std::exception_ptr e);

// Logs "<what> failed: <message>" at error level and calls `on_failure` (when given).
void report_coroutine_failure(const std::string& what, std::exception_ptr e, const FailureHandler& on_failure);

template <class Executor>
void spawn(Executor executor, asio::awaitable<void> coroutine, std::string what, FailureHandler on_failure = {}) {
  asio::co_spawn(std::move(executor), std::move(coroutine),
                 [what = std::move(what), on_failure = std::move(on_failure)](std::exception_ptr e) {
                   if (e) report_coroutine_failure(what, e, on_failure);
                 });
}

}  // namespace netdhcp
