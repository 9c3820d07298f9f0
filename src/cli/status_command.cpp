#include "src/cli/status_command.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "src/support/asio.hpp"
#include "src/support/unix_socket_path.hpp"

namespace netdhcp {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

constexpr const char* kStatusUsage =
    "usage: net-dhcp status [--socket PATH] [--json]\n"
    "\n"
    "Shows what the running daemon manages: every network, and every endpoint with its container,\n"
    "interfaces, MAC, addresses, gateway, DHCP server, state, last renewal, lease expiry and last\n"
    "error.\n"
    "\n"
    "  --socket PATH  the daemon's socket (default /run/docker/plugins/net-dhcp.sock; for the\n"
    "                 managed plugin: /run/docker/plugins/<plugin id>/net-dhcp.sock)\n"
    "  --json         the daemon's answer as JSON instead of a table\n";

// POST /NetDhcp.Status on the daemon's socket. Errors name the socket and what to check.
std::optional<std::string> ask(const std::string& socket_path, std::string& error) {
  asio::io_context io;
  asio::local::stream_protocol::socket socket(io);
  boost::system::error_code ec;
  auto where = UnixSocketPath::of(socket_path);
  if (!where) {
    error = "cannot reach the daemon: " + where.error().message;
    return std::nullopt;
  }
  socket.connect(where->endpoint(), ec);
  if (ec) {
    error = "cannot reach the daemon at " + socket_path + ": " + ec.message() +
            " (is `net-dhcp serve` running? for the managed plugin pass --socket /run/docker/plugins/<id>/net-dhcp.sock)";
    return std::nullopt;
  }
  http::request<http::string_body> request{http::verb::post, "/NetDhcp.Status", 11};
  request.set(http::field::host, "net-dhcp");
  request.body() = "{}";
  request.prepare_payload();
  http::write(socket, request, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  if (!ec) http::read(socket, buffer, response, ec);
  if (ec) {
    error = "talking to the daemon at " + socket_path + ": " + ec.message();
    return std::nullopt;
  }
  if (response.result() != http::status::ok) {
    error = "the daemon at " + socket_path + " answered " + std::to_string(response.result_int()) +
            " (a net-dhcp older than this command?): " + response.body();
    return std::nullopt;
  }
  return response.body();
}

std::string str(const json::object& o, const char* key) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->as_string());
  return {};
}

// Columns padded to the widest cell.
void print_table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << '\n';
  }
}

// "ipv4" is absent in the answer of a daemon older than IPv6-only networks.
std::string families(const json::object& options) {
  bool ipv4 = str(options, "ipv4") != "false", ipv6 = str(options, "ipv6") == "true";
  return ipv4 && ipv6 ? "  IPv4+IPv6" : ipv6 ? "  IPv6" : "  IPv4";
}

// "bridge br0", "macvlan parent eth1", "macvlan parent eth1 (passthru)", "ipvlan parent eth1 (l2)".
std::string attached_to(const json::object& options) {
  std::string mode = str(options, "mode");
  if (mode.empty() || mode == "bridge") return "bridge " + str(options, "bridge");
  std::string flavour = mode == "macvlan" ? str(options, "macvlan_mode") : str(options, "ipvlan_mode");
  return mode + " parent " + str(options, "parent") + (flavour.empty() || flavour == "bridge" ? "" : " (" + flavour + ")");
}

void print_human(const json::object& status) {
  const auto& networks = status.at("networks").as_array();
  std::cout << "net-dhcp " << str(status, "version") << ", state in " << str(status, "state_dir") << ", "
            << networks.size() << " network(s)\n";
  for (const auto& n : networks) {
    const auto& network = n.as_object();
    const auto& options = network.at("options").as_object();
    const auto& endpoints = network.at("endpoints").as_array();
    std::cout << "\nnetwork " << str(network, "id").substr(0, 12) << "  " << attached_to(options)
              << families(options) << "  " << endpoints.size()
              << " endpoint(s)\n";
    if (endpoints.empty()) continue;
    std::vector<std::vector<std::string>> rows{
        {"CONTAINER", "ENDPOINT", "INTERFACE", "MAC", "ADDRESS", "GATEWAY", "SERVER", "STATE", "RENEWED", "EXPIRES", "LAST ERROR"}};
    for (const auto& e : endpoints) {
      const auto& endpoint = e.as_object();
      std::string container = str(endpoint, "container_id").substr(0, 12);
      if (container.empty()) container = "-";
      // A veth pair's host end stays on the bridge; a macvlan/ipvlan child is the container's
      // interface itself, under its host-side name until Join.
      std::string host_side = str(endpoint, "host_interface");
      if (host_side.empty()) host_side = str(endpoint, "child") + " on " + str(endpoint, "parent");
      std::string interface = str(endpoint, "interface") + " (" + host_side + ")";
      std::string error = str(endpoint, "last_error");
      if (error.size() > 60) error = error.substr(0, 57) + "...";
      bool first = true;
      for (const char* family : {"ipv4", "ipv6"}) {
        auto* f = endpoint.if_contains(family);
        if (!f || !f->is_object()) continue;
        const auto& lease = f->as_object();
        auto or_dash = [](std::string s) { return s.empty() ? std::string("-") : s; };
        rows.push_back({first ? container : "", first ? str(endpoint, "endpoint_id").substr(0, 12) : "",
                        first ? interface : "", first ? str(endpoint, "mac") : "", or_dash(str(lease, "address")),
                        or_dash(str(lease, "gateway")), or_dash(str(lease, "server")), str(lease, "state"),
                        or_dash(str(lease, "renewed_at")), or_dash(str(lease, "expires_at")),
                        first ? or_dash(error) : ""});
        first = false;
      }
    }
    print_table(rows, "  ");
  }
}

}  // namespace

int status_command(int argc, char** argv) {
  std::string socket_path = "/run/docker/plugins/net-dhcp.sock";
  bool as_json = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kStatusUsage;
      return 0;
    }
    if (arg == "--json") {
      as_json = true;
    } else if (arg == "--socket" && i + 1 < argc) {
      socket_path = argv[++i];
    } else {
      std::cerr << "net-dhcp status: unknown or incomplete argument \"" << arg << "\"\n\n" << kStatusUsage;
      return 2;
    }
  }
  std::string error;
  auto body = ask(socket_path, error);
  if (!body) {
    std::cerr << "net-dhcp status: " << error << "\n";
    return 1;
  }
  boost::system::error_code ec;
  json::value status = json::parse(*body, ec);
  if (ec || !status.is_object() || !status.as_object().contains("networks")) {
    std::cerr << "net-dhcp status: the daemon's answer is not a status object: " << body->substr(0, 200) << "\n";
    return 1;
  }
  if (as_json) {
    std::cout << json::serialize(status) << "\n";
    return 0;
  }
  print_human(status.as_object());
  return 0;
}

}  // namespace netdhcp
