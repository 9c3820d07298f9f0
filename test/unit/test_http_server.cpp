// The plugin API's HTTP server (src/http_server.cpp) on a real io_context and a Unix socket in
// a temporary directory: a client that sends nothing is cut off, one that asks is answered.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

#include "src/plugin/http_server.hpp"

using namespace netdhcp;
using namespace std::chrono_literals;

namespace {

struct TempSocketPath {
  std::string dir, path;
  TempSocketPath() {
    char templ[] = "/tmp/net-dhcp-http-test.XXXXXX";
    REQUIRE(::mkdtemp(templ) != nullptr);
    dir = templ;
    path = dir + "/api.sock";
  }
  ~TempSocketPath() {
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};

int connect_to(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof address.sun_path - 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

// Runs the loop until the peer of `fd` closes (recv returns 0) or `limit` passes; returns what
// was read before the close, and whether it closed.
std::pair<std::string, bool> read_until_closed(asio::io_context& io, int fd, std::chrono::milliseconds limit) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    io.run_for(10ms);
    char buffer[4096];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) return {got, true};
    if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
  }
  return {got, false};
}

RequestHandler echo_path() {
  return [](std::string path, std::string) -> asio::awaitable<ApiReply> {
    co_return ApiReply{200, "{\"path\":\"" + path + "\"}", "application/vnd.docker.plugins.v1+json"};
  };
}

}  // namespace

// A connection that never sends a request is closed after the read timeout, and the server
// still answers the next client.
TEST_CASE("http server: an idle connection is closed after the read timeout", "[http]") {
  TempSocketPath socket_path;
  asio::io_context io;
  auto server = HttpServer::listen(io.get_executor(), socket_path.path, 0600, echo_path());
  REQUIRE(server);
  (*server)->set_timeouts(200ms, 200ms);
  (*server)->start();

  int idle = connect_to(socket_path.path);
  auto [nothing, closed] = read_until_closed(io, idle, 5000ms);
  CHECK(closed);
  CHECK(nothing.empty());
  ::close(idle);

  int asking = connect_to(socket_path.path);
  std::string request = "POST /Plugin.Activate HTTP/1.1\r\nHost: plugin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(asking, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  auto [reply, done] = read_until_closed(io, asking, 5000ms);
  CHECK(done);
  CHECK(reply.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(reply.find("{\"path\":\"/Plugin.Activate\"}") != std::string::npos);
  ::close(asking);
  (*server)->stop();
}

// Half a request, then silence: cut off too (a byte-trickling client must not hold a session).
TEST_CASE("http server: a request that stops half way is cut off", "[http]") {
  TempSocketPath socket_path;
  asio::io_context io;
  auto server = HttpServer::listen(io.get_executor(), socket_path.path, 0600, echo_path());
  REQUIRE(server);
  (*server)->set_timeouts(200ms, 200ms);
  (*server)->start();
  int half = connect_to(socket_path.path);
  std::string start = "POST /NetworkDriver.CreateNetwork HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"Net";
  REQUIRE(::send(half, start.data(), start.size(), 0) == static_cast<ssize_t>(start.size()));
  auto [reply, closed] = read_until_closed(io, half, 5000ms);
  CHECK(closed);
  CHECK(reply.empty());
  ::close(half);
  (*server)->stop();
}
