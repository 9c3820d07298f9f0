// The managed plugin's view of the host: its own plugin ID (for --host-state-dir) and a Unix
// socket path longer than sun_path.
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "src/support/host_paths.hpp"
#include "src/support/unix_socket_path.hpp"

using namespace netdhcp;

namespace {
std::string id_in(const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("cgroup-" + std::to_string(::getpid()));
  std::ofstream(path) << text;
  auto id = own_plugin_id(path);
  std::filesystem::remove(path);
  return id;
}
const std::string kId = "fda1f3a101525e5f3c4adb7b6aa28d5c6bb25b69845e5705386a0aecf4c4fcd6";
}  // namespace

TEST_CASE("own plugin id: the 64 hex digits naming our cgroup, in every layout", "[host_paths]") {
  CHECK(id_in("9:name=systemd:/" + kId + "\n8:pids:/" + kId + "\n") == kId);  // cgroupfs, v1
  CHECK(id_in("0::/" + kId + "\n") == kId);                                   // cgroupfs, v2
  CHECK(id_in("0::/system.slice/docker-" + kId + ".scope\n") == kId);          // systemd driver
  CHECK(id_in("0::/user.slice/user-0.slice/session-3.scope\n").empty());       // not a plugin
  CHECK(id_in("0::/" + kId.substr(0, 63) + "\n").empty());                     // 63 digits: not an id
  CHECK(id_in("0::/" + kId + "0\n").empty());                                  // 65 digits: not an id
  CHECK(own_plugin_id("/nonexistent/cgroup").empty());
}

TEST_CASE("unix socket path: a path over sun_path's 107 bytes is reached through its folder", "[host_paths]") {
  auto base = std::filesystem::temp_directory_path() / ("nd-sock-" + std::to_string(::getpid()));
  auto folder = base / std::string(120, 'd');
  std::filesystem::create_directories(folder);
  std::string path = (folder / "net-dhcp.sock").string();
  REQUIRE(path.size() > sizeof(sockaddr_un::sun_path));
  auto where = UnixSocketPath::of(path);
  REQUIRE(where);
  int server = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(server >= 0);
  auto endpoint = where->endpoint();
  CHECK(::bind(server, endpoint.data(), static_cast<socklen_t>(endpoint.size())) == 0);
  CHECK(std::filesystem::is_socket(path));  // made at the long path itself
  ::close(server);
  auto short_one = UnixSocketPath::of("/run/x.sock");
  REQUIRE(short_one);
  CHECK(short_one->endpoint().path() == "/run/x.sock");
  auto missing = UnixSocketPath::of((base / std::string(120, 'm') / "x.sock").string());
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("its folder cannot be opened"));
  auto long_name = UnixSocketPath::of((folder / std::string(100, 'n')).string());
  REQUIRE_FALSE(long_name);
  CHECK_THAT(long_name.error().message, Catch::Contains("too long for a Unix socket"));
  std::filesystem::remove_all(base);
}
