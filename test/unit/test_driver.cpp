// The Docker driver through its plugin API (handle_plugin_request, as the HTTP server calls it)
// over the fake kernel (test/unit/fake_kernel.hpp): the test plays dockerd and the DHCP server.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "test/unit/driver_harness.hpp"

using namespace netdhcp;
using namespace netdhcp::test;
using namespace std::chrono_literals;

namespace {

const std::string kEndpointId = "5555555555555555555555555555555555555555555555555555555555555555";
const std::string kContainerEnd = "dc-555555555555";
const std::string kSandbox = "/var/run/docker/netns/5e5e5e5e5e5e";

struct DriverFixture : DriverHarness {
  DriverFixture() {
    kernel->add_bridge("br-lan");
    start_driver();
  }
  static json::object create_network(const std::string& id, const std::string& bridge = "br-lan") {
    return network_request(id, {{"bridge", bridge}, {"firewall_check", "false"}});
  }
  static json::object endpoint_request(const std::string& network_id, const std::string& endpoint_id = kEndpointId) {
    return DriverHarness::endpoint_request(network_id, endpoint_id);
  }
  ApiReply create_endpoint(const std::string& network_id, const std::string& endpoint_id = kEndpointId) {
    return DriverHarness::create_endpoint(network_id, endpoint_id);
  }
};

}  // namespace

// CreateEndpoint reads the bridge's index, MTU and MAC without an RTM_GETLINK (which waits for
// RTNL behind dockerd's link changes in a boot storm); a bridge deleted since CreateNetwork is
// refused with its name and the way out, and nothing is made for the endpoint.
TEST_CASE("driver reads the bridge at CreateEndpoint without netlink, and names a vanished one", "[driver]") {
  DriverFixture f;
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n1")).status == 200);
  f.kernel->host_lookups_by_name.clear();
  REQUIRE(f.create_endpoint("n1").status == 200);
  CHECK(f.kernel->host_lookups_by_name["br-lan"] == 0);
  CHECK(f.kernel->attachment_creates[kContainerEnd] == 1);

  f.kernel->host_links.erase("br-lan");
  f.kernel->interfaces.erase("br-lan");
  const std::string other = std::string(63, '6') + "7";
  auto refused = f.create_endpoint("n1", other);
  CHECK(refused.status == 400);
  CHECK(text(DriverFixture::body_of(refused).at("Err")) ==
        "bridge br-lan no longer exists: no interface named br-lan in this network namespace; create it again, "
        "or remove this network and create one on an interface that exists");
  CHECK(f.kernel->attachment_creates["dc-" + other.substr(0, 12)] == 0);
  auto info = DriverFixture::body_of(f.call("/NetworkDriver.EndpointOperInfo", {{"EndpointID", other}}));
  CHECK(info.at("Value").as_object().empty());  // the driver kept nothing of it
}

// CreateNetwork, CreateEndpoint (leased from the fake server), Join (routes from the host's
// table through the bridge), the interface followed into the container, Leave (RELEASE),
// DeleteEndpoint (links removed once), DeleteNetwork.
TEST_CASE("driver runs an endpoint's life through the plugin API", "[driver]") {
  DriverFixture f;
  netlink::Route lan_route;
  lan_route.destination = netlink::IpPrefix::from_v4(*Ipv4Address::parse("10.1.0.0"), 16);
  lan_route.gateway4 = *Ipv4Address::parse("198.18.0.254");
  lan_route.oif = f.kernel->host_links["br-lan"].index;
  f.kernel->host_routes.push_back(lan_route);

  auto network = f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n1"));
  REQUIRE(network.status == 200);

  auto created = f.create_endpoint("n1");
  REQUIRE(created.status == 200);
  auto interface = DriverFixture::body_of(created).at("Interface").as_object();
  CHECK(text(interface.at("Address")) == "198.18.0.42/24");
  CHECK(interface.contains("MacAddress"));
  CHECK(f.kernel->attachment_creates[kContainerEnd] == 1);

  auto joined = f.call("/NetworkDriver.Join", {{"NetworkID", "n1"}, {"EndpointID", kEndpointId}, {"SandboxKey", kSandbox}});
  REQUIRE(joined.status == 200);
  auto join = DriverFixture::body_of(joined);
  CHECK(text(join.at("InterfaceName").at("SrcName")) == kContainerEnd);
  CHECK(text(join.at("InterfaceName").at("DstPrefix")) == "eth");
  CHECK(text(join.at("Gateway")) == "198.18.0.1");
  CHECK(join.at("DisableGatewayService") == true);
  auto routes = join.at("StaticRoutes").as_array();
  REQUIRE(routes.size() == 1);
  CHECK(text(routes[0].at("Destination")) == "10.1.0.0/16");
  CHECK(text(routes[0].at("NextHop")) == "198.18.0.254");

  f.kernel->start_container(kSandbox)->facts = ContainerFacts{"", std::string(64, 'd'), ""};
  f.kernel->move_link(kContainerEnd, kSandbox);
  REQUIRE(run_until(f.io, [&] { return f.kernel->last_wire4()->where == kSandbox; }));
  REQUIRE(run_until(f.io, [&] {
    auto info = DriverFixture::body_of(f.call("/NetworkDriver.EndpointOperInfo", {{"EndpointID", kEndpointId}}));
    return info.at("Value").as_object().if_contains("followed") && info.at("Value").at("followed") == true;
  }));

  REQUIRE(f.call("/NetworkDriver.Leave", {{"EndpointID", kEndpointId}}).status == 200);
  CHECK(count_sent(*f.kernel->last_wire4(), dhcp4::MessageType::Release) == 1);
  REQUIRE(f.call("/NetworkDriver.DeleteEndpoint", {{"EndpointID", kEndpointId}}).status == 200);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
  REQUIRE(f.call("/NetworkDriver.DeleteEndpoint", {{"EndpointID", kEndpointId}}).status == 200);  // again: nothing
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);
  auto status = DriverFixture::body_of(f.call("/NetDhcp.Status", {}));
  CHECK(status.at("networks").at(0).at("endpoints").as_array().empty());
  REQUIRE(f.call("/NetworkDriver.DeleteNetwork", {{"NetworkID", "n1"}}).status == 200);
  CHECK(f.driver->metrics_text().find("\nnetdhcp_networks 0\n") != std::string::npos);
}

// Docker retrying CreateEndpoint while the first request still waits for its lease: the retry
// is refused (409) and the first one's links and DHCP exchange carry on untouched.
TEST_CASE("driver refuses a second CreateEndpoint while the first is in flight", "[driver]") {
  DriverFixture f;
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n1")).status == 200);
  std::optional<ApiReply> first;
  f.send("/NetworkDriver.CreateEndpoint", DriverFixture::endpoint_request("n1"), first);
  REQUIRE(run_until(f.io, [&] { return f.kernel->last_wire4() && !f.kernel->last_wire4()->sent.empty(); }));
  auto second = f.call("/NetworkDriver.CreateEndpoint", DriverFixture::endpoint_request("n1"));
  CHECK(second.status == 409);
  CHECK_THAT(second.body, Catch::Contains("already in progress"));
  CHECK_FALSE(first);
  CHECK(f.kernel->attachment_creates[kContainerEnd] == 1);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 0);
  CHECK(f.kernel->wires4.size() == 1);
  CHECK_FALSE(f.kernel->wires4[0]->closed);
  serve_dhcp4(f.io, *f.kernel);
  REQUIRE(run_until(f.io, [&] { return first.has_value(); }));
  CHECK(first->status == 200);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 0);
  // Docker's retry after the answer gets the same answer.
  auto again = f.call("/NetworkDriver.CreateEndpoint", DriverFixture::endpoint_request("n1"));
  CHECK(again.status == 200);
  CHECK(again.body == first->body);
  CHECK(f.kernel->attachment_creates[kContainerEnd] == 1);
}

// A net-dhcp network without endpoints (Docker removed it while the daemon was stopped) does
// not block a new network on its bridge; one with an endpoint does, and says how many.
TEST_CASE("driver lets a stale network's bridge be reused, but not a busy one's", "[driver]") {
  DriverFixture f;
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("stale")).status == 200);
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n2")).status == 200);
  REQUIRE(f.create_endpoint("n2").status == 200);
  auto refused = f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n3"));
  CHECK(refused.status == 400);
  CHECK_THAT(refused.body, Catch::Contains("bridge br-lan is already used by net-dhcp network n2 (1 endpoint)"));
  auto missing = f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n4", "br-none"));
  CHECK(missing.status == 400);
  CHECK_THAT(missing.body, Catch::Contains("bridge br-none does not exist"));
}

// A CreateEndpoint that gets no lease leaves nothing: no endpoint, no links, a counted failure.
TEST_CASE("driver forgets an endpoint whose CreateEndpoint failed", "[driver]") {
  DriverFixture f;
  auto request = DriverFixture::create_network("n1");
  request["Options"].as_object()["com.docker.network.generic"].as_object()["lease_timeout"] = "300ms";
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", request).status == 200);
  auto failed = f.call("/NetworkDriver.CreateEndpoint", DriverFixture::endpoint_request("n1"));
  CHECK(failed.status == 500);
  CHECK_THAT(failed.body, Catch::Contains("no DHCPv4 lease on bridge br-lan within 0.3 s"));
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
  auto joined = f.call("/NetworkDriver.Join", {{"NetworkID", "n1"}, {"EndpointID", kEndpointId}, {"SandboxKey", kSandbox}});
  CHECK(joined.status == 400);
  std::string metrics = f.driver->metrics_text();
  CHECK(metrics.find("\nnetdhcp_endpoints 0\n") != std::string::npos);
  CHECK(metrics.find("\nnetdhcp_endpoint_create_failures_total 1\n") != std::string::npos);
}

// A kernel call that throws inside CreateEndpoint (Asio throws when epoll_ctl fails) gets an
// answer naming it, and leaves nothing: no endpoint, no links, no record, no claim on the id.
TEST_CASE("driver takes down an endpoint whose CreateEndpoint threw", "[driver]") {
  DriverFixture f;
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n1")).status == 200);
  f.kernel->throw_in_links_wait = true;
  auto failed = f.call("/NetworkDriver.CreateEndpoint", DriverFixture::endpoint_request("n1"));
  CHECK(failed.status == 500);
  CHECK_THAT(failed.body, Catch::Contains("creating the endpoint: epoll_ctl (a test's)"));
  CHECK(f.kernel->attachment_creates[kContainerEnd] == 1);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
  CHECK_THAT(f.driver->metrics_text(), Catch::Contains("\nnetdhcp_endpoints 0\n"));
  CHECK_THAT(f.driver->metrics_text(), Catch::Contains("\nnetdhcp_endpoint_create_failures_total 1\n"));
  f.start_driver();  // nothing on disk to re-adopt
  CHECK_THAT(f.driver->metrics_text(), Catch::Contains("\nnetdhcp_endpoints 0\n"));
  // The id is free again: Docker's retry is served.
  f.kernel->throw_in_links_wait = false;
  std::optional<ApiReply> retry;
  f.send("/NetworkDriver.CreateEndpoint", DriverFixture::endpoint_request("n1"), retry);
  serve_dhcp4(f.io, *f.kernel);
  REQUIRE(run_until(f.io, [&] { return retry.has_value(); }));
  CHECK(retry->status == 200);
}

// The daemon stopping (SIGTERM) while a CreateEndpoint waits for its lease: the event loop
// destroys that request's coroutine after the driver, and nothing of the driver is touched then
// (under ASan this was a heap-use-after-free in the map of endpoints being created).
TEST_CASE("driver: a CreateEndpoint still waiting when the daemon stops", "[driver]") {
  std::optional<ApiReply> pending;
  {
    DriverFixture f;
    REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n1")).status == 200);
    f.send("/NetworkDriver.CreateEndpoint", DriverFixture::endpoint_request("n1"), pending);
    REQUIRE(run_until(f.io, [&] { return f.kernel->last_wire4() && !f.kernel->last_wire4()->sent.empty(); }));
    f.driver.reset();  // as serve_command: the driver goes first, then the event loop
  }
  CHECK_FALSE(pending);
}

namespace {
// Makes writes into `dir` fail (ENOTDIR), even for root, whom permissions do not stop: the
// directory is moved aside and a file takes its name. mend() moves it back.
struct BrokenDirectory {
  std::string dir;
  explicit BrokenDirectory(std::string d) : dir(std::move(d)) {
    REQUIRE(::rename(dir.c_str(), (dir + ".aside").c_str()) == 0);
    std::ofstream(dir) << "not a directory";
  }
  void mend() {
    if (dir.empty()) return;
    ::unlink(dir.c_str());
    REQUIRE(::rename((dir + ".aside").c_str(), dir.c_str()) == 0);
    dir.clear();
  }
  ~BrokenDirectory() {
    if (!dir.empty()) {
      ::unlink(dir.c_str());
      (void)::rename((dir + ".aside").c_str(), dir.c_str());
    }
  }
};
}  // namespace

// A state directory that cannot be written (full, read-only): Docker is not told of what a
// restart would lose. CreateNetwork, CreateEndpoint and Join fail naming the file and the way
// out, and leave nothing behind; once the directory is mended, the same requests succeed.
TEST_CASE("driver: requests whose records cannot be saved fail, naming the state directory", "[driver][state]") {
  DriverFixture f;
  {  // CreateNetwork: a directory where networks.json's new text would go (EISDIR)
    const std::string in_the_way = f.state_dir.path + "/networks.json.tmp";
    REQUIRE(::mkdir(in_the_way.c_str(), 0700) == 0);
    auto refused = f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n1"));
    CHECK(refused.status == 500);
    CHECK_THAT(refused.body, Catch::Contains("the network could not be saved (writing " + in_the_way));
    CHECK_THAT(refused.body, Catch::Contains("free space in net-dhcp's state directory or make it writable"));
    CHECK_THAT(f.driver->metrics_text(), Catch::Contains("\nnetdhcp_networks 0\n"));
    REQUIRE(::rmdir(in_the_way.c_str()) == 0);
  }
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n1")).status == 200);

  {  // CreateEndpoint: refused before anything is made
    BrokenDirectory broken(f.state_dir.path + "/endpoints");
    auto refused = f.call("/NetworkDriver.CreateEndpoint", DriverFixture::endpoint_request("n1"));
    CHECK(refused.status == 500);
    CHECK_THAT(refused.body, Catch::Contains("the endpoint's record could not be saved (writing " + f.state_dir.path + "/endpoints/"));
    CHECK(f.kernel->attachment_creates[kContainerEnd] == 0);
    CHECK_THAT(f.driver->metrics_text(), Catch::Contains("\nnetdhcp_endpoints 0\n"));
  }
  std::optional<ApiReply> created;
  f.send("/NetworkDriver.CreateEndpoint", DriverFixture::endpoint_request("n1"), created);
  serve_dhcp4(f.io, *f.kernel);
  REQUIRE(run_until(f.io, [&] { return created.has_value(); }));
  REQUIRE(created->status == 200);

  {  // Join: refused; Docker's DeleteEndpoint then releases the lease and removes the links
    BrokenDirectory broken(f.state_dir.path + "/endpoints");
    auto refused = f.call("/NetworkDriver.Join", {{"NetworkID", "n1"}, {"EndpointID", kEndpointId}, {"SandboxKey", kSandbox}});
    CHECK(refused.status == 500);
    CHECK_THAT(refused.body, Catch::Contains("the endpoint's record could not be saved"));
    broken.mend();
  }
  REQUIRE(f.call("/NetworkDriver.DeleteEndpoint", {{"EndpointID", kEndpointId}}).status == 200);
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
  f.start_driver();  // a restart finds nothing of it
  CHECK_THAT(f.driver->metrics_text(), Catch::Contains("\nnetdhcp_endpoints 0\n"));
  CHECK_THAT(f.driver->metrics_text(), Catch::Contains("\nnetdhcp_networks 1\n"));
}

// A kill -9 between a DeleteEndpoint's record removal and its link deletion leaves links no
// record names: the next start removes those on its networks' bridges, a veth whose peer is our
// container end in the host namespace, and nothing else: not a recorded endpoint's, not one on
// another bridge, not a name that only looks like ours, not docker-net-dhcp's (it names its host
// ends dh-<id> too, on a bridge a migration may share: their peer is <id>-dh or in a container).
// Not at all when the records could not be listed.
TEST_CASE("driver: links of ours that no record names are removed at start", "[driver][state]") {
  DriverFixture f;
  f.kernel->add_bridge("br-other");
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n1")).status == 200);
  REQUIRE(f.create_endpoint("n1").status == 200);  // recorded: 555555555555
  auto pair = [&](const std::string& host_end, const std::string& bridge, const std::string& peer, bool elsewhere = false) {
    netlink::Link p;
    p.index = f.kernel->next_index++;
    p.name = peer;
    p.kind = "veth";
    if (!elsewhere) f.kernel->host_links[peer] = p;
    netlink::Link link;
    link.index = f.kernel->next_index++;
    link.name = host_end;
    link.kind = "veth";
    link.master = f.kernel->host_links.at(bridge).index;
    link.link = p.index;
    link.link_elsewhere = elsewhere;
    f.kernel->host_links[host_end] = link;
  };
  pair("dh-555555555555", "br-lan", "dc-555555555555");  // the recorded endpoint's
  pair("dh-0123456789ab", "br-lan", "dc-0123456789ab");  // no record: left by a kill -9
  pair("dh-abcdefabcdef", "br-other", "dc-abcdefabcdef");  // not on a bridge of ours
  pair("dh-notanidatall", "br-lan", "dc-notanidatall");  // not a name of ours
  pair("dh-aaaaaaaaaaaa", "br-lan", "aaaaaaaaaaaa-dh");  // docker-net-dhcp's, before its Join
  pair("dh-bbbbbbbbbbbb", "br-lan", "eth0", /*elsewhere=*/true);  // docker-net-dhcp's, joined
  f.driver->save_all();
  f.start_driver();
  CHECK(f.kernel->links_removed == std::vector<std::string>{"0123456789ab (bridge)"});

  // The records' folder cannot be listed: nothing is taken for unrecorded.
  f.kernel->links_removed.clear();
  f.driver.reset();
  const std::string endpoints = f.state_dir.path + "/endpoints";
  REQUIRE(::rename(endpoints.c_str(), (endpoints + ".aside").c_str()) == 0);
  REQUIRE(::symlink("nowhere", endpoints.c_str()) == 0);
  f.driver.emplace(f.io.get_executor(), f.state_dir.path, kDefaultDockerTimeout, f.kernel);
  REQUIRE(f.driver->load().ok());
  CHECK(f.kernel->links_removed.empty());
  ::unlink(endpoints.c_str());
  REQUIRE(::rename((endpoints + ".aside").c_str(), endpoints.c_str()) == 0);
}

// The first DISCOVER of an endpoint goes in a frame to each server that answered an endpoint on
// the LAN (one bridge port each, not all of them); the first endpoint on a LAN, and the first
// of a network made again on it, have none to go by.
TEST_CASE("driver: an endpoint's first DISCOVER goes to the servers that answered on its LAN", "[driver]") {
  DriverFixture f;
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n1")).status == 200);
  const std::string second = std::string(64, '6'), third = std::string(64, '7'), fourth = std::string(64, '8');
  auto first_discover_to = [&]() -> std::vector<MacAddress> {
    const FakeWire4& wire = *f.kernel->last_wire4();
    REQUIRE(!wire.sent.empty());
    REQUIRE(wire.sent[0].type == dhcp4::MessageType::Discover);
    CHECK(wire.sent[0].to_known_server);
    REQUIRE(wire.frames_to.size() == wire.sent.size());
    return wire.frames_to[0];
  };
  using Macs = std::vector<MacAddress>;
  REQUIRE(f.create_endpoint("n1").status == 200);
  CHECK(first_discover_to() == Macs{});  // a broadcast frame
  // The next endpoint is answered by a second server (Kea HA load balancing: each answers its
  // own half of the clients; on a real LAN only the broadcast retransmission of that first
  // DISCOVER, sent to the first server alone, would have reached it).
  const MacAddress second_server = *MacAddress::parse("02:00:00:00:00:02");
  f.kernel->server_mac4 = second_server;
  REQUIRE(f.create_endpoint("n1", second).status == 200);
  CHECK(first_discover_to() == Macs{kFakeServerMac});
  // From now on the first DISCOVER goes to both, the latest to answer first.
  REQUIRE(f.create_endpoint("n1", fourth).status == 200);
  CHECK(first_discover_to() == Macs{second_server, kFakeServerMac});
  REQUIRE(f.call("/NetworkDriver.DeleteEndpoint", {{"NetworkID", "n1"}, {"EndpointID", fourth}}).status == 200);

  for (const auto& id : {kEndpointId, second})
    REQUIRE(f.call("/NetworkDriver.DeleteEndpoint", {{"NetworkID", "n1"}, {"EndpointID", id}}).status == 200);
  REQUIRE(f.call("/NetworkDriver.DeleteNetwork", {{"NetworkID", "n1"}}).status == 200);
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverFixture::create_network("n2")).status == 200);
  REQUIRE(f.create_endpoint("n2", third).status == 200);
  CHECK(first_discover_to() == Macs{});
}
