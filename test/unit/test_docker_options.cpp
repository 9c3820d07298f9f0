// What Docker adds to the requests (src/docker_options.hpp): the address families of a network
// (Docker 28's --ipv4=false, --ipv6) and the MAC of an endpoint, including the base64 form Go's
// encoding/json gives a net.HardwareAddr.
#include <catch2/catch.hpp>

#include "src/plugin/docker_options.hpp"

using namespace netdhcp;
namespace json = boost::json;

namespace {

json::object parse_object(const char* text) { return json::parse(text).as_object(); }

}  // namespace

// Docker 20.10 sends neither flag; Docker 28 sends both as bools; some versions strings.
TEST_CASE("network families from CreateNetwork's Options", "[docker]") {
  auto none = network_families(parse_object(R"({"com.docker.network.generic": {"bridge": "br0"}})"));
  REQUIRE(none);
  REQUIRE(none->ipv4);
  REQUIRE_FALSE(none->ipv6);

  // Docker 28.5, `docker network create --ipv4=false --ipv6 --ipam-driver null -o bridge=br0`.
  auto v6_only = network_families(parse_object(
      R"({"com.docker.network.enable_ipv4": false, "com.docker.network.enable_ipv6": true,
          "com.docker.network.generic": {"bridge": "br0"}})"));
  REQUIRE(v6_only);
  REQUIRE_FALSE(v6_only->ipv4);
  REQUIRE(v6_only->ipv6);

  auto as_strings = network_families(
      parse_object(R"({"com.docker.network.enable_ipv4": "false", "com.docker.network.enable_ipv6": "true"})"));
  REQUIRE(as_strings);
  REQUIRE_FALSE(as_strings->ipv4);
  REQUIRE(as_strings->ipv6);

  auto both = network_families(
      parse_object(R"({"com.docker.network.enable_ipv4": true, "com.docker.network.enable_ipv6": "false"})"));
  REQUIRE(both);
  REQUIRE(both->ipv4);
  REQUIRE_FALSE(both->ipv6);
}

// A value that is neither is an error naming the option, not a silent default.
TEST_CASE("a family flag of another kind is refused, naming it", "[docker]") {
  auto odd = network_families(parse_object(R"({"com.docker.network.enable_ipv4": "no"})"));
  REQUIRE_FALSE(odd);
  REQUIRE_THAT(odd.error().message, Catch::Contains("com.docker.network.enable_ipv4=\"no\", expected true or false"));
  REQUIRE_FALSE(network_families(parse_object(R"({"com.docker.network.enable_ipv6": 1})")));
}

// RFC 4648 section 10's test vectors, and what is not base64.
TEST_CASE("base64 decoding", "[docker]") {
  auto text = [](std::string_view b64) {
    auto bytes = decode_base64(b64);
    REQUIRE(bytes);
    return to_string(*bytes);
  };
  REQUIRE(text("") == "");
  REQUIRE(text("Zg==") == "f");
  REQUIRE(text("Zm8=") == "fo");
  REQUIRE(text("Zm9v") == "foo");
  REQUIRE(text("Zm9vYg==") == "foob");
  REQUIRE(text("Zm9vYmE=") == "fooba");
  REQUIRE(text("Zm9vYmFy") == "foobar");
  REQUIRE(text("+/+/") == "\xfb\xff\xbf");
  for (const char* bad : {"Zg=", "Zm9", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm=v", "Zm9v YmFy"}) {
    INFO(bad);
    REQUIRE_FALSE(decode_base64(bad));
  }
}

// Docker 28 sends the MAC of `--network name=lan,mac-address=02:00:00:00:05:01` as the JSON of
// a Go net.HardwareAddr: base64 of the six bytes.
TEST_CASE("the endpoint's MAC option, base64 or colon-hex", "[docker]") {
  auto mac = parse_endpoint_mac("AgAAAAUB");
  REQUIRE(mac);
  REQUIRE(mac->to_string() == "02:00:00:00:05:01");
  REQUIRE(parse_endpoint_mac("AkJD3q2+")->to_string() == "02:42:43:de:ad:be");
  REQUIRE(parse_endpoint_mac("02:42:ac:11:00:02")->to_string() == "02:42:ac:11:00:02");
  REQUIRE_FALSE(parse_endpoint_mac("AgAAAAU="));      // 5 bytes
  REQUIRE_FALSE(parse_endpoint_mac("AgAAAAUBAg=="));  // 7 bytes
  REQUIRE_FALSE(parse_endpoint_mac("02:42:ac:11:00"));
  REQUIRE_FALSE(parse_endpoint_mac("not a mac"));
}

// Interface.MacAddress first, the option when it is empty, none when Docker chose none, and an
// error when the two disagree.
TEST_CASE("the MAC Docker chose for an endpoint", "[docker]") {
  auto nothing = requested_mac(parse_object(R"({"Interface": {"Address": "", "MacAddress": ""}, "Options": {}})"));
  REQUIRE(nothing);
  REQUIRE_FALSE(*nothing);
  REQUIRE_FALSE(requested_mac(parse_object(R"({"EndpointID": "e"})")).value());

  auto from_interface = requested_mac(parse_object(R"({"Interface": {"MacAddress": "02:00:00:00:05:01"}})"));
  REQUIRE(from_interface);
  REQUIRE((*from_interface)->to_string() == "02:00:00:00:05:01");

  auto from_option = requested_mac(parse_object(
      R"({"Interface": {"MacAddress": ""}, "Options": {"com.docker.network.endpoint.macaddress": "AgAAAAUB"}})"));
  REQUIRE(from_option);
  REQUIRE((*from_option)->to_string() == "02:00:00:00:05:01");

  auto agreeing = requested_mac(parse_object(
      R"({"Interface": {"MacAddress": "02:00:00:00:05:01"},
          "Options": {"com.docker.network.endpoint.macaddress": "AgAAAAUB"}})"));
  REQUIRE(agreeing);
  REQUIRE((*agreeing)->to_string() == "02:00:00:00:05:01");

  auto disagreeing = requested_mac(parse_object(
      R"({"Interface": {"MacAddress": "02:00:00:00:05:02"},
          "Options": {"com.docker.network.endpoint.macaddress": "AgAAAAUB"}})"));
  REQUIRE_FALSE(disagreeing);
  REQUIRE_THAT(disagreeing.error().message,
               Catch::Contains("02:00:00:00:05:02 (Interface.MacAddress) and 02:00:00:00:05:01"));

  auto garbage = requested_mac(parse_object(R"({"Options": {"com.docker.network.endpoint.macaddress": "AgAA"}})"));
  REQUIRE_FALSE(garbage);
  REQUIRE_THAT(garbage.error().message, Catch::Contains("expected 6 bytes in base64 or aa:bb:cc:dd:ee:ff"));
  REQUIRE_FALSE(requested_mac(parse_object(R"({"Interface": {"MacAddress": "02-00-00-00-05-01"}})")));
}
