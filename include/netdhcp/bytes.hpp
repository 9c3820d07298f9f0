// Bounds-checked reading and appending of wire data.
//
// Every read of data that came off the wire goes through ByteReader: a read past the end
// returns zero and marks the reader failed, so a parser checks `ok()` once per field group
// instead of comparing lengths by hand at every step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netdhcp {

using Bytes = std::vector<std::byte>;
using ByteView = std::span<const std::byte>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string to_string(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) {
  auto v = as_bytes(s);
  return {v.begin(), v.end()};
}

class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  std::uint8_t u8() {
    if (!need(1)) return 0;
    return std::to_integer<std::uint8_t>(data_[pos_++]);
  }
  std::uint16_t u16() {
    if (!need(2)) return 0;
    std::uint16_t v = std::to_integer<std::uint16_t>(data_[pos_]) << 8 |
                      std::to_integer<std::uint16_t>(data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u24() {
    if (!need(3)) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 3; ++i) v = v << 8 | std::to_integer<std::uint32_t>(data_[pos_++]);
    return v;
  }
  std::uint32_t u32() {
    if (!need(4)) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | std::to_integer<std::uint32_t>(data_[pos_++]);
    return v;
  }
  // A view of the next n bytes; empty and failed if fewer remain.
  ByteView bytes(std::size_t n) {
    if (!need(n)) return {};
    auto v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  ByteView rest() { return bytes(remaining()); }
  void skip(std::size_t n) { (void)bytes(n); }

  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  bool ok() const { return ok_; }

 private:
  bool need(std::size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  ByteView data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Appends big-endian fields to a buffer the caller owns.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(std::byte{v}); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u24(std::uint32_t v) {
    u8(static_cast<std::uint8_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, std::byte{0}); }
  // Overwrites a u16 written earlier, e.g. a length known only after its contents.
  void patch_u16(std::size_t at, std::uint16_t v) {
    out_[at] = std::byte{static_cast<std::uint8_t>(v >> 8)};
    out_[at + 1] = std::byte{static_cast<std::uint8_t>(v)};
  }
  std::size_t size() const { return out_.size(); }

 private:
  Bytes& out_;
};

inline std::string hex(ByteView b, std::string_view separator = "") {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i) out += separator;
    auto v = std::to_integer<unsigned>(b[i]);
    out += digits[v >> 4];
    out += digits[v & 15];
  }
  return out;
}

// Parses "0a1b..." or "0a:1b:..." (whitespace ignored); false on anything else.
inline bool parse_hex(std::string_view text, Bytes& out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int high = -1;
  for (char c : text) {
    if (c == ':' || c == ' ' || c == '\n' || c == '\t') continue;
    int n = nibble(c);
    if (n < 0) return false;
    if (high < 0) {
      high = n;
    } else {
      out.push_back(std::byte(static_cast<unsigned char>(high << 4 | n)));
      high = -1;
    }
  }
  return high < 0;
}

}  // namespace netdhcp
