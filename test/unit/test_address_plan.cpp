// Keeping the container's interface in line with its leases (src/endpoint/address_plan.hpp):
// the plan for each lease transition, checked without a kernel.
#include <catch2/catch.hpp>

#include "src/endpoint/address_plan.hpp"

using namespace netdhcp;
using Kind = AddressStep::Kind;

namespace {

Ipv4Address v4(const char* text) { return *Ipv4Address::parse(text); }
Ipv6Address v6(const char* text) { return *Ipv6Address::parse(text); }

dhcp4::Lease lease4(const char* address, int prefix, const char* router) {
  dhcp4::Lease l;
  l.address = v4(address);
  l.prefix_length = prefix;
  if (router) l.routers = {v4(router)};
  return l;
}

dhcp6::Lease lease6(const char* address) {
  dhcp6::Lease l;
  l.address = v6(address);
  return l;
}

std::vector<std::string> text(const AddressPlan& plan) {
  std::vector<std::string> out;
  for (const auto& s : plan) out.push_back(to_string(s));
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("a first IPv4 lease gives the interface its address, then the default route") {
  auto plan = plan_lease4(std::nullopt, lease4("198.18.0.150", 24, "198.18.0.1"), std::nullopt);
  CHECK(text(plan) == Lines{"address 198.18.0.150/24", "default via 198.18.0.1"});
  CHECK(plan[0].kind == Kind::ReplaceAddress);
  CHECK(plan[1].kind == Kind::ReplaceDefaultRoute4);
}

TEST_CASE("a renewal with the same address and router changes nothing") {
  auto l = lease4("198.18.0.150", 24, "198.18.0.1");
  CHECK(plan_lease4(l, l, std::nullopt).empty());
}

TEST_CASE("a new address is added before the old one goes, and the route is set again") {
  auto plan = plan_lease4(lease4("198.18.0.150", 24, "198.18.0.1"), lease4("198.18.0.151", 24, "198.18.0.1"), std::nullopt);
  CHECK(text(plan) == Lines{"address 198.18.0.151/24", "remove 198.18.0.150/24", "default via 198.18.0.1"});
}

TEST_CASE("a new prefix length for the same address is a new address") {
  auto plan = plan_lease4(lease4("198.18.0.150", 24, "198.18.0.1"), lease4("198.18.0.150", 23, "198.18.0.1"), std::nullopt);
  CHECK(text(plan) == Lines{"address 198.18.0.150/23", "remove 198.18.0.150/24", "default via 198.18.0.1"});
}

TEST_CASE("only the router changed: only the default route") {
  auto plan = plan_lease4(lease4("198.18.0.150", 24, "198.18.0.1"), lease4("198.18.0.150", 24, "198.18.0.2"), std::nullopt);
  CHECK(text(plan) == Lines{"default via 198.18.0.2"});
}

TEST_CASE("the network's gateway option wins over the lease's router") {
  auto gateway = std::optional(v4("198.18.0.254"));
  CHECK(text(plan_lease4(std::nullopt, lease4("198.18.0.150", 24, "198.18.0.1"), gateway)) ==
        Lines{"address 198.18.0.150/24", "default via 198.18.0.254"});
  // The lease's router changing does not matter then.
  CHECK(plan_lease4(lease4("198.18.0.150", 24, "198.18.0.1"), lease4("198.18.0.150", 24, "198.18.0.2"), gateway).empty());
}

TEST_CASE("a lease without a router gives no default route") {
  CHECK(text(plan_lease4(std::nullopt, lease4("198.18.0.150", 24, nullptr), std::nullopt)) == Lines{"address 198.18.0.150/24"});
}

TEST_CASE("classless static routes (RFC 3442) decide the gateway, not the router option") {
  auto l = lease4("198.18.0.150", 24, "198.18.0.1");
  l.classless_routes = {{v4("0.0.0.0"), 0, v4("198.18.0.9")}};
  CHECK(text(plan_lease4(std::nullopt, l, std::nullopt)) == Lines{"address 198.18.0.150/24", "default via 198.18.0.9"});
}

TEST_CASE("a lost IPv4 lease removes the address") {
  CHECK(text(plan_lease4(lease4("198.18.0.150", 24, "198.18.0.1"), std::nullopt, std::nullopt)) ==
        Lines{"remove 198.18.0.150/24"});
}

TEST_CASE("DHCPv6: the address with the on-link prefix length, and its replacement") {
  CHECK(text(plan_lease6(std::nullopt, lease6("fd00:18::150"), 64)) == Lines{"address fd00:18::150/64"});
  CHECK(plan_lease6(lease6("fd00:18::150"), lease6("fd00:18::150"), 64).empty());
  CHECK(text(plan_lease6(lease6("fd00:18::150"), lease6("fd00:18::151"), 128)) ==
        Lines{"address fd00:18::151/128", "remove fd00:18::150/128"});
  CHECK(text(plan_lease6(lease6("fd00:18::150"), std::nullopt, 64)) == Lines{"remove fd00:18::150/64"});
}

TEST_CASE("DHCPv6: a new on-link prefix length removes the address first (the kernel keys it by address)") {
  CHECK(text(plan_prefix6(v6("fd00:18::150"), 128, 64)) == Lines{"remove fd00:18::150/128", "address fd00:18::150/64"});
  CHECK(plan_prefix6(v6("fd00:18::150"), 64, 64).empty());
}
