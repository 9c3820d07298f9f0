// CreateEndpoint's Options: identity= and hostname=, beside Docker's own keys.
#include <catch2/catch.hpp>

#include "src/state/endpoint_options.hpp"
#include "src/state/state_store.hpp"

using namespace netdhcp;
namespace json = boost::json;

namespace {
std::string error_of(const json::object& options) {
  auto r = parse_endpoint_options(options);
  return r ? "" : r.error().message;
}
}  // namespace

TEST_CASE("endpoint options: identity and hostname, Docker's own keys skipped", "[endpoint_options]") {
  // What Docker 28 sends for `docker run --network name=lan,driver-opt=identity=web,mac-address=...`.
  json::object options{{"com.docker.network.endpoint.macaddress", "AgAAAAUB"},
                       {"com.docker.network.endpoint.exposedports", json::array{}},
                       {"com.docker.network.portmap", json::array{}},
                       {"com.docker.network.endpoint.sysctls", ""},
                       {"identity", "web"},
                       {"hostname", "web.lan"}};
  auto parsed = parse_endpoint_options(options);
  REQUIRE(parsed);
  CHECK(parsed->identity == "web");
  CHECK(parsed->hostname == "web.lan");
  auto none = parse_endpoint_options(json::object{{"com.docker.network.endpoint.macaddress", "AgAAAAUB"}});
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("endpoint options: every malformed value is named with the fix", "[endpoint_options]") {
  CHECK_THAT(error_of({{"identiy", "web"}}), Catch::Contains("unknown endpoint option identiy") && Catch::Contains("identity, hostname"));
  CHECK_THAT(error_of({{"bridge", "br0"}}), Catch::Contains("docker network create -o"));
  CHECK_THAT(error_of({{"identity", ""}}), Catch::Contains("identity is empty"));
  CHECK_THAT(error_of({{"identity", "we\x01" "b"}}), Catch::Contains("control character") && Catch::Contains("we\\x01b"));
  CHECK_THAT(error_of({{"identity", "a\tb"}}), Catch::Contains("control character"));
  CHECK_THAT(error_of({{"identity", std::string(65, 'x')}}), Catch::Contains("has 65 bytes, more than 64"));
  CHECK(error_of({{"identity", std::string(64, 'x')}}).empty());
  CHECK(error_of({{"identity", "web server #1 (ünïcode)"}}).empty());  // printable: any name
  CHECK_THAT(error_of({{"identity", 42}}), Catch::Contains("identity must be a string"));
  CHECK_THAT(error_of({{"hostname", "two words"}}), Catch::Contains("hostname=\"two words\" is not a hostname"));
  CHECK_THAT(error_of({{"hostname", ""}}), Catch::Contains("is not a hostname"));
  CHECK_THAT(error_of({{"hostname", std::string(254, 'h')}}), Catch::Contains("is not a hostname"));
  CHECK_THAT(error_of({{"hostname", "-web"}}), Catch::Contains("is not a hostname"));
  CHECK(error_of({{"hostname", "web-1.example.lan"}}).empty());
}

// Swarm passes a service's --network driver-opt to every task as written (no template
// expansion): refused, or all the service's tasks would be one client to the server.
TEST_CASE("endpoint options: a template Docker did not expand is refused, naming it", "[endpoint_options]") {
  CHECK_THAT(error_of({{"identity", "web-{{.Task.Slot}}"}}),
             Catch::Contains("identity=\"web-{{.Task.Slot}}\" holds a template") && Catch::Contains("does not expand") &&
                 Catch::Contains("--replicas 1"));
  CHECK_THAT(error_of({{"hostname", "{{.Node.Hostname}}-web"}}), Catch::Contains("hostname=\"{{.Node.Hostname}}-web\" holds a template"));
  CHECK(error_of({{"identity", "web {1}"}}).empty());  // braces alone are a name like any other
}

TEST_CASE("endpoint options are kept in the endpoint's record", "[endpoint_options]") {
  EndpointRecord r;
  r.endpoint_id = "e1";
  r.network_id = "n1";
  r.endpoint_options = {"web", "web.lan"};
  auto back = record_from_json(record_to_json(r));
  REQUIRE(back);
  CHECK(back->endpoint_options.identity == "web");
  CHECK(back->endpoint_options.hostname == "web.lan");
  // A record without them (every record before identities) reads as none.
  EndpointRecord plain;
  plain.endpoint_id = "e2";
  plain.network_id = "n1";
  auto j = record_to_json(plain);
  CHECK_FALSE(j.contains("endpoint_options"));
  auto plain_back = record_from_json(j);
  REQUIRE(plain_back);
  CHECK(plain_back->endpoint_options.empty());
  // A record whose options were edited into something invalid is refused (and set aside).
  j["endpoint_options"] = json::object{{"identity", ""}};
  CHECK_FALSE(record_from_json(j));
}
