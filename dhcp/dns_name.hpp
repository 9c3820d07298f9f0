// Domain names in DNS wire format (RFC 1035 section 3.1), as carried by DHCPv4 option 119
// (RFC 3397, with compression), option 81 (RFC 4702) and DHCPv6 options 24 and 39 (RFC 8415
// section 10: no compression).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netdhcp/bytes.hpp"

namespace netdhcp::dns {

// Decodes a sequence of names filling `data` exactly. With compression, a pointer may point
// only backwards into `data` (RFC 3397 section 2: offsets are relative to the option's
// concatenated data). nullopt when the data is not a valid sequence of names.
std::optional<std::vector<std::string>> decode_names(ByteView data, bool allow_compression);

// Appends `name` (dotted, no trailing dot needed) in uncompressed wire format, ending with the
// root label. Returns false, appending nothing, when a label is empty or longer than 63 bytes
// or the whole name is longer than 255 bytes.
bool encode_name(std::string_view name, Bytes& out);

}  // namespace netdhcp::dns
