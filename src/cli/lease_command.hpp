// `net-dhcp lease`: one DHCP lease on one interface in the current network namespace, without
// configuring the interface. For trying a LAN's server, for the interop tests and benchmarks.
#pragma once

#include <boost/json.hpp>

#include "dhcp/dhcp4_lease.hpp"
#include "dhcp/dhcp6_client.hpp"

namespace netdhcp {

int lease_command(int argc, char** argv);

// The object `--json` prints for a lease (the counters, elapsed_ms and the event are added to
// it): address as CIDR, gateway, server, times in seconds and, for DHCPv4, one key per option
// (src/state/lease_json.hpp).
boost::json::object lease4_json(const dhcp4::Lease& lease);
boost::json::object lease6_json(const dhcp6::Lease& lease);

}  // namespace netdhcp
