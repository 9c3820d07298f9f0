// Who an endpoint's DHCP clients are to the server, and how they ask.
//
// The identity: the DUID (DUID-UUID), the IAID and the RFC 4361 client identifier (type 255,
// IAID + DUID) that DHCPv4 sends, and the MAC when Docker chose none. All come from one name:
//   - the endpoint option identity=NAME, when given: a container re-created with the same NAME
//     is the same client (same client id, same DUID, same MAC), so it keeps its address;
//   - else Docker's endpoint id: stable for the endpoint's life, so a re-adopted endpoint is
//     the same client, and ipvlan children (which all have their parent's MAC) are one client each.
// The derivation is part of net-dhcp's interface: servers hold leases and reservations keyed on
// these bytes. Changing it moves every container with an identity to a new address; the unit
// test that pins it (test_client_identity.cpp) says so.
#pragma once

#include <optional>
#include <string>

#include "dhcp/dhcp4_client.hpp"
#include "dhcp/dhcp6_client.hpp"
#include "src/endpoint/attachment.hpp"
#include "src/state/endpoint_options.hpp"
#include "src/state/network_options.hpp"

namespace netdhcp {

struct ClientIdentity {
  Bytes duid;         // DUID-UUID (RFC 6355), for DHCPv6 and inside the client id
  std::uint32_t iaid = 0;
  Bytes client_id;    // DHCPv4 option 61: 255, IAID, DUID (RFC 4361 section 6.1)
  MacAddress mac;     // locally administered, unicast: used when Docker chose no MAC
};

// identity=NAME's (the same bytes on every machine and in every version).
ClientIdentity named_identity(const std::string& name);
// An endpoint without identity=: from Docker's endpoint id.
ClientIdentity endpoint_identity(const std::string& endpoint_id);
// The one an endpoint uses: its identity= option's, else its id's.
ClientIdentity identity_of(const std::string& endpoint_id, const EndpointOptions& options);

struct ClientConfigs {
  std::optional<dhcp4::ClientConfig> v4;  // none on an IPv6-only network (Docker 28's --ipv4=false)
  std::optional<dhcp6::ClientConfig> v6;  // with ipv6 only
};

// `mac`: the container end's (chaddr); `hostname`: the one to send; `mtu`: the interface's (the
// DHCPv4 maximum message size). With the broadcast flag where the attachment cannot receive a
// unicast reply before it has an address.
ClientConfigs client_configs(const ClientIdentity& identity, const NetworkOptions& options, MacAddress mac,
                             const Attachment& attachment, const std::string& hostname, int mtu);

}  // namespace netdhcp
