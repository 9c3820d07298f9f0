// HTTP/1.1 on a Unix socket (Docker's plugin API, `net-dhcp status`) or on TCP (`serve
// --metrics`), with Boost.Beast, only moving bytes: each request's path and body go to a
// handler coroutine, its reply goes back. One coroutine per connection, and a bound on how
// many are open at once: each holds a descriptor, and the endpoints need theirs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "netdhcp/result.hpp"
#include "src/support/asio.hpp"
#include "src/plugin/plugin_api.hpp"

namespace netdhcp {

using RequestHandler = std::function<asio::awaitable<ApiReply>(std::string path, std::string body)>;

template <class Protocol>
class BasicHttpServer {
 public:
  ~BasicHttpServer();
  void start();
  void stop();
  // How long a connection may sit idle (or trickle a request) before it is closed, and how
  // long a reply may take to be written. Defaults: 60 s and 10 s.
  void set_timeouts(std::chrono::milliseconds read, std::chrono::milliseconds write) {
    read_timeout_ = read;
    write_timeout_ = write;
  }
  // How many connections are served at once (default kMaxConnections). Beyond that new ones
  // wait, queued in the listening socket's backlog, until one closes (noticed within
  // kAcceptRetry).
  void set_max_connections(std::size_t n) { max_connections_ = n > 0 ? n : 1; }
  std::size_t connections() const { return open_->count; }
  // accept() failures: out of descriptors, memory or buffers (retried after kAcceptRetry), or
  // a failed connection (the next one taken at once).
  std::uint64_t accept_failures() const { return accept_failures_; }

  static constexpr std::size_t kMaxConnections = 512;
  static constexpr std::chrono::milliseconds kAcceptRetry{100};

 protected:
  BasicHttpServer(asio::any_io_executor executor, std::string path, RequestHandler handler);
  // The open connections' count. Shared with the sessions: a session's coroutine frame can be
  // destroyed after the server (when the io_context goes), and gives its place back here.
  struct OpenConnections {
    std::size_t count = 0;
  };
  // One connection's place, taken when it is accepted and given back when the session's frame,
  // which holds it, is destroyed: also if the session never started.
  class ConnectionPlace {
   public:
    explicit ConnectionPlace(std::shared_ptr<OpenConnections> open) : open_(std::move(open)) { ++open_->count; }
    ConnectionPlace(ConnectionPlace&& other) noexcept : open_(std::move(other.open_)) {}
    ConnectionPlace(const ConnectionPlace&) = delete;
    ConnectionPlace& operator=(const ConnectionPlace&) = delete;
    ConnectionPlace& operator=(ConnectionPlace&&) = delete;
    ~ConnectionPlace() {
      if (open_) --open_->count;
    }

   private:
    std::shared_ptr<OpenConnections> open_;
  };

  // What a session needs of the server, copied: it may outlive the server (a static member,
  // it cannot touch the server's members).
  struct Settings {
    RequestHandler handler;
    std::chrono::milliseconds read_timeout;
    std::chrono::milliseconds write_timeout;
  };

  asio::awaitable<void> accept_loop();
  static asio::awaitable<void> session(typename Protocol::socket socket, ConnectionPlace place, Settings settings);

  typename Protocol::acceptor acceptor_;
  std::string path_;  // the socket file to remove at stop (Unix sockets only)
  std::string where_;  // what the log says it listens on (the path, or HOST:PORT)
  RequestHandler handler_;
  std::chrono::milliseconds read_timeout_{std::chrono::seconds(60)};
  std::chrono::milliseconds write_timeout_{std::chrono::seconds(10)};
  std::size_t max_connections_ = kMaxConnections;
  std::shared_ptr<OpenConnections> open_ = std::make_shared<OpenConnections>();
  std::uint64_t accept_failures_ = 0;
  Timer pause_;  // the accept loop's wait while full or after a failure; stop() cancels it
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

class HttpServer : public BasicHttpServer<asio::local::stream_protocol> {
 public:
  // Listens on `path` (a stale socket file left by a dead daemon is replaced; a live one is an
  // error), mode `mode`. Errors: bind/listen failures, another daemon already listening.
  static Result<std::unique_ptr<HttpServer>> listen(asio::any_io_executor executor, const std::string& path,
                                                    unsigned mode, RequestHandler handler);

 private:
  using BasicHttpServer::BasicHttpServer;
};

class TcpHttpServer : public BasicHttpServer<asio::ip::tcp> {
 public:
  // Listens on "HOST:PORT" (or ":PORT" for 127.0.0.1). Errors: a bad address, bind failures.
  static Result<std::unique_ptr<TcpHttpServer>> listen(asio::any_io_executor executor, const std::string& address,
                                                       RequestHandler handler);

 private:
  using BasicHttpServer::BasicHttpServer;
};

}  // namespace netdhcp
