// How DHCPv6 packets reach the wire: a UDP socket on port 546, bound to the interface's
// link-local address, sending to ff02::1:2 (RFC 8415 section 13.1). Tests use a fake.
#pragma once

#include <optional>

#include "dhcp/dhcp6_client.hpp"
#include "netdhcp/unique_fd.hpp"
#include "src/transport/dhcp_session.hpp"
#include "src/transport/interface_info.hpp"

namespace netdhcp {

struct ReceivedDhcp6 {
  Bytes payload;
  Ipv6Address source;
};

class Dhcp6Socket {
 public:
  virtual ~Dhcp6Socket() = default;
  virtual int wait_handle() const = 0;
  virtual std::optional<ReceivedDhcp6> read() = 0;
  virtual Result<void> send(const dhcp6::Transmit& transmit) = 0;

  void receive_into(dhcp6::Client& client, TimePoint now) {
    while (auto received = read()) client.on_packet(received->payload, now, received->source);
  }
  void prepare(const dhcp6::Client&) {}
};

using Dhcp6Session = DhcpSession<dhcp6::Client, Dhcp6Socket>;

// A raw ICMPv6 socket on interface `index` that lets only Router Advertisements through and
// reports each one's hop limit (IPV6_RECVHOPLIMIT). Opens in the calling thread's namespace.
// Errors: socket() or option failures.
Result<UniqueFd> open_router_advertisement_socket(int index);

// One datagram from that socket, with what RFC 4861 6.1.2 validates it by.
struct ReceivedRouterAdvert {
  Bytes icmp;          // the ICMPv6 message
  Ipv6Address source;  // the IP source address
  int hop_limit = -1;  // the IP hop limit; -1 if the kernel did not say
};
// Non-blocking: the next datagram that came whole (a cut one is skipped), or nullopt when
// none is waiting.
std::optional<ReceivedRouterAdvert> read_router_advertisement(int fd);

class Dhcp6UdpSocket final : public Dhcp6Socket {
 public:
  // Binds to the link-local address of `interface`, retrying until `deadline` while the
  // address does not exist yet or is still tentative (duplicate address detection).
  // With `while_tentative`, binds at once even during DAD (IPV6_FREEBIND): messages go out,
  // replies to the tentative address are dropped by the kernel until DAD ends (the client
  // retransmits). Used when the interface has just moved into a container, so that a RELEASE
  // on a quick `docker rm` is not lost.
  // Without `while_tentative`, it then sends one Router Solicitation from that address (best
  // effort): a DHCPv6 server such as dnsmasq answers a client it has never seen 100 ms sooner
  // once the client is in its neighbour table (see send_router_solicitation).
  // Errors: no link-local address by the deadline, socket or bind failures.
  static Result<Dhcp6UdpSocket> open(const InterfaceInfo& interface, TimePoint deadline, bool while_tentative = false);
  // What the first SOLICIT waits after that Router Solicitation (dhcp6::ClientConfig's
  // initial_delay_min): dnsmasq reads its DHCPv6 socket before its ICMPv6 one, so a SOLICIT
  // that arrives with the RS is handled first, and pays the 100 ms.
  static constexpr Duration kRouterSolicitationLead = std::chrono::milliseconds(5);

  int wait_handle() const override { return fd_.get(); }
  std::optional<ReceivedDhcp6> read() override;
  Result<void> send(const dhcp6::Transmit& transmit) override;

 private:
  Dhcp6UdpSocket(UniqueFd fd, InterfaceInfo interface) : fd_(std::move(fd)), interface_(std::move(interface)) {}
  UniqueFd fd_;
  InterfaceInfo interface_;
};

}  // namespace netdhcp
