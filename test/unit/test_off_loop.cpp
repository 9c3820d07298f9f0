// src/support/off_loop.hpp: work that may block in the kernel runs on another thread while the
// event loop goes on, and the coroutine resumes on its own executor's thread with the work's
// result.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "netdhcp/result.hpp"
#include "netdhcp/scope_exit.hpp"
#include "src/support/off_loop.hpp"

using namespace netdhcp;
using namespace std::chrono_literals;

namespace {

struct Link {
  std::string name;
  int index = 0;
};

// A gate the test opens: work that waits on it stands for a request waiting for RTNL. It opens
// at the latest when the test ends, so that a failing test does not hang the others.
struct Gate {
  std::mutex mutex;
  std::condition_variable opened;
  bool open = false;
  void wait() {
    std::unique_lock lock(mutex);
    opened.wait_for(lock, 10s, [this] { return open; });
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    opened.notify_all();
  }
  ~Gate() { release(); }
};

}  // namespace

// The result (a Result of an optional of a non-trivial type, as netlink_wait's reads return)
// arrives whole, on the event loop's thread: GCC 12 once lost it when a temporary lambda sat in
// the co_await. (Every co_await here stands alone in its statement, for the same reason.)
TEST_CASE("off_loop returns the work's value to the coroutine, on its thread", "[off_loop]") {
  asio::io_context io;
  const auto loop_thread = std::this_thread::get_id();
  std::vector<Result<std::optional<Link>>> seen;
  std::vector<bool> resumed_on_loop;
  std::thread::id worked_on;
  const auto work = [&worked_on]() -> Result<std::optional<Link>> {
    worked_on = std::this_thread::get_id();
    return std::optional(Link{"a-rather-long-interface-name-beyond-sso", 7});
  };
  auto coroutine = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      auto r = co_await off_loop(work);
      resumed_on_loop.push_back(std::this_thread::get_id() == loop_thread);
      seen.push_back(std::move(r));
    }
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
  CHECK(resumed_on_loop == std::vector<bool>{true, true, true});
  CHECK(worked_on != loop_thread);
}

// While one coroutine's work is blocked, the event loop runs the others: timers fire, and other
// off-loop work completes on the second thread; the blocked one completes once let go.
TEST_CASE("off_loop keeps the event loop going while the work blocks", "[off_loop]") {
  asio::io_context io;
  Gate gate;
  bool blocked_done = false, quick_done = false, blocked_when_quick_done = true;
  int ticks = 0, quick = 0;
  const std::function<void()> blocked = [&gate] { gate.wait(); };
  const std::function<int()> answer = [] { return 42; };
  auto waits = [&]() -> asio::awaitable<void> {
    co_await off_loop(blocked);
    blocked_done = true;
  };
  auto other = [&]() -> asio::awaitable<void> {
    ScopeExit let_go([&gate] { gate.release(); });
    Timer timer(co_await asio::this_coro::executor);
    for (; ticks < 5; ++ticks) {
      timer.expires_after(1ms);
      co_await timer.async_wait(use_awaitable_tuple);
    }
    quick = co_await off_loop(answer);
    quick_done = true;
    blocked_when_quick_done = !blocked_done;
  };
  asio::co_spawn(io, waits(), asio::detached);
  asio::co_spawn(io, other(), asio::detached);
  io.run();
  CHECK(ticks == 5);
  CHECK(quick_done);
  CHECK(quick == 42);
  CHECK(blocked_when_quick_done);  // the blocked work had not finished while the rest went on
  CHECK(blocked_done);
}

// An exception thrown by the work is rethrown in the coroutine, not lost on the other thread.
TEST_CASE("off_loop rethrows the work's exception in the coroutine", "[off_loop]") {
  asio::io_context io;
  std::string caught;
  const std::function<int()> throws = []() -> int { throw std::runtime_error("netlink socket gone"); };
  auto coroutine = [&]() -> asio::awaitable<void> {
    try {
      int never = co_await off_loop(throws);
      (void)never;
    } catch (const std::exception& e) {
      caught = e.what();
    }
  };
  asio::co_spawn(io, coroutine(), asio::detached);
  io.run();
  CHECK(caught == "netlink socket gone");
}

// Many at once, from many coroutines: each gets its own result; at most two run at a time.
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
    int result = co_await off_loop(square);
    results[i] = result;
  };
  for (int i = 0; i < kCoroutines; ++i) asio::co_spawn(io, one(i), asio::detached);
  io.run();
  for (int i = 0; i < kCoroutines; ++i) CHECK(results[i] == i * i);
  CHECK(most.load() <= 2);  // its threads
}
