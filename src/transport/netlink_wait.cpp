#include "src/transport/netlink_wait.hpp"

#include <sys/stat.h>

#include <functional>

#include "src/support/background.hpp"

namespace netdhcp {

using namespace asio::experimental::awaitable_operators;

// Not in an anonymous namespace: these types end up in coroutine frames, which GCC 12 then
// reports (-Wsubobject-linkage) when the file is part of a unity build.
namespace netlink_wait_detail {

std::string seconds_left(TimePoint from, TimePoint deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - from).count();
  return std::to_string(ms / 1000.0).substr(0, 4) + " s";
}

template <class T>
using StateCheck = std::function<Result<std::optional<T>>(netlink::Socket&)>;

// An Asio descriptor lent a descriptor that something else owns: gives it back, unclosed, when
// the scope ends, also when the coroutine frame is destroyed while suspended (the io_context
// going away with the wait pending), so that its owner closes it once.
struct Lent {
  asio::posix::stream_descriptor& descriptor;
  ~Lent() {
    if (descriptor.is_open()) (void)descriptor.release();
  }
};

// Subscribes inside `ns`, then asks `current` for the state; while it has no answer, reads
// events and asks `current` again after each batch.
// Parameters are references to the caller's named locals: GCC 12 mis-destroys temporaries
// (a lambda converted to std::function) passed by value into a coroutine.
template <class T>
asio::awaitable<Result<T>> wait_until(const netlink::Namespace& ns, TimePoint deadline, const std::string& what,
                                      const StateCheck<T>& current) {
  TimePoint started = Clock::now();
  auto subscription = netlink::inside(ns, [] { return netlink::Subscription::open(); });
  if (!subscription) co_return subscription.error();
  auto socket = netlink::inside(ns, [] { return netlink::Socket::open(); });
  if (!socket) co_return socket.error();
  auto executor = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor readable(executor, subscription->fd());
  Lent lent{readable};  // the subscription owns the fd
  Timer timer(executor);
  timer.expires_at(deadline);
  Result<T> outcome = Error{what + " within " + seconds_left(started, deadline) + " (namespace " + ns.path() + ")"};
  while (true) {
    auto now_state = current(*socket);
    if (!now_state) {
      outcome = now_state.error();
      break;
    }
    if (*now_state) {
      outcome = std::move(**now_state);
      break;
    }
    auto which = co_await (readable.async_wait(asio::posix::descriptor_base::wait_read, use_awaitable_tuple) ||
                           timer.async_wait(use_awaitable_tuple));
    if (which.index() == 1) break;
    // The events only say that something changed; `current` decides, from a fresh read of
    // the state. That read is also the resync after an overrun (ENOBUFS: events were lost);
    // any other error is reported rather than spun on.
    if (auto events = subscription->read(); !events && events.error().errno_value != ENOBUFS) {
      outcome = Error{what + ": " + events.error().message};
      break;
    }
  }
  co_return outcome;
}

struct Up {};

}  // namespace netlink_wait_detail

using netlink_wait_detail::StateCheck;
using netlink_wait_detail::wait_until;
using netlink_wait_detail::seconds_left;

asio::awaitable<Result<netlink::Link>> wait_for_link(const netlink::Namespace& ns, std::string name,
                                                     TimePoint deadline) {
  const std::string what = "interface " + name + " did not appear";
  const StateCheck<netlink::Link> exists = [&name](netlink::Socket& socket) -> Result<std::optional<netlink::Link>> {
    auto link = netlink::find_link(socket, name);
    if (link) return std::optional(*link);
    if (link.error().errno_value == ENODEV) return std::optional<netlink::Link>();
    return link.error();
  };
  co_return co_await wait_until<netlink::Link>(ns, deadline, what, exists);
}

asio::awaitable<Result<void>> wait_for_links_up(const netlink::Namespace& ns, std::vector<std::string> names,
                                                TimePoint deadline) {
  using netlink_wait_detail::Up;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  const std::string what = "interfaces " + list + " did not come up";
  const StateCheck<Up> all_up = [&names](netlink::Socket& socket) -> Result<std::optional<Up>> {
    for (const auto& name : names) {
      auto link = netlink::find_link(socket, name);
      if (!link) return link.error();
      if (link->operstate != 6 /* IF_OPER_UP */) return std::optional<Up>();
    }
    return std::optional(Up{});
  };
  auto done = co_await wait_until<Up>(ns, deadline, what, all_up);
  if (!done) co_return done.error();
  co_return Result<void>{};
}

asio::awaitable<void> wait_for_link_event(const netlink::Namespace& ns, TimePoint deadline) {
  auto subscription = netlink::inside(ns, [] { return netlink::Subscription::open(); });
  auto executor = co_await asio::this_coro::executor;
  Timer timer(executor);
  timer.expires_at(deadline);
  if (!subscription) {
    co_await timer.async_wait(use_awaitable_tuple);
    co_return;
  }
  asio::posix::stream_descriptor readable(executor, subscription->fd());
  netlink_wait_detail::Lent lent{readable};  // the subscription owns the fd
  co_await (readable.async_wait(asio::posix::descriptor_base::wait_read, use_awaitable_tuple) ||
            timer.async_wait(use_awaitable_tuple));
}

asio::awaitable<Result<netlink::Address>> wait_for_link_local(const netlink::Namespace& ns, int index,
                                                              TimePoint deadline) {
  const std::string what = "no usable IPv6 link-local address on interface " + std::to_string(index);
  const StateCheck<netlink::Address> usable = [index](netlink::Socket& socket) -> Result<std::optional<netlink::Address>> {
        auto addresses = netlink::list_addresses(socket, index, true);
        if (!addresses) return addresses.error();
        for (const auto& a : *addresses) {
          if (!a.prefix.v6_address.is_link_local()) continue;
          if (a.dad_failed())
            return Error{"duplicate address detection failed for " + a.prefix.to_string() +
                         ": another host on the LAN uses the same MAC-derived address"};
          if (!a.tentative()) return std::optional(a);
        }
        return std::optional<netlink::Address>();
      };
  co_return co_await wait_until<netlink::Address>(ns, deadline, what, usable);
}

}  // namespace netdhcp

#include <sys/inotify.h>
#include <unistd.h>

namespace netdhcp {

asio::awaitable<Result<netlink::Namespace>> wait_for_namespace(std::string path, TimePoint deadline) {
  // By the time a Join's follow gets here the namespace is nearly always there (in a 20.10
  // storm a few are not yet): no inotify then. Adding a watch on a directory costs the kernel
  // a walk over every dentry it has cached under it, negative ones too
  // (fsnotify_set_children_dentry_flags), and Docker's netns folder collects one per container
  // that ever ran: on a host with a history, that walk was half of the daemon's CPU in a boot
  // storm (perf record, 2026-12-06).
  Result<netlink::Namespace> last = netlink::Namespace::open(path);
  if (last) co_return last;
  auto executor = co_await asio::this_coro::executor;
  UniqueFd watch(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!watch) co_return system_error("inotify_init1", errno);
  std::string directory = path.substr(0, path.rfind('/'));
  // The directory itself may not exist before Docker's first container with a network.
  (void)::inotify_add_watch(watch.get(), directory.c_str(), IN_CREATE | IN_MOVED_TO | IN_ATTRIB);
  // `readable` owns the descriptor once it holds it: closed once, also if the frame is destroyed.
  asio::posix::stream_descriptor readable(executor);
  readable.assign(watch.get());  // (throws, `watch` still owning it, if the reactor cannot take it)
  (void)watch.release();
  Timer timer(executor);
  Duration pending_retry = std::chrono::milliseconds(5);
  while (true) {
    last = netlink::Namespace::open(path);  // again: it may have appeared before the watch
    if (last || Clock::now() >= deadline) break;
    bool exists = last.error().errno_value != ENOENT;
    // File there but not yet a namespace (bind mount pending): retry soon, then less often (a
    // mount that never reaches this mount namespace must not cost 200 wakeups a second).
    // Missing: wait for inotify, with a coarse timer as the backstop.
    Duration pause = exists ? pending_retry : std::chrono::milliseconds(200);
    if (exists) pending_retry = std::min<Duration>(pending_retry * 2, std::chrono::milliseconds(200));
    timer.expires_at(std::min(deadline, Clock::now() + pause));
    if (exists) {
      co_await timer.async_wait(use_awaitable_tuple);
    } else {
      using namespace asio::experimental::awaitable_operators;
      co_await (readable.async_wait(asio::posix::descriptor_base::wait_read, use_awaitable_tuple) ||
                timer.async_wait(use_awaitable_tuple));
      char drain[4096];
      while (::read(readable.native_handle(), drain, sizeof drain) > 0) {
      }
    }
  }
  // Closing an inotify instance waits for an SRCU grace period (fsnotify tears its group down
  // synchronously): 5-25 ms here, which Join, waiting on this event loop for its record, paid in
  // full. The helper thread closes it (src/support/background.hpp).
  close_later(readable.release());
  if (!last) {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
      co_return Error{path + " is there but is not a network namespace (a " + (S_ISREG(st.st_mode) ? "regular" : "special") +
                          " file of " + std::to_string(st.st_size) + " bytes): Docker's namespace mount does not reach "
                          "net-dhcp's mount namespace. Is dockerd in a chroot or a mount namespace of its own? Its "
                          "/run/docker/netns must be a shared mount that the host's /run/docker/netns is a peer of",
                      last.error().errno_value};
  }
  co_return last;
}

}  // namespace netdhcp
