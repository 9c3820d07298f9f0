#include "dhcp/dhcp4_lease.hpp"

#include "dhcp/dns_name.hpp"

namespace netdhcp::dhcp4 {

std::optional<Ipv4Address> Lease::gateway() const {
  if (!classless_routes.empty()) {
    for (const auto& route : classless_routes)
      if (route.prefix_length == 0) return route.router;
    return std::nullopt;
  }
  if (!routers.empty()) return routers.front();
  return std::nullopt;
}

std::string_view to_string(OptionType type) {
  switch (type) {
    case OptionType::Ipv4Address: return "ipv4-address";
    case OptionType::Ipv4AddressList: return "ipv4-address list";
    case OptionType::String: return "string";
    case OptionType::FqdnList: return "fqdn list";
    case OptionType::Uint16: return "uint16";
    case OptionType::Uint32: return "uint32";
    case OptionType::ClasslessRoutes: return "classless routes";
  }
  return "unknown";
}

namespace {

// One decoder per field type; table_is_consistent() has checked that a row's field type is the
// one its wire type decodes to.
void decode(const Packet& p, const OptionDefinition& row, std::optional<Ipv4Address>& field) {
  field = p.address_option(row.code);
}
void decode(const Packet& p, const OptionDefinition& row, std::vector<Ipv4Address>& field) {
  field = p.address_list_option(row.code).value_or(std::vector<Ipv4Address>{});
}
void decode(const Packet& p, const OptionDefinition& row, std::string& field) {
  field = p.string_option(row.code).value_or(std::string{});
}
void decode(const Packet& p, const OptionDefinition& row, std::vector<std::string>& field) {
  auto data = p.find(row.code);
  auto names = data ? dns::decode_names(*data, /*allow_compression=*/true) : std::nullopt;
  field = names.value_or(std::vector<std::string>{});
}
void decode(const Packet& p, const OptionDefinition& row, std::optional<std::uint16_t>& field) {
  field = p.u16_option(row.code);
  if (field && *field < row.minimum) field.reset();
}
void decode(const Packet& p, const OptionDefinition& row, std::optional<std::uint32_t>& field) {
  field = p.u32_option(row.code);
  if (field && *field < row.minimum) field.reset();
}
void decode(const Packet& p, const OptionDefinition& row, std::vector<ClasslessRoute>& field) {
  auto data = p.find(row.code);
  auto routes = data ? decode_classless_routes(*data) : std::nullopt;
  field = routes.value_or(std::vector<ClasslessRoute>{});
}

void encode(Packet& p, const OptionDefinition& row, const std::optional<Ipv4Address>& field) {
  if (field) p.add_address(row.code, *field);
}
void encode(Packet& p, const OptionDefinition& row, const std::vector<Ipv4Address>& field) {
  if (field.empty()) return;
  Bytes data;
  ByteWriter w(data);
  for (const auto& address : field) w.u32(address.to_u32());
  p.add(row.code, data);
}
void encode(Packet& p, const OptionDefinition& row, const std::string& field) {
  if (!field.empty()) p.add_string(row.code, field);
}
void encode(Packet& p, const OptionDefinition& row, const std::vector<std::string>& field) {
  Bytes data;
  for (const auto& name : field) dns::encode_name(name, data);
  if (!data.empty()) p.add(row.code, data);
}
void encode(Packet& p, const OptionDefinition& row, const std::optional<std::uint16_t>& field) {
  if (field) p.add_u16(row.code, *field);
}
void encode(Packet& p, const OptionDefinition& row, const std::optional<std::uint32_t>& field) {
  if (field) p.add_u32(row.code, *field);
}
void encode(Packet& p, const OptionDefinition& row, const std::vector<ClasslessRoute>& field) {
  if (!field.empty()) p.add(row.code, encode_classless_routes(field));
}

}  // namespace

void decode_lease_options(const Packet& packet, Lease& lease) {
  for_each_lease_option(lease, [&](const OptionDefinition& row, auto& field) { decode(packet, row, field); });
}

void encode_lease_options(const Lease& lease, Packet& packet) {
  for_each_lease_option(lease, [&](const OptionDefinition& row, const auto& field) { encode(packet, row, field); });
}

}  // namespace netdhcp::dhcp4
