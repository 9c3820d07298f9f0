// How DHCPv4 packets reach the wire: the small interface the session coroutine drives, and
// its real implementation on an AF_PACKET socket. Tests drive the session with a fake.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "dhcp/dhcp4_client.hpp"
#include "dhcp/ip_udp.hpp"
#include "netdhcp/unique_fd.hpp"
#include "netlink/namespace.hpp"
#include "src/transport/dhcp_session.hpp"
#include "src/transport/interface_info.hpp"

namespace netdhcp {

struct ReceivedDhcp4 {
  Bytes payload;  // the DHCP message
  MacAddress source_mac;
  Ipv4Address source_ip;
};
struct ReceivedArp {
  ArpPacket arp;
};
using Received4 = std::variant<ReceivedDhcp4, ReceivedArp>;

class Dhcp4Socket {
 public:
  virtual ~Dhcp4Socket() = default;
  // A descriptor that becomes readable when read() may return something.
  virtual int wait_handle() const = 0;
  // Non-blocking: the next valid packet, or nullopt when none is waiting.
  virtual std::optional<Received4> read() = 0;
  virtual Result<void> send(const dhcp4::Transmit& transmit) = 0;
  // Also deliver ARP packets (while an RFC 5227 probe runs).
  virtual void watch_arp(bool on) = 0;
  // How the last unicast packet went out: "frame" (a frame to the server's MAC, learnt from its
  // replies), "udp" (the kernel's UDP stack, which finds the MAC by ARP) or "broadcast" (a
  // broadcast frame: neither was possible).
  virtual const char* last_unicast_path() const { return "frame"; }
  // The client took a reply from `ip` sent by `mac`: a MAC to unicast to later.
  virtual void learn_neighbour(Ipv4Address /*ip*/, MacAddress /*mac*/) {}
  // What it learnt, for the socket that replaces it (after Join, in the container's namespace):
  // else the first renewal from there would not know the server's MAC.
  virtual std::vector<std::pair<Ipv4Address, MacAddress>> neighbours() const { return {}; }

  // For DhcpSession: feed every waiting packet to the client.
  void receive_into(dhcp4::Client& client, TimePoint now);
  // For DhcpSession: before sending, let ARP through while the client probes.
  void prepare(const dhcp4::Client& client);

  // The source MAC of the last reply the client took (receive_into). Unset until then, or when
  // that reply came with none.
  const std::optional<MacAddress>& last_responder() const { return last_responder_; }
  // Until the client takes a reply here: the MACs of the servers that answered on this LAN
  // lately (other endpoints' exchanges, Driver::lan_servers4_). A LAN may have two that each
  // answer only some clients (Kea's HA load balancing): the first DISCOVER goes to each.
  void assume_servers(std::vector<MacAddress> macs) { likely_servers_ = std::move(macs); }
  // Where a broadcast Transmit with to_known_server goes, one frame to each: the last
  // responder (the first REQUEST in SELECTING: the offering server), else the likely servers
  // (the very first DISCOVER). Empty: a broadcast frame (also for every other Transmit).
  std::vector<MacAddress> frame_destinations(const dhcp4::Transmit& t) const;

 private:
  bool watching_arp_ = false;
  std::optional<MacAddress> last_responder_;
  std::vector<MacAddress> likely_servers_;
};

using Dhcp4Session = DhcpSession<dhcp4::Client, Dhcp4Socket>;

// Server IP -> MAC for unicast frames. Filled only from replies the client took (a forged
// reply with a wrong xid teaches nothing) and bounded: a LAN has one or two DHCP servers, and
// a flood of replies from made-up sources must not grow it. When full, the oldest entry goes.
class NeighbourCache {
 public:
  static constexpr std::size_t kCapacity = 4;
  void learn(Ipv4Address ip, MacAddress mac);
  std::optional<MacAddress> find(Ipv4Address ip) const;
  std::size_t size() const { return size_; }
  std::vector<std::pair<Ipv4Address, MacAddress>> entries() const {
    return {entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(size_)};
  }

 private:
  std::array<std::pair<Ipv4Address, MacAddress>, kCapacity> entries_{};
  std::size_t size_ = 0;
  std::size_t oldest_ = 0;
};

// DHCPv4 on a packet socket bound to one interface, with a classic BPF filter so that only
// DHCP replies (and ARP, when asked) wake us. Unicast from a leased address (RENEWING) goes as
// a frame to the server's MAC, learnt from its replies: through the kernel's UDP stack, every
// renewal made the container's kernel ARP for the server once its entry had gone stale, and on
// a bridge each ARP broadcast reaches every other container (1000 endpoints: 1000 ARP
// receptions per renewal, most of the daemon's CPU). A retransmission (no answer to the frame:
// the server's MAC may have changed), or an unknown MAC, goes through the UDP stack instead.
// While a leased address is used, a UDP socket stays bound to it on port 68 in the interface's
// namespace (filtered to receive nothing: replies are read here), so that the server's
// unicast ACKs are not answered with ICMP port unreachable; it is also the UDP path's socket.
class PacketSocket final : public Dhcp4Socket {
 public:
  // Opens it in the calling thread's network namespace (enter the container's first, with
  // netlink::inside). `netns` is that namespace when it is not the daemon's own: the UDP
  // sockets for unicast renewals are made there too, where the leased address is configured.
  // Shared with the endpoint's other uses of the namespace, not opened again: one fd less per
  // endpoint. Null: made in the thread's namespace at the time (the host end of a veth).
  // Errors: socket(), filter attachment or bind() failed (e.g. no CAP_NET_RAW).
  static Result<PacketSocket> open(const InterfaceInfo& interface,
                                   std::shared_ptr<const netlink::Namespace> netns = nullptr);
  PacketSocket(PacketSocket&&) = default;
  PacketSocket& operator=(PacketSocket&&) = default;
  ~PacketSocket() override;

  int wait_handle() const override { return fd_.get(); }
  std::optional<Received4> read() override;
  Result<void> send(const dhcp4::Transmit& transmit) override;
  void watch_arp(bool on) override;
  const char* last_unicast_path() const override { return last_unicast_path_; }
  void learn_neighbour(Ipv4Address ip, MacAddress mac) override { neighbours_.learn(ip, mac); }
  std::vector<std::pair<Ipv4Address, MacAddress>> neighbours() const override { return neighbours_.entries(); }

 private:
  explicit PacketSocket(UniqueFd fd, InterfaceInfo interface, std::shared_ptr<const netlink::Namespace> netns)
      : fd_(std::move(fd)), interface_(std::move(interface)), netns_(std::move(netns)) {}
  Result<void> send_frame(std::uint16_t ethertype, MacAddress destination, ByteView packet);
  bool bind_udp(Ipv4Address address);
  bool send_udp(const dhcp4::Transmit& transmit);

  UniqueFd fd_;
  InterfaceInfo interface_;
  std::shared_ptr<const netlink::Namespace> netns_;  // where the interface is (and the address, once bound)
  NeighbourCache neighbours_;
  UniqueFd udp_;              // bound to udp_address_:68 while that address is used
  Ipv4Address udp_address_;
  std::optional<std::uint32_t> last_frame_xid_;  // of the last unicast frame: sent again = unanswered
  const char* last_unicast_path_ = "frame";
};

}  // namespace netdhcp
