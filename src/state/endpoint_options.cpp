#include "src/state/endpoint_options.hpp"

#include <cctype>

namespace netdhcp {

namespace json = boost::json;

namespace {

constexpr const char* kKnownEndpointOptions = "identity, hostname";

// For messages: the value as the user typed it, cut and with control characters shown.
std::string shown_value(std::string_view value) {
  std::string out;
  for (unsigned char c : value.substr(0, 70)) {
    if (c < 0x20 || c == 0x7f) {
      const char* digits = "0123456789abcdef";
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > 70) out += "...";
  return out;
}

// Docker expands no templates in network driver options, not even for swarm services: a
// "{{.Task.Slot}}" reaches us as written, the same for every task of the service, whose
// containers would all be one client to the server.
Result<void> check_no_template(const char* option, const std::string& value) {
  if (value.find("{{") == std::string::npos) return {};
  return Error{std::string("endpoint option ") + option + "=\"" + shown_value(value) +
               "\" holds a template, which Docker does not expand in network driver options (not for swarm "
               "services either): every task would get this same value. Give each container a name of its own, "
               "e.g. one service with --replicas 1 per " + option};
}

Result<void> check_identity(const std::string& value) {
  if (auto r = check_no_template("identity", value); !r) return r;
  if (value.empty())
    return Error{"endpoint option identity is empty: give a name, e.g. --driver-opt identity=web (or leave it out for an "
                 "identity of the endpoint's own)"};
  if (value.size() > kMaxIdentity)
    return Error{"endpoint option identity=\"" + shown_value(value) + "\" has " + std::to_string(value.size()) +
                 " bytes, more than " + std::to_string(kMaxIdentity) + ": use a shorter name"};
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f)
      return Error{"endpoint option identity=\"" + shown_value(value) +
                   "\" contains a control character: use printable characters, e.g. the service's name"};
  return {};
}

Result<void> check_hostname(const std::string& value) {
  if (auto r = check_no_template("hostname", value); !r) return r;
  if (!valid_hostname(value))
    return Error{"endpoint option hostname=\"" + shown_value(value) + "\" is not a hostname: use letters, digits, '-', '_' "
                 "and '.', at most 253, e.g. --driver-opt hostname=web"};
  return {};
}

}  // namespace

bool valid_hostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.front() == '.' || name.front() == '-' || name.back() == '.' || name.back() == '-') return false;
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return name.find("..") == std::string_view::npos;
}

Result<EndpointOptions> parse_endpoint_options(const json::object& options) {
  EndpointOptions o;
  for (const auto& [key_view, value] : options) {
    std::string key(key_view);
    if (key.rfind("com.docker.", 0) == 0) continue;  // Docker's own: MAC, ports, sysctls, ...
    if (key != "identity" && key != "hostname")
      return Error{"unknown endpoint option " + shown_value(key) + "; net-dhcp's endpoint options are: " + kKnownEndpointOptions +
                   " (network options such as bridge or ipv6 go to docker network create -o)"};
    if (!value.is_string())
      return Error{"endpoint option " + key + " must be a string, not " + json::serialize(value).substr(0, 40)};
    std::string text(value.as_string());
    if (key == "identity") {
      if (auto r = check_identity(text); !r) return r.error();
      o.identity = std::move(text);
    } else {
      if (auto r = check_hostname(text); !r) return r.error();
      o.hostname = std::move(text);
    }
  }
  return o;
}

json::object endpoint_options_to_json(const EndpointOptions& options) {
  json::object o;
  if (!options.identity.empty()) o["identity"] = options.identity;
  if (!options.hostname.empty()) o["hostname"] = options.hostname;
  return o;
}

Result<EndpointOptions> endpoint_options_from_json(const json::value& value) {
  if (!value.is_object()) return Error{"endpoint options are not a JSON object"};
  return parse_endpoint_options(value.as_object());
}

}  // namespace netdhcp
