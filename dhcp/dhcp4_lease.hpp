// A DHCPv4 lease and the one table of the options it carries (kLeaseOptions, in the manner of
// Kea's std_option_defs.h): where an option the client understands is defined. The table
// drives the option's decoding from an ACK, its encoding (servers in tests and fuzzing), the
// Parameter Request List and, through for_each_lease_option, every JSON form of a lease in
// src/ (the state file, `net-dhcp lease --json`, status). Adding an option is one row here and
// one Lease field; nothing else names it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "dhcp/clock.hpp"
#include "dhcp/dhcp4_packet.hpp"

namespace netdhcp::dhcp4 {

struct Lease {
  Ipv4Address address;
  int prefix_length = 24;
  Ipv4Address server_id;
  // One field per row of kLeaseOptions below.
  std::vector<Ipv4Address> routers;                // option 3
  std::vector<ClasslessRoute> classless_routes;    // option 121
  std::vector<Ipv4Address> dns_servers;            // option 6
  std::vector<Ipv4Address> ntp_servers;            // option 42
  std::string domain_name;                         // option 15
  std::vector<std::string> search_domains;         // option 119
  std::string hostname;                            // option 12, as the server sent it
  std::optional<std::uint16_t> mtu;                // option 26
  std::optional<Ipv4Address> broadcast;            // option 28
  Seconds lease_time{0};
  Seconds t1{0};
  Seconds t2{0};
  // RFC 2131 section 4.4.1: lease times count from when the request was sent.
  TimePoint acquired_at{};

  TimePoint renew_at() const { return acquired_at + t1; }
  TimePoint rebind_at() const { return acquired_at + t2; }
  TimePoint expires_at() const { return acquired_at + lease_time; }
  // The default gateway. RFC 3442 section 1: "If the DHCP server returns both a Classless
  // Static Routes option and a Router option, the DHCP client MUST ignore the Router option."
  std::optional<Ipv4Address> gateway() const;
  bool operator==(const Lease&) const = default;
};

// An option's format on the wire, and the type of the Lease field it fills.
enum class OptionType : std::uint8_t {
  Ipv4Address,      // 4 bytes                                   std::optional<Ipv4Address>
  Ipv4AddressList,  // 4n bytes, n >= 1                          std::vector<Ipv4Address>
  String,           // NVT ASCII, trailing NULs dropped          std::string
                    // (RFC 2132 section 2)
  FqdnList,         // RFC 1035 names, compression allowed       std::vector<std::string>
                    // (RFC 3397 section 2)
  Uint16,           //                                           std::optional<std::uint16_t>
  Uint32,           //                                           std::optional<std::uint32_t>
  ClasslessRoutes,  // RFC 3442 section 2                        std::vector<ClasslessRoute>
};
std::string_view to_string(OptionType type);

// Where a row's value lives in a Lease. std::monostate: a lease parameter the client decodes
// itself (Client::lease_from_ack: the mask becomes prefix_length, option 51 has a floor, T1 and
// T2 have defaults), so the row is only there to be requested.
using LeaseField = std::variant<std::monostate,
                                std::optional<Ipv4Address> Lease::*,
                                std::vector<Ipv4Address> Lease::*,
                                std::string Lease::*,
                                std::vector<std::string> Lease::*,
                                std::optional<std::uint16_t> Lease::*,
                                std::optional<std::uint32_t> Lease::*,
                                std::vector<ClasslessRoute> Lease::*>;

struct OptionDefinition {
  std::uint8_t code;
  std::string_view name;  // the JSON key of the field, in every JSON form of a lease
  OptionType type;
  bool requested;         // in the Parameter Request List (option 55)
  LeaseField field;
  // Uint16/Uint32: a smaller value is malformed and dropped.
  std::uint32_t minimum = 0;
};

// In code order; the Parameter Request List follows this order (but for option 121, below). JSON keys are those of the
// state files written so far (src/state/lease_json.cpp): renaming one makes old files lose
// that field.
inline constexpr std::array kLeaseOptions{
    OptionDefinition{option::SubnetMask, "subnet_mask", OptionType::Ipv4Address, true, {}},
    OptionDefinition{option::Router, "routers", OptionType::Ipv4AddressList, true, &Lease::routers},
    OptionDefinition{option::DnsServers, "dns_servers", OptionType::Ipv4AddressList, true, &Lease::dns_servers},
    OptionDefinition{option::HostName, "hostname", OptionType::String, true, &Lease::hostname},
    OptionDefinition{option::DomainName, "domain_name", OptionType::String, true, &Lease::domain_name},
    // RFC 2132 section 5.1: "The minimum legal value for the MTU is 68."
    OptionDefinition{option::InterfaceMtu, "mtu", OptionType::Uint16, true, &Lease::mtu, 68},
    OptionDefinition{option::BroadcastAddress, "broadcast", OptionType::Ipv4Address, true, &Lease::broadcast},
    OptionDefinition{option::NtpServers, "ntp_servers", OptionType::Ipv4AddressList, true, &Lease::ntp_servers},
    OptionDefinition{option::LeaseTime, "lease_time", OptionType::Uint32, true, {}},
    OptionDefinition{option::RenewalTime, "renewal_time", OptionType::Uint32, true, {}},
    OptionDefinition{option::RebindingTime, "rebinding_time", OptionType::Uint32, true, {}},
    OptionDefinition{option::DomainSearch, "search_domains", OptionType::FqdnList, true, &Lease::search_domains},
    OptionDefinition{option::ClasslessRoutes, "classless_routes", OptionType::ClasslessRoutes, true,
                     &Lease::classless_routes},
};

namespace detail {

template <class Field>
constexpr bool field_holds(OptionType type) {
  using T = OptionType;
  if constexpr (std::is_same_v<Field, std::monostate>) return true;
  else if constexpr (std::is_same_v<Field, std::optional<Ipv4Address> Lease::*>) return type == T::Ipv4Address;
  else if constexpr (std::is_same_v<Field, std::vector<Ipv4Address> Lease::*>) return type == T::Ipv4AddressList;
  else if constexpr (std::is_same_v<Field, std::string Lease::*>) return type == T::String;
  else if constexpr (std::is_same_v<Field, std::vector<std::string> Lease::*>) return type == T::FqdnList;
  else if constexpr (std::is_same_v<Field, std::optional<std::uint16_t> Lease::*>) return type == T::Uint16;
  else if constexpr (std::is_same_v<Field, std::optional<std::uint32_t> Lease::*>) return type == T::Uint32;
  else if constexpr (std::is_same_v<Field, std::vector<ClasslessRoute> Lease::*>) return type == T::ClasslessRoutes;
  else static_assert(sizeof(Field) == 0, "a LeaseField alternative with no OptionType");
}

// Codes and names unique, every field of the type its wire format decodes to, each field used
// by one row only.
consteval bool table_is_consistent() {
  for (std::size_t i = 0; i < kLeaseOptions.size(); ++i) {
    const auto& row = kLeaseOptions[i];
    if (row.code == option::Pad || row.code == option::End || row.name.empty()) return false;
    if (!std::visit([&](auto field) { return field_holds<decltype(field)>(row.type); }, row.field)) return false;
    for (std::size_t j = 0; j < i; ++j) {
      const auto& other = kLeaseOptions[j];
      if (other.code == row.code || other.name == row.name) return false;
      if (row.field.index() != 0 && row.field == other.field) return false;
    }
  }
  return true;
}

constexpr std::size_t requested_count() {
  std::size_t n = 0;
  for (const auto& row : kLeaseOptions) n += row.requested;
  return n;
}

}  // namespace detail

static_assert(detail::table_is_consistent(), "kLeaseOptions: a duplicate code, name or field, or a field "
                                             "whose type is not the one its wire format decodes to");

// RFC 2132 section 9.8: the codes the client asks for, the rows marked requested in table order,
// except that Classless Static Routes comes first: RFC 3442 section 4, "The Classless Static
// Routes option code MUST appear in the parameter request list prior to both the Router option
// code and the Static Routes option code, if present" (a server short of space fills options in
// the order asked).
inline constexpr auto kParameterRequestList = [] {
  std::array<std::uint8_t, detail::requested_count()> codes{};
  std::size_t n = 0;
  for (const auto& row : kLeaseOptions)
    if (row.requested && row.code == option::ClasslessRoutes) codes[n++] = row.code;
  for (const auto& row : kLeaseOptions)
    if (row.requested && row.code != option::ClasslessRoutes) codes[n++] = row.code;
  return codes;
}();

// Calls visit(row, field) for each row with a Lease field, in table order, `field` being a
// reference to that field (const with a const Lease). A visitor handles each field type of
// LeaseField, so a row of a new type does not compile until every JSON form knows it.
template <class L, class Visit>
  requires std::is_same_v<std::remove_const_t<L>, Lease>
void for_each_lease_option(L& lease, Visit&& visit) {
  for (const auto& row : kLeaseOptions) {
    std::visit(
        [&](auto field) {
          if constexpr (!std::is_same_v<decltype(field), std::monostate>) visit(row, lease.*field);
        },
        row.field);
  }
}

// Sets each Lease field of the table from `packet`; an option that is absent or malformed
// (wrong length, a bad name or route, an integer under the row's minimum) leaves its field
// empty. The lease's address, prefix, server and times are not touched.
void decode_lease_options(const Packet& packet, Lease& lease);

// Adds one option per non-empty Lease field, in table order (servers in tests and fuzzing). A
// search domain that cannot be encoded (an empty or over-long label) is left out.
void encode_lease_options(const Lease& lease, Packet& packet);

}  // namespace netdhcp::dhcp4
