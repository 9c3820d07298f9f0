#include "src/cli/serve_command.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstring>

#include <cstdlib>
#include <iostream>
#include <string>
#include <tuple>
#include <utility>

#include "netdhcp/scope_exit.hpp"
#include "src/plugin/driver.hpp"
#include "src/plugin/http_server.hpp"
#include "netlink/namespace.hpp"
#include "src/support/background.hpp"
#include "src/support/host_paths.hpp"
#include "src/support/log.hpp"
#include "src/support/off_loop.hpp"
#include "src/support/version.hpp"

namespace netdhcp {

namespace {

// The --metrics server's bound on connections at once (the plugin API's is
// BasicHttpServer::kMaxConnections): Prometheus needs one.
constexpr std::size_t kMaxMetricsConnections = 16;

constexpr const char* kServeUsage =
    "usage: net-dhcp serve [--socket PATH] [--state-dir DIR] [--log-level LEVEL] [--socket-mode MODE]\n"
    "                      [--metrics ADDRESS] [--docker-timeout DURATION] [--follow-timeout DURATION]\n"
    "\n"
    "Runs the Docker network driver. Docker finds it through the socket: the driver's name is\n"
    "the socket file's name (default /run/docker/plugins/net-dhcp.sock -> driver net-dhcp).\n"
    "\n"
    "  --socket PATH       where to listen (default /run/docker/plugins/net-dhcp.sock)\n"
    "  --state-dir DIR     where networks and endpoints are kept across restarts (default /var/lib/net-dhcp)\n"
    "  --host-state-dir DIR\n"
    "                      the managed plugin's instead: DIR/<plugin id> in dockerd's root (see\n"
    "                      NET_DHCP_HOST_ROOT), outside the plugin's rootfs, so that the state\n"
    "                      survives docker plugin upgrade (which replaces the rootfs)\n"
    "  --log-level LEVEL   debug, info, warning or error (default info)\n"
    "  --socket-mode MODE  octal permissions of the socket (default 0600: root only)\n"
    "  --metrics ADDRESS   also serve Prometheus metrics at http://ADDRESS/metrics: HOST:PORT, or\n"
    "                      :PORT for 127.0.0.1 (default: off; always at /metrics on --socket)\n"
    "  --docker-timeout DURATION\n"
    "                      how long dockerd waits for an answer from this driver: none for a socket\n"
    "                      plugin (the default); for the managed plugin what `docker plugin enable\n"
    "                      --timeout` set (its config passes 30s, Docker's default): a network whose\n"
    "                      lease_timeout does not fit in it is refused\n"
    "  --follow-timeout DURATION\n"
    "                      how long after Join Docker may take to move an interface into its\n"
    "                      container before the endpoint is reported as not followed (default 30s)\n"
    "\n"
    "Environment (for the managed plugin: docker plugin set NAME VAR=VALUE; flags win):\n"
    "  NET_DHCP_LOG_LEVEL, NET_DHCP_METRICS, NET_DHCP_DOCKER_TIMEOUT\n"
    "                      as --log-level, --metrics and --docker-timeout\n";

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

// Inside a managed Docker plugin /proc/sys is read-only (runc's default), but the daemon sets
// per-interface sysctls (accept_ra, autoconf, accept_dad on the container end). With
// CAP_SYS_ADMIN in the plugin's own mount namespace it can mount a procfs of its own.
void ensure_writable_sysctls() {
  struct statvfs sys{};
  if (::statvfs("/proc/sys/net", &sys) == 0 && !(sys.f_flag & ST_RDONLY)) return;
  const char* private_proc = "/run/net-dhcp/proc";
  if (auto made = make_directories(private_proc, 0700); !made) {
    log::warning("/proc/sys is read-only and " + made.error().message + ": per-interface sysctls will fail");
    return;
  }
  if (::mount("proc", private_proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0 && errno != EBUSY) {
    log::warning(std::string("/proc/sys is read-only and mounting a procfs at ") + private_proc + " failed: " +
                 std::strerror(errno) + "; per-interface sysctls will fail (run with CAP_SYS_ADMIN)");
    return;
  }
  netlink::set_proc_sys_root(std::string(private_proc) + "/sys");
  log::info(std::string("/proc/sys is read-only here (a managed plugin?): sysctls go through ") + private_proc + "/sys");
}

// About three fds per endpoint: a thousand endpoints need more than the soft limit of 1024 that
// systemd (and most shells) give. The hard limit is ours to take.
void raise_fd_limit() {
  struct rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur >= limit.rlim_max) return;
  rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) == 0)
    log::debug("open files limit raised from " + std::to_string(before) + " to " + std::to_string(limit.rlim_max));
}

// --host-state-dir: DIR/<plugin id> on dockerd's root, made if missing and held open, so that
// the state stays reachable when dockerd restarts (its /proc/<pid>/root goes away) while the
// plugin runs on. Returns the path to use ("/proc/self/fd/N") and the one to show.
Result<std::pair<std::string, std::string>> pin_host_state_dir(std::string dir) {
  std::string id = own_plugin_id();
  if (id.empty())
    log::warning("--host-state-dir " + dir + ": no plugin ID in /proc/self/cgroup (not a managed plugin?): the state is kept in " +
                 dir + " itself");
  else
    dir += "/" + id;
  std::string reachable = host_path(dir);
  if (const char* root = std::getenv("NET_DHCP_HOST_ROOT"); root && *root && host_root_dir() == "/")
    log::warning("--host-state-dir " + dir + ": dockerd's root cannot be reached (no dockerd process seen): the state is "
                 "kept in our own " + dir + ", which docker plugin upgrade replaces");
  if (auto r = make_directories(reachable, 0700); !r) return r.error();
  int fd = ::open(reachable.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return system_error("opening the state directory " + reachable, errno);
  return std::pair{"/proc/self/fd/" + std::to_string(fd), dir + " (dockerd's root)"};  // fd held for the process's life
}

}  // namespace

int serve_command(int argc, char** argv) {
  std::string socket_path = "/run/docker/plugins/net-dhcp.sock";
  std::string state_dir = "/var/lib/net-dhcp";
  std::string host_state_dir;
  unsigned socket_mode = 0600;
  std::string metrics_address;
  if (const char* env = std::getenv("NET_DHCP_METRICS")) metrics_address = env;
  Duration follow_timeout = std::chrono::seconds(30);
  Duration docker_timeout = Duration::zero();  // none: dockerd sets no timeout on a socket plugin's calls
  auto set_docker_timeout = [&docker_timeout](const std::string& text, const char* where) {
    auto parsed = parse_duration(text);
    if (!parsed || *parsed <= kCreateEndpointOverhead) {
      std::cerr << "net-dhcp serve: " << where << " must be a duration over 1s and up to 1h, like 30s or 2m, not \""
                << text << "\"\n";
      return false;
    }
    docker_timeout = *parsed;
    return true;
  };
  if (const char* env = std::getenv("NET_DHCP_DOCKER_TIMEOUT"); env && *env)
    if (!set_docker_timeout(env, "NET_DHCP_DOCKER_TIMEOUT")) return 2;
  if (const char* env = std::getenv("NET_DHCP_LOG_LEVEL"); env && *env) {
    log::Level level;
    if (!log::parse_level(env, level)) {
      std::cerr << "net-dhcp serve: NET_DHCP_LOG_LEVEL must be debug, info, warning or error, not \"" << env << "\"\n";
      return 2;
    }
    log::set_level(level);
  }
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kServeUsage;
      return 0;
    }
    std::optional<std::string> v;
    if (arg == "--socket" && (v = value())) {
      socket_path = *v;
    } else if (arg == "--state-dir" && (v = value())) {
      state_dir = *v;
    } else if (arg == "--host-state-dir" && (v = value())) {
      host_state_dir = *v;
    } else if (arg == "--log-level" && (v = value())) {
      log::Level level;
      if (!log::parse_level(*v, level)) {
        std::cerr << "net-dhcp serve: --log-level must be debug, info, warning or error, not \"" << *v << "\"\n";
        return 2;
      }
      log::set_level(level);
    } else if (arg == "--metrics" && (v = value())) {
      metrics_address = *v;
    } else if (arg == "--docker-timeout" && (v = value())) {
      if (!set_docker_timeout(*v, "--docker-timeout")) return 2;
    } else if (arg == "--follow-timeout" && (v = value())) {
      auto parsed = parse_duration(*v);
      if (!parsed) {
        std::cerr << "net-dhcp serve: --follow-timeout must be a duration up to 1h, like 30s, not \"" << *v << "\"\n";
        return 2;
      }
      follow_timeout = *parsed;
    } else if (arg == "--socket-mode" && (v = value())) {
      try {
        socket_mode = static_cast<unsigned>(std::stoul(*v, nullptr, 8));
      } catch (...) {
        std::cerr << "net-dhcp serve: --socket-mode must be an octal mode like 0660\n";
        return 2;
      }
    } else {
      std::cerr << "net-dhcp serve: unknown or incomplete argument \"" << arg << "\"\n\n" << kServeUsage;
      return 2;
    }
  }
  std::string state_dir_shown = state_dir;
  if (!host_state_dir.empty()) {
    auto pinned = pin_host_state_dir(host_state_dir);
    if (!pinned) {
      log::error(pinned.error().message);
      return 1;
    }
    std::tie(state_dir, state_dir_shown) = *pinned;
  } else if (auto r = make_directories(state_dir, 0700); !r) {
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

  ensure_writable_sysctls();
  raise_fd_limit();
  asio::io_context io(1);
  // Kernel calls still under way off the event loop (src/support/off_loop.hpp) finish before the
  // event loop goes: each job holds work counted on it and posts its result there. (Also when
  // something below throws.)
  ScopeExit join_jobs([] { join_off_loop(); });
  Driver driver(io.get_executor(), state_dir, docker_timeout);
  driver.set_state_dir_shown(state_dir_shown);
  driver.set_follow_timeout(follow_timeout);
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
  std::unique_ptr<TcpHttpServer> metrics;
  if (!metrics_address.empty()) {
    RequestHandler metrics_handler = [&driver](std::string path, std::string) -> asio::awaitable<ApiReply> {
      if (path == "/metrics") co_return metrics_reply(driver);
      co_return ApiReply{404, "not found: try /metrics\n", "text/plain"};
    };
    auto listening = TcpHttpServer::listen(io.get_executor(), metrics_address, metrics_handler);
    if (!listening) {
      log::error(listening.error().message);
      return 1;
    }
    metrics = std::move(*listening);
    // Any local user can connect to it: its connections must not take the descriptors that
    // the endpoints and Docker's requests need. Prometheus sends its request at once, so an
    // idle connection is let go after 5 s, not the plugin socket's 60.
    metrics->set_max_connections(kMaxMetricsConnections);
    metrics->set_timeouts(std::chrono::seconds(5), std::chrono::seconds(10));
    metrics->start();
    log::info("Prometheus metrics at http://" + metrics_address + "/metrics");
  }
  log::info(std::string("net-dhcp ") + NETDHCP_VERSION_STRING + " serving on " + socket_path + ", state in " + state_dir_shown +
            ", Docker's timeout " + (docker_timeout == Duration::zero() ? std::string("none (a socket plugin)") : seconds_text(docker_timeout)));

  // SIGTERM/SIGINT: stop answering, write the endpoints' state and leave. Running containers
  // keep their addresses and leases (only Leave/DeleteEndpoint release); the next start
  // re-adopts them.
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    log::info(std::string("signal ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") + ": shutting down");
    (*server)->stop();
    if (metrics) metrics->stop();
    close_in_parallel_from_now();  // the endpoints' sockets go with the daemon, no veth with them
    driver.save_all();
    io.stop();
  });
  io.run();
  log::info("net-dhcp stopped");
  return 0;
}

}  // namespace netdhcp
