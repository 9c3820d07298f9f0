#include "src/endpoint/client_identity.hpp"

#include <algorithm>

#include "dhcp/identity.hpp"
#include "src/transport/dhcp6_socket.hpp"

namespace netdhcp {

namespace {

// `seed` names the identity; "mac:" + seed its MAC. Kept exactly as it is: see the header.
ClientIdentity derive(const std::string& seed) {
  ClientIdentity id;
  id.duid = make_duid_uuid(uuid_from_name(seed));
  id.iaid = iaid_from_name(seed);
  id.client_id = make_client_id(id.iaid, id.duid);
  auto uuid = uuid_from_name("mac:" + seed);
  id.mac.octets[0] = 0x02;  // locally administered, unicast
  for (int i = 1; i < 6; ++i) id.mac.octets[i] = uuid[i];
  return id;
}

}  // namespace

ClientIdentity named_identity(const std::string& name) { return derive("identity:" + name); }

ClientIdentity endpoint_identity(const std::string& endpoint_id) { return derive(endpoint_id); }

ClientIdentity identity_of(const std::string& endpoint_id, const EndpointOptions& options) {
  return options.identity.empty() ? endpoint_identity(endpoint_id) : named_identity(options.identity);
}

ClientConfigs client_configs(const ClientIdentity& identity, const NetworkOptions& options, MacAddress mac,
                             const Attachment& attachment, const std::string& hostname, int mtu) {
  ClientConfigs configs;
  // An IPv6-only network has no DHCPv4 client at all: not one DHCPv4 packet goes out for it.
  if (options.ipv4) {
    dhcp4::ClientConfig c4;
    c4.mac = mac;
    // RFC 4361 type 255: IAID and DUID, the same DUID DHCPv6 sends. Servers key leases on it
    // before chaddr, which every ipvlan child of one parent shares.
    c4.client_id = identity.client_id;
    c4.hostname = hostname;
    c4.rapid_commit = options.rapid_commit;
    c4.max_message_size = static_cast<std::uint16_t>(std::clamp(mtu, 576, 65535));
    c4.broadcast_flag = attachment.needs_broadcast_replies();
    configs.v4 = std::move(c4);
  }
  if (options.ipv6) {
    dhcp6::ClientConfig c6;
    c6.duid = identity.duid;
    c6.iaid = identity.iaid;
    c6.fqdn = hostname;
    c6.rapid_commit = options.rapid_commit;
    c6.initial_delay_min = Dhcp6UdpSocket::kRouterSolicitationLead;  // see Dhcp6UdpSocket::open
    configs.v6 = std::move(c6);
  }
  return configs;
}

}  // namespace netdhcp
