// What a sans-I/O client hands back to its caller: packets to send and events to act on, in
// order. The caller drains both after every call into the client (no callbacks out of the
// state machine).
#pragma once

#include <deque>
#include <optional>

namespace netdhcp {

template <class Transmit, class Event>
class Outbox {
 public:
  void send(Transmit t) { transmits_.push_back(std::move(t)); }
  void emit(Event e) { events_.push_back(std::move(e)); }
  std::optional<Transmit> pop_transmit() { return pop(transmits_); }
  std::optional<Event> pop_event() { return pop(events_); }

 private:
  template <class T>
  static std::optional<T> pop(std::deque<T>& queue) {
    if (queue.empty()) return std::nullopt;
    T front = std::move(queue.front());
    queue.pop_front();
    return front;
  }
  std::deque<Transmit> transmits_;
  std::deque<Event> events_;
};

}  // namespace netdhcp
