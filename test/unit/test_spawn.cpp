// spawn() (src/spawn.hpp): a detached coroutine that throws is reported, not swallowed.
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "src/support/spawn.hpp"

using namespace netdhcp;

namespace {

asio::awaitable<void> throws_after_a_step(asio::any_io_executor executor) {
  Timer timer(executor);
  timer.expires_after(std::chrono::milliseconds(1));
  co_await timer.async_wait(use_awaitable_tuple);
  throw std::runtime_error("netlink socket vanished");
}

asio::awaitable<void> finishes(bool& done) {
  done = true;
  co_return;
}

}  // namespace

// The failure handler gets the exception's text once the coroutine throws (after a suspension).
TEST_CASE("spawn: an exception in a detached coroutine reaches the failure handler", "[spawn]") {
  asio::io_context io;
  std::string reported;
  int calls = 0;
  spawn(io.get_executor(), throws_after_a_step(io.get_executor()), "test coroutine", [&](const std::string& message) {
    reported = message;
    ++calls;
  });
  io.run();
  CHECK(calls == 1);
  CHECK(reported == "netlink socket vanished");
}

// A coroutine that returns normally never calls the failure handler.
TEST_CASE("spawn: a coroutine that finishes is not a failure", "[spawn]") {
  asio::io_context io;
  bool done = false;
  int calls = 0;
  spawn(io.get_executor(), finishes(done), "test coroutine", [&](const std::string&) { ++calls; });
  io.run();
  CHECK(done);
  CHECK(calls == 0);
}
