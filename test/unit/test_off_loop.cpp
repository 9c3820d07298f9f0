// src/support/off_loop.hpp: work that may block in the kernel runs on another thread while the
// event loop goes on, and the coroutine resumes on its own executor with the work's result.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "netdhcp/result.hpp"
#include "src/support/off_loop.hpp"

using namespace netdhcp;
using namespace std::chrono_literals;

namespace {

struct Link {
  std::string name;
  int index = 0;
};

// A gate the test opens: work that waits on it stands for a request waiting for RTNL.
struct Gate {
  std::mutex mutex;
  std::condition_variable opened;
  bool open = false;
  void wait() {
    std::unique_lock lock(mutex);
    opened.wait(lock, [this] { return open; });
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    opened.notify_all();
  }
};

}  // namespace

// The result (a Result of an optional of a non-trivial type, as netlink_wait's reads return)
// arrives whole: GCC 12 once lost it when a temporary lambda sat in the co_await.
TEST_CASE("off_loop returns the work's value to the coroutine", "[off_loop]") {
  asio::io_context io;
  std::vector<Result<std::optional<Link>>> seen;
  std::thread::id worked_on;
  const auto work = [&worked_on]() -> Result<std::optional<Link>> {
    worked_on = std::this_thread::get_id();
    return std::optional(Link{"a-rather-long-interface-name-beyond-sso", 7});
  };
  auto coroutine = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) seen.push_back(co_await off_loop(work));
  };
  asio::co_spawn(io, coroutine(), asio::detached);
  io.run();  // returns only once the coroutine is done: the job counts as the loop's work
  REQUIRE(seen.size() == 3);
  for (auto& r : seen) {
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    CHECK((*r)->name == "a-rather-long-interface-name-beyond-sso");
    CHECK((*r)->index == 7);
  }
  CHECK(worked_on != std::this_thread::get_id());
}

// While one coroutine's work is blocked, the event loop runs the others: timers fire, and other
// off-loop work completes on the second thread.
TEST_CASE("off_loop keeps the event loop going while the work blocks", "[off_loop]") {
  asio::io_context io;
  Gate gate;
  bool blocked_done = false, quick_done = false;
  int ticks = 0;
  const std::function<void()> blocked = [&gate] { gate.wait(); };
  const std::function<int()> quick = [] { return 42; };
  auto waits = [&]() -> asio::awaitable<void> {
    co_await off_loop(blocked);
    blocked_done = true;
  };
  auto other = [&]() -> asio::awaitable<void> {
    Timer timer(co_await asio::this_coro::executor);
    for (; ticks < 5; ++ticks) {
      timer.expires_after(1ms);
      co_await timer.async_wait(use_awaitable_tuple);
    }
    CHECK(co_await off_loop(quick) == 42);
    quick_done = true;
    CHECK_FALSE(blocked_done);
    gate.release();
  };
  asio::co_spawn(io, waits(), asio::detached);
  asio::co_spawn(io, other(), asio::detached);
  io.run();
  CHECK(ticks == 5);
  CHECK(quick_done);
  CHECK(blocked_done);
}

// An exception thrown by the work is rethrown in the coroutine, not lost on the other thread.
TEST_CASE("off_loop rethrows the work's exception in the coroutine", "[off_loop]") {
  asio::io_context io;
  std::string caught;
  const std::function<int()> throws = []() -> int { throw std::runtime_error("netlink socket gone"); };
  auto coroutine = [&]() -> asio::awaitable<void> {
    try {
      (void)co_await off_loop(throws);
    } catch (const std::exception& e) {
      caught = e.what();
    }
  };
  asio::co_spawn(io, coroutine(), asio::detached);
  io.run();
  CHECK(caught == "netlink socket gone");
}

// Many at once, from many coroutines: each gets its own result.
TEST_CASE("off_loop serves many coroutines at once", "[off_loop]") {
  asio::io_context io;
  constexpr int kCoroutines = 200;
  std::vector<int> results(kCoroutines, -1);
  std::atomic<int> running{0}, most{0};
  auto one = [&](int i) -> asio::awaitable<void> {
    const std::function<int()> square = [i, &running, &most] {
      int now = ++running;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(100us);
      --running;
      return i * i;
    };
    results[i] = co_await off_loop(square);
  };
  for (int i = 0; i < kCoroutines; ++i) asio::co_spawn(io, one(i), asio::detached);
  io.run();
  for (int i = 0; i < kCoroutines; ++i) CHECK(results[i] == i * i);
  CHECK(most.load() >= 1);
  CHECK(most.load() <= 2);  // its threads
}

