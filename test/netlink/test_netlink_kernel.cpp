// netlink/ against the real kernel, as root, inside network namespaces that each test creates
// (Namespace::create: anonymous, gone when the last handle closes, also when a test fails).
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "netlink/address.hpp"
#include "netlink/events.hpp"
#include "netlink/link.hpp"
#include "netlink/namespace.hpp"
#include "netlink/route.hpp"
#include "src/endpoint/veth_attachment.hpp"
#include "src/transport/netlink_wait.hpp"
#include "test/unit/open_files_limit.hpp"

using namespace netdhcp;
using namespace netdhcp::netlink;
using namespace std::chrono_literals;

namespace {

Ipv4Address v4(const char* t) { return *Ipv4Address::parse(t); }
Ipv6Address v6(const char* t) { return *Ipv6Address::parse(t); }

// A fresh namespace and a socket inside it.
struct Lab {
  Namespace ns = Namespace::create().value();
  Socket socket = inside(ns, [] { return Socket::open(); }).value();
};

int open_fd_count() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (auto* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

VethSpec veth(std::string a, std::string b) {
  VethSpec s;
  s.name = std::move(a);
  s.peer_name = std::move(b);
  return s;
}

}  // namespace

// A veth pair whose peer is created directly in another namespace, with MACs and MTU.
TEST_CASE("veth across namespaces", "[netlink][kernel]") {
  Lab a, b;
  VethSpec spec = veth("nd-a", "nd-b");
  spec.mac = *MacAddress::parse("02:00:00:00:aa:01");
  spec.peer_mac = *MacAddress::parse("02:00:00:00:aa:02");
  spec.mtu = 1400;
  spec.peer_namespace_fd = b.ns.fd().get();
  REQUIRE(create_veth(a.socket, spec).ok());
  auto here = find_link(a.socket, "nd-a");
  REQUIRE(here.ok());
  CHECK(here->kind == "veth");
  CHECK(here->mac == *spec.mac);
  CHECK(here->mtu == 1400);
  auto there = find_link(b.socket, "nd-b");
  REQUIRE(there.ok());
  CHECK(there->mac == *spec.peer_mac);
  CHECK_FALSE(find_link(a.socket, "nd-b").ok());
}

// Enslave to a bridge, change MAC, MTU, name, up/down, move to another namespace, delete.
TEST_CASE("link changes", "[netlink][kernel]") {
  Lab lab, other;
  REQUIRE(create_bridge(lab.socket, "nd-br").ok());
  REQUIRE(create_veth(lab.socket, veth("nd-x", "nd-y")).ok());
  auto bridge = find_link(lab.socket, "nd-br").value();
  CHECK(bridge.kind == "bridge");
  auto x = find_link(lab.socket, "nd-x").value();
  REQUIRE(set_master(lab.socket, x, bridge.index).ok());
  CHECK(find_link(lab.socket, x.index)->master == bridge.index);
  REQUIRE(set_master(lab.socket, x, 0).ok());
  CHECK(find_link(lab.socket, x.index)->master == 0);
  REQUIRE(set_mac(lab.socket, x, *MacAddress::parse("02:00:00:00:bb:01")).ok());
  REQUIRE(set_mtu(lab.socket, x, 1280).ok());
  REQUIRE(set_name(lab.socket, x, "nd-renamed").ok());
  REQUIRE(set_up(lab.socket, x, true).ok());
  auto renamed = find_link(lab.socket, "nd-renamed").value();
  CHECK(renamed.index == x.index);
  CHECK(renamed.mac.to_string() == "02:00:00:00:bb:01");
  CHECK(renamed.mtu == 1280);
  CHECK(renamed.up());
  REQUIRE(set_up(lab.socket, renamed, false).ok());
  CHECK_FALSE(find_link(lab.socket, x.index)->up());
  REQUIRE(move_to_namespace(lab.socket, renamed, other.ns.fd()).ok());
  CHECK_FALSE(find_link(lab.socket, "nd-renamed").ok());
  auto moved = find_link(other.socket, "nd-renamed");
  REQUIRE(moved.ok());
  REQUIRE(delete_link(other.socket, *moved).ok());
  CHECK_FALSE(find_link(other.socket, "nd-renamed").ok());
  // Deleting one end of a veth removes its peer too.
  CHECK_FALSE(find_link(lab.socket, "nd-y").ok());
}

// A link set up and down by its name (index 0 and IFLA_IFNAME: the kernel finds it), as
// VethAttachment does the container end: no lookup first.
TEST_CASE("a link set up by its name", "[netlink][kernel]") {
  Lab lab;
  REQUIRE(create_veth(lab.socket, veth("nd-h", "nd-c")).ok());
  CHECK_FALSE(find_link(lab.socket, "nd-c")->up());
  REQUIRE(set_up(lab.socket, std::string("nd-c"), true).ok());
  CHECK(find_link(lab.socket, "nd-c")->up());
  CHECK(find_link(lab.socket, "nd-c")->name == "nd-c");  // not renamed
  REQUIRE(set_up(lab.socket, std::string("nd-c"), false).ok());
  CHECK_FALSE(find_link(lab.socket, "nd-c")->up());
  // A name that is not there: the kernel's ENODEV, with the name.
  auto missing = set_up(lab.socket, std::string("nd-gone"), true);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().errno_value == ENODEV);
  CHECK(missing.error().message == "RTM_NEWLINK nd-gone up: No such device");
  CHECK_FALSE(find_link(lab.socket, "nd-gone").ok());  // and nothing was created
  // The kernel's refusal to bring it up comes back as it is: a macvlan child with its parent's
  // MAC (ChildAttachment turns EADDRINUSE into "MAC ... is in use on parent ...").
  auto parent = find_link(lab.socket, "nd-h").value();
  REQUIRE(create_macvlan(lab.socket, "nd-mv", parent.index, MacvlanMode::Bridge, parent.mac).ok());
  auto busy = set_up(lab.socket, std::string("nd-mv"), true);
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().errno_value == EADDRINUSE);
  CHECK_FALSE(find_link(lab.socket, "nd-mv")->up());
}

// VethAttachment::create as CreateEndpoint runs it (in a namespace of the test's): the host end
// a port of the bridge and up, the container end up with the endpoint's MAC and the bridge's
// MTU. The first veth is looked up and checked; once one came out right, the next are not.
TEST_CASE("veth attachment: a port of the bridge, both ends up", "[netlink][kernel]") {
  Lab lab;
  REQUIRE(create_bridge(lab.socket, "nd-br").ok());
  auto bridge = find_link(lab.socket, "nd-br").value();
  CHECK_FALSE(VethAttachment::kernel_makes_ports_up());  // no veth made by this process yet
  for (std::string id : {std::string(64, 'a'), std::string(64, 'b')}) {
    VethConfig config;
    config.endpoint_id = id;
    config.bridge = "nd-br";
    config.bridge_index = bridge.index;
    config.mtu = 1400;
    config.mac = *MacAddress::parse(id[0] == 'a' ? "02:00:00:00:dd:01" : "02:00:00:00:dd:02");
    VethAttachment attachment(config);
    auto made = inside(lab.ns, [&] { return attachment.create(); });
    REQUIRE(made.ok());
    auto host = find_link(lab.socket, VethAttachment::host_end_of(id)).value();
    CHECK(host.master == bridge.index);
    CHECK(host.up());
    CHECK(host.mtu == 1400);
    auto container = find_link(lab.socket, VethAttachment::container_end_of(id)).value();
    CHECK(container.up());
    CHECK(container.mac == config.mac);
    CHECK(container.mtu == 1400);
    CHECK(container.master == 0);
    CHECK(VethAttachment::kernel_makes_ports_up());
  }
}

// macvlan and ipvlan on a parent link, as the macvlan mode needs: the child names its parent
// (IFLA_LINK) and its mode; deleting it leaves the parent as it was.
TEST_CASE("macvlan and ipvlan", "[netlink][kernel]") {
  Lab lab;
  REQUIRE(create_veth(lab.socket, veth("nd-p", "nd-q")).ok());
  auto before = find_link(lab.socket, "nd-p").value();
  int parent = before.index;
  REQUIRE(create_macvlan(lab.socket, "nd-mv", parent, MacvlanMode::Bridge, *MacAddress::parse("02:00:00:00:cc:01")).ok());
  auto mv = find_link(lab.socket, "nd-mv").value();
  CHECK(mv.kind == "macvlan");
  CHECK(mv.mac.to_string() == "02:00:00:00:cc:01");
  CHECK(mv.link == parent);
  CHECK_FALSE(mv.link_elsewhere);
  REQUIRE(mv.macvlan_mode);
  CHECK(*mv.macvlan_mode == MacvlanMode::Bridge);
  CHECK(find_link(lab.socket, "nd-p")->link == find_link(lab.socket, "nd-q")->index);  // a veth's IFLA_LINK is its peer
  // Each mode is what the child reports; passthru takes the parent's MAC.
  for (auto mode : {MacvlanMode::Private, MacvlanMode::Vepa}) {
    REQUIRE(create_macvlan(lab.socket, "nd-mv2", parent, mode).ok());
    CHECK(*find_link(lab.socket, "nd-mv2")->macvlan_mode == mode);
    REQUIRE(delete_link(lab.socket, find_link(lab.socket, "nd-mv2").value()).ok());
  }
  // passthru needs the parent to itself: refused while another child exists (EINVAL).
  auto passthru = create_macvlan(lab.socket, "nd-pt", parent, MacvlanMode::Passthru);
  REQUIRE_FALSE(passthru.ok());
  CHECK(passthru.error().errno_value == EINVAL);
  // A child moved into another namespace still names its parent, with a namespace id.
  Lab other;
  REQUIRE(move_to_namespace(lab.socket, mv, other.ns.fd()).ok());
  auto moved = find_link(other.socket, "nd-mv").value();
  CHECK(moved.kind == "macvlan");
  CHECK(moved.link_elsewhere);
  REQUIRE_FALSE(create_macvlan(lab.socket, "nd-pt", parent, MacvlanMode::Passthru).ok());  // it is still a child
  REQUIRE(delete_link(other.socket, moved).ok());
  REQUIRE(create_macvlan(lab.socket, "nd-pt", parent, MacvlanMode::Passthru).ok());
  auto pt = find_link(lab.socket, "nd-pt").value();
  CHECK(pt.mac == before.mac);
  CHECK(*pt.macvlan_mode == MacvlanMode::Passthru);
  REQUIRE(delete_link(lab.socket, pt).ok());
  auto after = find_link(lab.socket, "nd-p").value();
  CHECK(after.mac == before.mac);
  CHECK(after.flags == before.flags);
  CHECK(after.promiscuity == before.promiscuity);

  auto ipvlan = create_ipvlan(lab.socket, "nd-iv", parent, IpvlanMode::L2);
  if (!ipvlan.ok() && ipvlan.error().errno_value == EOPNOTSUPP) {
    // Kernels built without CONFIG_IPVLAN (this machine's) say so; the message must be clear.
    WARN("kernel without ipvlan: " << ipvlan.error().message);
    CHECK(ipvlan.error().message == "RTM_NEWLINK ipvlan nd-iv: Operation not supported (kernel: Unknown device type)");
  } else {
    INFO(ipvlan.error().message);
    REQUIRE(ipvlan.ok());
    auto iv = find_link(lab.socket, "nd-iv").value();
    CHECK(iv.kind == "ipvlan");
    CHECK(iv.link == parent);
    CHECK(iv.mac == before.mac);  // every ipvlan child has its parent's MAC
    REQUIRE(iv.ipvlan_mode);
    CHECK(*iv.ipvlan_mode == IpvlanMode::L2);
    // One kind of child per parent: a macvlan child next to an ipvlan one is refused (EBUSY).
    auto mixed = create_macvlan(lab.socket, "nd-mv3", parent, MacvlanMode::Bridge);
    REQUIRE_FALSE(mixed.ok());
    CHECK(mixed.error().errno_value == EBUSY);
  }
}

// A macvlan child on a bridge port or next to one: the kernel refuses (EBUSY), the port says
// what it is enslaved to.
TEST_CASE("a bridge port reports its master's kind, and takes no macvlan child", "[netlink][kernel]") {
  Lab lab;
  REQUIRE(create_bridge(lab.socket, "nd-br").ok());
  REQUIRE(create_veth(lab.socket, veth("nd-port", "nd-peer")).ok());
  auto bridge = find_link(lab.socket, "nd-br").value();
  auto port = find_link(lab.socket, "nd-port").value();
  CHECK(port.slave_kind.empty());
  REQUIRE(set_master(lab.socket, port, bridge.index).ok());
  port = find_link(lab.socket, "nd-port").value();
  CHECK(port.master == bridge.index);
  CHECK(port.slave_kind == "bridge");
  auto child = create_macvlan(lab.socket, "nd-mv", port.index, MacvlanMode::Bridge);
  REQUIRE_FALSE(child.ok());
  CHECK(child.error().errno_value == EBUSY);
  CHECK(child.error().message.rfind("RTM_NEWLINK macvlan nd-mv: Device or resource busy", 0) == 0);
}

// One RTM_NEWLINK makes the pair with one end already a bridge port and up, the peer down; with
// a bridge that is not there, nothing is made and the error names the bridge's index.
TEST_CASE("a veth created as a bridge port, up", "[netlink][kernel]") {
  Lab lab;
  REQUIRE(create_bridge(lab.socket, "nd-br").ok());
  auto bridge = find_link(lab.socket, "nd-br").value();
  VethSpec spec = veth("nd-port", "nd-peer");
  spec.master_index = bridge.index;
  spec.up = true;
  REQUIRE(create_veth(lab.socket, spec).ok());
  auto port = find_link(lab.socket, "nd-port").value();
  CHECK(port.master == bridge.index);
  CHECK(port.up());
  CHECK_FALSE(port.running());  // no carrier until the peer is up
  auto peer = find_link(lab.socket, "nd-peer").value();
  CHECK(peer.master == 0);
  CHECK_FALSE(peer.up());

  VethSpec orphan = veth("nd-orph", "nd-orph2");
  orphan.master_index = bridge.index + 1000;
  orphan.up = true;
  auto refused = create_veth(lab.socket, orphan);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("RTM_NEWLINK veth nd-orph (on the bridge with index " +
                                     std::to_string(bridge.index + 1000) + "): ") == 0);
  CHECK_FALSE(find_link(lab.socket, "nd-orph").ok());
  CHECK_FALSE(find_link(lab.socket, "nd-orph2").ok());
}

// 802.1q: NAME.VID on a parent where the kernel has it (module 8021q); here the kernel has not,
// and says so in the words CreateNetwork turns into "the kernel has no 802.1q VLAN support".
TEST_CASE("802.1q sub-interfaces", "[netlink][kernel]") {
  Lab lab;
  REQUIRE(create_veth(lab.socket, veth("nd-p", "nd-q")).ok());
  int parent = find_link(lab.socket, "nd-p")->index;
  auto vlan = create_vlan(lab.socket, "nd-p.10", parent, 10);
  if (!vlan.ok() && vlan.error().errno_value == EOPNOTSUPP) {
    WARN("kernel without 802.1q: " << vlan.error().message);
    CHECK(vlan.error().message == "RTM_NEWLINK vlan nd-p.10: Operation not supported (kernel: Unknown device type)");
  } else {
    INFO(vlan.error().message);
    REQUIRE(vlan.ok());
    auto link = find_link(lab.socket, "nd-p.10").value();
    CHECK(link.kind == "vlan");
    CHECK(link.link == parent);
    CHECK(link.vlan_id == 10);
    CHECK_FALSE(link.up());
    REQUIRE(create_macvlan(lab.socket, "nd-mv", link.index, MacvlanMode::Bridge).ok());
    REQUIRE(delete_link(lab.socket, link).ok());
    CHECK_FALSE(find_link(lab.socket, "nd-mv").ok());  // its children go with it
  }
}

// The kernel's errors come back with the operation, the object and the errno text.
TEST_CASE("error messages name the operation and the problem", "[netlink][kernel]") {
  Lab lab;
  REQUIRE(create_veth(lab.socket, veth("nd-dup", "nd-dup2")).ok());
  auto again = create_veth(lab.socket, veth("nd-dup", "nd-other"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message.rfind("RTM_NEWLINK veth nd-dup: File exists", 0) == 0);
  CHECK(again.error().errno_value == EEXIST);

  auto missing = find_link(lab.socket, "nd-missing");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "RTM_GETLINK nd-missing: No such device");
  CHECK(missing.error().errno_value == ENODEV);

  AddressSpec bad;
  bad.index = 999999;
  bad.prefix = IpPrefix::from_v4(v4("198.18.0.5"), 24);
  auto no_link = add_address(lab.socket, bad);
  REQUIRE_FALSE(no_link.ok());
  CHECK(no_link.error().message.rfind("RTM_NEWADDR 198.18.0.5/24: No such device", 0) == 0);

  bad.index = find_link(lab.socket, "nd-dup")->index;
  bad.prefix = IpPrefix::from_v4(v4("198.18.0.5"), 33);
  auto invalid = add_address(lab.socket, bad);
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().errno_value == EINVAL);
  CHECK(invalid.error().message.find("Invalid argument") != std::string::npos);
  INFO(invalid.error().message);
  // The kernel explains itself through extended ACK where it can:
  CHECK(invalid.error().message.find("(kernel: ") != std::string::npos);
}

// Addresses: IPv4 with broadcast and lifetimes, replaced; IPv6 without DAD; deleted.
TEST_CASE("addresses", "[netlink][kernel]") {
  Lab lab;
  REQUIRE(create_veth(lab.socket, veth("nd-e", "nd-f")).ok());
  auto e = find_link(lab.socket, "nd-e").value();
  REQUIRE(set_up(lab.socket, e, true).ok());
  AddressSpec a4;
  a4.index = e.index;
  a4.prefix = IpPrefix::from_v4(v4("198.18.0.5"), 24);
  a4.broadcast = v4("198.18.0.255");
  a4.valid_lifetime = 600;
  a4.preferred_lifetime = 300;
  REQUIRE(add_address(lab.socket, a4).ok());
  CHECK_FALSE(add_address(lab.socket, a4).ok());  // exclusive
  auto list = list_addresses(lab.socket, e.index, false).value();
  REQUIRE(list.size() == 1);
  CHECK(list[0].prefix == a4.prefix);
  CHECK(list[0].valid_lifetime <= 600);
  CHECK(list[0].valid_lifetime > 590);
  a4.valid_lifetime = 3600;
  a4.preferred_lifetime = 3600;
  REQUIRE(replace_address(lab.socket, a4).ok());
  CHECK(list_addresses(lab.socket, e.index, false)->at(0).valid_lifetime > 3500);

  AddressSpec a6;
  a6.index = e.index;
  a6.prefix = IpPrefix::from_v6(v6("fd00:18::5"), 64);
  a6.nodad = true;
  a6.noprefixroute = true;
  REQUIRE(add_address(lab.socket, a6).ok());
  auto list6 = list_addresses(lab.socket, e.index, true).value();
  auto it = std::find_if(list6.begin(), list6.end(), [&](const Address& a) { return a.prefix == a6.prefix; });
  REQUIRE(it != list6.end());
  CHECK_FALSE(it->tentative());
  CHECK(it->flags & IFA_F_NOPREFIXROUTE);

  REQUIRE(delete_address(lab.socket, e.index, a4.prefix).ok());
  CHECK(list_addresses(lab.socket, e.index, false)->empty());
  CHECK_FALSE(delete_address(lab.socket, e.index, a4.prefix).ok());
}

// Routes: on-link (scope link), default via a gateway, replaced with a metric, IPv6, deleted.
TEST_CASE("routes", "[netlink][kernel]") {
  Lab lab;
  REQUIRE(create_veth(lab.socket, veth("nd-r", "nd-s")).ok());
  auto r = find_link(lab.socket, "nd-r").value();
  REQUIRE(set_up(lab.socket, r, true).ok());
  REQUIRE(set_up(lab.socket, find_link(lab.socket, "nd-s").value(), true).ok());

  RouteSpec onlink;
  onlink.destination = IpPrefix::from_v4(v4("198.18.0.0"), 24);
  onlink.oif = r.index;
  onlink.link_scope = true;
  REQUIRE(add_route(lab.socket, onlink).ok());

  RouteSpec def;
  def.destination = IpPrefix::from_v4({}, 0);
  def.gateway4 = v4("198.18.0.2");
  def.oif = r.index;
  REQUIRE(add_route(lab.socket, def).ok());
  CHECK_FALSE(add_route(lab.socket, def).ok());  // exclusive
  def.gateway4 = v4("198.18.0.1");
  REQUIRE(replace_route(lab.socket, def).ok());  // same key (destination, metric): new gateway
  // The metric is part of an IPv4 route's key: another metric is another route.
  RouteSpec backup = def;
  backup.metric = 50;
  REQUIRE(add_route(lab.socket, backup).ok());

  // A gateway outside every connected prefix needs RTNH_F_ONLINK (DHCP option 121 allows it),
  // and the kernel accepts that only once the device has an IPv4 address.
  RouteSpec far;
  far.destination = IpPrefix::from_v4(v4("198.19.5.0"), 24);
  far.gateway4 = v4("198.19.255.1");
  far.oif = r.index;
  far.onlink_gateway = true;
  auto refused = add_route(lab.socket, far);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message ==
        "RTM_NEWROUTE 198.19.5.0/24 via 198.19.255.1: Invalid argument (kernel: Nexthop has invalid gateway)");
  AddressSpec own;
  own.index = r.index;
  own.prefix = IpPrefix::from_v4(v4("198.18.0.5"), 24);
  REQUIRE(add_address(lab.socket, own).ok());
  far.onlink_gateway = false;
  CHECK_FALSE(add_route(lab.socket, far).ok());  // not reachable without on-link
  far.onlink_gateway = true;
  auto onlink_added = add_route(lab.socket, far);
  INFO(onlink_added.error().message);
  REQUIRE(onlink_added.ok());

  auto routes = list_routes(lab.socket, false).value();
  auto find = [&](const IpPrefix& d) {
    return std::find_if(routes.begin(), routes.end(), [&](const Route& x) { return x.destination == d; });
  };
  auto defaults = std::count_if(routes.begin(), routes.end(), [](const Route& x) { return x.destination.prefix_length == 0; });
  CHECK(defaults == 2);
  auto d = find(def.destination);
  REQUIRE(d != routes.end());
  CHECK(d->gateway4 == v4("198.18.0.1"));
  CHECK(d->metric == 0);
  CHECK(d->oif == r.index);
  CHECK(d->protocol == RTPROT_BOOT);
  auto l = find(onlink.destination);
  REQUIRE(l != routes.end());
  CHECK(l->scope == RT_SCOPE_LINK);
  CHECK_FALSE(l->gateway4);

  RouteSpec def6;
  def6.destination = IpPrefix::from_v6({}, 0);
  def6.gateway6 = v6("fe80::1");
  def6.oif = r.index;
  REQUIRE(add_route(lab.socket, def6).ok());
  auto routes6 = list_routes(lab.socket, true).value();
  CHECK(std::any_of(routes6.begin(), routes6.end(), [&](const Route& x) {
    return x.destination.prefix_length == 0 && x.gateway6 == v6("fe80::1");
  }));
  REQUIRE(delete_route(lab.socket, def).ok());
  REQUIRE(delete_route(lab.socket, backup).ok());
  routes = list_routes(lab.socket, false).value();
  CHECK(find(def.destination) == routes.end());
  CHECK_FALSE(delete_route(lab.socket, def).ok());
}

// Link and address events arrive on a subscription opened inside the namespace.
TEST_CASE("link and address events", "[netlink][kernel]") {
  Lab lab;
  auto subscription = inside(lab.ns, [] { return Subscription::open(); });
  REQUIRE(subscription.ok());
  REQUIRE(create_veth(lab.socket, veth("nd-ev", "nd-ev2")).ok());
  auto link = find_link(lab.socket, "nd-ev").value();
  AddressSpec a;
  a.index = link.index;
  a.prefix = IpPrefix::from_v4(v4("198.18.0.9"), 24);
  REQUIRE(add_address(lab.socket, a).ok());
  REQUIRE(delete_link(lab.socket, link).ok());
  auto events = subscription->read();
  REQUIRE(events.ok());
  bool created = false, addressed = false, removed = false;
  for (const auto& e : *events) {
    if (auto* l = std::get_if<LinkEvent>(&e)) {
      if (l->link.name == "nd-ev" && !l->removed) created = true;
      if (l->link.name == "nd-ev" && l->removed) removed = true;
    } else if (auto* ad = std::get_if<AddressEvent>(&e)) {
      if (ad->address.prefix == a.prefix && !ad->removed) addressed = true;
    }
  }
  CHECK(created);
  CHECK(addressed);
  CHECK(removed);
  CHECK(subscription->read()->empty());  // drained, and read() does not block
}

// "Wait until interface X exists in namespace N" as an awaited event, with a deadline.
TEST_CASE("wait_for_link", "[netlink][kernel][asio]") {
  Lab lab;
  asio::io_context io;
  std::optional<Result<Link>> found;
  // A coroutine lambda must outlive its coroutine: name it, do not pass a temporary.
  auto wait_late = [&]() -> asio::awaitable<void> {
    found = co_await wait_for_link(lab.ns, "nd-late", Clock::now() + 5s);
  };
  asio::co_spawn(io, wait_late(), asio::detached);
  Timer later(io);
  later.expires_after(100ms);
  later.async_wait([&](auto) { REQUIRE(create_veth(lab.socket, veth("nd-late", "nd-late2")).ok()); });
  io.run();
  REQUIRE(found);
  INFO((found->ok() ? std::string() : found->error().message));
  REQUIRE(found->ok());
  CHECK((*found)->name == "nd-late");

  io.restart();
  std::optional<Result<Link>> never;
  auto wait_never = [&]() -> asio::awaitable<void> {
    never = co_await wait_for_link(lab.ns, "nd-never", Clock::now() + 200ms);
  };
  asio::co_spawn(io, wait_never(), asio::detached);
  io.run();
  REQUIRE(never);
  REQUIRE_FALSE(never->ok());
  CHECK(never->error().message.find("interface nd-never did not appear within") == 0);
}

// "Wait until the IPv6 link-local address is no longer tentative": real DAD on a live veth.
TEST_CASE("wait_for_link_local through duplicate address detection", "[netlink][kernel][asio]") {
  Lab lab;
  REQUIRE(create_veth(lab.socket, veth("nd-dad", "nd-dad2")).ok());
  REQUIRE(set_interface_sysctl(lab.ns, "ipv6", "nd-dad", "accept_dad", "1").ok());
  auto link = find_link(lab.socket, "nd-dad").value();
  REQUIRE(set_up(lab.socket, find_link(lab.socket, "nd-dad2").value(), true).ok());
  REQUIRE(set_up(lab.socket, link, true).ok());
  // Right after link up the address is tentative (DAD takes about a second).
  asio::io_context io;
  std::optional<Result<Address>> ready;
  TimePoint start = Clock::now();
  auto wait_ready = [&]() -> asio::awaitable<void> {
    ready = co_await wait_for_link_local(lab.ns, link.index, Clock::now() + 10s);
  };
  asio::co_spawn(io, wait_ready(), asio::detached);
  io.run();
  REQUIRE(ready);
  REQUIRE(ready->ok());
  CHECK((*ready)->prefix.v6_address.is_link_local());
  CHECK_FALSE((*ready)->tentative());
  INFO("DAD took " << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count() << " ms");
  CHECK(Clock::now() - start > 100ms);  // it did wait for DAD, it did not find it ready at once
}

namespace {

// A folder for a namespace to appear in: the bind mount and the folder go, also when a test fails.
struct NetnsFolder {
  std::string dir;
  std::string file;
  NetnsFolder() {
    char tmpl[] = "/tmp/nd-netns-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    REQUIRE(made != nullptr);
    dir = made;
    file = dir + "/late";
  }
  void appear() {
    ::close(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    REQUIRE(::mount("/proc/self/ns/net", file.c_str(), nullptr, MS_BIND, nullptr) == 0);
  }
  ~NetnsFolder() {
    (void)::umount2(file.c_str(), MNT_DETACH);
    (void)::unlink(file.c_str());
    (void)::rmdir(dir.c_str());
  }
};

}  // namespace

// A namespace already there (as a Join's nearly always is) is opened with one descriptor and
// no inotify watch (adding one walks every dentry cached under Docker's netns folder). With the
// descriptor limit set so that exactly one more can be opened, the old way (a watch first)
// failed with EMFILE. A namespace that appears later is still found, through the watch.
TEST_CASE("wait_for_namespace: one already there without a watch, one that appears later", "[netlink][kernel][asio]") {
  auto here = Namespace::current().value();
  asio::io_context io;
  std::optional<Result<Namespace>> found;
  auto wait_present = [&]() -> asio::awaitable<void> {
    found = co_await wait_for_namespace("/proc/self/ns/net", Clock::now() + 5s);
  };
  {
    test::OpenFilesLimit one_more(1);
    asio::co_spawn(io, wait_present(), asio::detached);
    io.run();
  }
  INFO("no answer: the wait threw, having needed a second descriptor");
  REQUIRE(found);
  INFO((found->ok() ? std::string() : found->error().message));
  REQUIRE(found->ok());
  CHECK((*found)->same_as(here));

  NetnsFolder folder;
  io.restart();
  std::optional<Result<Namespace>> late;
  auto wait_late = [&]() -> asio::awaitable<void> {
    late = co_await wait_for_namespace(folder.file, Clock::now() + 5s);
  };
  asio::co_spawn(io, wait_late(), asio::detached);
  Timer later(io);
  later.expires_after(100ms);
  later.async_wait([&](auto) { folder.appear(); });
  io.run();
  REQUIRE(late);
  INFO((late->ok() ? std::string() : late->error().message));
  REQUIRE(late->ok());
  CHECK((*late)->same_as(here));
}

// Identity by device and inode; opening something that is not a namespace fails clearly;
// Enter always returns the thread to where it was.
TEST_CASE("namespace handles", "[netlink][kernel]") {
  auto here = Namespace::current().value();
  auto again = Namespace::open("/proc/self/ns/net").value();
  CHECK(here.same_as(again));
  auto fresh = Namespace::create().value();
  CHECK_FALSE(fresh.same_as(here));
  {
    Enter enter(fresh);
    REQUIRE(enter.ok());
    CHECK(Namespace::current()->same_as(fresh));
  }
  CHECK(Namespace::current()->same_as(here));
  auto not_ns = Namespace::open("/proc/self/ns/uts");
  REQUIRE_FALSE(not_ns.ok());
  CHECK(not_ns.error().message == "/proc/self/ns/uts is not a network namespace");
  auto gone = Namespace::open("/var/run/docker/netns/does-not-exist");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().message.find("does not exist") != std::string::npos);
}

// Per-interface sysctls are written inside the namespace, not the host's.
TEST_CASE("interface sysctl inside a namespace", "[netlink][kernel]") {
  Lab lab;
  REQUIRE(create_veth(lab.socket, veth("nd-sys", "nd-sys2")).ok());
  REQUIRE(set_interface_sysctl(lab.ns, "ipv6", "nd-sys", "accept_ra", "0").ok());
  std::string value;
  {
    Enter enter(lab.ns);
    std::ifstream in("/proc/sys/net/ipv6/conf/nd-sys/accept_ra");
    in >> value;
  }
  CHECK(value == "0");
  auto missing = set_interface_sysctl(lab.ns, "ipv6", "nd-nope", "accept_ra", "0");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("/proc/sys/net/ipv6/conf/nd-nope/accept_ra") != std::string::npos);
}

// 1,000 create/look-up/delete cycles, each with its own socket: no descriptor leaks.
TEST_CASE("1000 create/delete cycles leak no descriptors", "[netlink][kernel][soak]") {
  auto ns = Namespace::create().value();
  int before = open_fd_count();
  for (int i = 0; i < 1000; ++i) {
    auto socket = inside(ns, [] { return Socket::open(); });
    REQUIRE(socket.ok());
    REQUIRE(create_veth(*socket, veth("nd-c", "nd-d")).ok());
    auto link = find_link(*socket, "nd-c");
    REQUIRE(link.ok());
    REQUIRE(delete_link(*socket, *link).ok());
    // Error paths must not leak either.
    CHECK_FALSE(find_link(*socket, "nd-c").ok());
  }
  CHECK(open_fd_count() == before);
}

// A request the kernel never answers (no NLM_F_REQUEST: netlink_rcv_skb skips it without an
// ACK) returns an error naming it after the reply timeout, instead of blocking forever.
TEST_CASE("a request without an answer times out", "[netlink][kernel]") {
  Lab lab;
  Request silent;
  silent.what = "RTM_GETLINK (never answered)";
  silent.bytes.resize(NLMSG_LENGTH(sizeof(ifinfomsg)));
  auto* h = reinterpret_cast<nlmsghdr*>(silent.bytes.data());
  h->nlmsg_len = static_cast<std::uint32_t>(silent.bytes.size());
  h->nlmsg_type = RTM_GETLINK;
  h->nlmsg_flags = 0;
  lab.socket.set_reply_timeout(200ms);
  auto started = std::chrono::steady_clock::now();
  auto r = lab.socket.query(silent, [](const nlmsghdr*) {});
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().errno_value == ETIMEDOUT);
  CHECK(r.error().message == "RTM_GETLINK (never answered): no answer from the kernel within 200 ms");
  CHECK(took >= 200ms);
  CHECK(took < 2s);
  // The socket still works afterwards.
  CHECK(find_link(lab.socket, "lo").ok());
}

// A dump that spans many datagrams comes back whole.
TEST_CASE("a dump of 300 links", "[netlink][kernel]") {
  Lab lab;
  for (int i = 0; i < 150; ++i)
    REQUIRE(create_veth(lab.socket, veth("nd-m" + std::to_string(i), "nd-n" + std::to_string(i))).ok());
  auto links = list_links(lab.socket);
  REQUIRE(links.ok());
  CHECK(links->size() == 301);  // with lo
}

// Events the kernel had to drop (the subscriber's queue overflowed) are reported as ENOBUFS,
// so that the reader re-reads the state instead of carrying on with a hole in it.
TEST_CASE("an event queue overrun is reported", "[netlink][kernel]") {
  Lab lab;
  auto subscription = inside(lab.ns, [] { return Subscription::open(); });
  REQUIRE(subscription.ok());
  int small = 4096;
  REQUIRE(::setsockopt(subscription->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
  for (int i = 0; i < 40; ++i)
    REQUIRE(create_veth(lab.socket, veth("nd-o" + std::to_string(i), "nd-p" + std::to_string(i))).ok());
  auto events = subscription->read();
  REQUIRE_FALSE(events.ok());
  CHECK(events.error().errno_value == ENOBUFS);
  // After the overrun the subscription carries on.
  REQUIRE(create_veth(lab.socket, veth("nd-q", "nd-r")).ok());
  auto after = subscription->read();
  REQUIRE(after.ok());
  CHECK_FALSE(after->empty());
}
