// DHCPv6 messages and options (RFC 8415 sections 8 and 21): where a DHCPv6 packet is parsed
// and encoded. No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netdhcp/address.hpp"
#include "netdhcp/bytes.hpp"
#include "netdhcp/result.hpp"

namespace netdhcp::dhcp6 {

inline constexpr std::uint16_t kClientPort = 546;
inline constexpr std::uint16_t kServerPort = 547;
// RFC 8415 section 7.1: All_DHCP_Relay_Agents_and_Servers.
inline constexpr Ipv6Address kAllServers{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2}};

enum class MessageType : std::uint8_t {
  Solicit = 1, Advertise = 2, Request = 3, Confirm = 4, Renew = 5, Rebind = 6, Reply = 7,
  Release = 8, Decline = 9, Reconfigure = 10, InformationRequest = 11,
};
std::string_view to_string(MessageType type);

namespace option {
inline constexpr std::uint16_t ClientId = 1;
inline constexpr std::uint16_t ServerId = 2;
inline constexpr std::uint16_t IaNa = 3;
inline constexpr std::uint16_t IaAddr = 5;
inline constexpr std::uint16_t Oro = 6;
inline constexpr std::uint16_t Preference = 7;
inline constexpr std::uint16_t ElapsedTime = 8;
inline constexpr std::uint16_t StatusCode = 13;
inline constexpr std::uint16_t RapidCommit = 14;
inline constexpr std::uint16_t DnsServers = 23;  // RFC 3646
inline constexpr std::uint16_t DomainList = 24;  // RFC 3646
inline constexpr std::uint16_t ClientFqdn = 39;  // RFC 4704
inline constexpr std::uint16_t SolMaxRt = 82;
}  // namespace option

// RFC 8415 section 21.13.
enum class StatusCode : std::uint16_t {
  Success = 0, UnspecFail = 1, NoAddrsAvail = 2, NoBinding = 3, NotOnLink = 4, UseMulticast = 5,
};
std::string_view to_string(StatusCode code);

struct Option {
  std::uint16_t code = 0;
  Bytes data;
  bool operator==(const Option&) const = default;
};

struct Status {
  StatusCode code = StatusCode::Success;
  std::string message;
};

// RFC 8415 section 21.6.
struct IaAddress {
  Ipv6Address address;
  std::uint32_t preferred_lifetime = 0;
  std::uint32_t valid_lifetime = 0;
  std::optional<Status> status;
};

// RFC 8415 section 21.4.
struct IaNa {
  std::uint32_t iaid = 0;
  std::uint32_t t1 = 0;
  std::uint32_t t2 = 0;
  std::vector<IaAddress> addresses;
  std::optional<Status> status;
};

struct Message {
  MessageType type = MessageType::Solicit;
  std::uint32_t transaction_id = 0;  // 24 bits
  std::vector<Option> options;       // in wire order
  bool truncated_options = false;    // an option ran past the end; the ones before are kept

  void add(std::uint16_t code, ByteView data);
  const Option* find(std::uint16_t code) const;

  // Typed views: nullopt when absent or malformed.
  std::optional<Status> status() const;
  std::optional<std::uint8_t> preference() const;
  std::vector<IaNa> ia_nas() const;  // malformed IA_NAs are left out
  std::optional<std::vector<Ipv6Address>> dns_servers() const;
  std::optional<std::vector<std::string>> domain_list() const;
  std::optional<std::uint32_t> sol_max_rt() const;
};

// Errors: shorter than the 4-byte header. Malformed options do not fail the parse.
Result<Message> parse(ByteView wire);
void encode(const Message& message, Bytes& out);

// Option bodies.
std::optional<Status> decode_status(ByteView data);
std::optional<IaNa> decode_ia_na(ByteView data);
Bytes encode_ia_na(const IaNa& ia);
Bytes encode_status(const Status& status);
// RFC 4704 section 4: flags, then the name; a name without a dot is sent as a partial name.
Bytes encode_client_fqdn(std::string_view name, std::uint8_t flags = 0);

std::string describe(const Message& message);

}  // namespace netdhcp::dhcp6
