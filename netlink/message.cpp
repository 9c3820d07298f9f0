#include "netlink/message.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cstring>

namespace netdhcp::netlink {

std::string IpPrefix::to_string() const {
  return (v6 ? v6_address.to_string() : v4_address.to_string()) + "/" + std::to_string(prefix_length);
}

namespace {

// A message under construction in its own buffer. Sequence number and port id stay 0 until
// the socket sends it.
class Builder {
 public:
  Builder(std::uint16_t type, std::uint16_t flags) : buffer_(MNL_SOCKET_BUFFER_SIZE) {
    header_ = mnl_nlmsg_put_header(buffer_.data());
    header_->nlmsg_type = type;
    header_->nlmsg_flags = NLM_F_REQUEST | flags;
  }
  template <class T>
  T* extra() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(header_, sizeof(T)));
  }
  nlmsghdr* header() { return header_; }
  Request finish(std::string what) {
    buffer_.resize(header_->nlmsg_len);
    return Request{std::move(buffer_), std::move(what)};
  }

 private:
  std::vector<char> buffer_;
  nlmsghdr* header_;
};

void put_mac(nlmsghdr* h, std::uint16_t type, const MacAddress& mac) {
  mnl_attr_put(h, type, mac.octets.size(), mac.octets.data());
}

void put_prefix_address(nlmsghdr* h, std::uint16_t type, const IpPrefix& p) {
  if (p.v6) mnl_attr_put(h, type, 16, p.v6_address.octets.data());
  else mnl_attr_put(h, type, 4, p.v4_address.octets.data());
}

void put_name(nlmsghdr* h, std::string_view name) {
  std::string terminated(name);
  mnl_attr_put_strz(h, IFLA_IFNAME, terminated.c_str());
}

}  // namespace

Request new_veth(const VethSpec& spec) {
  Builder b(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  auto* ifi = b.extra<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  if (spec.up) {
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
  }
  nlmsghdr* h = b.header();
  put_name(h, spec.name);
  if (spec.mac) put_mac(h, IFLA_ADDRESS, *spec.mac);
  if (spec.mtu) mnl_attr_put_u32(h, IFLA_MTU, static_cast<std::uint32_t>(*spec.mtu));
  if (spec.master_index) mnl_attr_put_u32(h, IFLA_MASTER, static_cast<std::uint32_t>(*spec.master_index));
  nlattr* linkinfo = mnl_attr_nest_start(h, IFLA_LINKINFO);
  mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
  // VETH_INFO_PEER carries a whole ifinfomsg followed by the peer's own attributes.
  nlattr* peer = mnl_attr_nest_start(h, VETH_INFO_PEER);
  auto* peer_ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(h, sizeof(ifinfomsg)));
  peer_ifi->ifi_family = AF_UNSPEC;
  put_name(h, spec.peer_name);
  if (spec.peer_mac) put_mac(h, IFLA_ADDRESS, *spec.peer_mac);
  if (spec.mtu) mnl_attr_put_u32(h, IFLA_MTU, static_cast<std::uint32_t>(*spec.mtu));
  if (spec.peer_namespace_fd) mnl_attr_put_u32(h, IFLA_NET_NS_FD, static_cast<std::uint32_t>(*spec.peer_namespace_fd));
  mnl_attr_nest_end(h, peer);
  mnl_attr_nest_end(h, data);
  mnl_attr_nest_end(h, linkinfo);
  return b.finish("RTM_NEWLINK veth " + spec.name +
                  (spec.master_index ? " (on the bridge with index " + std::to_string(*spec.master_index) + ")" : ""));
}

Request new_bridge(std::string_view name) {
  Builder b(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  b.extra<ifinfomsg>()->ifi_family = AF_UNSPEC;
  nlmsghdr* h = b.header();
  put_name(h, name);
  nlattr* linkinfo = mnl_attr_nest_start(h, IFLA_LINKINFO);
  mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(h, linkinfo);
  return b.finish("RTM_NEWLINK bridge " + std::string(name));
}

Request new_macvlan(std::string_view name, int parent_index, MacvlanMode mode, std::optional<MacAddress> mac) {
  Builder b(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  b.extra<ifinfomsg>()->ifi_family = AF_UNSPEC;
  nlmsghdr* h = b.header();
  put_name(h, name);
  if (mac) put_mac(h, IFLA_ADDRESS, *mac);
  mnl_attr_put_u32(h, IFLA_LINK, static_cast<std::uint32_t>(parent_index));
  nlattr* linkinfo = mnl_attr_nest_start(h, IFLA_LINKINFO);
  mnl_attr_put_strz(h, IFLA_INFO_KIND, "macvlan");
  nlattr* data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
  mnl_attr_put_u32(h, IFLA_MACVLAN_MODE, static_cast<std::uint32_t>(mode));
  mnl_attr_nest_end(h, data);
  mnl_attr_nest_end(h, linkinfo);
  return b.finish("RTM_NEWLINK macvlan " + std::string(name));
}

Request new_ipvlan(std::string_view name, int parent_index, IpvlanMode mode) {
  Builder b(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  b.extra<ifinfomsg>()->ifi_family = AF_UNSPEC;
  nlmsghdr* h = b.header();
  put_name(h, name);
  mnl_attr_put_u32(h, IFLA_LINK, static_cast<std::uint32_t>(parent_index));
  nlattr* linkinfo = mnl_attr_nest_start(h, IFLA_LINKINFO);
  mnl_attr_put_strz(h, IFLA_INFO_KIND, "ipvlan");
  nlattr* data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
  mnl_attr_put_u16(h, IFLA_IPVLAN_MODE, static_cast<std::uint16_t>(mode));
  mnl_attr_nest_end(h, data);
  mnl_attr_nest_end(h, linkinfo);
  return b.finish("RTM_NEWLINK ipvlan " + std::string(name));
}

Request new_vlan(std::string_view name, int parent_index, std::uint16_t vlan_id) {
  Builder b(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  b.extra<ifinfomsg>()->ifi_family = AF_UNSPEC;
  nlmsghdr* h = b.header();
  put_name(h, name);
  mnl_attr_put_u32(h, IFLA_LINK, static_cast<std::uint32_t>(parent_index));
  nlattr* linkinfo = mnl_attr_nest_start(h, IFLA_LINKINFO);
  mnl_attr_put_strz(h, IFLA_INFO_KIND, "vlan");
  nlattr* data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
  mnl_attr_put_u16(h, IFLA_VLAN_ID, vlan_id);  // 802.1q is the kernel's default protocol
  mnl_attr_nest_end(h, data);
  mnl_attr_nest_end(h, linkinfo);
  return b.finish("RTM_NEWLINK vlan " + std::string(name));
}

Request change_link(const LinkChange& c, std::string what) {
  Builder b(RTM_NEWLINK, NLM_F_ACK);
  auto* ifi = b.extra<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = c.index;
  if (c.up) {
    ifi->ifi_change = IFF_UP;
    ifi->ifi_flags = *c.up ? IFF_UP : 0;
  }
  nlmsghdr* h = b.header();
  if (c.master) mnl_attr_put_u32(h, IFLA_MASTER, static_cast<std::uint32_t>(*c.master));
  if (c.mac) put_mac(h, IFLA_ADDRESS, *c.mac);
  if (c.mtu) mnl_attr_put_u32(h, IFLA_MTU, static_cast<std::uint32_t>(*c.mtu));
  if (c.name) put_name(h, *c.name);
  if (c.namespace_fd) mnl_attr_put_u32(h, IFLA_NET_NS_FD, static_cast<std::uint32_t>(*c.namespace_fd));
  return b.finish("RTM_NEWLINK " + what);
}

Request delete_link(int index, std::string what) {
  Builder b(RTM_DELLINK, NLM_F_ACK);
  auto* ifi = b.extra<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return b.finish("RTM_DELLINK " + what);
}

Request get_link_by_name(std::string_view name) {
  Builder b(RTM_GETLINK, 0);
  b.extra<ifinfomsg>()->ifi_family = AF_UNSPEC;
  put_name(b.header(), name);
  return b.finish("RTM_GETLINK " + std::string(name));
}

Request get_link_by_index(int index) {
  Builder b(RTM_GETLINK, 0);
  auto* ifi = b.extra<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return b.finish("RTM_GETLINK index " + std::to_string(index));
}

Request dump_links() {
  Builder b(RTM_GETLINK, NLM_F_DUMP);
  b.extra<ifinfomsg>()->ifi_family = AF_UNSPEC;
  return b.finish("RTM_GETLINK dump");
}

Request add_address(const AddressSpec& s, bool replace) {
  Builder b(RTM_NEWADDR, NLM_F_CREATE | NLM_F_ACK | (replace ? NLM_F_REPLACE : NLM_F_EXCL));
  auto* ifa = b.extra<ifaddrmsg>();
  ifa->ifa_family = s.prefix.v6 ? AF_INET6 : AF_INET;
  ifa->ifa_prefixlen = static_cast<std::uint8_t>(s.prefix.prefix_length);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<std::uint32_t>(s.index);
  nlmsghdr* h = b.header();
  put_prefix_address(h, IFA_LOCAL, s.prefix);
  put_prefix_address(h, IFA_ADDRESS, s.prefix);
  if (s.broadcast && !s.prefix.v6) mnl_attr_put(h, IFA_BROADCAST, 4, s.broadcast->octets.data());
  if (s.valid_lifetime || s.preferred_lifetime) {
    ifa_cacheinfo info{};
    constexpr std::uint32_t kForever = 0xffffffff;  // INFINITY_LIFE_TIME in the kernel
    info.ifa_valid = s.valid_lifetime.value_or(kForever);
    info.ifa_prefered = s.preferred_lifetime.value_or(info.ifa_valid);
    mnl_attr_put(h, IFA_CACHEINFO, sizeof info, &info);
  }
  std::uint32_t flags = (s.nodad ? IFA_F_NODAD : 0) | (s.noprefixroute ? IFA_F_NOPREFIXROUTE : 0);
  if (flags) mnl_attr_put_u32(h, IFA_FLAGS, flags);
  return b.finish(std::string(replace ? "RTM_NEWADDR (replace) " : "RTM_NEWADDR ") + s.prefix.to_string());
}

Request delete_address(int index, const IpPrefix& prefix) {
  Builder b(RTM_DELADDR, NLM_F_ACK);
  auto* ifa = b.extra<ifaddrmsg>();
  ifa->ifa_family = prefix.v6 ? AF_INET6 : AF_INET;
  ifa->ifa_prefixlen = static_cast<std::uint8_t>(prefix.prefix_length);
  ifa->ifa_index = static_cast<std::uint32_t>(index);
  put_prefix_address(b.header(), IFA_LOCAL, prefix);
  return b.finish("RTM_DELADDR " + prefix.to_string());
}

Request dump_addresses(bool v6) {
  Builder b(RTM_GETADDR, NLM_F_DUMP);
  b.extra<ifaddrmsg>()->ifa_family = v6 ? AF_INET6 : AF_INET;
  return b.finish("RTM_GETADDR dump");
}

namespace {
void fill_route(Builder& b, const RouteSpec& s, bool for_delete) {
  auto* rtm = b.extra<rtmsg>();
  rtm->rtm_family = s.destination.v6 ? AF_INET6 : AF_INET;
  rtm->rtm_dst_len = static_cast<unsigned char>(s.destination.prefix_length);
  rtm->rtm_table = static_cast<unsigned char>(s.table < 256 ? s.table : RT_TABLE_UNSPEC);
  rtm->rtm_protocol = for_delete ? RTPROT_UNSPEC : RTPROT_BOOT;
  rtm->rtm_scope = s.link_scope ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  if (for_delete) rtm->rtm_scope = RT_SCOPE_NOWHERE;
  rtm->rtm_type = RTN_UNICAST;
  if (s.onlink_gateway) rtm->rtm_flags |= RTNH_F_ONLINK;
  nlmsghdr* h = b.header();
  if (s.destination.prefix_length > 0) put_prefix_address(h, RTA_DST, s.destination);
  if (s.gateway4) mnl_attr_put(h, RTA_GATEWAY, 4, s.gateway4->octets.data());
  if (s.gateway6) mnl_attr_put(h, RTA_GATEWAY, 16, s.gateway6->octets.data());
  if (s.oif) mnl_attr_put_u32(h, RTA_OIF, static_cast<std::uint32_t>(s.oif));
  if (s.metric) mnl_attr_put_u32(h, RTA_PRIORITY, *s.metric);
  if (s.table >= 256) mnl_attr_put_u32(h, RTA_TABLE, s.table);
}

std::string describe_route(const RouteSpec& s) {
  std::string d = s.destination.prefix_length == 0 ? "default" : s.destination.to_string();
  if (s.gateway4) d += " via " + s.gateway4->to_string();
  if (s.gateway6) d += " via " + s.gateway6->to_string();
  return d;
}
}  // namespace

Request add_route(const RouteSpec& s, bool replace) {
  Builder b(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_ACK | (replace ? NLM_F_REPLACE : NLM_F_EXCL));
  fill_route(b, s, false);
  return b.finish(std::string(replace ? "RTM_NEWROUTE (replace) " : "RTM_NEWROUTE ") + describe_route(s));
}

Request delete_route(const RouteSpec& s) {
  Builder b(RTM_DELROUTE, NLM_F_ACK);
  fill_route(b, s, true);
  return b.finish("RTM_DELROUTE " + describe_route(s));
}

Request dump_routes(bool v6) {
  Builder b(RTM_GETROUTE, NLM_F_DUMP);
  b.extra<rtmsg>()->rtm_family = v6 ? AF_INET6 : AF_INET;
  return b.finish("RTM_GETROUTE dump");
}

}  // namespace netdhcp::netlink
