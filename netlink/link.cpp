#include "netlink/link.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cstring>

namespace netdhcp::netlink {

bool Link::up() const { return flags & IFF_UP; }
bool Link::running() const { return flags & IFF_LOWER_UP; }

namespace {

// IFLA_INFO_DATA of the kinds whose settings a Link reports.
void parse_info_data(const nlattr* data, Link& link) {
  struct Seen {
    Link* link;
  } seen{&link};
  mnl_attr_parse_nested(data, [](const nlattr* a, void* d) {
    Link& l = *static_cast<Seen*>(d)->link;
    auto type = mnl_attr_get_type(a);
    if (l.kind == "macvlan" && type == IFLA_MACVLAN_MODE && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
      l.macvlan_mode = static_cast<MacvlanMode>(mnl_attr_get_u32(a));
    else if (l.kind == "ipvlan" && type == IFLA_IPVLAN_MODE && mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
      l.ipvlan_mode = static_cast<IpvlanMode>(mnl_attr_get_u16(a));
    else if (l.kind == "vlan" && type == IFLA_VLAN_ID && mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
      l.vlan_id = mnl_attr_get_u16(a);
    return MNL_CB_OK;
  }, &seen);
}

}  // namespace

std::optional<Link> parse_link(const nlmsghdr* h) {
  if ((h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) || h->nlmsg_len < mnl_nlmsg_size(sizeof(ifinfomsg)))
    return std::nullopt;
  auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(h));
  Link link;
  link.index = ifi->ifi_index;
  link.flags = ifi->ifi_flags;
  mnl_attr_parse(h, sizeof(ifinfomsg), [](const nlattr* a, void* data) {
    auto& l = *static_cast<Link*>(data);
    switch (mnl_attr_get_type(a)) {
      case IFLA_IFNAME:
        if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) l.name = mnl_attr_get_str(a);
        break;
      case IFLA_ADDRESS:
        if (mnl_attr_get_payload_len(a) == 6) std::memcpy(l.mac.octets.data(), mnl_attr_get_payload(a), 6);
        break;
      case IFLA_MTU:
        if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) l.mtu = static_cast<int>(mnl_attr_get_u32(a));
        break;
      case IFLA_MASTER:
        if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) l.master = static_cast<int>(mnl_attr_get_u32(a));
        break;
      case IFLA_OPERSTATE:
        if (mnl_attr_validate(a, MNL_TYPE_U8) >= 0) l.operstate = mnl_attr_get_u8(a);
        break;
      case IFLA_PROMISCUITY:
        if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) l.promiscuity = mnl_attr_get_u32(a);
        break;
      case IFLA_LINK:
        if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) l.link = static_cast<int>(mnl_attr_get_u32(a));
        break;
      case IFLA_LINK_NETNSID:
        l.link_elsewhere = true;
        break;
      case IFLA_LINKINFO: {
        // The kind first: what IFLA_INFO_DATA holds depends on it, and the kernel need not
        // put it first.
        const nlattr* info_data = nullptr;
        struct Info {
          Link* link;
          const nlattr** data;
        } info{&l, &info_data};
        mnl_attr_parse_nested(a, [](const nlattr* nested, void* d) {
          auto& i = *static_cast<Info*>(d);
          switch (mnl_attr_get_type(nested)) {
            case IFLA_INFO_KIND:
              if (mnl_attr_validate(nested, MNL_TYPE_STRING) >= 0) i.link->kind = mnl_attr_get_str(nested);
              break;
            case IFLA_INFO_SLAVE_KIND:
              if (mnl_attr_validate(nested, MNL_TYPE_STRING) >= 0) i.link->slave_kind = mnl_attr_get_str(nested);
              break;
            case IFLA_INFO_DATA:
              if (mnl_attr_validate(nested, MNL_TYPE_NESTED) >= 0) *i.data = nested;
              break;
          }
          return MNL_CB_OK;
        }, &info);
        if (info_data) parse_info_data(info_data, l);
        break;
      }
    }
    return MNL_CB_OK;
  }, &link);
  return link;
}

namespace {
Result<Link> single_link(Socket& socket, Request request) {
  std::optional<Link> found;
  auto r = socket.query(std::move(request), [&](const nlmsghdr* h) { found = parse_link(h); });
  if (!r) return r.error();
  if (!found) return Error{"the kernel answered RTM_GETLINK without a link"};
  return *found;
}
std::string describe(const Link& link) { return link.name.empty() ? "index " + std::to_string(link.index) : link.name; }
}  // namespace

Result<void> create_veth(Socket& socket, const VethSpec& spec) { return socket.request(new_veth(spec)); }

Result<void> create_bridge(Socket& socket, const std::string& name) { return socket.request(new_bridge(name)); }

Result<void> create_macvlan(Socket& socket, const std::string& name, int parent_index, MacvlanMode mode,
                            std::optional<MacAddress> mac) {
  return socket.request(new_macvlan(name, parent_index, mode, mac));
}

Result<void> create_ipvlan(Socket& socket, const std::string& name, int parent_index, IpvlanMode mode) {
  return socket.request(new_ipvlan(name, parent_index, mode));
}

Result<void> create_vlan(Socket& socket, const std::string& name, int parent_index, int vlan_id) {
  return socket.request(new_vlan(name, parent_index, static_cast<std::uint16_t>(vlan_id)));
}

Result<Link> find_link(Socket& socket, const std::string& name) { return single_link(socket, get_link_by_name(name)); }
Result<Link> find_link(Socket& socket, int index) { return single_link(socket, get_link_by_index(index)); }

Result<std::vector<Link>> list_links(Socket& socket) {
  std::vector<Link> links;
  auto r = socket.query(dump_links(), [&](const nlmsghdr* h) {
    if (auto l = parse_link(h)) links.push_back(std::move(*l));
  });
  if (!r) return r.error();
  return links;
}

namespace {
LinkChange change_of(const Link& link) {
  LinkChange c;
  c.index = link.index;
  return c;
}
}  // namespace

Result<void> set_up(Socket& socket, const Link& link, bool up) {
  LinkChange c = change_of(link);
  c.up = up;
  return socket.request(change_link(c, describe(link) + (up ? " up" : " down")));
}
Result<void> set_up(Socket& socket, const std::string& name, bool up) {
  LinkChange c;  // index 0 and IFLA_IFNAME: the kernel looks the link up by its name
  c.name = name;
  c.up = up;
  return socket.request(change_link(c, name + (up ? " up" : " down")));
}
Result<void> set_master(Socket& socket, const Link& link, int master_index) {
  LinkChange c = change_of(link);
  c.master = master_index;
  return socket.request(change_link(c, describe(link) + " master " + std::to_string(master_index)));
}
Result<void> set_mac(Socket& socket, const Link& link, MacAddress mac) {
  LinkChange c = change_of(link);
  c.mac = mac;
  return socket.request(change_link(c, describe(link) + " address " + mac.to_string()));
}
Result<void> set_mtu(Socket& socket, const Link& link, int mtu) {
  LinkChange c = change_of(link);
  c.mtu = mtu;
  return socket.request(change_link(c, describe(link) + " mtu " + std::to_string(mtu)));
}
Result<void> set_name(Socket& socket, const Link& link, const std::string& name) {
  LinkChange c = change_of(link);
  c.name = name;
  return socket.request(change_link(c, describe(link) + " name " + name));
}
Result<void> move_to_namespace(Socket& socket, const Link& link, BorrowedFd namespace_fd) {
  LinkChange c = change_of(link);
  c.namespace_fd = namespace_fd.get();
  return socket.request(change_link(c, describe(link) + " netns"));
}
Result<void> delete_link(Socket& socket, const Link& link) {
  return socket.request(netlink::delete_link(link.index, describe(link)));
}

}  // namespace netdhcp::netlink
