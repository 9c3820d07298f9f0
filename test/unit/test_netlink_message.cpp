// rtnetlink request builders, byte for byte (little-endian x86-64 layout), no kernel needed.
// Each expected string is: nlmsghdr | family header | attributes.
#include <linux/rtnetlink.h>

#include <catch2/catch.hpp>
#include <libmnl/libmnl.h>

#include "netdhcp/bytes.hpp"
#include "netlink/message.hpp"

using namespace netdhcp;
using namespace netdhcp::netlink;

namespace {
std::string hex_of(const Request& r) {
  return hex(ByteView(reinterpret_cast<const std::byte*>(r.bytes.data()), r.bytes.size()));
}
Ipv4Address v4(const char* t) { return *Ipv4Address::parse(t); }
}  // namespace

// RTM_DELLINK: request + ACK, ifinfomsg with the index only.
TEST_CASE("delete_link bytes", "[netlink]") {
  Request r = delete_link(5, "veth x");
  CHECK(hex_of(r) == "20000000" "1100" "0500" "00000000" "00000000"
                     "0000" "0000" "05000000" "00000000" "00000000");
  CHECK(r.what == "RTM_DELLINK veth x");
}

// Setting a link up changes exactly IFF_UP (flags and change mask both 1).
TEST_CASE("link up bytes", "[netlink]") {
  LinkChange c;
  c.index = 7;
  c.up = true;
  CHECK(hex_of(change_link(c, "x up")) == "20000000" "1000" "0500" "00000000" "00000000"
                                          "0000" "0000" "07000000" "01000000" "01000000");
}

// RTM_NEWADDR 198.18.0.5/24: create + exclusive + ACK, IFA_LOCAL and IFA_ADDRESS.
TEST_CASE("add_address bytes", "[netlink]") {
  AddressSpec spec;
  spec.index = 3;
  spec.prefix = IpPrefix::from_v4(v4("198.18.0.5"), 24);
  CHECK(hex_of(add_address(spec, false)) == "28000000" "1400" "0506" "00000000" "00000000"
                                            "02" "18" "00" "00" "03000000"
                                            "0800" "0200" "c6120005"
                                            "0800" "0100" "c6120005");
  // replace: NLM_F_REPLACE (0x100) instead of NLM_F_EXCL (0x200)
  CHECK(hex_of(add_address(spec, true)).substr(12, 4) == "0505");
}

// RTM_NEWROUTE default via 198.18.0.1 dev 4 in the main table, protocol boot.
TEST_CASE("add_route bytes", "[netlink]") {
  RouteSpec spec;
  spec.destination = IpPrefix::from_v4({}, 0);
  spec.gateway4 = v4("198.18.0.1");
  spec.oif = 4;
  CHECK(hex_of(add_route(spec, false)) == "2c000000" "1800" "0506" "00000000" "00000000"
                                          "02" "00" "00" "00" "fe" "03" "00" "01" "00000000"
                                          "0800" "0500" "c6120001"
                                          "0800" "0400" "04000000");
}

// A veth request nests the peer's ifinfomsg and attributes inside IFLA_LINKINFO/INFO_DATA.
TEST_CASE("new_veth nests the peer", "[netlink]") {
  VethSpec spec;
  spec.name = "dh-a";
  spec.peer_name = "dh-b";
  spec.mac = *MacAddress::parse("02:00:00:00:00:01");
  spec.peer_namespace_fd = 9;
  Request r = new_veth(spec);
  auto* h = reinterpret_cast<const nlmsghdr*>(r.bytes.data());
  CHECK(h->nlmsg_len == r.bytes.size());
  CHECK(h->nlmsg_flags == (NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK));
  std::string text(r.bytes.begin(), r.bytes.end());
  CHECK(text.find("dh-a") != std::string::npos);
  CHECK(text.find("veth") != std::string::npos);
  // The peer's name comes after the kind, inside the nest (npos, "not there", must fail).
  auto kind_at = text.find("veth");
  auto peer_at = text.find("dh-b");
  REQUIRE(kind_at != std::string::npos);
  REQUIRE(peer_at != std::string::npos);
  CHECK(peer_at > kind_at);
  CHECK(r.what == "RTM_NEWLINK veth dh-a");
}

// An 802.1q sub-interface: IFLA_LINK names the parent, IFLA_VLAN_ID sits in the vlan kind's data.
TEST_CASE("new_vlan bytes", "[netlink]") {
  Request r = new_vlan("p.5", 3, 5);
  CHECK(hex_of(r) == "4c000000" "1000" "0506" "00000000" "00000000"
                     "0000" "0000" "00000000" "00000000" "00000000"
                     "0800" "0300" "702e3500"            // IFLA_IFNAME "p.5"
                     "0800" "0500" "03000000"            // IFLA_LINK 3
                     "1c00" "1280"                       // IFLA_LINKINFO | NLA_F_NESTED
                     "0900" "0100" "766c616e" "00000000" //   IFLA_INFO_KIND "vlan"
                     "0c00" "0280"                       //   IFLA_INFO_DATA | NLA_F_NESTED
                     "0600" "0100" "0500" "0000");       //     IFLA_VLAN_ID 5
  CHECK(r.what == "RTM_NEWLINK vlan p.5");
}
