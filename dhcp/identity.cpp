#include "dhcp/identity.hpp"

namespace netdhcp {

namespace {
// FNV-1a, 64 bit: tiny, stable across platforms and versions (unlike std::hash).
std::uint64_t fnv1a(std::string_view text, std::uint64_t seed = 0xcbf29ce484222325ull) {
  std::uint64_t h = seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}
}  // namespace

Bytes make_duid_ll(MacAddress mac) {
  Bytes duid;
  ByteWriter w(duid);
  w.u16(3);
  w.u16(1);
  for (auto o : mac.octets) w.u8(o);
  return duid;
}

Bytes make_duid_uuid(const std::array<std::uint8_t, 16>& uuid) {
  Bytes duid;
  ByteWriter w(duid);
  w.u16(4);
  for (auto o : uuid) w.u8(o);
  return duid;
}

std::array<std::uint8_t, 16> uuid_from_name(std::string_view name) {
  std::uint64_t a = fnv1a(name);
  std::uint64_t b = fnv1a(name, a ^ 0x9e3779b97f4a7c15ull);
  std::array<std::uint8_t, 16> u{};
  for (int i = 0; i < 8; ++i) {
    u[i] = static_cast<std::uint8_t>(a >> (56 - 8 * i));
    u[8 + i] = static_cast<std::uint8_t>(b >> (56 - 8 * i));
  }
  u[6] = static_cast<std::uint8_t>((u[6] & 0x0f) | 0x80);  // RFC 9562 version 8 (custom)
  u[8] = static_cast<std::uint8_t>((u[8] & 0x3f) | 0x80);  // variant 10
  return u;
}

std::uint32_t iaid_from_name(std::string_view name) {
  std::uint64_t h = fnv1a(name);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

Bytes make_client_id(std::uint32_t iaid, ByteView duid) {
  Bytes id;
  ByteWriter w(id);
  w.u8(255);
  w.u32(iaid);
  w.bytes(duid);
  return id;
}

}  // namespace netdhcp
