#include "src/cli/lease_command.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include "dhcp/identity.hpp"
#include "src/state/lease_json.hpp"
#include "src/transport/dhcp4_socket.hpp"
#include "src/transport/dhcp6_socket.hpp"
#include "src/support/log.hpp"

namespace netdhcp {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kLeaseUsage =
    "usage: net-dhcp lease --interface IF [--ipv6] [--hostname NAME] [--timeout SECONDS]\n"
    "                      [--rapid-commit] [--release] [--json] [--hold SECONDS]\n"
    "                      [--request ADDRESS] [--arp-probe] [--broadcast] [--client-id NAME]\n"
    "\n"
    "Acquires one DHCP lease on IF in the current network namespace and prints it. The\n"
    "interface is not configured. Exit status: 0 lease obtained, 1 no lease, 2 usage error.\n"
    "\n"
    "  --interface IF     interface to run DHCP on (required; must be up)\n"
    "  --ipv6             DHCPv6 (IA_NA) instead of DHCPv4\n"
    "  --hostname NAME    send NAME (option 12 / DHCPv6 client FQDN)\n"
    "  --timeout SECONDS  give up after this long (default 10)\n"
    "  --rapid-commit     ask for a two-message exchange (RFC 4039 / RFC 8415)\n"
    "  --release          release the lease before exiting\n"
    "  --json             print a JSON object (and one JSON line per later event)\n"
    "  --hold SECONDS     keep the lease this long, renewing and rebinding as the server says,\n"
    "                     printing each event\n"
    "  --request ADDRESS  DHCPv4: start in INIT-REBOOT asking for ADDRESS\n"
    "  --arp-probe        DHCPv4: RFC 5227 probe of the offered address before using it\n"
    "  --broadcast        DHCPv4: ask the server to broadcast its replies\n"
    "  --client-id NAME   derive the DUID-UUID, IAID and client identifier from NAME\n"
    "                     (default: DUID-LL from the interface's MAC)\n";

struct Options {
  std::string interface;
  bool ipv6 = false;
  std::string hostname;
  double timeout_s = 10;
  bool rapid_commit = false;
  bool release = false;
  bool json = false;
  double hold_s = 0;
  std::optional<Ipv4Address> request;
  bool arp_probe = false;
  bool broadcast = false;
  std::string client_id;
};

int usage_error(const std::string& message) {
  std::cerr << "net-dhcp lease: " << message << "\n\n" << kLeaseUsage;
  return 2;
}

std::optional<double> parse_seconds(const std::string& text) {
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used != text.size() || v < 0 || v > 86400 * 365) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

double elapsed_ms(TimePoint since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

json::array address_array(const auto& list) {
  json::array a;
  for (const auto& address : list) a.emplace_back(address.to_string());
  return a;
}

}  // namespace

// The options (dns_servers, classless_routes, ...) are the state file's keys
// (src/state/lease_json.hpp); around them, what a person or script reads first.
json::object lease4_json(const dhcp4::Lease& lease) {
  json::object o;
  o["family"] = "ipv4";
  o["address"] = lease.address.to_string() + "/" + std::to_string(lease.prefix_length);
  if (auto gw = lease.gateway()) o["gateway"] = gw->to_string(); else o["gateway"] = nullptr;
  o["lease_seconds"] = lease.lease_time.count();
  o["renew_seconds"] = lease.t1.count();
  o["rebind_seconds"] = lease.t2.count();
  o["server"] = lease.server_id.to_string();
  lease_options_to_json(lease, o);
  return o;
}

json::object lease6_json(const dhcp6::Lease& lease) {
  json::object o;
  o["family"] = "ipv6";
  o["address"] = lease.address.to_string() + "/128";
  o["gateway"] = nullptr;  // DHCPv6 carries no routes; the router's advertisements do
  // The same keys as DHCPv4's and the state file's.
  o["dns_servers"] = address_array(lease.dns_servers);
  json::array search;
  for (const auto& s : lease.search_domains) search.emplace_back(s);
  o["search_domains"] = std::move(search);
  o["lease_seconds"] = lease.valid_lifetime.count();
  o["preferred_seconds"] = lease.preferred_lifetime.count();
  o["renew_seconds"] = lease.t1.count();
  o["rebind_seconds"] = lease.t2.count();
  o["server"] = lease.server_address.to_string();
  o["server_duid"] = hex(lease.server_duid);
  o["iaid"] = lease.iaid;
  return o;
}

namespace {

std::string human(const json::object& o) {
  if (auto* event = o.if_contains("event"); event && *event == "nak") {
    return "DHCPNAK for " + json::value_to<std::string>(o.at("address")) + ": \"" +
           (o.contains("message") ? json::value_to<std::string>(o.at("message")) : std::string()) + "\"";
  }
  std::string s = json::value_to<std::string>(o.at("address"));
  s += " from " + json::value_to<std::string>(o.at("server"));
  if (!o.at("gateway").is_null()) s += " gateway " + json::value_to<std::string>(o.at("gateway"));
  for (const auto& d : o.at("dns_servers").as_array()) s += " dns " + json::value_to<std::string>(d);
  s += " lease " + std::to_string(o.at("lease_seconds").to_number<long long>()) + " s";
  if (auto* ms = o.if_contains("elapsed_ms")) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " in %.1f ms", ms->to_number<double>());
    s += buf;
  }
  return s;
}

void print(const Options& options, json::object o) {
  if (options.json) {
    std::cout << json::serialize(o) << std::endl;
  } else if (auto* event = o.if_contains("event")) {
    std::cout << json::value_to<std::string>(*event) << ": " << human(o) << std::endl;
  } else {
    std::cout << human(o) << std::endl;
  }
}

RandomSource make_random() {
  auto engine = std::make_shared<std::mt19937>(std::random_device{}());
  return [engine] { return static_cast<std::uint32_t>((*engine)()); };
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

std::string describe_failure4(const dhcp4::Client& client, const std::string& interface, double timeout_s) {
  const auto& c = client.counters();
  std::string after = " after " + seconds_text(timeout_s);
  std::string s;
  switch (client.state()) {
    case dhcp4::State::Requesting:
      s = "DHCPOFFER of " + c.last_offer_address->to_string() + " from " + c.last_offer_server->to_string() +
          " on " + interface + " but no DHCPACK" + after + " (" + std::to_string(c.requests_sent) +
          " DHCPREQUESTs sent)";
      break;
    case dhcp4::State::Rebooting:
      s = "no reply to DHCPREQUEST (INIT-REBOOT) on " + interface + after + " (" +
          std::to_string(c.requests_sent) + " sent)";
      break;
    case dhcp4::State::Probing:
      s = "address still being probed (RFC 5227) on " + interface + after;
      break;
    default:
      s = "no DHCPOFFER on " + interface + after + " (" + std::to_string(c.discovers_sent) +
          " DHCPDISCOVERs sent, " + std::to_string(c.offers_received) + " offers received)";
  }
  if (c.naks_received)
    s += "; " + std::to_string(c.naks_received) + " DHCPNAK received, last: \"" + c.last_nak_message + "\"";
  if (c.packets_ignored) s += "; " + std::to_string(c.packets_ignored) + " unrelated replies ignored";
  return s;
}

std::string describe_failure6(const dhcp6::Client& client, const std::string& interface, double timeout_s) {
  const auto& c = client.counters();
  std::string after = " after " + seconds_text(timeout_s);
  std::string s;
  switch (client.state()) {
    case dhcp6::State::Requesting:
      s = "ADVERTISE received on " + interface + " but no REPLY to REQUEST" + after + " (" +
          std::to_string(c.requests_sent) + " REQUESTs sent)";
      break;
    default:
      // Answered, but refused (a REPLY to a rapid-commit SOLICIT, or an ADVERTISE, with a status
      // such as NoAddrsAvail: named below): not "no ADVERTISE".
      s = std::string(c.last_status_message.empty() ? "no DHCPv6 ADVERTISE on " : "no DHCPv6 lease on ") + interface +
          after + " (" + std::to_string(c.solicits_sent) + " SOLICITs sent to ff02::1:2)";
  }
  if (!c.last_status_message.empty()) s += "; server said: " + c.last_status_message;
  if (c.packets_ignored) s += "; " + std::to_string(c.packets_ignored) + " unrelated replies ignored";
  return s;
}

// Runs the v4 or v6 session until the first lease, then for --hold, then releases.
// `decorate` adds the transport's and client's counters to each printed object.
template <class Session, class ClientT, class LeaseJson, class Failure, class Decorate>
int run_session(asio::io_context& io, Session& session, ClientT& client, const Options& options,
                LeaseJson lease_json, Failure failure, Decorate decorate) {
  const TimePoint started = Clock::now();
  bool have_lease = false;
  bool holding = false;
  Timer limit(io);
  int status = 1;

  auto on_event = [&](const auto& event) {
    using Kind = std::decay_t<decltype(event.kind)>;
    json::object o = lease_json(event.lease);
    o["elapsed_ms"] = elapsed_ms(started);
    decorate(o);
    if (!have_lease && (event.kind == Kind::Bound || event.kind == Kind::AddressChanged)) {
      have_lease = true;
      status = 0;
      print(options, std::move(o));
      if (options.hold_s > 0) {
        holding = true;
        limit.expires_after(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(options.hold_s)));
        limit.async_wait([&](boost::system::error_code ec) {
          if (!ec) session.stop();
        });
      } else {
        session.stop();
      }
      return;
    }
    o["event"] = std::string(to_string(event.kind));
    o["from"] = std::string(to_string(event.from));
    if (!event.message.empty()) o["message"] = event.message;
    if constexpr (requires { event.previous; }) {
      if (event.previous) o["previous_address"] = event.previous->address.to_string();
    }
    print(options, std::move(o));
  };

  limit.expires_after(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(options.timeout_s)));
  limit.async_wait([&](boost::system::error_code ec) {
    if (!ec && !holding) session.stop();
  });
  auto run_until_stopped = [&]() -> asio::awaitable<void> {
    co_await session.run(on_event);
    limit.cancel();
  };
  asio::co_spawn(io, run_until_stopped(), asio::detached);
  io.run();
  io.restart();

  if (!have_lease) {
    std::cerr << "net-dhcp lease: " << failure(client, options.interface, options.timeout_s) << "\n";
    if (!session.send_error().empty()) std::cerr << "net-dhcp lease: last send error: " << session.send_error() << "\n";
    return 1;
  }
  if (options.release) {
    client.release(Clock::now());
    session.flush();
    if constexpr (requires { client.releasing(); }) {
      // DHCPv6 Release is acknowledged by a Reply (RFC 8415 section 18.2.7); wait briefly.
      if (client.releasing()) {
        limit.expires_after(2s);
        limit.async_wait([&](boost::system::error_code ec) {
          if (!ec) session.stop();
        });
        asio::co_spawn(io, run_until_stopped(), asio::detached);
        io.run();
      }
    }
  } else {
    client.stop();
  }
  return status;
}

}  // namespace

int lease_command(int argc, char** argv) {
  Options options;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* what) -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      (void)what;
      return std::string(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kLeaseUsage;
      return 0;
    } else if (arg == "--interface" || arg == "-i") {
      auto v = value("interface");
      if (!v) return usage_error("--interface needs an interface name");
      options.interface = *v;
    } else if (arg == "--ipv6") {
      options.ipv6 = true;
    } else if (arg == "--hostname") {
      auto v = value("hostname");
      if (!v || v->empty()) return usage_error("--hostname needs a name");
      options.hostname = *v;
    } else if (arg == "--timeout" || arg == "--hold") {
      auto v = value("seconds");
      auto s = v ? parse_seconds(*v) : std::nullopt;
      if (!s || (arg == "--timeout" && *s <= 0)) return usage_error(arg + " needs a positive number of seconds");
      (arg == "--timeout" ? options.timeout_s : options.hold_s) = *s;
    } else if (arg == "--rapid-commit") {
      options.rapid_commit = true;
    } else if (arg == "--release") {
      options.release = true;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--request") {
      auto v = value("address");
      auto a = v ? Ipv4Address::parse(*v) : std::nullopt;
      if (!a) return usage_error("--request needs an IPv4 address, e.g. --request 198.18.0.10");
      options.request = a;
    } else if (arg == "--arp-probe") {
      options.arp_probe = true;
    } else if (arg == "--broadcast") {
      options.broadcast = true;
    } else if (arg == "--client-id") {
      auto v = value("name");
      if (!v || v->empty()) return usage_error("--client-id needs a name");
      options.client_id = *v;
    } else {
      return usage_error("unknown argument \"" + arg + "\"");
    }
  }
  if (options.interface.empty()) return usage_error("--interface is required");
  if (options.ipv6 && (options.request || options.arp_probe || options.broadcast))
    return usage_error("--request, --arp-probe and --broadcast are DHCPv4 options; drop them or --ipv6");

  auto interface = query_interface(options.interface);
  if (!interface) {
    std::cerr << "net-dhcp lease: " << interface.error().message << "\n";
    return 1;
  }
  if (!interface->up) {
    std::cerr << "net-dhcp lease: interface " << options.interface
              << " is down; bring it up first (ip link set " << options.interface << " up)\n";
    return 1;
  }

  Bytes duid;
  std::uint32_t iaid;
  if (options.client_id.empty()) {
    duid = make_duid_ll(interface->mac);
    iaid = iaid_from_name(interface->mac.to_string());
  } else {
    duid = make_duid_uuid(uuid_from_name(options.client_id));
    iaid = iaid_from_name(options.client_id);
  }

  asio::io_context io;
  if (!options.ipv6) {
    auto socket = PacketSocket::open(*interface);
    if (!socket) {
      std::cerr << "net-dhcp lease: " << socket.error().message << "\n";
      return 1;
    }
    dhcp4::ClientConfig config;
    config.mac = interface->mac;
    config.client_id = make_client_id(iaid, duid);
    config.hostname = options.hostname;
    config.rapid_commit = options.rapid_commit;
    config.broadcast_flag = options.broadcast;
    config.arp_probe = options.arp_probe;
    config.previous_address = options.request;
    config.max_message_size = static_cast<std::uint16_t>(std::clamp(interface->mtu, 576, 65535));
    dhcp4::Client client(config, make_random());
    Dhcp4Session session(io.get_executor(), client, *socket);
    client.start(Clock::now());
    auto decorate = [&](json::object& o) {
      const auto& c = client.counters();
      o["discovers_sent"] = c.discovers_sent;
      o["requests_sent"] = c.requests_sent;
      o["unicast_path"] = socket->last_unicast_path();
    };
    return run_session(io, session, client, options, lease4_json, describe_failure4, decorate);
  }

  auto socket = Dhcp6UdpSocket::open(*interface, Clock::now() + std::chrono::duration_cast<Duration>(
                                                      std::chrono::duration<double>(options.timeout_s)));
  if (!socket) {
    std::cerr << "net-dhcp lease: " << socket.error().message << "\n";
    return 1;
  }
  dhcp6::ClientConfig config;
  config.duid = duid;
  config.iaid = iaid;
  config.fqdn = options.hostname;
  config.rapid_commit = options.rapid_commit;
  config.initial_delay_min = Dhcp6UdpSocket::kRouterSolicitationLead;
  dhcp6::Client client(config, make_random());
  Dhcp6Session session(io.get_executor(), client, *socket);
  client.start(Clock::now());
  auto decorate = [&](json::object& o) {
    const auto& c = client.counters();
    o["solicits_sent"] = c.solicits_sent;
    o["requests_sent"] = c.requests_sent;
    o["renews_sent"] = c.renews_sent;
    o["rebinds_sent"] = c.rebinds_sent;
  };
  return run_session(io, session, client, options, lease6_json, describe_failure6, decorate);
}

}  // namespace netdhcp
