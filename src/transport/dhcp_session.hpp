// One DHCP client on one interface: the thin coroutine between a sans-I/O core
// (dhcp4::Client or dhcp6::Client) and its socket. It waits for a packet or the client's next
// deadline, feeds the core, sends what the core queued and hands its events to the owner.
//
// The socket type provides: wait_handle(), receive_into(client, now), prepare(client) and
// send(transmit). Dhcp4Socket and Dhcp6Socket do; tests use fakes.
#pragma once

#include <functional>
#include <string>

#include "dhcp/clock.hpp"
#include "netdhcp/result.hpp"
#include "src/support/asio.hpp"
#include "src/support/reactor_slots.hpp"

namespace netdhcp {

template <class ClientT, class SocketT>
class DhcpSession {
 public:
  using Event = std::decay_t<decltype(*std::declval<ClientT&>().pop_event())>;
  using EventHandler = std::function<void(const Event&)>;
  using SendErrorHandler = std::function<void(const Error&)>;

  DhcpSession(asio::any_io_executor executor, ClientT& client, SocketT& socket)
      : client_(client), socket_(socket), timer_(executor), slot_(executor), readable_(executor, socket.wait_handle()) {}
  ~DhcpSession() { (void)readable_.release(); }  // the socket owns the descriptor
  DhcpSession(const DhcpSession&) = delete;
  DhcpSession& operator=(const DhcpSession&) = delete;

  // Runs until stop() or until the client stops; the client must have been started.
  asio::awaitable<void> run(EventHandler on_event) {
    using namespace asio::experimental::awaitable_operators;
    on_event_ = std::move(on_event);
    stopping_ = false;
    while (!stopping_ && client_.state() != decltype(client_.state())::Stopped) {
      flush();
      if (stopping_) break;
      auto deadline = client_.next_deadline();
      timer_.expires_at(deadline ? *deadline : TimePoint::max());
      auto which = co_await (readable_.async_wait(asio::posix::descriptor_base::wait_read, use_awaitable_tuple) ||
                             timer_.async_wait(use_awaitable_tuple));
      if (stopping_) break;
      TimePoint now = Clock::now();
      if (which.index() == 0) {
        socket_.receive_into(client_, now);
      } else {
        client_.on_timeout(now);
      }
    }
    flush();
  }

  void stop() {
    stopping_ = true;
    timer_.cancel();
    readable_.cancel();
  }

  // Sends what the client queued and delivers its events now (e.g. after client.release()).
  void flush() {
    socket_.prepare(client_);
    while (auto transmit = client_.pop_transmit()) {
      if (auto sent = socket_.send(*transmit); !sent) {
        send_error_ = sent.error().message;
        if (on_send_error_) on_send_error_(sent.error());
      }
    }
    while (auto event = client_.pop_event()) {
      if (on_event_) on_event_(*event);
    }
  }

  // The client was driven from outside the session (e.g. renew()): send now and re-read its
  // deadline.
  void wake() {
    flush();
    timer_.cancel();
  }

  // The last send error, empty if none.
  const std::string& send_error() const { return send_error_; }
  // Called with each packet the socket failed to send (the client retransmits as if it was
  // lost), synchronously from flush().
  void on_send_error(SendErrorHandler handler) { on_send_error_ = std::move(handler); }

 private:
  ClientT& client_;
  SocketT& socket_;
  Timer timer_;
  ReactorSlot slot_;  // where the reactor keeps readable_'s state (src/support/reactor_slots.hpp)
  asio::posix::stream_descriptor readable_;
  EventHandler on_event_;
  SendErrorHandler on_send_error_;
  bool stopping_ = false;
  std::string send_error_;
};

}  // namespace netdhcp
