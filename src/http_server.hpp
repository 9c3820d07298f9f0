// HTTP/1.1 on a Unix socket (Boost.Beast), only moving bytes: each request's path and body go
// to a handler coroutine, its reply goes back. One coroutine per connection.
#pragma once

#include <functional>
#include <string>

#include <boost/asio/local/stream_protocol.hpp>

#include "netdhcp/result.hpp"
#include "src/asio.hpp"
#include "src/plugin_api.hpp"

namespace netdhcp {

using RequestHandler = std::function<asio::awaitable<ApiReply>(std::string path, std::string body)>;

class HttpServer {
 public:
  // Listens on `path` (a stale socket file left by a dead daemon is replaced; a live one is an
  // error), mode `mode`. Errors: bind/listen failures, another daemon already listening.
  static Result<std::unique_ptr<HttpServer>> listen(asio::any_io_executor executor, const std::string& path,
                                                    unsigned mode, RequestHandler handler);
  ~HttpServer();
  void start();
  void stop();
  std::size_t requests_served() const { return served_; }

 private:
  HttpServer(asio::any_io_executor executor, std::string path, RequestHandler handler);
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(asio::local::stream_protocol::socket socket);

  asio::local::stream_protocol::acceptor acceptor_;
  std::string path_;
  RequestHandler handler_;
  std::size_t served_ = 0;
};

}  // namespace netdhcp
