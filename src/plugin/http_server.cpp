#include "src/plugin/http_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "src/support/log.hpp"
#include "src/support/log_throttle.hpp"
#include "src/support/spawn.hpp"
#include "src/support/unix_socket_path.hpp"

namespace netdhcp {

namespace beast = boost::beast;
namespace http = beast::http;

using Local = asio::local::stream_protocol;

template <class Protocol>
BasicHttpServer<Protocol>::BasicHttpServer(asio::any_io_executor executor, std::string path, RequestHandler handler)
    : acceptor_(executor), path_(std::move(path)), where_(path_), handler_(std::move(handler)), pause_(executor) {}

template <class Protocol>
BasicHttpServer<Protocol>::~BasicHttpServer() {
  stop();
  *alive_ = false;  // the accept loop, when it resumes, touches nothing of this
}

Result<std::unique_ptr<HttpServer>> HttpServer::listen(asio::any_io_executor executor, const std::string& path,
                                                       unsigned mode, RequestHandler handler) {
  std::unique_ptr<HttpServer> server(new HttpServer(executor, path, std::move(handler)));
  boost::system::error_code ec;
  auto where = UnixSocketPath::of(path);
  if (!where) return Error{"cannot listen on " + where.error().message, where.error().errno_value};
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error{path + " exists and is not a socket; remove it or choose --socket"};
    Local::socket probe(executor);
    probe.connect(where->endpoint(), ec);
    if (!ec) return Error{"another process is already serving " + path + " (a net-dhcp daemon running?)"};
    ::unlink(path.c_str());  // stale: its daemon is gone
  }
  server->acceptor_.open(Local(), ec);
  if (!ec) server->acceptor_.bind(where->endpoint(), ec);
  if (ec) return Error{"cannot listen on " + path + ": " + ec.message(), ec.value()};
  ::chmod(path.c_str(), mode);
  server->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"cannot listen on " + path + ": " + ec.message(), ec.value()};
  return server;
}

Result<std::unique_ptr<TcpHttpServer>> TcpHttpServer::listen(asio::any_io_executor executor, const std::string& address,
                                                             RequestHandler handler) {
  auto colon = address.rfind(':');
  std::string host = colon == std::string::npos || colon == 0 ? "127.0.0.1" : address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string port_text = colon == std::string::npos ? address : address.substr(colon + 1);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  unsigned long port = 0;
  try {
    port = std::stoul(port_text);
  } catch (...) {
    port = 0;
  }
  if (ec || port == 0 || port > 65535)
    return Error{"--metrics " + address + ": expected HOST:PORT (like 127.0.0.1:9105, or :9105 for 127.0.0.1)"};
  std::unique_ptr<TcpHttpServer> server(new TcpHttpServer(executor, "", std::move(handler)));
  server->where_ = address;
  asio::ip::tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  server->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) server->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) server->acceptor_.bind(endpoint, ec);
  if (!ec) server->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"cannot listen on " + address + ": " + ec.message(), ec.value()};
  return server;
}

template <class Protocol>
void BasicHttpServer<Protocol>::start() { spawn(acceptor_.get_executor(), accept_loop(), "the API's accept loop"); }

template <class Protocol>
void BasicHttpServer<Protocol>::stop() {
  if (acceptor_.is_open()) {
    boost::system::error_code ec;
    acceptor_.close(ec);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  pause_.cancel();
}

namespace {

// accept(2)'s errors that concern the one connection it took (the peer's network, a protocol
// error), which the man page says to retry like EAGAIN: at once. Any other (out of
// descriptors, of memory, of buffers) leaves the connection queued and the socket readable.
bool connection_error(const boost::system::error_code& ec) {
  switch (ec.value()) {
    case ENETDOWN: case EPROTO: case ENOPROTOOPT: case EHOSTDOWN: case ENONET: case EHOSTUNREACH:
    case EOPNOTSUPP: case ENETUNREACH: case ECONNABORTED: case EPERM:
      return ec.category() == boost::system::system_category();
    default:
      return false;
  }
}

}  // namespace

template <class Protocol>
asio::awaitable<void> BasicHttpServer<Protocol>::accept_loop() {
  // The loop may resume after the server is gone (destroyed while the io_context runs on):
  // after each wait it looks at `alive` before it touches a member.
  const std::shared_ptr<bool> alive = alive_;
  LogThrottle failures_log(std::chrono::seconds(10)), full_log(std::chrono::seconds(10));
  bool full = false;
  while (acceptor_.is_open()) {
    if (open_->count < max_connections_) {
      full = false;
      auto [ec, socket] = co_await acceptor_.async_accept(use_awaitable_tuple);
      if (!*alive) co_return;
      if (!ec) {
        // The place is taken here and given back when the session's frame goes, whether or
        // not the session ever ran.
        spawn(acceptor_.get_executor(),
              session(std::move(socket), ConnectionPlace(open_), Settings{handler_, read_timeout_, write_timeout_}),
              "an API connection");
        continue;
      }
      if (!acceptor_.is_open() || ec == asio::error::operation_aborted) co_return;
      ++accept_failures_;
      const bool retry_now = connection_error(ec);
      if (std::uint64_t n = failures_log.occurred(Clock::now()))
        log::warning("on " + where_ + ": cannot accept a connection: " + ec.message() +
                     (n > 1 ? " (" + std::to_string(n) + " times since the last such line)" : "") +
                     (retry_now ? std::string() : "; retrying in " + std::to_string(kAcceptRetry.count()) + " ms") +
                     (ec == asio::error::no_descriptors ? " (out of file descriptors: raise LimitNOFILE)" : ""));
      if (retry_now) continue;
      // EMFILE, ENFILE, ENOMEM, ENOBUFS: the connection stays in the backlog and the listening
      // socket readable, so accepting again at once would spin. Wait a moment (below); the
      // endpoints' own sockets and namespaces need those descriptors more.
    } else if (!full) {
      // All places taken (a client that opens connections and holds them): the next waits in
      // the backlog. A session ending is rare enough here that a look every kAcceptRetry will do.
      full = true;
      if (std::uint64_t n = full_log.occurred(Clock::now()))
        log::warning("on " + where_ + ": " + std::to_string(open_->count) +
                     " connections are open, the most served at once; new ones wait until one closes "
                     "(a client holding connections open?)" +
                     (n > 1 ? " (" + std::to_string(n) + " times since the last such line)" : ""));
    }
    pause_.expires_after(kAcceptRetry);
    co_await pause_.async_wait(use_awaitable_tuple);
    if (!*alive) co_return;
  }
}

template <class Protocol>
asio::awaitable<void> BasicHttpServer<Protocol>::session(typename Protocol::socket socket,
                                                         [[maybe_unused]] ConnectionPlace place, Settings settings) {
  beast::basic_stream<Protocol> stream(std::move(socket));
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1 << 20);  // Docker's requests are a few kB
    // A client that connects and then sends nothing (or a byte a minute) must not hold a
    // session forever. Docker keeps idle connections open between calls and opens a new one
    // when we close an idle one, so the bound covers the idle wait too.
    stream.expires_after(settings.read_timeout);
    auto [read_error, bytes] = co_await http::async_read(stream, buffer, parser, use_awaitable_tuple);
    (void)bytes;
    if (read_error == http::error::end_of_stream || read_error == asio::error::eof ||
        read_error == asio::error::connection_reset || read_error == beast::error::timeout)
      break;
    http::response<http::string_body> response;
    if (read_error) {
      response.result(read_error == http::error::body_limit ? http::status::payload_too_large : http::status::bad_request);
      response.body() = "{\"Err\":\"malformed HTTP request: " + read_error.message() + "\"}";
      response.keep_alive(false);
    } else {
      auto request = parser.release();
      std::string path(request.target());
      auto started = std::chrono::steady_clock::now();
      ApiReply reply = co_await settings.handler(path, std::move(request.body()));
      if (log::enabled(log::Level::Debug)) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
        log::debug(path + " answered " + std::to_string(reply.status) + " in " + std::to_string(us) + " us");
      }
      response.result(static_cast<unsigned>(reply.status));
      response.set(http::field::content_type, reply.content_type);
      response.body() = std::move(reply.body);
      response.keep_alive(request.keep_alive());
      if (reply.status >= 400) log::debug(path + " -> " + std::to_string(reply.status) + " " + response.body());
    }
    response.version(11);
    if (response[http::field::content_type].empty())
      response.set(http::field::content_type, "application/vnd.docker.plugins.v1+json");
    response.prepare_payload();
    stream.expires_after(settings.write_timeout);
    auto [write_error, written] = co_await http::async_write(stream, response, use_awaitable_tuple);
    (void)written;
    if (write_error || !response.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(Protocol::socket::shutdown_both, ignored);
}

template class BasicHttpServer<asio::local::stream_protocol>;
template class BasicHttpServer<asio::ip::tcp>;

}  // namespace netdhcp
