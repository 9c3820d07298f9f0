// Kernel calls that may wait, run off the event loop while the coroutine that made them waits:
// for the work of endpoints Docker is not waiting for.
//
// Following a container (dumps of the links in its namespace, which take RTNL on many kernels
// while dockerd, starting containers, holds it for tens to hundreds of milliseconds at a time)
// and learning its name (a scan of /proc, tens of milliseconds in getdents on a busy host) ran on
// the one event-loop thread, and every endpoint waited behind them: in a Docker 20.10 boot
// storm (scripts/bench storm, perf trace) the loop spent 4-5 s of 14 s there, and the DHCP
// exchanges of the endpoints Docker was creating, one at a time, waited. Here they run on two
// threads of their own and the loop goes on.
//
// What a Docker request waits for (CreateEndpoint's links, Join) stays on the event loop: on a
// host whose CPUs a storm saturates, each hop to another thread and back waits for that thread
// to be scheduled. Measured with those hops too (2026-12-05, the same storm): CreateEndpoint
// summed 9.5 s over the 100 instead of 6.1 s with them on the loop.
//
//   const auto list = [ns] { return list_links_in(*ns); };
//   auto links = co_await off_loop(list);
//
// runs the work on one of those threads and resumes the coroutine on its own executor with the
// work's result. The work must touch only what it was given (values, or objects no one else
// uses until it is done): never an Endpoint or a Driver. The threads stay in the host's network
// namespace between jobs (netlink::inside() returns them). An exception thrown by the work is
// rethrown in the coroutine.
//
// At shutdown, after the event loop has stopped and before it is destroyed, join_off_loop()
// waits for the jobs under way: their coroutine frames, which a job may refer to, live until
// then.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include "src/support/asio.hpp"

namespace netdhcp {

namespace off_loop_detail {

// Queues `job` on the off-loop threads (started on first use, in the caller's namespace: the
// event loop's, which is the host's).
void submit(std::function<void()> job);

template <class R>
struct Outcome {
  std::optional<R> value;
  std::exception_ptr error;
};
template <>
struct Outcome<void> {
  std::exception_ptr error;
};

template <class Work>
struct Job {
  using R = std::invoke_result_t<Work&>;
  explicit Job(Work w) : work(std::move(w)) {}
  void run() {
    try {
      if constexpr (std::is_void_v<R>) work();
      else outcome.value.emplace(work());
    } catch (...) {
      outcome.error = std::current_exception();
    }
  }
  Work work;
  Outcome<R> outcome;
};

// Queues the job; once it has run, resumes the awaiting coroutine through the coroutine's own
// executor, which counts the job as outstanding work meanwhile (so that its run() does not
// return early).
template <class Work>
struct Initiation {
  std::shared_ptr<Job<Work>> job;
  template <class Handler>
  void operator()(Handler handler) const {
    auto home = asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked);
    auto resume = std::make_shared<Handler>(std::move(handler));
    submit([job = job, home, resume] {
      job->run();
      asio::post(home, [resume] { std::move(*resume)(); });
    });
  }
};

// GCC 12 destroys a temporary of a co_await's full expression twice (a lambda passed by value,
// a std::function made for a by-value parameter: seen as a shared_ptr's count going wrong and
// the work's result lost), so the initiation is a named local and nothing is passed by value
// within a co_await here.
template <class Work>
asio::awaitable<std::invoke_result_t<Work&>> await_job(std::shared_ptr<Job<Work>> job) {
  const Initiation<Work> initiation{job};
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(initiation, asio::use_awaitable);
  if (job->outcome.error) std::rethrow_exception(job->outcome.error);
  if constexpr (!std::is_void_v<std::invoke_result_t<Work&>>) co_return std::move(*job->outcome.value);
}

}  // namespace off_loop_detail

// Not a coroutine itself: `work` is copied into a shared job here. Pass a named object (a
// lambda or std::function held in a variable): a temporary within a co_await is what GCC 12
// destroys twice.
template <class Work>
asio::awaitable<std::invoke_result_t<Work&>> off_loop(const Work& work) {
  return off_loop_detail::await_job(std::make_shared<off_loop_detail::Job<Work>>(work));
}

// Waits for every job under way or queued to finish; later jobs are not run. For the end of
// `serve`, after its event loop has stopped.
void join_off_loop();

}  // namespace netdhcp
