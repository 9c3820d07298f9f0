// DHCPv6 decoder: never crashes; accepted messages re-encode to the same bytes.
#include "dhcp/dhcp6_packet.hpp"

using namespace netdhcp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input(reinterpret_cast<const std::byte*>(data), size);
  auto message = dhcp6::parse(input);
  if (!message) return 0;
  (void)message->ia_nas();
  (void)message->dns_servers();
  (void)message->domain_list();
  (void)message->status();
  (void)dhcp6::describe(*message);
  if (!message->truncated_options) {
    Bytes again;
    dhcp6::encode(*message, again);
    if (again != Bytes(input.begin(), input.end())) __builtin_trap();
  }
  return 0;
}
