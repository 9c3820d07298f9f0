// DHCPv4 client: arbitrary replies in every state. The first input byte picks the state the
// client is driven to; the harness patches xid and chaddr so inputs reach past the basic checks.
#include <cstring>

#include "dhcp/dhcp4_client.hpp"

using namespace netdhcp;
using namespace netdhcp::dhcp4;

namespace {
const MacAddress kMac{{2, 0, 0, 0, 0, 0x11}};

Bytes reply_to(const Transmit& t, MessageType type) {
  Packet request = parse(t.payload).value();
  Packet p;
  p.op = 2;
  p.xid = request.xid;
  p.chaddr = request.chaddr;
  p.yiaddr = Ipv4Address{{198, 18, 0, 50}};
  p.add_u8(option::MessageType, static_cast<std::uint8_t>(type));
  p.add_address(option::ServerId, Ipv4Address{{198, 18, 0, 1}});
  p.add_u32(option::LeaseTime, 600);
  Bytes out;
  encode(p, out);
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  ClientConfig config;
  config.mac = kMac;
  config.arp_probe = data[0] & 0x10;
  config.rapid_commit = data[0] & 0x20;
  Client client(config, [] { return 0x7fffffffu; });
  TimePoint now{};
  client.start(now);
  int target = data[0] & 0x0f;
  Transmit last = *client.pop_transmit();
  if (target >= 1) {  // -> REQUESTING
    client.on_packet(reply_to(last, MessageType::Offer), now);
    last = *client.pop_transmit();
  }
  if (target >= 2) {  // -> BOUND (or PROBING)
    client.on_packet(reply_to(last, MessageType::Ack), now);
  }
  if (target >= 3 && client.next_deadline()) {  // -> RENEWING
    now = *client.next_deadline();
    client.on_timeout(now);
  }
  while (auto t = client.pop_transmit()) last = *t;
  Bytes input(reinterpret_cast<const std::byte*>(data + 1), reinterpret_cast<const std::byte*>(data + size));
  if (input.size() >= 34) {
    std::uint32_t xid = client.xid();
    for (int i = 0; i < 4; ++i) input[4 + i] = std::byte(static_cast<std::uint8_t>(xid >> (24 - 8 * i)));
    std::memcpy(input.data() + 28, kMac.octets.data(), 6);
  }
  client.on_packet(input, now);
  client.on_arp(MacAddress{}, Ipv4Address{{198, 18, 0, 50}}, Ipv4Address{}, now);
  for (int i = 0; i < 4 && client.next_deadline(); ++i) client.on_timeout(*client.next_deadline());
  while (client.pop_transmit()) {
  }
  while (client.pop_event()) {
  }
  client.release(now);
  return 0;
}
