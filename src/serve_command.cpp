#include "src/serve_command.hpp"

#include <sys/stat.h>

#include <iostream>
#include <string>

#include "src/driver.hpp"
#include "src/http_server.hpp"
#include "src/log.hpp"

namespace netdhcp {

namespace {

constexpr const char* kUsage =
    "usage: net-dhcp serve [--socket PATH] [--state-dir DIR] [--log-level LEVEL] [--socket-mode MODE]\n"
    "\n"
    "Runs the Docker network driver. Docker finds it through the socket: the driver's name is\n"
    "the socket file's name (default /run/docker/plugins/net-dhcp.sock -> driver net-dhcp).\n"
    "\n"
    "  --socket PATH       where to listen (default /run/docker/plugins/net-dhcp.sock)\n"
    "  --state-dir DIR     where networks and endpoints are kept across restarts (default /var/lib/net-dhcp)\n"
    "  --log-level LEVEL   debug, info, warning or error (default info)\n"
    "  --socket-mode MODE  octal permissions of the socket (default 0600: root only)\n";

// Creates DIR and its parents (mode 0700 for the last). Errors: mkdir failures.
Result<void> make_directories(const std::string& path, mode_t mode) {
  std::string partial;
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      partial = path.substr(0, i);
      if (::mkdir(partial.c_str(), i == path.size() ? mode : 0755) < 0 && errno != EEXIST)
        return system_error("creating " + partial, errno);
    }
  }
  return {};
}

}  // namespace

int serve_command(int argc, char** argv) {
  std::string socket_path = "/run/docker/plugins/net-dhcp.sock";
  std::string state_dir = "/var/lib/net-dhcp";
  unsigned socket_mode = 0600;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    std::optional<std::string> v;
    if (arg == "--socket" && (v = value())) {
      socket_path = *v;
    } else if (arg == "--state-dir" && (v = value())) {
      state_dir = *v;
    } else if (arg == "--log-level" && (v = value())) {
      log::Level level;
      if (!log::parse_level(*v, level)) {
        std::cerr << "net-dhcp serve: --log-level must be debug, info, warning or error, not \"" << *v << "\"\n";
        return 2;
      }
      log::set_level(level);
    } else if (arg == "--socket-mode" && (v = value())) {
      try {
        socket_mode = static_cast<unsigned>(std::stoul(*v, nullptr, 8));
      } catch (...) {
        std::cerr << "net-dhcp serve: --socket-mode must be an octal mode like 0660\n";
        return 2;
      }
    } else {
      std::cerr << "net-dhcp serve: unknown or incomplete argument \"" << arg << "\"\n\n" << kUsage;
      return 2;
    }
  }
  if (auto r = make_directories(state_dir, 0700); !r) {
    log::error(r.error().message);
    return 1;
  }
  auto slash = socket_path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (auto r = make_directories(socket_path.substr(0, slash), 0755); !r) {
      log::error(r.error().message);
      return 1;
    }
  }

  asio::io_context io(1);
  Driver driver(io.get_executor(), state_dir);
  if (auto loaded = driver.load(); !loaded) {
    log::error(loaded.error().message);
    return 1;
  }
  RequestHandler handler = [&driver](std::string path, std::string body) -> asio::awaitable<ApiReply> {
    return handle_plugin_request(driver, std::move(path), std::move(body));
  };
  auto server = HttpServer::listen(io.get_executor(), socket_path, socket_mode, handler);
  if (!server) {
    log::error(server.error().message);
    return 1;
  }
  (*server)->start();
  log::info("net-dhcp serving on " + socket_path + ", state in " + state_dir);

  // SIGTERM/SIGINT: stop answering, write the endpoints' state and leave. Running containers
  // keep their addresses and leases (only Leave/DeleteEndpoint release); the next start
  // re-adopts them.
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    log::info(std::string("signal ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") + ": shutting down");
    (*server)->stop();
    driver.save_all();
    io.stop();
  });
  io.run();
  log::info("net-dhcp stopped");
  return 0;
}

}  // namespace netdhcp
