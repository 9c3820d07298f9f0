#include "netlink/route.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace netdhcp::netlink {

std::optional<Route> parse_route(const nlmsghdr* h) {
  if ((h->nlmsg_type != RTM_NEWROUTE && h->nlmsg_type != RTM_DELROUTE) || h->nlmsg_len < mnl_nlmsg_size(sizeof(rtmsg)))
    return std::nullopt;
  auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(h));
  if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) return std::nullopt;
  Route route;
  route.destination.v6 = rtm->rtm_family == AF_INET6;
  route.destination.prefix_length = rtm->rtm_dst_len;
  route.table = rtm->rtm_table;
  route.scope = rtm->rtm_scope;
  route.protocol = rtm->rtm_protocol;
  route.type = rtm->rtm_type;
  mnl_attr_parse(h, sizeof(rtmsg), [](const nlattr* a, void* data) {
    auto& r = *static_cast<Route*>(data);
    auto len = mnl_attr_get_payload_len(a);
    const void* payload = mnl_attr_get_payload(a);
    switch (mnl_attr_get_type(a)) {
      case RTA_DST:
        if (r.destination.v6 && len == 16) std::memcpy(r.destination.v6_address.octets.data(), payload, 16);
        if (!r.destination.v6 && len == 4) std::memcpy(r.destination.v4_address.octets.data(), payload, 4);
        break;
      case RTA_GATEWAY:
        if (len == 16) {
          r.gateway6.emplace();
          std::memcpy(r.gateway6->octets.data(), payload, 16);
        } else if (len == 4) {
          r.gateway4.emplace();
          std::memcpy(r.gateway4->octets.data(), payload, 4);
        }
        break;
      case RTA_OIF:
        if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) r.oif = static_cast<int>(mnl_attr_get_u32(a));
        break;
      case RTA_PRIORITY:
        if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) r.metric = mnl_attr_get_u32(a);
        break;
      case RTA_TABLE:
        if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) r.table = mnl_attr_get_u32(a);
        break;
    }
    return MNL_CB_OK;
  }, &route);
  return route;
}

Result<void> add_route(Socket& socket, const RouteSpec& spec) { return socket.request(netlink::add_route(spec, false)); }
Result<void> replace_route(Socket& socket, const RouteSpec& spec) { return socket.request(netlink::add_route(spec, true)); }
Result<void> delete_route(Socket& socket, const RouteSpec& spec) { return socket.request(netlink::delete_route(spec)); }

Result<std::vector<Route>> list_routes(Socket& socket, bool v6, std::uint32_t table) {
  std::vector<Route> list;
  auto r = socket.query(dump_routes(v6), [&](const nlmsghdr* h) {
    if (auto route = parse_route(h); route && route->table == table && route->type == RTN_UNICAST)
      list.push_back(*route);
  });
  if (!r) return r.error();
  return list;
}

}  // namespace netdhcp::netlink
