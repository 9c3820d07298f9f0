// What Docker itself puts into the requests besides the user's -o options: which address
// families a network has (CreateNetwork's com.docker.network.enable_ipv4/enable_ipv6, sent by
// Docker 25+; `--ipv4=false` networks exist from Docker 28) and the MAC address Docker chose
// for an endpoint (Interface.MacAddress, and since API 1.44 also CreateEndpoint's
// com.docker.network.endpoint.macaddress).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string_view>

#include "netdhcp/address.hpp"
#include "netdhcp/bytes.hpp"
#include "netdhcp/result.hpp"

namespace netdhcp {

struct AddressFamilies {
  bool ipv4 = true;   // Docker before 28 always has IPv4
  bool ipv6 = false;  // Docker's --ipv6
};

// From CreateNetwork's `Options` object. Each flag is a JSON bool, or on some versions the
// string "true"/"false"; a missing flag keeps its default. Errors: a flag of another kind.
Result<AddressFamilies> network_families(const boost::json::object& options);

// Standard base64 (RFC 4648 section 4, with padding), as Go's encoding/json writes a []byte.
// nullopt for anything else.
std::optional<Bytes> decode_base64(std::string_view text);

// The endpoint option's value: base64 of 6 bytes (Go's net.HardwareAddr through encoding/json,
// e.g. "AgAAAAUB" for 02:00:00:00:05:01), or colon-separated hex. nullopt if it is neither.
std::optional<MacAddress> parse_endpoint_mac(std::string_view text);

// The MAC Docker chose for the endpoint in a CreateEndpoint request: Interface.MacAddress, else
// Options["com.docker.network.endpoint.macaddress"]; nullopt when it chose none (the driver
// then picks one and returns it). Errors: a value that is not a MAC, or the two disagree.
Result<std::optional<MacAddress>> requested_mac(const boost::json::object& request);

}  // namespace netdhcp
