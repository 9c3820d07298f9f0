#include "src/endpoint/address_plan.hpp"

#include "netlink/address.hpp"
#include "netlink/route.hpp"

namespace netdhcp {

std::string to_string(const AddressStep& step) {
  switch (step.kind) {
    case AddressStep::Kind::ReplaceAddress: return "address " + step.prefix.to_string();
    case AddressStep::Kind::DeleteAddress: return "remove " + step.prefix.to_string();
    case AddressStep::Kind::ReplaceDefaultRoute4: return "default via " + (step.gateway ? step.gateway->to_string() : "?");
  }
  return "?";
}

AddressPlan plan_lease4(const std::optional<dhcp4::Lease>& previous, const std::optional<dhcp4::Lease>& next,
                        const std::optional<Ipv4Address>& gateway) {
  using Kind = AddressStep::Kind;
  auto prefix_of = [](const dhcp4::Lease& l) { return netlink::IpPrefix::from_v4(l.address, l.prefix_length); };
  auto gateway_of = [&](const std::optional<dhcp4::Lease>& l) -> std::optional<Ipv4Address> {
    if (!l) return std::nullopt;
    return gateway ? gateway : l->gateway();
  };
  AddressPlan plan;
  bool same_address = previous && next && prefix_of(*previous) == prefix_of(*next);
  if (next && !same_address) plan.push_back({Kind::ReplaceAddress, prefix_of(*next), {}});
  if (previous && !same_address) plan.push_back({Kind::DeleteAddress, prefix_of(*previous), {}});
  // A new address takes its prefix route with it but not the default route: set it again.
  auto new_gateway = gateway_of(next);
  if (new_gateway && (!same_address || gateway_of(previous) != new_gateway))
    plan.push_back({Kind::ReplaceDefaultRoute4, {}, new_gateway});
  return plan;
}

AddressPlan plan_lease6(const std::optional<dhcp6::Lease>& previous, const std::optional<dhcp6::Lease>& next,
                        int prefix_length) {
  using Kind = AddressStep::Kind;
  AddressPlan plan;
  bool same = previous && next && previous->address == next->address;
  if (next && !same) plan.push_back({Kind::ReplaceAddress, netlink::IpPrefix::from_v6(next->address, prefix_length), {}});
  if (previous && !same)
    plan.push_back({Kind::DeleteAddress, netlink::IpPrefix::from_v6(previous->address, prefix_length), {}});
  return plan;
}

AddressPlan plan_prefix6(const Ipv6Address& address, int old_length, int new_length) {
  using Kind = AddressStep::Kind;
  if (old_length == new_length) return {};
  return {{Kind::DeleteAddress, netlink::IpPrefix::from_v6(address, old_length), {}},
          {Kind::ReplaceAddress, netlink::IpPrefix::from_v6(address, new_length), {}}};
}

std::vector<std::string> apply_plan(netlink::Socket& socket, int index, const AddressPlan& plan) {
  std::vector<std::string> errors;
  for (const auto& step : plan) {
    Result<void> done;
    switch (step.kind) {
      case AddressStep::Kind::ReplaceAddress: {
        netlink::AddressSpec spec;
        spec.index = index;
        spec.prefix = step.prefix;
        spec.nodad = step.prefix.v6;  // the server has checked the address; no 1-2 s wait
        done = netlink::replace_address(socket, spec);
        break;
      }
      case AddressStep::Kind::DeleteAddress:
        (void)netlink::delete_address(socket, index, step.prefix);  // gone already is fine
        break;
      case AddressStep::Kind::ReplaceDefaultRoute4: {
        netlink::RouteSpec route;
        route.destination = netlink::IpPrefix::from_v4({}, 0);
        route.gateway4 = step.gateway;
        route.oif = index;
        route.onlink_gateway = true;
        done = netlink::replace_route(socket, route);
        break;
      }
    }
    if (!done) errors.push_back(to_string(step) + ": " + done.error().message);
  }
  return errors;
}

}  // namespace netdhcp
