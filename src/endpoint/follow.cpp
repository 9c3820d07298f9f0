// Following an endpoint into its container: after Join, Docker moves the container end into
// the sandbox namespace and renames it; the clients get new sockets there and carry on, the
// container's /proc tells its id and hostname, and its router advertisements the IPv6 prefix.
#include <chrono>

#include "dhcp/router_advert.hpp"
#include "netlink/link.hpp"
#include "src/endpoint/address_plan.hpp"
#include "src/endpoint/container_facts.hpp"
#include "src/endpoint/endpoint.hpp"
#include "src/support/log.hpp"
#include "src/support/reactor_slots.hpp"

namespace netdhcp {

using namespace std::chrono_literals;

// The endpoint stays alive while it follows its interface, even if Docker deletes it meanwhile.
asio::awaitable<void> Endpoint::follow_keeping_alive(std::shared_ptr<Endpoint> self, std::string sandbox_key) {
  bool followed = co_await self->follow(sandbox_key, Clock::now() + self->config_.follow_timeout);
  if (followed || !*self->alive_ || self->left_) co_return;
  // The container runs, but its leases are no longer renewed from inside it: loud, in status
  // ("followed": false, last_error) and in metrics.
  self->warn("not following the container into " + sandbox_key + " after " + seconds_text(self->config_.follow_timeout) + ": " +
             self->follow_error_ + ". Its leases are not renewed from inside the container");
  if (self->metrics_) self->metrics_->follow_failed();
}


namespace {

InterfaceInfo interface_of(const netlink::Link& link) {
  InterfaceInfo info;
  info.name = link.name;
  info.index = link.index;
  info.mac = link.mac;
  info.mtu = link.mtu;
  info.up = link.up();
  return info;
}

}  // namespace


void Endpoint::follow_into(std::string sandbox_key) {
  if (following_) return;
  if (readopting_) {
    // Join came while the re-adoption of this (created, not yet joined) endpoint waits its
    // turn: its clients are not running yet. Follow once they are (end of readopt()).
    phase_ = EndpointPhase::Joined;
    sandbox_key_ = sandbox_key;
    pending_sandbox_ = std::move(sandbox_key);
    save();
    return;
  }
  following_ = true;
  phase_ = EndpointPhase::Joined;
  sandbox_key_ = sandbox_key;
  save();
  spawn(executor_, follow_keeping_alive(shared_from_this(), std::move(sandbox_key)), "following the container",
        failure_handler("following the container"));
}

// Docker moves the container end into the sandbox and renames it after Join returns. Wait for
// it there (by MAC: the name changes), then give the clients new sockets inside; the clients
// themselves carry on in whatever state they are (no new DISCOVER).
asio::awaitable<bool> Endpoint::follow(std::string sandbox_key, TimePoint deadline) {
  auto alive = alive_;
  auto ns = co_await kernel_->wait_for_namespace(sandbox_key, deadline);
  if (!*alive || left_) co_return false;
  if (!ns) {
    follow_error_ = ns.error().message;
    co_return false;
  }
  std::optional<netlink::Link> moved;
  // The rename to eth0 follows the move; wait until the interface has its final name and is
  // operationally up again. Docker sets it down while it configures it (libnetwork's
  // AddInterface), and after it sets it up the kernel drops every frame until its link watch
  // has activated the queue, which it reports with operstate UP: a renewal sent in between
  // is lost without an error.
  ContainerNamespace* inside = ns->get();
  // A dump of the namespace's links waits for RTNL on many kernels: off the event loop.
  Result<std::vector<netlink::Link>> links = Error{"not listed"};
  const std::function<void()> list_links = [inside, &links] { links = inside->links(); };
  while (Clock::now() < deadline && *alive && !left_) {
    co_await kernel_->in_background(list_links);
    if (!*alive || left_) break;
    if (links) {
      for (const auto& l : *links)
        if (l.mac == config_.mac && l.name.rfind(config_.options.interface_prefix, 0) == 0 && l.up() &&
            l.operstate == 6 /* IF_OPER_UP */)
          moved = l;
    }
    if (moved) break;
    // Wake on the next link event in the namespace (or after 50 ms at most), then look again.
    co_await (*ns)->wait_for_link_event(std::min(deadline, Clock::now() + 50ms));
  }
  if (!*alive || left_) co_return false;
  if (!moved) {
    follow_error_ = "the interface with MAC " + config_.mac.to_string() + " did not come up under the name " +
                    config_.options.interface_prefix + "N in " + sandbox_key;
    co_return false;
  }
  followed_ = true;
  follow_error_.clear();
  netns_ = std::move(*ns);
  container_index_ = moved->index;
  interface_name_ = moved->name;
  InterfaceInfo inside_info = interface_of(*moved);
  if (client4_) {
    auto packet = netns_->open_dhcp4(inside_info);
    if (!packet) fail("DHCPv4 socket in the container: " + packet.error().message);
    else start_v4(std::move(*packet));
  }
  if (client6_) {
    // Not waiting for DAD (~2 s in a new namespace): a quick `docker rm` must still get its
    // RELEASE out. The link-local address appears with the link; give it a moment to exist.
    auto udp = netns_->open_dhcp6(inside_info, Clock::now() + 200ms, /*while_tentative=*/true);
    if (!udp) fail("DHCPv6 socket in the container: " + udp.error().message);
    else start_v6(std::move(*udp));
    // The on-link prefix length comes from the router's advertisements. The host may not
    // know it (with IPv6 forwarding on, as Docker sets it for IPv6 networks, the host ignores
    // RAs), so listen in the container, whose kernel solicits one when its link comes up.
    auto ra = netns_->open_router_advertisements(container_index_);
    if (!ra) warn("cannot listen for router advertisements: " + ra.error().message);
    else spawn(executor_, watch_router_advertisements(std::move(*ra)), "reading router advertisements",
               failure_handler("reading router advertisements"));
  }
  log::info(log_prefix() + "following the leases inside the container as " + moved->name);
  co_await learn_container();
  co_return true;
}

// Reads router advertisements in the container until the endpoint leaves; an on-link prefix
// that holds the DHCPv6 address gives that address its prefix length.
asio::awaitable<void> Endpoint::watch_router_advertisements(UniqueFd socket) {
  auto alive = alive_;
  ReactorSlot slot(executor_);  // (src/support/reactor_slots.hpp)
  asio::posix::stream_descriptor readable(executor_, socket.release());
  ra_watch_ = &readable;
  while (true) {
    auto [ec] = co_await readable.async_wait(asio::posix::descriptor_base::wait_read, use_awaitable_tuple);
    if (!*alive) co_return;  // the endpoint is gone: touch nothing of it
    if (ec || left_) break;
    while (auto ra = read_router_advertisement(readable.native_handle())) {
      if (!router_advertisement_origin_valid(ra->source, ra->hop_limit)) continue;  // RFC 4861 6.1.2
      auto prefixes = parse_router_advertisement(ra->icmp);
      if (!prefixes || !lease6_) continue;
      for (const auto& p : *prefixes)
        if (prefix_contains(p, lease6_->address) && p.length != prefix6_) use_on_link_prefix(p.length);
    }
  }
  ra_watch_ = nullptr;
}

void Endpoint::use_on_link_prefix(int length) {
  int old = prefix6_;
  prefix6_ = length;
  if (!netns_ || !lease6_) return;
  apply(plan_prefix6(lease6_->address, old, length));
  log::info(log_prefix() + "on-link prefix from the router's advertisement: " + lease6_->address.to_string() + "/" +
            std::to_string(length));
  save();
}

// Docker tells network drivers neither the container's id nor its hostname, but once the
// container's first process runs in the sandbox namespace both can be read from /proc (its
// cgroup, its /etc/hostname). The clients then renew at once with the hostname, so the
// server's lease carries the name.
asio::awaitable<void> Endpoint::learn_container() {
  auto alive = alive_;
  Timer retry(executor_);
  TimePoint deadline = Clock::now() + 5s;
  std::optional<ContainerFacts> facts;
  // Each look is a scan of /proc: start quickly (the container's process usually runs within
  // a few ms of the follow), then back off, so a container that never starts costs ~10 scans.
  Duration pause = 10ms;
  // A scan of /proc (tens of ms on a busy host, in getdents): off the event loop.
  const std::function<void()> look = [ns = netns_.get(), &facts, known = container_id_] {
    facts = ns->container_facts(known);
  };
  while (!facts && Clock::now() < deadline && *alive && !left_) {
    co_await kernel_->in_background(look);
    if (!*alive || left_) co_return;
    if (!facts) {
      retry.expires_after(pause);
      co_await retry.async_wait(use_awaitable_tuple);
      pause = std::min<Duration>(pause * 2, 640ms);
    }
  }
  if (!facts || !*alive || left_) co_return;
  // The scan prefers the container already known (a re-adopted endpoint's) over another that
  // shares the namespace (--network container:NAME): another id means the known one's
  // processes are gone from the namespace, so that id was stale (an older version's record).
  bool learnt_id = !facts->id.empty() && facts->id != container_id_;
  if (learnt_id) container_id_ = facts->id;
  if (!config_.endpoint_options.hostname.empty()) {  // hostname= wins over the container's
    if (learnt_id) save();
    co_return;
  }
  if (!facts->hostname_problem.empty()) {
    warn("the container's " + facts->hostname_problem + ": not sent to the DHCP server" +
         (config_.options.hostname.empty() ? std::string() : " (it keeps -o hostname=" + config_.options.hostname + ")"));
    if (learnt_id) save();
    co_return;
  }
  const std::string& hostname = facts->hostname;
  if (hostname == hostname_sent_ || (hostname_sent_.empty() && hostname == config_.options.hostname)) {
    if (learnt_id) save();
    co_return;
  }
  hostname_sent_ = hostname;
  TimePoint now = Clock::now();
  if (client4_) {
    client4_->set_hostname(hostname);
    client4_->renew(now);
    if (wire4_) wire4_->session->wake();
  }
  if (client6_) {
    client6_->set_fqdn(hostname);
    client6_->renew(now);
    if (wire6_) wire6_->session->wake();
  }
  log::info(log_prefix() + "container hostname " + hostname + " sent to the DHCP server");
  save();
}

}  // namespace netdhcp
