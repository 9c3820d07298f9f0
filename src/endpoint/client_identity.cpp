#include "src/endpoint/client_identity.hpp"

#include <algorithm>

#include "dhcp/identity.hpp"
#include "src/transport/dhcp6_socket.hpp"

namespace netdhcp {

ClientConfigs client_configs(const std::string& endpoint_id, const NetworkOptions& options, MacAddress mac,
                             const Attachment& attachment, const std::string& hostname, int mtu) {
  Bytes duid = make_duid_uuid(uuid_from_name(endpoint_id));
  std::uint32_t iaid = iaid_from_name(endpoint_id);
  ClientConfigs configs;
  // An IPv6-only network has no DHCPv4 client at all: not one DHCPv4 packet goes out for it.
  if (options.ipv4) {
    dhcp4::ClientConfig c4;
    c4.mac = mac;
    // RFC 4361 type 255: IAID and DUID, the same DUID DHCPv6 sends. Servers key leases on it
    // before chaddr, which every ipvlan child of one parent shares.
    c4.client_id = make_client_id(iaid, duid);
    c4.hostname = hostname;
    c4.rapid_commit = options.rapid_commit;
    c4.max_message_size = static_cast<std::uint16_t>(std::clamp(mtu, 576, 65535));
    c4.broadcast_flag = attachment.needs_broadcast_replies();
    configs.v4 = std::move(c4);
  }
  if (options.ipv6) {
    dhcp6::ClientConfig c6;
    c6.duid = duid;
    c6.iaid = iaid;
    c6.fqdn = hostname;
    c6.rapid_commit = options.rapid_commit;
    c6.initial_delay_min = Dhcp6UdpSocket::kRouterSolicitationLead;  // see Dhcp6UdpSocket::open
    configs.v6 = std::move(c6);
  }
  return configs;
}

}  // namespace netdhcp
