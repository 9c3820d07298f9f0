#include "dhcp/dns_name.hpp"

namespace netdhcp::dns {

namespace {

// Reads one name starting at `pos`; `end_pos` receives the offset just past the name as it
// appears at `pos` (a pointer ends it). RFC 1035 4.1.4: a pointer is two bytes, 11xxxxxx.
std::optional<std::string> read_name(ByteView data, std::size_t pos, bool allow_compression,
                                     std::size_t& end_pos) {
  std::string name;
  bool jumped = false;
  int jumps = 0;
  std::size_t name_length = 0;
  while (true) {
    if (pos >= data.size()) return std::nullopt;
    auto len = std::to_integer<std::uint8_t>(data[pos]);
    if (len == 0) {
      if (!jumped) end_pos = pos + 1;
      return name;
    }
    if ((len & 0xc0) == 0xc0) {
      if (!allow_compression || pos + 1 >= data.size()) return std::nullopt;
      std::size_t target = (len & 0x3fu) << 8 | std::to_integer<std::uint8_t>(data[pos + 1]);
      // Only backwards pointers: this also bounds the number of jumps.
      if (target >= pos || ++jumps > 64) return std::nullopt;
      if (!jumped) end_pos = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if ((len & 0xc0) != 0) return std::nullopt;  // 01 and 10 label types are obsolete
    if (pos + 1 + len > data.size()) return std::nullopt;
    name_length += len + 1u;
    if (name_length > 255) return std::nullopt;
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(data.data() + pos + 1), len);
    pos += 1u + len;
  }
}

}  // namespace

std::optional<std::vector<std::string>> decode_names(ByteView data, bool allow_compression) {
  std::vector<std::string> names;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t next = pos;
    auto name = read_name(data, pos, allow_compression, next);
    if (!name || next <= pos) return std::nullopt;
    names.push_back(std::move(*name));
    pos = next;
  }
  return names;
}

bool encode_name(std::string_view name, Bytes& out) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  Bytes encoded;
  ByteWriter w(encoded);
  while (!name.empty()) {
    auto dot = name.find('.');
    auto label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    w.u8(static_cast<std::uint8_t>(label.size()));
    w.bytes(as_bytes(label));
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  w.u8(0);
  if (encoded.size() > 255) return false;
  out.insert(out.end(), encoded.begin(), encoded.end());
  return true;
}

}  // namespace netdhcp::dns
