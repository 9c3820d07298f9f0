// Re-adoption: after a restart (SIGTERM, kill -9, an upgrade) an endpoint carries on from its
// record: its clients resume the saved leases, in the container if it still runs, or the
// leases are released and the links removed.
#include <chrono>

#include "netdhcp/scope_exit.hpp"
#include "src/endpoint/endpoint.hpp"
#include "src/support/log.hpp"

namespace netdhcp {

using namespace std::chrono_literals;

asio::awaitable<bool> Endpoint::readopt(EndpointRecord record, Duration delay) {
  auto alive = alive_;
  // What the record says decides the path: a Join during the wait below changes phase_.
  const EndpointPhase recorded = record.phase;
  readopting_ = true;
  ScopeExit done([this, alive] {
    if (*alive) readopting_ = false;
  });
  phase_ = record.phase;
  sandbox_key_ = record.sandbox_key;
  hostname_sent_ = record.hostname;
  container_id_ = record.container_id;
  interface_name_ = record.interface;
  lease4_ = record.lease4;
  lease6_ = record.lease6;
  prefix6_ = record.prefix6;
  attachment_->adopt();  // whatever of the links still exists is ours
  make_clients(config_.bridge_mtu);
  if (phase_ == EndpointPhase::Left) {
    // Released already; the daemon died before DeleteEndpoint removed the links.
    left_ = true;
    remove();
    co_return false;
  }
  if (phase_ == EndpointPhase::Creating) {
    // Docker never got this endpoint: the daemon died inside CreateEndpoint.
    log::info(log_prefix() + "CreateEndpoint was cut short by a restart: removing what it made");
    discard();
    co_return false;
  }
  if (delay > Duration::zero()) {
    Timer wait(executor_);
    wait.expires_after(delay);
    co_await wait.async_wait(use_awaitable_tuple);
    if (!*alive) co_return false;
    // Left meanwhile (a Leave; DeleteEndpoint follows): kept for DeleteEndpoint to remove the
    // links; dropped here, that DeleteEndpoint would find nothing and the veth would stay.
    if (left_) co_return true;
  }
  std::function<void()> resume = [this] {  // not a lambda type: it lives in the coroutine frame
    TimePoint now = Clock::now();
    if (client4_) {
      if (lease4_) client4_->resume(*lease4_, now);
      else client4_->start(now);
    }
    if (client6_) {
      if (lease6_) client6_->resume(*lease6_, now);
      else client6_->start(now);
    }
  };
  if (recorded == EndpointPhase::Created) {
    // Between CreateEndpoint and Join: the container end is still here, Docker will Join it
    // or delete it (or has joined it while this waited: then follow it now).
    auto container = kernel_->query_interface(container_end());
    if (!container && pending_sandbox_.empty()) {
      discard();
      co_return false;
    }
    if (!container) {
      // Joined while this waited, and Docker has moved the interface into the container
      // already (it does so as soon as Join returns): the clients get their sockets there.
      resume();
      log::info(log_prefix() + "re-adopted, joined meanwhile: following it into " + pending_sandbox_);
      readopting_ = false;
      follow_into(std::exchange(pending_sandbox_, std::string()));
      co_return true;
    }
    std::unique_ptr<Dhcp4Socket> packet;
    if (client4_) {
      auto opened = kernel_->open_dhcp4(*container);
      if (!opened) {
        fail("re-adopting: " + opened.error().message);
        discard();
        co_return false;
      }
      packet = std::move(*opened);
    }
    resume();
    if (packet) start_v4(std::move(packet));
    if (client6_) {
      if (auto udp = kernel_->open_dhcp6(*container, Clock::now(), /*while_tentative=*/true))
        start_v6(std::move(*udp));
      else warn("re-adopting, DHCPv6: " + udp.error().message);
    }
    log::info(log_prefix() + "re-adopted before Join, " +
              (lease4_ ? lease4_->address.to_string() : lease6_ ? lease6_->address.to_string() : std::string("no lease")));
    readopting_ = false;
    if (!pending_sandbox_.empty()) follow_into(std::exchange(pending_sandbox_, std::string()));
    co_return true;
  }
  // Joined: the container's namespace must still be there, with our interface in it.
  resume();
  // The states the clients resumed in (a renewal already due: RENEWING or REBINDING), for the
  // log line below: by the time follow() returns they may have renewed already.
  std::string states;
  if (client4_) states = "DHCPv4 " + state4() + (lease4_ ? " " + lease4_->address.to_string() : std::string());
  if (client6_) states += (states.empty() ? "DHCPv6 " : ", DHCPv6 ") + state6();
  following_ = true;
  bool inside = false;  // (no co_await inside &&: GCC 12 fails on it)
  if (kernel_->namespace_exists(sandbox_key_)) inside = co_await follow(sandbox_key_, Clock::now() + 2s);
  if (!*alive) co_return false;
  if (left_) co_return true;  // left meanwhile: DeleteEndpoint removes it (see above)
  if (!inside) {
    log::info(log_prefix() + "its container is gone (" + sandbox_key_ + "): releasing the lease");
    discard();
    co_return false;
  }
  // The address stays as it is when it matches the lease; one lost meanwhile comes back.
  if (lease4_) apply4(std::nullopt, lease4_);
  if (lease6_) apply6(std::nullopt, lease6_);
  log::info(log_prefix() + "re-adopted in " + sandbox_key_ + ": resumed " + states);
  if (metrics_) metrics_->readopted();
  save();
  co_return true;
}

// Releases the recorded leases from wherever the LAN can still be reached (the container
// end while it is in the host namespace, else the bridge itself, with the container's MAC as
// the source) and removes the links.
void Endpoint::discard() {
  // Wires stopped by a failed follow() are replaced; queued renewals are dropped: only the
  // RELEASE goes out.
  auto [v4, v6] = take_up_for_release();
  wire_for_release(v4, v6);
  remove();
}

std::pair<bool, bool> Endpoint::take_up_for_release() {
  TimePoint now = Clock::now();
  bool v4 = client4_ && lease4_ && now < lease4_->expires_at();
  bool v6 = client6_ && lease6_ && now < lease6_->expires_at();
  if (v4) {
    client4_->resume(*lease4_, now);
    while (client4_->pop_transmit()) {}
    while (client4_->pop_event()) {}
  }
  if (v6) {
    client6_->resume(*lease6_, now);
    while (client6_->pop_transmit()) {}
    while (client6_->pop_event()) {}
  }
  return {v4, v6};
}

}  // namespace netdhcp
