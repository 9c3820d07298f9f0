#include "src/state/lease_json.hpp"

#include <limits>

namespace netdhcp {

namespace {

// One writer and one reader per Lease field type (dhcp4::LeaseField); the readers return
// nullopt for a value of the wrong shape.
json::value to_json(const Ipv4Address& address) { return json::value(address.to_string()); }
json::value to_json(const std::string& text) { return json::value(text); }
json::value to_json(std::uint16_t n) { return json::value(n); }
json::value to_json(std::uint32_t n) { return json::value(n); }
json::value to_json(const dhcp4::ClasslessRoute& route) {
  return json::object{{"destination", route.destination.to_string()},
                      {"prefix_length", route.prefix_length},
                      {"router", route.router.to_string()}};
}
template <class T>
json::value to_json(const std::vector<T>& list) {
  json::array out;
  for (const auto& item : list) out.push_back(to_json(item));
  return out;
}

template <class T>
struct Tag {};

std::optional<Ipv4Address> from_json(const json::value& v, Tag<Ipv4Address>) {
  if (!v.is_string()) return std::nullopt;
  return Ipv4Address::parse(std::string(v.as_string()));
}
std::optional<std::string> from_json(const json::value& v, Tag<std::string>) {
  if (!v.is_string()) return std::nullopt;
  return std::string(v.as_string());
}
template <class Unsigned>
  requires std::is_unsigned_v<Unsigned>
std::optional<Unsigned> from_json(const json::value& v, Tag<Unsigned>) {
  std::uint64_t n = 0;
  if (v.is_uint64()) n = v.as_uint64();
  else if (v.is_int64() && v.as_int64() >= 0) n = static_cast<std::uint64_t>(v.as_int64());
  else return std::nullopt;
  if (n > std::numeric_limits<Unsigned>::max()) return std::nullopt;
  return static_cast<Unsigned>(n);
}
std::optional<dhcp4::ClasslessRoute> from_json(const json::value& v, Tag<dhcp4::ClasslessRoute>) {
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  auto* destination = o.if_contains("destination");
  auto* prefix_length = o.if_contains("prefix_length");
  auto* router = o.if_contains("router");
  if (!destination || !prefix_length || !router) return std::nullopt;
  auto d = from_json(*destination, Tag<Ipv4Address>{});
  auto p = from_json(*prefix_length, Tag<std::uint8_t>{});
  auto r = from_json(*router, Tag<Ipv4Address>{});
  if (!d || !p || *p > 32 || !r) return std::nullopt;
  return dhcp4::ClasslessRoute{*d, *p, *r};
}
template <class T>
std::optional<std::vector<T>> from_json(const json::value& v, Tag<std::vector<T>>) {
  if (!v.is_array()) return std::nullopt;
  std::vector<T> out;
  for (const auto& item : v.as_array()) {
    auto value = from_json(item, Tag<T>{});
    if (!value) return std::nullopt;
    out.push_back(std::move(*value));
  }
  return out;
}

template <class T>
void put(json::object& out, const dhcp4::OptionDefinition& row, const T& field) {
  out[row.name] = to_json(field);
}
template <class T>
void put(json::object& out, const dhcp4::OptionDefinition& row, const std::optional<T>& field) {
  if (field) out[row.name] = to_json(*field);
}

template <class T>
void take(const json::value& in, const dhcp4::OptionDefinition&, T& field) {
  field = from_json(in, Tag<T>{}).value_or(T{});
}
template <class T>
void take(const json::value& in, const dhcp4::OptionDefinition& row, std::optional<T>& field) {
  field = from_json(in, Tag<T>{});
  if constexpr (std::is_integral_v<T>)
    if (field && *field < row.minimum) field.reset();
}

}  // namespace

void lease_options_to_json(const dhcp4::Lease& lease, json::object& out) {
  dhcp4::for_each_lease_option(lease, [&](const dhcp4::OptionDefinition& row, const auto& field) { put(out, row, field); });
}

void lease_options_from_json(const json::object& in, dhcp4::Lease& lease) {
  dhcp4::for_each_lease_option(lease, [&](const dhcp4::OptionDefinition& row, auto& field) {
    if (const json::value* v = in.if_contains(row.name)) take(*v, row, field);
    else field = {};
  });
}

}  // namespace netdhcp
