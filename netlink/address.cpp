#include "netlink/address.hpp"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace netdhcp::netlink {

bool Address::tentative() const { return flags & IFA_F_TENTATIVE; }
bool Address::dad_failed() const { return flags & IFA_F_DADFAILED; }

std::optional<Address> parse_address(const nlmsghdr* h) {
  if ((h->nlmsg_type != RTM_NEWADDR && h->nlmsg_type != RTM_DELADDR) || h->nlmsg_len < mnl_nlmsg_size(sizeof(ifaddrmsg)))
    return std::nullopt;
  auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(h));
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return std::nullopt;
  struct Parsed {
    Address address;
    bool have_local = false, have_address = false;
    Ipv6Address v6_local, v6_address;
    Ipv4Address v4_local, v4_address;
  } p;
  p.address.index = static_cast<int>(ifa->ifa_index);
  p.address.flags = ifa->ifa_flags;
  p.address.prefix.v6 = ifa->ifa_family == AF_INET6;
  p.address.prefix.prefix_length = ifa->ifa_prefixlen;
  mnl_attr_parse(h, sizeof(ifaddrmsg), [](const nlattr* a, void* data) {
    auto& q = *static_cast<Parsed*>(data);
    auto len = mnl_attr_get_payload_len(a);
    const void* payload = mnl_attr_get_payload(a);
    bool v6 = q.address.prefix.v6;
    switch (mnl_attr_get_type(a)) {
      case IFA_LOCAL:
      case IFA_ADDRESS: {
        bool local = mnl_attr_get_type(a) == IFA_LOCAL;
        if (v6 && len == 16) std::memcpy((local ? q.v6_local : q.v6_address).octets.data(), payload, 16);
        else if (!v6 && len == 4) std::memcpy((local ? q.v4_local : q.v4_address).octets.data(), payload, 4);
        else break;
        (local ? q.have_local : q.have_address) = true;
        break;
      }
      case IFA_FLAGS:  // the full 32-bit flags; ifa_flags holds only the low 8
        if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) q.address.flags = mnl_attr_get_u32(a);
        break;
      case IFA_CACHEINFO:
        if (len == sizeof(ifa_cacheinfo)) {
          ifa_cacheinfo info;
          std::memcpy(&info, payload, sizeof info);
          q.address.valid_lifetime = info.ifa_valid;
          q.address.preferred_lifetime = info.ifa_prefered;
        }
        break;
    }
    return MNL_CB_OK;
  }, &p);
  // IFA_LOCAL is the interface's own address (differs from IFA_ADDRESS only on point-to-point).
  if (!p.have_local && !p.have_address) return std::nullopt;
  bool use_local = p.have_local;
  p.address.prefix.v6_address = use_local ? p.v6_local : p.v6_address;
  p.address.prefix.v4_address = use_local ? p.v4_local : p.v4_address;
  return p.address;
}

Result<void> add_address(Socket& socket, const AddressSpec& spec) { return socket.request(netlink::add_address(spec, false)); }
Result<void> replace_address(Socket& socket, const AddressSpec& spec) { return socket.request(netlink::add_address(spec, true)); }
Result<void> delete_address(Socket& socket, int index, const IpPrefix& prefix) {
  return socket.request(netlink::delete_address(index, prefix));
}

Result<std::vector<Address>> list_addresses(Socket& socket, int index, bool v6) {
  std::vector<Address> list;
  auto r = socket.query(dump_addresses(v6), [&](const nlmsghdr* h) {
    if (auto a = parse_address(h); a && (index == 0 || a->index == index)) list.push_back(*a);
  });
  if (!r) return r.error();
  return list;
}

}  // namespace netdhcp::netlink
