#include "src/plugin/docker_options.hpp"

namespace netdhcp {

namespace json = boost::json;

namespace {

constexpr const char* kEnableIpv4 = "com.docker.network.enable_ipv4";
constexpr const char* kEnableIpv6 = "com.docker.network.enable_ipv6";
constexpr const char* kEndpointMac = "com.docker.network.endpoint.macaddress";

// Docker 28 sends a bool; a string is accepted too, in case a version serialises its labels.
Result<void> read_flag(const json::object& options, const char* key, bool& target) {
  const json::value* v = options.if_contains(key);
  if (!v) return {};
  if (v->is_bool()) {
    target = v->as_bool();
    return {};
  }
  if (v->is_string() && (v->as_string() == "true" || v->as_string() == "false")) {
    target = v->as_string() == "true";
    return {};
  }
  return Error{std::string("Docker sent ") + key + "=" + json::serialize(*v) +
               ", expected true or false: a Docker version net-dhcp does not know? Please report it"};
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Result<AddressFamilies> network_families(const json::object& options) {
  AddressFamilies families;
  if (auto r = read_flag(options, kEnableIpv4, families.ipv4); !r) return r.error();
  if (auto r = read_flag(options, kEnableIpv6, families.ipv6); !r) return r.error();
  return families;
}

std::optional<Bytes> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int padding = 0;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      if (c == '=') {
        // Only the last one or two characters of the last group may be padding.
        if (!last || j < 2) return std::nullopt;
        ++padding;
        group <<= 6;
        continue;
      }
      int value = base64_value(c);
      if (value < 0 || padding) return std::nullopt;
      group = group << 6 | static_cast<std::uint32_t>(value);
    }
    out.push_back(static_cast<std::byte>(group >> 16));
    if (padding < 2) out.push_back(static_cast<std::byte>(group >> 8 & 0xff));
    if (padding < 1) out.push_back(static_cast<std::byte>(group & 0xff));
  }
  return out;
}

std::optional<MacAddress> parse_endpoint_mac(std::string_view text) {
  if (auto mac = MacAddress::parse(text)) return mac;
  auto bytes = decode_base64(text);
  if (!bytes || bytes->size() != 6) return std::nullopt;
  MacAddress mac;
  for (std::size_t i = 0; i < 6; ++i) mac.octets[i] = static_cast<std::uint8_t>((*bytes)[i]);
  return mac;
}

Result<std::optional<MacAddress>> requested_mac(const json::object& request) {
  std::optional<MacAddress> from_interface, from_option;
  std::string interface_text, option_text;
  if (auto* i = request.if_contains("Interface"); i && i->is_object())
    if (auto* m = i->as_object().if_contains("MacAddress"); m && m->is_string()) interface_text = m->as_string();
  if (auto* o = request.if_contains("Options"); o && o->is_object())
    if (auto* m = o->as_object().if_contains(kEndpointMac); m && m->is_string()) option_text = m->as_string();
  if (!interface_text.empty()) {
    from_interface = MacAddress::parse(interface_text);
    if (!from_interface) return Error{"invalid MacAddress " + interface_text + ": expected aa:bb:cc:dd:ee:ff"};
  }
  if (!option_text.empty()) {
    from_option = parse_endpoint_mac(option_text);
    if (!from_option)
      return Error{std::string("invalid ") + kEndpointMac + " \"" + option_text.substr(0, 40) +
                   "\": expected 6 bytes in base64 or aa:bb:cc:dd:ee:ff"};
  }
  if (from_interface && from_option && from_interface->octets != from_option->octets)
    return Error{"Docker asked for two MAC addresses, " + from_interface->to_string() + " (Interface.MacAddress) and " +
                 from_option->to_string() + " (" + kEndpointMac + "): give one, with --mac-address or the network's "
                 "mac-address, not both"};
  return from_interface ? from_interface : from_option;
}

}  // namespace netdhcp
