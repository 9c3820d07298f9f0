// The JSON form of a DHCPv4 lease's options, one key per row of dhcp4::kLeaseOptions (the
// row's name): the one writer and reader behind the state file's lease (lease_to_json,
// lease4_from_json in state_store.hpp), `net-dhcp lease --json` and status. Each of those adds
// its own fields around it (address, server, times); none writes an option itself.
#pragma once

#include <boost/json.hpp>

#include "dhcp/dhcp4_lease.hpp"

namespace netdhcp {

namespace json = boost::json;

// Adds one key per Lease field of the table: lists and strings always (empty ones too), an
// optional value only when set.
void lease_options_to_json(const dhcp4::Lease& lease, json::object& out);

// Reads back what lease_options_to_json wrote. A missing key leaves its field empty, and so
// does a value of the wrong shape (a list with one bad address, a route without its router):
// like a malformed option on the wire, it is dropped, and the rest of the lease still loads.
void lease_options_from_json(const json::object& in, dhcp4::Lease& lease);

}  // namespace netdhcp
