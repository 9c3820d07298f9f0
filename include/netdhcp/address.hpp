// Plain value types for the addresses DHCP carries: IPv4, IPv6 and Ethernet MAC.
// No sockets, no Asio: dhcp/ and netlink/ use these, src/ converts at its edges.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netdhcp {

struct Ipv4Address {
  std::array<std::uint8_t, 4> octets{};

  static Ipv4Address from_u32(std::uint32_t host_order) {
    return {{static_cast<std::uint8_t>(host_order >> 24), static_cast<std::uint8_t>(host_order >> 16),
             static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order)}};
  }
  std::uint32_t to_u32() const {  // host order
    return std::uint32_t{octets[0]} << 24 | std::uint32_t{octets[1]} << 16 |
           std::uint32_t{octets[2]} << 8 | octets[3];
  }
  bool is_unspecified() const { return to_u32() == 0; }
  std::string to_string() const {
    char buf[INET_ADDRSTRLEN];
    return ::inet_ntop(AF_INET, octets.data(), buf, sizeof buf);
  }
  static std::optional<Ipv4Address> parse(std::string_view text) {
    Ipv4Address a;
    if (::inet_pton(AF_INET, std::string(text).c_str(), a.octets.data()) != 1) return std::nullopt;
    return a;
  }
  auto operator<=>(const Ipv4Address&) const = default;
};

inline constexpr Ipv4Address kIpv4Broadcast{{255, 255, 255, 255}};
inline constexpr Ipv4Address kIpv4Any{{0, 0, 0, 0}};

// Number of leading one bits of a contiguous netmask; nullopt if the mask has holes.
inline std::optional<int> netmask_prefix_length(Ipv4Address mask) {
  std::uint32_t m = mask.to_u32();
  int n = 0;
  while (n < 32 && (m & (0x80000000u >> n))) ++n;
  if (n < 32 && (m << n) != 0) return std::nullopt;
  return n;
}
inline Ipv4Address prefix_netmask(int prefix_length) {
  if (prefix_length <= 0) return {};
  if (prefix_length >= 32) return kIpv4Broadcast;
  return Ipv4Address::from_u32(~0u << (32 - prefix_length));
}

struct Ipv6Address {
  std::array<std::uint8_t, 16> octets{};

  bool is_link_local() const { return octets[0] == 0xfe && (octets[1] & 0xc0) == 0x80; }
  bool is_unspecified() const { return *this == Ipv6Address{}; }
  std::string to_string() const {
    char buf[INET6_ADDRSTRLEN];
    return ::inet_ntop(AF_INET6, octets.data(), buf, sizeof buf);
  }
  static std::optional<Ipv6Address> parse(std::string_view text) {
    Ipv6Address a;
    if (::inet_pton(AF_INET6, std::string(text).c_str(), a.octets.data()) != 1) return std::nullopt;
    return a;
  }
  auto operator<=>(const Ipv6Address&) const = default;
};

struct MacAddress {
  std::array<std::uint8_t, 6> octets{};

  std::string to_string() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < octets.size(); ++i) {
      if (i) out += ':';
      out += digits[octets[i] >> 4];
      out += digits[octets[i] & 15];
    }
    return out;
  }
  static std::optional<MacAddress> parse(std::string_view text) {
    MacAddress m;
    if (text.size() != 17) return std::nullopt;
    for (std::size_t i = 0; i < 6; ++i) {
      unsigned v = 0;
      for (std::size_t j = 0; j < 2; ++j) {
        char c = text[i * 3 + j];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return std::nullopt;
        v = v * 16 + static_cast<unsigned>(d);
      }
      if (i < 5 && text[i * 3 + 2] != ':') return std::nullopt;
      m.octets[i] = static_cast<std::uint8_t>(v);
    }
    return m;
  }
  bool is_zero() const { return *this == MacAddress{}; }
  auto operator<=>(const MacAddress&) const = default;
};

inline constexpr MacAddress kMacBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

}  // namespace netdhcp
