// Who an endpoint's DHCP clients are to the server, and how they ask: an identity stable per
// endpoint (DUID-UUID, IAID and the RFC 4361 client identifier all come from the endpoint id),
// so that a re-adopted endpoint is the same client, and so that ipvlan children, which all have
// their parent's MAC (chaddr), are still one client each; with the broadcast flag where the
// attachment cannot receive a unicast reply before it has an address.
#pragma once

#include <optional>
#include <string>

#include "dhcp/dhcp4_client.hpp"
#include "dhcp/dhcp6_client.hpp"
#include "src/endpoint/attachment.hpp"
#include "src/state/network_options.hpp"

namespace netdhcp {

struct ClientConfigs {
  std::optional<dhcp4::ClientConfig> v4;  // none on an IPv6-only network (Docker 28's --ipv4=false)
  std::optional<dhcp6::ClientConfig> v6;  // with ipv6 only
};

// `mac`: the container end's (chaddr); `hostname`: the one to send; `mtu`: the interface's (the
// DHCPv4 maximum message size).
ClientConfigs client_configs(const std::string& endpoint_id, const NetworkOptions& options, MacAddress mac,
                             const Attachment& attachment, const std::string& hostname, int mtu);

}  // namespace netdhcp
