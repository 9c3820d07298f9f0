// The three attachments (veth pair, macvlan child, ipvlan child) as the endpoint sees them,
// without a kernel: names, what Join hands over, what status shows, which MAC the container end
// has; the DHCP clients' identity and broadcast flag per mode (src/endpoint/client_identity.hpp);
// and every CreateNetwork refusal of a parent and every kernel refusal of a child, word for word
// (src/endpoint/parent_link.hpp).
#include <net/if.h>

#include <catch2/catch.hpp>

#include "dhcp/dhcp4_packet.hpp"
#include "dhcp/identity.hpp"
#include "src/endpoint/attachment.hpp"
#include "src/endpoint/client_identity.hpp"
#include "src/endpoint/parent_link.hpp"

using namespace netdhcp;

namespace {

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kOtherId = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const MacAddress kParentMac = *MacAddress::parse("52:54:00:12:34:56");
const MacAddress kOwnMac = *MacAddress::parse("02:00:00:00:05:01");

NetworkOptions options_of(std::map<std::string, std::string> generic) { return parse_network_options(generic).value(); }

std::string text_of(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

netlink::Link link_named(std::string name, int index, std::string kind = "") {
  netlink::Link l;
  l.name = std::move(name);
  l.index = index;
  l.kind = std::move(kind);
  l.flags = IFF_UP | IFF_BROADCAST | IFF_RUNNING;
  l.mac = kParentMac;
  l.mtu = 1500;
  return l;
}

ParentFacts parent_eth1() {
  ParentFacts p;
  p.link = link_named("eth1", 2);
  return p;
}

std::string refusal(const ParentFacts& parent, std::map<std::string, std::string> generic) {
  return parent_refusal(parent, options_of(std::move(generic))).value_or("(accepted)");
}

Error kernel_error(int errno_value, const char* text) { return Error{std::string("RTM_NEWLINK x: ") + text, errno_value}; }

}  // namespace

// One attachment per mode, picked by the network's options; the endpoint only uses the interface.
TEST_CASE("make_attachment: a veth pair, a macvlan child or an ipvlan child", "[attachment]") {
  auto veth = make_attachment(kId, options_of({{"bridge", "br0"}}), 7, 1500, kOwnMac, false);
  CHECK(veth->kind() == "veth");
  CHECK(veth->container_end() == "dc-0123456789ab");
  CHECK(veth->links_to_wait_for() == std::vector<std::string>{"dh-0123456789ab", "dc-0123456789ab"});
  CHECK(veth->crosses_bridge());
  CHECK_FALSE(veth->needs_broadcast_replies());
  boost::json::object v;
  veth->describe(v);
  CHECK(text_of(v, "mode") == "bridge");
  CHECK(text_of(v, "bridge") == "br0");
  CHECK(text_of(v, "host_interface") == "dh-0123456789ab");

  auto macvlan = make_attachment(kId, options_of({{"parent", "eth1"}, {"macvlan_mode", "vepa"}}), 2, 1500, kOwnMac, true);
  CHECK(macvlan->kind() == "macvlan");
  // No host end: the child itself is what Docker moves into the container.
  CHECK(macvlan->container_end() == "dm-0123456789ab");
  CHECK(macvlan->links_to_wait_for() == std::vector<std::string>{"dm-0123456789ab"});
  CHECK_FALSE(macvlan->crosses_bridge());
  CHECK_FALSE(macvlan->needs_broadcast_replies());
  boost::json::object m;
  macvlan->describe(m);
  CHECK(text_of(m, "mode") == "macvlan");
  CHECK(text_of(m, "parent") == "eth1");
  CHECK(text_of(m, "child") == "dm-0123456789ab");
  CHECK(text_of(m, "macvlan_mode") == "vepa");
  CHECK_FALSE(m.contains("host_interface"));

  auto ipvlan = make_attachment(kId, options_of({{"mode", "ipvlan"}, {"parent", "eth1"}}), 2, 1500, kParentMac, false);
  CHECK(ipvlan->kind() == "ipvlan");
  CHECK(ipvlan->container_end() == "di-0123456789ab");
  CHECK_FALSE(ipvlan->crosses_bridge());
  // ipvlan L2 hands unicast frames to the child that has the destination address: none yet.
  CHECK(ipvlan->needs_broadcast_replies());
  boost::json::object i;
  ipvlan->describe(i);
  CHECK(text_of(i, "mode") == "ipvlan");
  CHECK(text_of(i, "parent") == "eth1");
  CHECK(text_of(i, "child") == "di-0123456789ab");
  CHECK(text_of(i, "ipvlan_mode") == "l2");
  // Names fit IFNAMSIZ whatever the id.
  for (const auto& a : {veth.get(), macvlan.get(), ipvlan.get()}) CHECK(a->container_end().size() <= 15);
}

// Which modes give the container end a MAC of its own (and may return or honour one).
TEST_CASE("takes_own_mac: veth and macvlan yes; ipvlan and passthru have the parent's", "[attachment]") {
  CHECK(takes_own_mac(options_of({{"bridge", "br0"}})));
  CHECK(takes_own_mac(options_of({{"parent", "eth1"}})));
  CHECK(takes_own_mac(options_of({{"parent", "eth1"}, {"macvlan_mode", "private"}})));
  CHECK_FALSE(takes_own_mac(options_of({{"parent", "eth1"}, {"macvlan_mode", "passthru"}})));
  CHECK_FALSE(takes_own_mac(options_of({{"mode", "ipvlan"}, {"parent", "eth1"}})));
}

// ipvlan L2: every child has the parent's MAC, so chaddr says nothing. Each endpoint still is
// one client to the server: RFC 4361 client identifier type 255 with the endpoint's IAID and
// DUID, the same DUID-UUID its DHCPv6 client sends; and it asks for broadcast replies.
TEST_CASE("ipvlan: a client identity of its own per endpoint, and the broadcast flag", "[attachment][dhcp4]") {
  auto options = options_of({{"mode", "ipvlan"}, {"parent", "eth1"}, {"ipv6", "true"}});
  auto a = make_attachment(kId, options, 2, 1500, kParentMac, true);
  auto b = make_attachment(kOtherId, options, 2, 1500, kParentMac, true);
  auto ca = client_configs(endpoint_identity(kId), options, kParentMac, *a, "web-1", 1500);
  auto cb = client_configs(endpoint_identity(kOtherId), options, kParentMac, *b, "web-2", 1500);
  REQUIRE(ca.v4);
  REQUIRE(cb.v4);
  CHECK(ca.v4->mac == kParentMac);
  CHECK(cb.v4->mac == kParentMac);
  CHECK(ca.v4->broadcast_flag);
  CHECK(cb.v4->broadcast_flag);
  CHECK(ca.v4->client_id != cb.v4->client_id);
  Bytes duid_a = make_duid_uuid(uuid_from_name(kId));
  CHECK(ca.v4->client_id == make_client_id(iaid_from_name(kId), duid_a));
  // 0xff, IAID (4 bytes), DUID-UUID (type 4: 2 + 16 bytes)
  REQUIRE(ca.v4->client_id.size() == 1 + 4 + 18);
  CHECK(ca.v4->client_id[0] == std::byte{0xff});
  CHECK(ca.v4->client_id[6] == std::byte{4});
  REQUIRE(ca.v6);
  CHECK(ca.v6->duid == duid_a);
  CHECK(ca.v6->iaid == iaid_from_name(kId));
  CHECK(cb.v6->duid != ca.v6->duid);
  // The same identity every time: a re-adopted endpoint is the same client.
  CHECK(client_configs(endpoint_identity(kId), options, kParentMac, *a, "web-1", 1500).v4->client_id == ca.v4->client_id);

  // What goes on the wire: a DISCOVER with the broadcast bit, option 61 and the parent's MAC.
  dhcp4::Client client(*ca.v4, [] { return 0x12345678u; });
  client.start(Clock::now());
  auto discover = client.pop_transmit();
  REQUIRE(discover);
  auto packet = dhcp4::parse(discover->payload).value();
  CHECK(packet.message_type() == dhcp4::MessageType::Discover);
  CHECK((packet.flags & dhcp4::Packet::kBroadcastFlag) != 0);
  CHECK(packet.client_mac() == kParentMac);
  CHECK(packet.find(dhcp4::option::ClientId) == ca.v4->client_id);
}

// macvlan and bridge mode: the endpoint's own MAC, unicast replies welcome, the same kind of
// client identifier.
TEST_CASE("macvlan and veth: the endpoint's MAC, no broadcast flag", "[attachment][dhcp4]") {
  for (auto generic : {std::map<std::string, std::string>{{"bridge", "br0"}},
                       std::map<std::string, std::string>{{"parent", "eth1"}}}) {
    auto options = options_of(generic);
    auto attachment = make_attachment(kId, options, 2, 1500, kOwnMac, false);
    auto configs = client_configs(endpoint_identity(kId), options, kOwnMac, *attachment, "", 9000);
    REQUIRE(configs.v4);
    CHECK(configs.v4->mac == kOwnMac);
    CHECK_FALSE(configs.v4->broadcast_flag);
    CHECK(configs.v4->max_message_size == 9000);
    CHECK(configs.v4->client_id[0] == std::byte{0xff});
    CHECK_FALSE(configs.v6);
  }
  // An IPv6-only network has no DHCPv4 client at all.
  auto v6only = options_of({{"parent", "eth1"}, {"ipv6", "true"}});
  v6only.ipv4 = false;
  auto attachment = make_attachment(kId, v6only, 2, 1500, kOwnMac, true);
  auto configs = client_configs(endpoint_identity(kId), v6only, kOwnMac, *attachment, "", 1500);
  CHECK_FALSE(configs.v4);
  CHECK(configs.v6);
}

// CreateNetwork's refusals of a parent, each with its fix; a plain, up Ethernet parent passes.
TEST_CASE("parent_refusal: every refusal and its fix", "[attachment][parent]") {
  ParentFacts ok = parent_eth1();
  CHECK(refusal(ok, {{"parent", "eth1"}}) == "(accepted)");
  CHECK(refusal(ok, {{"mode", "ipvlan"}, {"parent", "eth1"}}) == "(accepted)");

  ParentFacts lo = parent_eth1();
  lo.link.name = "lo";
  lo.link.flags |= IFF_LOOPBACK;
  CHECK(refusal(lo, {{"parent", "lo"}}) == "parent lo is the loopback interface, not one on the LAN: name the host "
                                           "interface on the LAN (ip -br link lists them), e.g. -o parent=eth0");

  ParentFacts child = parent_eth1();
  child.link = link_named("mv0", 9, "macvlan");
  child.lower = "eth1";
  CHECK(refusal(child, {{"parent", "mv0"}}) ==
        "parent mv0 is itself a macvlan interface (of eth1): put the network on eth1 (-o parent=eth1) instead");
  child.link.kind = "ipvlan";
  child.lower.clear();
  CHECK(refusal(child, {{"mode", "ipvlan"}, {"parent", "mv0"}}) ==
        "parent mv0 is itself an ipvlan interface (of another interface): put the network on that interface instead");

  ParentFacts port = parent_eth1();
  port.link.master = 5;
  port.link.slave_kind = "bridge";
  port.master = link_named("br0", 5, "bridge");
  CHECK(refusal(port, {{"parent", "eth1"}}) ==
        "parent eth1 is a port of bridge br0: what arrives on a bridge port belongs to the bridge, so macvlan children of "
        "eth1 would see nothing (the kernel refuses them). Use bridge mode on that bridge (-o bridge=br0 without -o mode), "
        "or -o parent=br0");
  port.link.slave_kind = "bond";
  port.master = link_named("bond0", 5, "bond");
  CHECK(refusal(port, {{"mode", "ipvlan"}, {"parent", "eth1"}}) ==
        "parent eth1 is a slave of bond bond0: its traffic belongs to the bond. Use -o parent=bond0");
  port.link.slave_kind = "team";
  port.master = link_named("team0", 5, "team");
  CHECK(refusal(port, {{"parent", "eth1"}}) ==
        "parent eth1 is enslaved to team0 (team): its traffic belongs to team0. Use -o parent=team0, or an interface of its own");

  ParentFacts down = parent_eth1();
  down.link.flags &= ~static_cast<unsigned>(IFF_UP);
  CHECK(refusal(down, {{"parent", "eth1"}}) ==
        "parent eth1 is down: net-dhcp never changes the parent, so bring it up yourself (ip link set eth1 up) and create "
        "the network again");

  // Most Wi-Fi NICs refuse frames from other MACs (the access point drops them): ipvlan works.
  ParentFacts wifi = parent_eth1();
  wifi.link.name = "wlan0";
  wifi.wireless = true;
  CHECK(refusal(wifi, {{"parent", "wlan0"}}) ==
        "parent wlan0 is a Wi-Fi interface: an access point takes frames only from the MAC that associated with it, so "
        "macvlan containers (each with a MAC of its own) would get no lease. Use -o mode=ipvlan (L2: every container shares "
        "wlan0's MAC), or -o ignore_conflicts=true if wlan0 is in 4-address (WDS) or access-point mode");
  CHECK(refusal(wifi, {{"mode", "ipvlan"}, {"parent", "wlan0"}}) == "(accepted)");
  CHECK(refusal(wifi, {{"parent", "wlan0"}, {"ignore_conflicts", "true"}}) == "(accepted)");

  // One kind of child per parent (the kernel: EBUSY).
  ParentFacts with_ipvlan = parent_eth1();
  with_ipvlan.children = {link_named("iv0", 10, "ipvlan"), link_named("iv1", 11, "ipvlan")};
  CHECK(refusal(with_ipvlan, {{"parent", "eth1"}}) ==
        "parent eth1 has ipvlan interfaces (iv0, iv1): the kernel allows macvlan or ipvlan children on one parent, not "
        "both. Use -o mode=ipvlan, or another parent");
  CHECK(refusal(with_ipvlan, {{"mode", "ipvlan"}, {"parent", "eth1"}}) == "(accepted)");
  ParentFacts with_macvlan = parent_eth1();
  with_macvlan.children = {link_named("mv0", 10, "macvlan")};
  with_macvlan.children[0].macvlan_mode = netlink::MacvlanMode::Bridge;
  CHECK(refusal(with_macvlan, {{"mode", "ipvlan"}, {"parent", "eth1"}}) ==
        "parent eth1 has macvlan interfaces (mv0): the kernel allows macvlan or ipvlan children on one parent, not both. "
        "Use -o mode=macvlan, or another parent");
  CHECK(refusal(with_macvlan, {{"parent", "eth1"}}) == "(accepted)");  // Docker's macvlan next to ours: fine
  // passthru takes the parent whole.
  CHECK(refusal(with_macvlan, {{"parent", "eth1"}, {"macvlan_mode", "passthru"}}) ==
        "macvlan_mode=passthru gives parent eth1 whole to one container, but eth1 already has macvlan interfaces (mv0): "
        "use macvlan_mode=bridge, or a parent of its own");
  with_macvlan.children[0].macvlan_mode = netlink::MacvlanMode::Passthru;
  CHECK(refusal(with_macvlan, {{"parent", "eth1"}}) ==
        "parent eth1 has a passthru macvlan interface (mv0), which has it whole: no other macvlan interface can share it; "
        "use another parent");
}

// The kernel's refusals of a child, in the user's words.
TEST_CASE("explain_child_error: missing modules, EBUSY, passthru", "[attachment][parent]") {
  auto macvlan = options_of({{"parent", "eth1"}});
  auto ipvlan = options_of({{"mode", "ipvlan"}, {"parent", "eth1"}});
  auto passthru = options_of({{"parent", "eth1"}, {"macvlan_mode", "passthru"}});
  // rtnetlink's "Unknown device type": this machine's kernel has no CONFIG_IPVLAN.
  auto unknown = kernel_error(EOPNOTSUPP, "Operation not supported (kernel: Unknown device type)");
  CHECK(explain_child_error(unknown, ipvlan, nullptr) ==
        "the kernel has no ipvlan support (module ipvlan, CONFIG_IPVLAN): load it (modprobe ipvlan), or use -o mode=macvlan");
  CHECK(explain_child_error(unknown, macvlan, nullptr) ==
        "the kernel has no macvlan support (module macvlan, CONFIG_MACVLAN): load it (modprobe macvlan), or use bridge "
        "mode (-o bridge=BRIDGE)");
  // EBUSY: children of the other kind the host namespace sees are named...
  auto busy = kernel_error(EBUSY, "Device or resource busy");
  ParentFacts seen = parent_eth1();
  seen.children = {link_named("iv0", 10, "ipvlan")};
  CHECK_THAT(explain_child_error(busy, macvlan, &seen), Catch::StartsWith("parent eth1 has ipvlan interfaces (iv0): "));
  // ... and those in containers are not: then what it may be.
  ParentFacts unseen = parent_eth1();
  CHECK(explain_child_error(busy, macvlan, &unseen) ==
        "the kernel refuses a macvlan interface on eth1 (Device or resource busy): something else already receives eth1's "
        "traffic: ipvlan interfaces, perhaps in containers (Docker's ipvlan driver? macvlan and ipvlan cannot share a "
        "parent), or eth1 is a port of a bridge, a bond or Open vSwitch. Use another parent, or -o mode=ipvlan if eth1 has "
        "ipvlan interfaces");
  CHECK_THAT(explain_child_error(busy, ipvlan, nullptr),
             Catch::StartsWith("the kernel refuses an ipvlan interface on eth1 (Device or resource busy): something else "
                               "already receives eth1's traffic: macvlan interfaces, perhaps in containers (Docker's "
                               "macvlan driver?"));
  // EINVAL: passthru next to another macvlan child (perhaps in a container, perhaps ours).
  auto invalid = kernel_error(EINVAL, "Invalid argument");
  CHECK(explain_child_error(invalid, passthru, &unseen) ==
        "macvlan_mode=passthru needs parent eth1 to itself, but it already has a macvlan interface (perhaps in a "
        "container: of Docker's macvlan driver, or of this network, whose passthru interface serves one container at a "
        "time). Use macvlan_mode=bridge for more containers on eth1");
  CHECK(explain_child_error(invalid, macvlan, &unseen) ==
        "the kernel refuses a macvlan interface on eth1 (Invalid argument): a passthru macvlan interface has it whole "
        "(perhaps in a container), or eth1 is not an Ethernet interface");
  // Anything else: the kernel's own words, with what was being done.
  CHECK(explain_child_error(kernel_error(ENOMEM, "Cannot allocate memory"), macvlan, nullptr) ==
        "making a macvlan interface on eth1: RTM_NEWLINK x: Cannot allocate memory");
  CHECK(explain_child_error(invalid, ipvlan, nullptr) == "making an ipvlan interface on eth1: RTM_NEWLINK x: Invalid argument");
}

// A parent that is not there, and parent=IF.VID where the kernel has no 802.1q (this machine).
TEST_CASE("missing parents and 802.1q sub-interfaces", "[attachment][parent]") {
  CHECK(missing_parent_message(options_of({{"parent", "eth9"}}), false) ==
        "parent eth9 does not exist: name the host interface on the LAN (ip -br link lists them), e.g. -o parent=eth0 (or "
        "eth0.10 for its VLAN 10)");
  auto vlan_options = options_of({{"parent", "eth9.10"}});
  CHECK(missing_parent_message(vlan_options, true) ==
        "parent eth9.10 does not exist, and neither does eth9 to make it from (802.1q VLAN 10 of eth9): name the host "
        "interface on the LAN (ip -br link lists them)");
  VlanName vlan{"eth0", 10};
  CHECK(vlan_error_message(kernel_error(EOPNOTSUPP, "Operation not supported (kernel: Unknown device type)"), "eth0.10", vlan) ==
        "parent eth0.10 does not exist, and the kernel has no 802.1q VLAN support (module 8021q) to make it as VLAN 10 of "
        "eth0: load the module (modprobe 8021q), make eth0.10 yourself, or use a parent without .VID");
  CHECK(vlan_error_message(kernel_error(EPERM, "Operation not permitted"), "eth0.10", vlan) ==
        "making the 802.1q sub-interface eth0.10 (VLAN 10 of eth0): RTM_NEWLINK x: Operation not permitted");
  ParentFacts base = parent_eth1();
  base.link.name = "eth0";
  CHECK_FALSE(vlan_base_refusal(base, "eth0.10", vlan));
  base.link.flags &= ~static_cast<unsigned>(IFF_UP);
  CHECK(vlan_base_refusal(base, "eth0.10", vlan).value_or("") ==
        "parent eth0.10 does not exist, and it would be made as VLAN 10 of eth0, but eth0 is down: net-dhcp never changes "
        "it, so bring it up yourself (ip link set eth0 up) and create the network again");
  base = parent_eth1();
  base.link.name = "eth0";
  base.link.master = 5;
  base.link.slave_kind = "bond";
  base.master = link_named("bond0", 5, "bond");
  CHECK(vlan_base_refusal(base, "eth0.10", vlan).value_or("") ==
        "parent eth0.10 does not exist, and it would be made as VLAN 10 of eth0, but eth0 is enslaved to bond0 (bond), "
        "whose traffic it is: use -o parent=bond0.10");
}
