// DHCPv6 client: arbitrary replies while soliciting, requesting and renewing. Inputs that parse
// get our transaction id and client id patched in so they reach the state machine proper.
#include "dhcp/dhcp6_client.hpp"
#include "dhcp/identity.hpp"

using namespace netdhcp;
using namespace netdhcp::dhcp6;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  ClientConfig config;
  config.duid = make_duid_ll(MacAddress{{2, 0, 0, 0, 0, 0x11}});
  config.iaid = 1;
  config.rapid_commit = data[0] & 1;
  Client client(config, [] { return 0x7fffffffu; });
  TimePoint now{};
  client.start(now);
  while (client.pop_transmit()) {
  }
  auto message = parse(ByteView(reinterpret_cast<const std::byte*>(data + 1), size - 1));
  if (!message) return 0;
  message->transaction_id = client.transaction_id();
  if (data[0] & 2) {
    std::erase_if(message->options, [](const Option& o) { return o.code == option::ClientId; });
    message->add(option::ClientId, config.duid);
  }
  Bytes wire;
  encode(*message, wire);
  for (int round = 0; round < 3; ++round) {
    client.on_packet(wire, now);
    if (client.next_deadline()) now = *client.next_deadline();
    client.on_timeout(now);
    while (client.pop_transmit()) {
    }
    while (client.pop_event()) {
    }
    message->transaction_id = client.transaction_id();
    wire.clear();
    encode(*message, wire);
  }
  client.release(now);
  return 0;
}
