// identity= and hostname= endpoint options through the plugin API over the fake kernel: the
// identity's MAC and client id, the same client when re-created, duplicates refused on one LAN
// (also while the first CreateEndpoint is under way) and allowed on another, --mac-address
// with an identity, hostname= from the first DISCOVER and kept over the container's, bad
// options refused with nothing made, the identity kept through a restart.
#include <catch2/catch.hpp>

#include "src/endpoint/client_identity.hpp"
#include "test/unit/driver_harness.hpp"

using namespace netdhcp;
using namespace netdhcp::test;

namespace {

const std::string kFirst = "1111111111111111111111111111111111111111111111111111111111111111";
const std::string kSecond = "2222222222222222222222222222222222222222222222222222222222222222";
const std::string kThird = "3333333333333333333333333333333333333333333333333333333333333333";

struct IdentityFixture : DriverHarness {
  IdentityFixture() {
    kernel->add_bridge("br-lan");
    kernel->add_bridge("br-other");
    start_driver();
    REQUIRE(call("/NetworkDriver.CreateNetwork", network_request("n1", {{"bridge", "br-lan"}, {"firewall_check", "false"}})).status == 200);
  }
  std::string client_id_of_last(dhcp4::MessageType type = dhcp4::MessageType::Discover) {
    auto p = first_sent(*kernel->last_wire4(), type);
    REQUIRE(p);
    auto id = p->find(dhcp4::option::ClientId);
    return id ? hex(*id) : "";
  }
  void remove(const std::string& endpoint_id) {
    REQUIRE(call("/NetworkDriver.Leave", {{"EndpointID", endpoint_id}}).status == 200);
    REQUIRE(call("/NetworkDriver.DeleteEndpoint", {{"EndpointID", endpoint_id}}).status == 200);
  }
  json::object endpoint_status(const std::string& endpoint_id) {
    auto status = body_of(call("/NetDhcp.Status", {}));
    for (const auto& n : status.at("networks").as_array())
      for (const auto& e : n.at("endpoints").as_array())
        if (e.at("endpoint_id") == endpoint_id.c_str()) return e.as_object();
    FAIL("endpoint " << endpoint_id << " not in status");
    return {};
  }
};

}  // namespace

TEST_CASE("identity=web: the identity's MAC and client id, the same when re-created, another for another name", "[driver][identity]") {
  IdentityFixture f;
  ClientIdentity web = named_identity("web");
  auto created = f.create_endpoint("n1", kFirst, {{"identity", "web"}});
  REQUIRE(created.status == 200);
  CHECK(text(DriverHarness::body_of(created).at("Interface").at("MacAddress")) == web.mac.to_string());
  CHECK(f.client_id_of_last() == hex(web.client_id));
  CHECK(chaddr_of(*first_sent(*f.kernel->last_wire4(), dhcp4::MessageType::Discover)) == web.mac);
  auto status = f.endpoint_status(kFirst);
  CHECK(text(status.at("identity")) == "web");
  CHECK(text(status.at("mac")) == web.mac.to_string());
  f.remove(kFirst);

  // docker rm + docker run: a new endpoint id, the same identity: the same client.
  REQUIRE(f.create_endpoint("n1", kSecond, {{"identity", "web"}}).status == 200);
  CHECK(f.client_id_of_last() == hex(web.client_id));
  CHECK(chaddr_of(*first_sent(*f.kernel->last_wire4(), dhcp4::MessageType::Discover)) == web.mac);
  f.remove(kSecond);

  // Another name: another client. No identity: the endpoint id's.
  REQUIRE(f.create_endpoint("n1", kThird, {{"identity", "db"}}).status == 200);
  CHECK(f.client_id_of_last() == hex(named_identity("db").client_id));
  f.remove(kThird);
  REQUIRE(f.create_endpoint("n1", kFirst).status == 200);
  CHECK(f.client_id_of_last() == hex(endpoint_identity(kFirst).client_id));
}

TEST_CASE("a second endpoint with an identity in use on the same LAN is refused, nothing made", "[driver][identity]") {
  IdentityFixture f;
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverHarness::network_request("n2", {{"bridge", "br-lan"}, {"firewall_check", "false"}, {"ignore_conflicts", "true"}})).status == 200);
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverHarness::network_request("other", {{"bridge", "br-other"}, {"firewall_check", "false"}})).status == 200);
  REQUIRE(f.create_endpoint("n1", kFirst, {{"identity", "web"}}).status == 200);
  std::size_t wires = f.kernel->wires4.size();

  auto same_network = f.call("/NetworkDriver.CreateEndpoint", DriverHarness::endpoint_request("n1", kSecond, {{"identity", "web"}}));
  CHECK(same_network.status == 409);
  CHECK_THAT(same_network.body, Catch::Contains("identity=web is already in use by endpoint 111111111111") &&
                                    Catch::Contains("one running container per identity per LAN"));
  // Another network on the same bridge is the same LAN.
  auto same_bridge = f.call("/NetworkDriver.CreateEndpoint", DriverHarness::endpoint_request("n2", kSecond, {{"identity", "web"}}));
  CHECK(same_bridge.status == 409);
  CHECK(f.kernel->attachment_creates["dc-222222222222"] == 0);
  CHECK(f.kernel->wires4.size() == wires);

  // Another LAN: allowed (the same container may be "web" on two LANs).
  CHECK(f.create_endpoint("other", kSecond, {{"identity", "web"}}).status == 200);
  // Once the first has left, its identity is free again.
  f.remove(kFirst);
  CHECK(f.create_endpoint("n1", kThird, {{"identity", "web"}}).status == 200);
}

TEST_CASE("two CreateEndpoints with one identity at once: the second is refused while the first waits for its lease", "[driver][identity]") {
  IdentityFixture f;
  std::optional<ApiReply> first;
  f.send("/NetworkDriver.CreateEndpoint", DriverHarness::endpoint_request("n1", kFirst, {{"identity", "web"}}), first);
  REQUIRE(run_until(f.io, [&] { return f.kernel->last_wire4() && !f.kernel->last_wire4()->sent.empty(); }));
  auto second = f.call("/NetworkDriver.CreateEndpoint", DriverHarness::endpoint_request("n1", kSecond, {{"identity", "web"}}));
  CHECK(second.status == 409);
  CHECK_THAT(second.body, Catch::Contains("identity=web is already in use by endpoint 111111111111"));
  serve_dhcp4(f.io, *f.kernel);
  REQUIRE(run_until(f.io, [&] { return first.has_value(); }));
  CHECK(first->status == 200);
}

TEST_CASE("--mac-address with identity=: Docker's MAC in the frames, the identity's client id", "[driver][identity]") {
  IdentityFixture f;
  auto created = f.create_endpoint("n1", kFirst, {{"identity", "web"}}, {{"MacAddress", "02:00:00:00:05:01"}});
  REQUIRE(created.status == 200);
  CHECK_FALSE(DriverHarness::body_of(created).at("Interface").as_object().contains("MacAddress"));  // Docker's own
  auto discover = first_sent(*f.kernel->last_wire4(), dhcp4::MessageType::Discover);
  CHECK(chaddr_of(*discover) == *MacAddress::parse("02:00:00:00:05:01"));
  CHECK(f.client_id_of_last() == hex(named_identity("web").client_id));
}

TEST_CASE("hostname=: in the first DISCOVER and REQUEST, and kept when the container's hostname is learnt", "[driver][identity]") {
  IdentityFixture f;
  REQUIRE(f.create_endpoint("n1", kFirst, {{"hostname", "web-1"}}).status == 200);
  for (auto type : {dhcp4::MessageType::Discover, dhcp4::MessageType::Request}) {
    auto p = first_sent(*f.kernel->last_wire4(), type);
    REQUIRE(p->find(dhcp4::option::HostName));
    CHECK(to_string(*p->find(dhcp4::option::HostName)) == "web-1");
  }
  const std::string sandbox = "/var/run/docker/netns/1e1e1e1e1e1e";
  REQUIRE(f.call("/NetworkDriver.Join", {{"NetworkID", "n1"}, {"EndpointID", kFirst}, {"SandboxKey", sandbox}}).status == 200);
  f.kernel->start_container(sandbox)->facts = ContainerFacts{"container-name", std::string(64, 'c'), ""};
  f.kernel->move_link("dc-111111111111", sandbox);
  REQUIRE(run_until(f.io, [&] { return f.kernel->last_wire4()->where == sandbox; }));  // followed: a wire in there
  auto wire = f.kernel->last_wire4();
  // The container's id is learnt (status shows it); its hostname does not replace hostname=.
  REQUIRE(run_until(f.io, [&] { return text(f.endpoint_status(kFirst).at("container_id")) == std::string(64, 'c'); }));
  CHECK(text(f.endpoint_status(kFirst).at("hostname")) == "web-1");
  // Learning a hostname that is sent renews at once; this one is not, so the container's wire
  // carries nothing but the RELEASE (sent after anything queued before it).
  REQUIRE(f.call("/NetworkDriver.Leave", {{"EndpointID", kFirst}}).status == 200);
  REQUIRE(run_until(f.io, [&] { return count_sent(*wire, dhcp4::MessageType::Release) == 1; }));
  CHECK(f.kernel->last_wire4() == wire);
  const auto& sent = wire->sent;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    if (sent[i].kind != dhcp4::Transmit::Kind::Dhcp) continue;
    CHECK(sent[i].type == dhcp4::MessageType::Release);
    auto p = dhcp4::parse(sent[i].payload).value();
    if (auto name = p.find(dhcp4::option::HostName)) CHECK(to_string(*name) == "web-1");
  }
}

TEST_CASE("bad endpoint options are refused, naming the option, with nothing made or kept", "[driver][identity]") {
  IdentityFixture f;
  auto unknown = f.call("/NetworkDriver.CreateEndpoint", DriverHarness::endpoint_request("n1", kFirst, {{"idenity", "web"}}));
  CHECK(unknown.status == 400);
  CHECK_THAT(unknown.body, Catch::Contains("unknown endpoint option idenity"));
  auto long_one = f.call("/NetworkDriver.CreateEndpoint", DriverHarness::endpoint_request("n1", kFirst, {{"identity", std::string(80, 'w')}}));
  CHECK(long_one.status == 400);
  CHECK_THAT(long_one.body, Catch::Contains("more than 64"));
  CHECK(f.kernel->attachment_creates.empty());
  CHECK(f.kernel->wires4.empty());
  auto status = DriverHarness::body_of(f.call("/NetDhcp.Status", {}));
  CHECK(status.at("networks").at(0).at("endpoints").as_array().empty());
  // The daemon carries on: the same request, corrected, works.
  CHECK(f.create_endpoint("n1", kFirst, {{"identity", "web"}}).status == 200);
}

TEST_CASE("a restart keeps the identity: status shows it, the re-adopted client is the same, duplicates still refused", "[driver][identity]") {
  IdentityFixture f;
  Offer4 short_lease;
  short_lease.lease_seconds = 6;
  short_lease.t1_seconds = 1;  // renews a second after the lease: soon after the restart
  REQUIRE(f.create_endpoint("n1", kFirst, {{"identity", "web"}, {"hostname", "web-1"}}, {}, short_lease).status == 200);
  const std::string sandbox = "/var/run/docker/netns/1e1e1e1e1e1e";
  REQUIRE(f.call("/NetworkDriver.Join", {{"NetworkID", "n1"}, {"EndpointID", kFirst}, {"SandboxKey", sandbox}}).status == 200);
  f.kernel->move_link("dc-111111111111", sandbox);
  std::size_t wires = f.kernel->wires4.size();
  f.start_driver();  // net-dhcp restarted: re-adopts from the record
  REQUIRE(run_until(f.io, [&] { return text(f.endpoint_status(kFirst).at("ipv4").at("state")) == "bound"; }));
  auto status = f.endpoint_status(kFirst);
  CHECK(text(status.at("identity")) == "web");
  CHECK(text(status.at("hostname")) == "web-1");
  CHECK(text(status.at("mac")) == named_identity("web").mac.to_string());
  auto duplicate = f.call("/NetworkDriver.CreateEndpoint", DriverHarness::endpoint_request("n1", kSecond, {{"identity", "web"}}));
  CHECK(duplicate.status == 409);
  // The re-adopted client renews as the identity, on a wire of its own.
  REQUIRE(run_until(f.io, [&] {
    return f.kernel->wires4.size() > wires && first_sent(*f.kernel->last_wire4(), dhcp4::MessageType::Request);
  }));
  CHECK(f.client_id_of_last(dhcp4::MessageType::Request) == hex(named_identity("web").client_id));
  CHECK(to_string(*first_sent(*f.kernel->last_wire4(), dhcp4::MessageType::Request)->find(dhcp4::option::HostName)) == "web-1");
}

// Kea deletes a released lease, so a re-created identity would be a new client to it: the
// daemon remembers the identity's address per LAN (identities.json) and asks for it again
// (option 50 in the DISCOVER), also after a restart; another identity or LAN asks for nothing.
TEST_CASE("a re-created identity asks for its last address, also after a restart", "[driver][identity]") {
  IdentityFixture f;
  auto requested = [&] {
    auto p = first_sent(*f.kernel->last_wire4(), dhcp4::MessageType::Discover);
    REQUIRE(p);
    auto a = p->address_option(dhcp4::option::RequestedAddress);
    return a ? a->to_string() : std::string("none");
  };
  Offer4 first_offer;
  first_offer.address = *Ipv4Address::parse("198.18.0.77");
  REQUIRE(f.create_endpoint("n1", kFirst, {{"identity", "web"}}, {}, first_offer).status == 200);
  CHECK(requested() == "none");  // never seen before
  f.remove(kFirst);
  REQUIRE(f.create_endpoint("n1", kSecond, {{"identity", "web"}}, {}, first_offer).status == 200);
  CHECK(requested() == "198.18.0.77");
  f.remove(kSecond);
  REQUIRE(f.create_endpoint("n1", kThird, {{"identity", "db"}}).status == 200);
  CHECK(requested() == "none");
  f.remove(kThird);
  REQUIRE(f.call("/NetworkDriver.CreateNetwork", DriverHarness::network_request("other", {{"bridge", "br-other"}, {"firewall_check", "false"}})).status == 200);
  REQUIRE(f.create_endpoint("other", kThird, {{"identity", "web"}}).status == 200);
  CHECK(requested() == "none");  // another LAN: its own address there
  f.remove(kThird);

  f.start_driver();  // restarted: identities.json read back
  REQUIRE(f.create_endpoint("n1", kFirst, {{"identity", "web"}}).status == 200);
  CHECK(requested() == "198.18.0.77");
  // The server gave another (198.18.0.42): that one is asked for next time.
  f.remove(kFirst);
  REQUIRE(f.create_endpoint("n1", kSecond, {{"identity", "web"}}).status == 200);
  CHECK(requested() == "198.18.0.42");
}
