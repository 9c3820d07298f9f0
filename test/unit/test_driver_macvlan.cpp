// macvlan and ipvlan networks through the plugin API over the fake kernel
// (test/unit/fake_kernel.hpp): CreateNetwork's checks of the parent and of the networks already
// on it, the 802.1q sub-interface made and removed with the last network, the MAC an ipvlan or
// passthru endpoint has (its parent's, never returned to Docker), status and metrics by mode,
// and the firewall probe not run. The test plays dockerd and the DHCP server.
#include <net/if.h>

#include <catch2/catch.hpp>

#include "test/unit/driver_harness.hpp"

using namespace netdhcp;
using namespace netdhcp::test;

namespace {

const std::string kEndpointId = "7777777777777777777777777777777777777777777777777777777777777777";
const std::string kOtherEndpoint = "8888888888888888888888888888888888888888888888888888888888888888";
const MacAddress kParentMac = *MacAddress::parse("52:54:00:aa:bb:cc");

struct MacvlanFixture : DriverHarness {
  MacvlanFixture() {
    add_parent("eth1");
    start_driver();
  }

  // A host interface on the LAN, up.
  netlink::Link& add_parent(const std::string& name, unsigned flags = IFF_UP | IFF_BROADCAST | IFF_RUNNING) {
    netlink::Link link;
    link.index = kernel->next_index++;
    link.name = name;
    link.mac = kParentMac;
    link.mtu = 1500;
    link.flags = flags;
    kernel->host_links[name] = link;
    kernel->interfaces[name] = InterfaceInfo{name, link.index, kParentMac, 1500, (flags & IFF_UP) != 0};
    return kernel->host_links[name];
  }
  static json::object network(const std::string& id, json::object generic) { return network_request(id, std::move(generic)); }
  ApiReply create_network(const std::string& id, json::object generic) {
    return call("/NetworkDriver.CreateNetwork", network(id, std::move(generic)));
  }
  // CreateEndpoint answered by the fake server.
  ApiReply create_endpoint(const std::string& network_id, const std::string& endpoint_id = kEndpointId,
                           json::object interface = {}) {
    return DriverHarness::create_endpoint(network_id, endpoint_id, {}, std::move(interface));
  }
  static std::string error_of(const ApiReply& reply) {
    auto body = body_of(reply);
    return body.contains("Err") ? std::string(body.at("Err").as_string()) : "(no error)";
  }
};

}  // namespace

// A macvlan network on an up parent: accepted without the bridge firewall probe; the endpoint's
// MAC is its own (returned to Docker); status says mode, parent and macvlan_mode; the metrics
// count it by mode.
TEST_CASE("driver: a macvlan network and its endpoint", "[driver][macvlan]") {
  MacvlanFixture f;
  auto created = f.create_network("mv", {{"parent", "eth1"}});
  REQUIRE(created.status == 200);
  CHECK(f.kernel->probes == 0);
  auto endpoint = f.create_endpoint("mv");
  REQUIRE(endpoint.status == 200);
  auto interface = MacvlanFixture::body_of(endpoint).at("Interface").as_object();
  REQUIRE(interface.contains("MacAddress"));
  CHECK(interface.at("MacAddress").as_string() != kParentMac.to_string());
  auto status = MacvlanFixture::body_of(f.call("/NetDhcp.Status", {}));
  auto options = status.at("networks").at(0).at("options").as_object();
  CHECK(options.at("mode") == "macvlan");
  CHECK(options.at("parent") == "eth1");
  CHECK(options.at("macvlan_mode") == "bridge");
  CHECK_FALSE(options.contains("bridge"));
  std::string metrics = f.driver->metrics_text();
  CHECK(metrics.find("\nnetdhcp_endpoints_by_mode{mode=\"macvlan\"} 1\n") != std::string::npos);
  CHECK(metrics.find("\nnetdhcp_endpoints_by_mode{mode=\"bridge\"} 0\n") != std::string::npos);
  CHECK(metrics.find("\nnetdhcp_endpoints_by_mode{mode=\"ipvlan\"} 0\n") != std::string::npos);
}

// ipvlan: the endpoint's MAC is the parent's, not told to Docker (it would try to set it, which
// an ipvlan interface refuses), and --mac-address is refused with the reason.
TEST_CASE("driver: an ipvlan endpoint has the parent's MAC and takes no --mac-address", "[driver][macvlan]") {
  MacvlanFixture f;
  auto iv = f.create_network("iv", {{"mode", "ipvlan"}, {"parent", "eth1"}});
  INFO(iv.body);
  REQUIRE(iv.status == 200);
  auto endpoint = f.create_endpoint("iv");
  REQUIRE(endpoint.status == 200);
  auto interface = MacvlanFixture::body_of(endpoint).at("Interface").as_object();
  CHECK_FALSE(interface.contains("MacAddress"));
  CHECK(interface.contains("Address"));
  auto info = MacvlanFixture::body_of(f.call("/NetworkDriver.EndpointOperInfo", {{"EndpointID", kEndpointId}}));
  CHECK(info.at("Value").at("mac").as_string() == kParentMac.to_string());
  // The DISCOVER carried the parent's MAC and asked for a broadcast reply... from the fake's
  // attachment, which does not need one: what the real ipvlan attachment does is in
  // test_attachment.cpp. The MAC is the driver's doing:
  auto discover = dhcp4::parse(f.kernel->last_wire4()->sent.front().payload).value();
  CHECK(discover.client_mac() == kParentMac);

  std::optional<ApiReply> reply;
  json::object body{{"NetworkID", "iv"}, {"EndpointID", kOtherEndpoint},
                    {"Interface", json::object{{"MacAddress", "02:00:00:00:05:01"}}}};
  auto refused = f.call("/NetworkDriver.CreateEndpoint", body);
  CHECK(refused.status == 400);
  CHECK(MacvlanFixture::error_of(refused) ==
        "--mac-address 02:00:00:00:05:01 cannot be honoured on an ipvlan network: every ipvlan interface has its parent's "
        "MAC (eth1's). The DHCP server tells the containers apart by their client identifier; reserve addresses by that, "
        "or use -o mode=macvlan");

  REQUIRE(f.create_network("pt", {{"parent", "eth2"}, {"macvlan_mode", "passthru"}}).status == 400);  // no eth2
  f.add_parent("eth2");
  REQUIRE(f.create_network("pt", {{"parent", "eth2"}, {"macvlan_mode", "passthru"}}).status == 200);
  body["NetworkID"] = "pt";
  CHECK_THAT(MacvlanFixture::error_of(f.call("/NetworkDriver.CreateEndpoint", body)),
             Catch::StartsWith("--mac-address 02:00:00:00:05:01 cannot be honoured with macvlan_mode=passthru: the passthru "
                               "interface has its parent's MAC, and giving it another would change eth2's"));
}

// Every CreateNetwork refusal reaches Docker with its own text (parent_link.hpp words them;
// test_attachment.cpp checks each word for word).
TEST_CASE("driver: CreateNetwork refuses unusable parents", "[driver][macvlan]") {
  MacvlanFixture f;
  CHECK_THAT(MacvlanFixture::error_of(f.create_network("a", {{"parent", "eth9"}})),
             Catch::StartsWith("parent eth9 does not exist: name the host interface on the LAN"));
  f.add_parent("eth3", IFF_BROADCAST);
  CHECK_THAT(MacvlanFixture::error_of(f.create_network("b", {{"parent", "eth3"}})), Catch::StartsWith("parent eth3 is down"));
  auto& port = f.add_parent("eth4");
  f.kernel->add_bridge("br0");
  port.master = f.kernel->host_links["br0"].index;
  port.slave_kind = "bridge";
  CHECK_THAT(MacvlanFixture::error_of(f.create_network("c", {{"parent", "eth4"}})),
             Catch::StartsWith("parent eth4 is a port of bridge br0"));
  f.add_parent("wlan0");
  f.kernel->wireless.push_back("wlan0");
  CHECK_THAT(MacvlanFixture::error_of(f.create_network("d", {{"parent", "wlan0"}})),
             Catch::StartsWith("parent wlan0 is a Wi-Fi interface"));
  CHECK(f.create_network("d", {{"mode", "ipvlan"}, {"parent", "wlan0"}}).status == 200);
  // The kernel's verdict on a trial child: here, no ipvlan module.
  f.kernel->fail_try_child = Error{"RTM_NEWLINK ipvlan ndk-1: Operation not supported (kernel: Unknown device type)", EOPNOTSUPP};
  CHECK(MacvlanFixture::error_of(f.create_network("e", {{"mode", "ipvlan"}, {"parent", "eth1"}})) ==
        "the kernel has no ipvlan support (module ipvlan, CONFIG_IPVLAN): load it (modprobe ipvlan), or use -o mode=macvlan");
  f.kernel->fail_try_child.reset();
  // Option errors come first, from the option parser.
  CHECK_THAT(MacvlanFixture::error_of(f.create_network("f", {{"mode", "ipvlan"}, {"parent", "eth1"}, {"ipvlan_mode", "l3"}})),
             Catch::StartsWith("option ipvlan_mode=l3 cannot work with DHCP"));
}

// On one parent: one network (unless ignore_conflicts), never macvlan next to ipvlan, nothing
// next to passthru. Networks without endpoints are no conflict (they may be stale).
TEST_CASE("driver: networks sharing a parent", "[driver][macvlan]") {
  MacvlanFixture f;
  REQUIRE(f.create_network("mv", {{"parent", "eth1"}}).status == 200);
  // No endpoints yet: not in the way.
  CHECK(f.create_network("stale", {{"mode", "ipvlan"}, {"parent", "eth1"}}).status == 200);
  REQUIRE(f.call("/NetworkDriver.DeleteNetwork", {{"NetworkID", "stale"}}).status == 200);
  REQUIRE(f.create_endpoint("mv").status == 200);
  CHECK(MacvlanFixture::error_of(f.create_network("iv", {{"mode", "ipvlan"}, {"parent", "eth1"}})) ==
        "parent eth1 is used by net-dhcp macvlan network mv (1 endpoint): macvlan and ipvlan cannot share a parent (the "
        "kernel refuses one next to the other). Use -o mode=macvlan, or another parent");
  CHECK(MacvlanFixture::error_of(f.create_network("iv", {{"mode", "ipvlan"}, {"parent", "eth1"}, {"ignore_conflicts", "true"}}))
            .rfind("parent eth1 is used by net-dhcp macvlan network mv", 0) == 0);
  CHECK(MacvlanFixture::error_of(f.create_network("mv2", {{"parent", "eth1"}})) ==
        "parent eth1 is already used by net-dhcp network mv (1 endpoint): use one network per parent, or -o "
        "ignore_conflicts=true");
  CHECK(f.create_network("mv2", {{"parent", "eth1"}, {"ignore_conflicts", "true"}}).status == 200);
  CHECK(MacvlanFixture::error_of(f.create_network("pt", {{"parent", "eth1"}, {"macvlan_mode", "passthru"}, {"ignore_conflicts", "true"}})) ==
        "macvlan_mode=passthru needs parent eth1 to itself, but net-dhcp network mv has 1 endpoint on it: use "
        "macvlan_mode=bridge, or a parent of its own");

  f.add_parent("eth2");
  REQUIRE(f.create_network("pt", {{"parent", "eth2"}, {"macvlan_mode", "passthru"}}).status == 200);
  REQUIRE(f.create_endpoint("pt", kOtherEndpoint).status == 200);
  CHECK(MacvlanFixture::error_of(f.create_network("after", {{"parent", "eth2"}, {"ignore_conflicts", "true"}})) ==
        "parent eth2 is given whole to net-dhcp network pt (macvlan_mode=passthru, 1 endpoint): no other network can share "
        "it; use another parent");
}

// parent=IF.VID: made when missing (and up), kept in the state file, removed with the last
// network on it; where the kernel has no 802.1q, the clear error. A VLAN the user made stays.
TEST_CASE("driver: parent=IF.VID makes the 802.1q sub-interface and removes it with the last network", "[driver][macvlan]") {
  MacvlanFixture f;
  REQUIRE(f.create_network("v1", {{"parent", "eth1.10"}}).status == 200);
  CHECK(f.kernel->vlans_made == std::vector<std::string>{"eth1.10"});
  CHECK(f.kernel->host_links.count("eth1.10"));
  REQUIRE(f.create_network("v2", {{"parent", "eth1.10"}, {"ignore_conflicts", "true"}}).status == 200);
  CHECK(f.kernel->vlans_made.size() == 1);  // there already
  REQUIRE(f.call("/NetworkDriver.DeleteNetwork", {{"NetworkID", "v1"}}).status == 200);
  CHECK(f.kernel->vlans_removed.empty());  // v2 is still on it, and inherits it
  REQUIRE(f.call("/NetworkDriver.DeleteNetwork", {{"NetworkID", "v2"}}).status == 200);
  CHECK(f.kernel->vlans_removed == std::vector<std::string>{"eth1.10"});

  // A refusal after the VLAN was made takes it away again.
  f.kernel->fail_try_child = Error{"RTM_NEWLINK macvlan ndk-1: Device or resource busy", EBUSY};
  CHECK(f.create_network("v3", {{"parent", "eth1.20"}}).status == 400);
  CHECK(f.kernel->vlans_removed == std::vector<std::string>{"eth1.10", "eth1.20"});
  f.kernel->fail_try_child.reset();

  f.kernel->fail_vlan = Error{"RTM_NEWLINK vlan eth1.30: Operation not supported (kernel: Unknown device type)", EOPNOTSUPP};
  auto refused = f.create_network("v4", {{"parent", "eth1.30"}});
  CHECK(refused.status == 400);
  CHECK_THAT(MacvlanFixture::error_of(refused), Catch::Contains("the kernel has no 802.1q VLAN support (module 8021q)"));
  CHECK_THAT(MacvlanFixture::error_of(f.create_network("v5", {{"parent", "eth7.10"}})),
             Catch::StartsWith("parent eth7.10 does not exist, and neither does eth7 to make it from"));
  // The user's own VLAN link is used as it is and left alone.
  f.kernel->fail_vlan.reset();
  f.add_parent("eth1.40");
  REQUIRE(f.create_network("v6", {{"parent", "eth1.40"}}).status == 200);
  REQUIRE(f.call("/NetworkDriver.DeleteNetwork", {{"NetworkID", "v6"}}).status == 200);
  CHECK(f.kernel->vlans_removed.size() == 2);
}

// After a restart, a record whose network is gone has its links removed whatever the mode was;
// a known network's endpoint is re-adopted with that network's attachment.
TEST_CASE("driver: leftovers of an unknown network are removed for every mode", "[driver][macvlan]") {
  MacvlanFixture f;
  REQUIRE(f.create_network("mv", {{"parent", "eth1"}}).status == 200);
  REQUIRE(f.create_endpoint("mv").status == 200);
  f.driver->save_all();
  // The network goes from the file (removed from Docker with the daemon stopped, say).
  f.driver.reset();
  {
    auto store = StateStore(f.state_dir.path);
    REQUIRE(store.save_networks({}));
  }
  f.driver.emplace(f.io.get_executor(), f.state_dir.path, kDefaultDockerTimeout, f.kernel);
  REQUIRE(f.driver->load().ok());
  CHECK(f.kernel->links_removed == std::vector<std::string>{kEndpointId + " (any mode)"});
}

// A macvlan or ipvlan child of one of our networks' parents that no record names (a kill -9
// during its DeleteEndpoint) is removed at start, as what it is (a parent may carry a network of
// each mode: one of them stale, say); a child of another interface is not.
TEST_CASE("driver: children of ours that no record names are removed at start", "[driver][macvlan][state]") {
  MacvlanFixture f;
  f.add_parent("eth2");
  REQUIRE(f.create_network("mv", {{"parent", "eth1"}}).status == 200);
  REQUIRE(f.create_network("iv", {{"mode", "ipvlan"}, {"parent", "eth1"}}).status == 200);
  auto child = [&](const std::string& name, const std::string& parent, const char* kind) {
    netlink::Link link;
    link.index = f.kernel->next_index++;
    link.name = name;
    link.kind = kind;
    link.link = f.kernel->host_links.at(parent).index;
    f.kernel->host_links[name] = link;
  };
  child("dm-0123456789ab", "eth1", "macvlan");  // no record
  child("di-0123456789ac", "eth1", "ipvlan");   // no record
  child("dm-abcdefabcdef", "eth2", "macvlan");  // another interface's
  f.start_driver();
  std::sort(f.kernel->links_removed.begin(), f.kernel->links_removed.end());
  CHECK(f.kernel->links_removed == std::vector<std::string>{"0123456789ab (macvlan)", "0123456789ac (ipvlan)"});
}
