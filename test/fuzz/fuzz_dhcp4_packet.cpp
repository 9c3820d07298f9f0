// DHCPv4 decoder: never crashes, and whatever it accepts encodes to something it decodes the same.
#include "dhcp/dhcp4_lease.hpp"
#include "dhcp/dhcp4_packet.hpp"

using namespace netdhcp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto packet = dhcp4::parse(ByteView(reinterpret_cast<const std::byte*>(data), size));
  if (!packet) return 0;
  (void)packet->message_type();
  (void)packet->domain_search();
  (void)packet->classless_routes();
  (void)packet->client_fqdn();
  (void)packet->address_list_option(dhcp4::option::DnsServers);
  (void)dhcp4::describe(*packet);
  dhcp4::Lease lease;  // every row of the option table
  dhcp4::decode_lease_options(*packet, lease);
  dhcp4::Packet options;
  dhcp4::encode_lease_options(lease, options);
  Bytes again;
  dhcp4::encode(*packet, again);
  auto reparsed = dhcp4::parse(again);
  if (!reparsed) __builtin_trap();
  for (std::uint8_t code : {dhcp4::option::MessageType, dhcp4::option::ServerId, dhcp4::option::ClasslessRoutes})
    if (reparsed->find(code) != packet->find(code)) __builtin_trap();
  return 0;
}
