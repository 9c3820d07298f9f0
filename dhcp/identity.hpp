// Client identity shared by DHCPv4 and DHCPv6: DUID (RFC 8415 section 11), IAID, and the
// DHCPv4 client identifier built from them (RFC 4361 section 6.1).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "netdhcp/address.hpp"
#include "netdhcp/bytes.hpp"

namespace netdhcp {

// DUID-LL (type 3): hardware type 1 (Ethernet) and the MAC.
Bytes make_duid_ll(MacAddress mac);
// DUID-UUID (type 4, RFC 6355): a 16-byte UUID.
Bytes make_duid_uuid(const std::array<std::uint8_t, 16>& uuid);
// A UUID-shaped value derived from a name (e.g. a Docker endpoint id), stable across runs.
std::array<std::uint8_t, 16> uuid_from_name(std::string_view name);
// An IAID stable for a given name (RFC 8415 section 12: consistent across restarts).
std::uint32_t iaid_from_name(std::string_view name);
// RFC 4361 section 6.1: option 61 = type 255, IAID (4 bytes), DUID.
Bytes make_client_id(std::uint32_t iaid, ByteView duid);

}  // namespace netdhcp
