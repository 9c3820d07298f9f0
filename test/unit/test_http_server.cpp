// The plugin API's HTTP server (src/plugin/http_server.cpp) on a real io_context and a Unix
// socket in a temporary directory: a client that sends nothing is cut off, one that asks is
// answered; connections beyond the bound wait their turn; out of descriptors, it waits too.
#include <fcntl.h>
#include <sys/resource.h>
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

namespace {

const std::string kActivate = "POST /Plugin.Activate HTTP/1.1\r\nHost: plugin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

// Runs the loop until `done` holds or `limit` passes; returns whether it held.
template <class Condition>
bool run_until(asio::io_context& io, Condition done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  return done();
}

}  // namespace

// Connections beyond the bound are not served (and hold no session) until one closes; then the
// waiting one is answered.
TEST_CASE("http server: beyond the most connections at once, the next waits for one to close", "[http]") {
  TempSocketPath socket_path;
  asio::io_context io;
  auto server = HttpServer::listen(io.get_executor(), socket_path.path, 0600, echo_path());
  REQUIRE(server);
  auto& s = **server;
  s.set_timeouts(10000ms, 10000ms);
  s.set_max_connections(2);
  s.start();
  int first = connect_to(socket_path.path);
  int second = connect_to(socket_path.path);
  REQUIRE(run_until(io, [&] { return s.connections() == 2; }, 5000ms));
  int third = connect_to(socket_path.path);  // queued in the backlog: connect() succeeds
  REQUIRE(::send(third, kActivate.data(), kActivate.size(), 0) == static_cast<ssize_t>(kActivate.size()));
  auto [early, closed_early] = read_until_closed(io, third, 300ms);
  INFO("the third connection was served while two were open");
  CHECK(early.empty());
  CHECK_FALSE(closed_early);
  CHECK(s.connections() == 2);

  ::close(first);
  auto [reply, done] = read_until_closed(io, third, 5000ms);
  CHECK(done);
  CHECK(reply.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(reply.find("{\"path\":\"/Plugin.Activate\"}") != std::string::npos);
  ::close(third);
  ::close(second);
  CHECK(run_until(io, [&] { return s.connections() == 0; }, 5000ms));
  s.stop();
}

// Out of descriptors, accept() fails and the connection stays queued: the server must not
// retry at once (a busy loop on the event loop, a log line each time) but a moment later, and
// serve the client once descriptors are free again.
TEST_CASE("http server: out of descriptors, accept is retried after a pause and the client served", "[http]") {
  TempSocketPath socket_path;
  asio::io_context io;
  auto server = HttpServer::listen(io.get_executor(), socket_path.path, 0600, echo_path());
  REQUIRE(server);
  auto& s = **server;
  s.set_timeouts(10000ms, 10000ms);
  s.start();
  io.run_for(10ms);  // the accept loop is waiting
  int client = connect_to(socket_path.path);
  REQUIRE(::send(client, kActivate.data(), kActivate.size(), 0) == static_cast<ssize_t>(kActivate.size()));
  {
    rlimit before{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &before) == 0);
    struct Restore {
      rlimit limit;
      ~Restore() { (void)::setrlimit(RLIMIT_NOFILE, &limit); }
    } restore{before};
    int lowest_free = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit none_left = before;
    none_left.rlim_cur = static_cast<rlim_t>(lowest_free);  // no descriptor can be opened
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &none_left) == 0);
    io.run_for(550ms);
  }
  // At kAcceptRetry (100 ms) apart: about 6 in 550 ms. Retried at once it is many thousands.
  INFO("accept failures in 550 ms without descriptors: " << s.accept_failures());
  CHECK(s.accept_failures() >= 1);
  CHECK(s.accept_failures() <= 20);
  auto [reply, done] = read_until_closed(io, client, 5000ms);
  CHECK(done);
  CHECK(reply.rfind("HTTP/1.1 200", 0) == 0);
  ::close(client);
  s.stop();
}

// A server destroyed while its io_context runs on: its accept loop (waiting to accept, or
// asleep while full) and its sessions resume later and must touch nothing of it (ASan, in the
// sanitizer build, sees any such read); the sessions still answer from what they copied.
TEST_CASE("http server: destroyed while the io_context runs on, nothing of it is touched again", "[http]") {
  TempSocketPath socket_path;
  asio::io_context io;
  {
    auto server = HttpServer::listen(io.get_executor(), socket_path.path, 0600, echo_path());
    REQUIRE(server);
    (*server)->start();
    io.run_for(20ms);  // the loop waits in accept
  }
  io.run_for(50ms);  // the accept, aborted, resumes
  io.restart();  // it ran out of work

  auto server = HttpServer::listen(io.get_executor(), socket_path.path, 0600, echo_path());
  REQUIRE(server);
  (*server)->set_timeouts(10000ms, 10000ms);
  (*server)->set_max_connections(1);
  (*server)->start();
  int held = connect_to(socket_path.path);
  REQUIRE(run_until(io, [&] { return (*server)->connections() == 1; }, 5000ms));
  io.run_for(20ms);  // the loop asleep: full
  server->reset();
  REQUIRE(::send(held, kActivate.data(), kActivate.size(), 0) == static_cast<ssize_t>(kActivate.size()));
  auto [reply, done] = read_until_closed(io, held, 5000ms);
  CHECK(done);
  CHECK(reply.rfind("HTTP/1.1 200", 0) == 0);
  ::close(held);
  io.run_for(150ms);  // the loop's timer, cancelled, resumes
}
