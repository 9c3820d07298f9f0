#include "src/state/network_options.hpp"

#include <cmath>
#include <cstdio>

namespace netdhcp {

namespace {

constexpr const char* kKnown =
    "bridge, ipv6, lease_timeout, ignore_conflicts, skip_routes, gateway, prefix, hostname, rapid_commit, firewall_check";

std::optional<bool> parse_bool(const std::string& v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty()) return false;
  return std::nullopt;
}

bool valid_interface_prefix(const std::string& p) {
  if (p.empty() || p.size() > 12) return false;  // room for a number within IFNAMSIZ
  for (char c : p)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

}  // namespace

std::string seconds_text(Duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", std::chrono::duration<double>(d).count());
  return text;
}

std::optional<Error> check_lease_timeout(Duration lease_timeout, Duration docker_timeout) {
  // A socket plugin's calls have no timeout in dockerd (pkg/plugins.NewClient: an HTTP client
  // without one); a managed plugin's time out after `docker plugin enable --timeout`.
  if (docker_timeout == Duration::zero() || lease_timeout + kCreateEndpointOverhead <= docker_timeout) return std::nullopt;
  Duration longest = docker_timeout - kCreateEndpointOverhead;
  auto as_option = [](Duration d) {  // "29s", the way -o lease_timeout takes it
    std::string text = seconds_text(d);
    return text.substr(0, text.size() - 2) + "s";
  };
  return Error{"option lease_timeout=" + as_option(lease_timeout) + " is too long: Docker gives up on this managed plugin's calls after " +
               seconds_text(docker_timeout) + " (docker plugin enable --timeout; net-dhcp is told by NET_DHCP_DOCKER_TIMEOUT "
               "or serve --docker-timeout) and CreateEndpoint needs up to " +
               seconds_text(kCreateEndpointOverhead) + " besides waiting for the lease, so docker run would fail with " +
               "Docker's timeout instead of net-dhcp's reason. Use " +
               (longest > Duration::zero() ? "at most lease_timeout=" + as_option(longest) : std::string("a shorter lease_timeout")) +
               ", or raise Docker's timeout (docker plugin enable --timeout SECONDS) and tell net-dhcp "
               "(docker plugin set NAME NET_DHCP_DOCKER_TIMEOUT=SECONDSs)"};
}

std::optional<Duration> parse_duration(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  double seconds;
  if (unit == "ms") seconds = value / 1000;
  else if (unit == "s" || unit.empty()) seconds = value;
  else if (unit == "m") seconds = value * 60;
  else return std::nullopt;
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > 3600) return std::nullopt;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

Result<NetworkOptions> parse_network_options(const std::map<std::string, std::string>& generic) {
  NetworkOptions o;
  for (const auto& entry : generic) {
    const std::string& key = entry.first;  // not a structured binding: lambdas below capture it
    const std::string& value = entry.second;
    auto flag = [&](bool& target) -> std::optional<Error> {
      auto b = parse_bool(value);
      if (!b) return Error{"option " + key + "=" + value + " must be true or false"};
      target = *b;
      return std::nullopt;
    };
    std::optional<Error> problem;
    if (key == "bridge") {
      o.bridge = value;
    } else if (key == "ipv6") {
      problem = flag(o.ipv6);
    } else if (key == "lease_timeout") {
      auto d = parse_duration(value);
      if (!d) problem = Error{"option lease_timeout=" + value + " must be a duration up to 1h, like 10s or 1500ms"};
      else o.lease_timeout = *d;
    } else if (key == "ignore_conflicts") {
      problem = flag(o.ignore_conflicts);
    } else if (key == "skip_routes") {
      problem = flag(o.skip_routes);
    } else if (key == "rapid_commit") {
      problem = flag(o.rapid_commit);
    } else if (key == "firewall_check") {
      problem = flag(o.firewall_check);
    } else if (key == "gateway") {
      auto a = Ipv4Address::parse(value);
      if (!a) problem = Error{"option gateway=" + value + " must be an IPv4 address, e.g. -o gateway=192.0.2.1"};
      else o.gateway = a;
    } else if (key == "prefix") {
      if (!valid_interface_prefix(value))
        problem = Error{"option prefix=" + value + " must be 1 to 12 letters, digits, - or _ (container interfaces are named PREFIX0, PREFIX1, ...)"};
      else o.interface_prefix = value;
    } else if (key == "hostname") {
      o.hostname = value;
    } else {
      problem = Error{"unknown option " + key + "; net-dhcp knows: " + kKnown};
    }
    if (problem) return *problem;
  }
  if (o.bridge.empty())
    return Error{"the bridge option is required: docker network create -d net-dhcp --ipam-driver null -o bridge=BRIDGE NAME"};
  return o;
}

}  // namespace netdhcp
