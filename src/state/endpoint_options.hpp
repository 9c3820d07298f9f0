// A net-dhcp endpoint's options: the driver options a user gives one container on one network
// (`docker run --network name=lan,driver-opt=identity=web`, `docker network connect
// --driver-opt identity=web`, Compose v2 `driver_opts` under a service's network). Docker
// passes them in CreateEndpoint's Options, beside keys of its own (com.docker.*), which are
// not ours to check. They are kept in the endpoint's record, so a re-adopted endpoint keeps them.
#pragma once

#include <boost/json.hpp>
#include <string>

#include "netdhcp/result.hpp"

namespace netdhcp {

struct EndpointOptions {
  // identity=NAME: the client identifier, DUID, IAID and (when Docker chose none) MAC all come
  // from NAME (src/endpoint/client_identity.hpp), so a container re-created with the same NAME
  // is the same client to the server. Empty: they come from Docker's endpoint id.
  std::string identity;
  // hostname=NAME: sent from the first DISCOVER/SOLICIT, and kept when the container's own
  // hostname is learnt. Empty: the container's hostname, else the network's -o hostname.
  std::string hostname;

  bool empty() const { return identity.empty() && hostname.empty(); }
};

constexpr std::size_t kMaxIdentity = 64;

// From CreateEndpoint's `Options` object. Keys that start with "com.docker." are Docker's own
// and skipped. Errors name the option and the fix: an unknown option, a value that is not a
// string, an empty identity, one with a control character or over 64 bytes, a hostname that
// is not one.
Result<EndpointOptions> parse_endpoint_options(const boost::json::object& options);

// The record's form ({"identity": ..., "hostname": ...}, only what is set), and back; the
// reader runs the same checks.
boost::json::object endpoint_options_to_json(const EndpointOptions& options);
Result<EndpointOptions> endpoint_options_from_json(const boost::json::value& value);

// A hostname as sent in option 12 and the DHCPv6 FQDN: letters, digits, '-', '_' and '.',
// 1 to 253 bytes, not starting or ending with '.' or '-'.
bool valid_hostname(std::string_view name);

}  // namespace netdhcp
