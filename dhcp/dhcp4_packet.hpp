// DHCPv4 messages (RFC 2131 section 2) and their options (RFC 2132 and the RFCs named below):
// where a packet is parsed and encoded. No I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netdhcp/address.hpp"
#include "netdhcp/bytes.hpp"
#include "netdhcp/result.hpp"

namespace netdhcp::dhcp4 {

inline constexpr std::uint16_t kServerPort = 67;
inline constexpr std::uint16_t kClientPort = 68;
inline constexpr std::uint32_t kMagicCookie = 0x63825363;
inline constexpr std::size_t kFixedHeaderSize = 236;  // op .. file, before the cookie
inline constexpr std::size_t kBootpMinimumSize = 300;  // RFC 1542 section 2.1: pad to this

enum class MessageType : std::uint8_t {
  Discover = 1, Offer = 2, Request = 3, Decline = 4, Ack = 5, Nak = 6, Release = 7, Inform = 8,
};
std::string_view to_string(MessageType type);

namespace option {
inline constexpr std::uint8_t Pad = 0;
inline constexpr std::uint8_t SubnetMask = 1;
inline constexpr std::uint8_t Router = 3;
inline constexpr std::uint8_t DnsServers = 6;
inline constexpr std::uint8_t HostName = 12;
inline constexpr std::uint8_t DomainName = 15;
inline constexpr std::uint8_t InterfaceMtu = 26;
inline constexpr std::uint8_t BroadcastAddress = 28;
inline constexpr std::uint8_t NtpServers = 42;
inline constexpr std::uint8_t RequestedAddress = 50;
inline constexpr std::uint8_t LeaseTime = 51;
inline constexpr std::uint8_t Overload = 52;
inline constexpr std::uint8_t MessageType = 53;
inline constexpr std::uint8_t ServerId = 54;
inline constexpr std::uint8_t ParameterRequestList = 55;
inline constexpr std::uint8_t Message = 56;
inline constexpr std::uint8_t MaxMessageSize = 57;
inline constexpr std::uint8_t RenewalTime = 58;
inline constexpr std::uint8_t RebindingTime = 59;
inline constexpr std::uint8_t VendorClass = 60;
inline constexpr std::uint8_t ClientId = 61;
inline constexpr std::uint8_t RapidCommit = 80;    // RFC 4039
inline constexpr std::uint8_t ClientFqdn = 81;     // RFC 4702
inline constexpr std::uint8_t DomainSearch = 119;  // RFC 3397
inline constexpr std::uint8_t ClasslessRoutes = 121;  // RFC 3442
inline constexpr std::uint8_t End = 255;
}  // namespace option

// Where an option was found: RFC 2131 section 4.1 lets option 52 move options into the
// 'file' and 'sname' header fields.
enum class OptionArea : std::uint8_t { Options, File, Sname };

struct Option {
  std::uint8_t code = 0;
  Bytes data;
  OptionArea area = OptionArea::Options;
  bool operator==(const Option&) const = default;
};

// RFC 3442: one classless static route.
struct ClasslessRoute {
  Ipv4Address destination;
  int prefix_length = 0;
  Ipv4Address router;
  bool operator==(const ClasslessRoute&) const = default;
};

// RFC 4702 section 2: flags, two deprecated RCODE bytes, then the name.
struct ClientFqdn {
  std::uint8_t flags = 0;
  std::string name;
};

struct Packet {
  std::uint8_t op = 1;  // 1 BOOTREQUEST, 2 BOOTREPLY
  std::uint8_t htype = 1;
  std::uint8_t hlen = 6;
  std::uint8_t hops = 0;
  std::uint32_t xid = 0;
  std::uint16_t secs = 0;
  std::uint16_t flags = 0;
  Ipv4Address ciaddr, yiaddr, siaddr, giaddr;
  std::array<std::uint8_t, 16> chaddr{};
  std::array<std::uint8_t, 64> sname{};
  std::array<std::uint8_t, 128> file{};
  // In wire order, repeated codes kept apart (concatenation happens on lookup).
  std::vector<Option> options;
  // The encoder pads with zeros after the END option up to this size.
  std::size_t min_size = kBootpMinimumSize;
  // Set by the parser when an option's length ran past the end of its area; the options
  // before it are kept (a malformed option is skipped, not fatal to the whole packet).
  bool truncated_options = false;

  static constexpr std::uint16_t kBroadcastFlag = 0x8000;

  MacAddress client_mac() const;
  void set_client_mac(MacAddress mac);

  void add(std::uint8_t code, ByteView data);
  void add_u8(std::uint8_t code, std::uint8_t value);
  void add_u16(std::uint8_t code, std::uint16_t value);
  void add_u32(std::uint8_t code, std::uint32_t value);
  void add_address(std::uint8_t code, Ipv4Address address);
  void add_string(std::uint8_t code, std::string_view text);

  // All instances of `code` concatenated (RFC 3396), options area first, then file, sname.
  std::optional<Bytes> find(std::uint8_t code) const;

  // Typed views; each returns nullopt when the option is absent or malformed (wrong length).
  std::optional<MessageType> message_type() const;
  std::optional<std::uint8_t> u8_option(std::uint8_t code) const;
  std::optional<std::uint16_t> u16_option(std::uint8_t code) const;
  std::optional<std::uint32_t> u32_option(std::uint8_t code) const;
  std::optional<Ipv4Address> address_option(std::uint8_t code) const;
  std::optional<std::vector<Ipv4Address>> address_list_option(std::uint8_t code) const;
  std::optional<std::string> string_option(std::uint8_t code) const;
  std::optional<std::vector<std::string>> domain_search() const;
  std::optional<std::vector<ClasslessRoute>> classless_routes() const;
  std::optional<ClientFqdn> client_fqdn() const;
};

// Decodes a DHCP message (the UDP payload). Errors: shorter than the fixed header plus the
// magic cookie, or a wrong magic cookie. Malformed options do not fail the parse.
Result<Packet> parse(ByteView wire);

// Appends the wire form of `packet` to `out`.
void encode(const Packet& packet, Bytes& out);

// RFC 3442 section 2 encoding, for servers in tests and fuzzing.
Bytes encode_classless_routes(const std::vector<ClasslessRoute>& routes);
std::optional<std::vector<ClasslessRoute>> decode_classless_routes(ByteView data);

// A one-line human summary ("DHCPACK xid 0x1234 yiaddr 198.18.0.5 server 198.18.0.1").
std::string describe(const Packet& packet);

}  // namespace netdhcp::dhcp4
