#include "src/state/network_options.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace netdhcp {

namespace {

constexpr const char* kKnown =
    "bridge, ipv6, lease_timeout, ignore_conflicts, skip_routes, gateway, prefix, hostname, rapid_commit, firewall_check, "
    "mode, parent, macvlan_mode, ipvlan_mode";

constexpr const char* kMacvlanModes[] = {"bridge", "private", "vepa", "passthru"};

// An interface name as the kernel takes it (dev_valid_name): 1 to 15 bytes, not "." or "..",
// no '/', ':' or white space.
bool valid_interface_name(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || !std::isprint(static_cast<unsigned char>(c)))
      return false;
  return true;
}

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

std::string_view to_string(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::Bridge: return "bridge";
    case NetworkMode::Macvlan: return "macvlan";
    case NetworkMode::Ipvlan: return "ipvlan";
  }
  return "?";
}

std::string NetworkOptions::lan_text() const {
  switch (mode) {
    case NetworkMode::Bridge: return "bridge " + bridge;
    case NetworkMode::Macvlan: return "parent " + parent + " (macvlan" + (macvlan_mode == "bridge" ? "" : " " + macvlan_mode) + ")";
    case NetworkMode::Ipvlan: return "parent " + parent + " (ipvlan L2)";
  }
  return bridge;
}

std::optional<VlanName> parse_vlan_name(const std::string& parent) {
  auto dot = parent.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == parent.size() || parent.size() - dot - 1 > 4) return std::nullopt;
  int id = 0;
  for (char c : parent.substr(dot + 1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    id = id * 10 + (c - '0');
  }
  if (id < 1 || id > 4094) return std::nullopt;
  return VlanName{parent.substr(0, dot), id};
}

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
  std::optional<std::string> mode, macvlan_mode, ipvlan_mode;
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
    } else if (key == "mode") {
      mode = value;
    } else if (key == "parent") {
      if (!valid_interface_name(value))
        problem = Error{"option parent=" + value + " is not an interface name (1 to 15 characters, no '/', ':' or spaces): "
                        "name the host interface on the LAN, e.g. -o parent=eth0, or eth0.10 for its VLAN 10"};
      else o.parent = value;
    } else if (key == "macvlan_mode") {
      macvlan_mode = value;
    } else if (key == "ipvlan_mode") {
      ipvlan_mode = value;
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

  // The mode: given, or bridge=BR alone (every network made before macvlan mode), or
  // parent=IF alone (as with Docker's macvlan driver).
  if (mode) {
    if (*mode == "bridge") o.mode = NetworkMode::Bridge;
    else if (*mode == "macvlan") o.mode = NetworkMode::Macvlan;
    else if (*mode == "ipvlan") o.mode = NetworkMode::Ipvlan;
    else
      return Error{"option mode=" + *mode + " must be bridge (a veth pair per container on -o bridge=BRIDGE), macvlan or "
                   "ipvlan (a child of -o parent=IF per container, no bridge needed)"};
  } else if (!o.parent.empty() && o.bridge.empty()) {
    o.mode = NetworkMode::Macvlan;
  } else if (!o.parent.empty()) {
    return Error{"options bridge=" + o.bridge + " and parent=" + o.parent + " name two ways of attaching containers: "
                 "-o bridge=" + o.bridge + " alone for a veth pair per container on that bridge, or -o mode=macvlan -o parent=" +
                 o.parent + " for macvlan children of " + o.parent + " (no bridge)"};
  }
  if (o.mode == NetworkMode::Bridge) {
    if (!o.parent.empty())
      return Error{"option parent=" + o.parent + " is for -o mode=macvlan or -o mode=ipvlan; bridge mode attaches containers "
                   "to -o bridge=BRIDGE"};
    if (o.bridge.empty())
      return Error{"the bridge option is required: docker network create -d net-dhcp --ipam-driver null -o bridge=BRIDGE NAME "
                   "(or, with no bridge, -o mode=macvlan -o parent=IF)"};
  } else {
    std::string name(to_string(o.mode));
    if (!o.bridge.empty())
      return Error{"option bridge=" + o.bridge + " is for bridge mode; -o mode=" + name + " attaches containers to a host "
                   "interface without a bridge: -o parent=IF (-o parent=" + o.bridge + " puts " + name + " children on the "
                   "bridge itself)"};
    if (o.parent.empty())
      return Error{"-o mode=" + name + " needs -o parent=IF, the host interface on the LAN (e.g. -o parent=eth0, or eth0.10 "
                   "for its VLAN 10, which is created if missing)"};
  }
  if (macvlan_mode) {
    if (o.mode != NetworkMode::Macvlan)
      return Error{"option macvlan_mode is for -o mode=macvlan (this network's mode is " + std::string(to_string(o.mode)) + ")"};
    if (std::find(std::begin(kMacvlanModes), std::end(kMacvlanModes), *macvlan_mode) == std::end(kMacvlanModes))
      return Error{"option macvlan_mode=" + *macvlan_mode + " must be bridge (the default: containers reach each other and the "
                   "LAN), private, vepa or passthru (one container takes the parent whole)"};
    o.macvlan_mode = *macvlan_mode;
  }
  if (ipvlan_mode) {
    if (o.mode != NetworkMode::Ipvlan)
      return Error{"option ipvlan_mode is for -o mode=ipvlan (this network's mode is " + std::string(to_string(o.mode)) + ")"};
    if (*ipvlan_mode == "l3" || *ipvlan_mode == "l3s")
      return Error{"option ipvlan_mode=" + *ipvlan_mode + " cannot work with DHCP: in ipvlan's L3 modes the parent routes "
                   "the containers' traffic and passes no broadcasts, so no DHCPDISCOVER reaches the LAN and no offer comes "
                   "back. Use -o ipvlan_mode=l2 (the default), or -o mode=macvlan"};
    if (*ipvlan_mode != "l2")
      return Error{"option ipvlan_mode=" + *ipvlan_mode + " must be l2 (l3 and l3s pass no broadcasts, so no DHCP)"};
  }
  return o;
}

std::map<std::string, std::string> network_options_to_generic(const NetworkOptions& o) {
  auto text = [](bool b) { return std::string(b ? "true" : "false"); };
  std::map<std::string, std::string> generic{
      {"ipv6", text(o.ipv6)},
      {"ignore_conflicts", text(o.ignore_conflicts)},
      {"skip_routes", text(o.skip_routes)},
      {"rapid_commit", text(o.rapid_commit)},
      {"firewall_check", text(o.firewall_check)},
      {"prefix", o.interface_prefix},
      {"lease_timeout", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(o.lease_timeout).count()) + "ms"}};
  if (o.mode == NetworkMode::Bridge) {
    generic["bridge"] = o.bridge;  // and no "mode": the files of every earlier version read the same
  } else {
    generic["mode"] = std::string(to_string(o.mode));
    generic["parent"] = o.parent;
    if (o.mode == NetworkMode::Macvlan) generic["macvlan_mode"] = o.macvlan_mode;
    else generic["ipvlan_mode"] = "l2";
  }
  if (o.gateway) generic["gateway"] = o.gateway->to_string();
  if (!o.hostname.empty()) generic["hostname"] = o.hostname;
  return generic;
}

}  // namespace netdhcp
