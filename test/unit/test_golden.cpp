// Codec tests on packets captured from real dnsmasq 2.90 and Kea 2.2 servers answering
// net-dhcp's client (test/golden/, made by scripts/capture-goldens; the dissection by tcpdump
// sits above the bytes in each file).
#include <catch2/catch.hpp>

#include "dhcp/dhcp4_packet.hpp"
#include "dhcp/dhcp6_packet.hpp"
#include "test/unit/helpers.hpp"

using namespace netdhcp;
using namespace netdhcp::test;

namespace {
Ipv4Address v4(const char* text) { return *Ipv4Address::parse(text); }
Ipv6Address v6(const char* text) { return *Ipv6Address::parse(text); }
}  // namespace

// Every captured DHCPv4 reply decodes and encodes back to the identical bytes.
TEST_CASE("DHCPv4 golden packets round-trip byte for byte", "[dhcp4][golden]") {
  for (const char* name : {"dnsmasq4-offer.txt", "dnsmasq4-ack.txt", "dnsmasq4-reboot-nak.txt", "kea4-offer.txt",
                           "kea4-ack.txt", "kea4-reboot-nak.txt"}) {
    INFO(name);
    Bytes wire = golden(name);
    auto packet = dhcp4::parse(wire);
    REQUIRE(packet.ok());
    CHECK_FALSE(packet->truncated_options);
    Bytes again;
    dhcp4::encode(*packet, again);
    CHECK(again == wire);
  }
}

// dnsmasq's ACK: classless routes with a default route, and a compressed domain search list.
TEST_CASE("dnsmasq DHCPACK fields", "[dhcp4][golden]") {
  auto p = dhcp4::parse(golden("dnsmasq4-ack.txt"));
  REQUIRE(p.ok());
  CHECK(p->op == 2);
  CHECK(p->message_type() == dhcp4::MessageType::Ack);
  CHECK(p->yiaddr == v4("198.18.0.179"));
  CHECK(p->client_mac().to_string() == "02:00:00:00:00:11");
  CHECK(p->address_option(dhcp4::option::ServerId) == v4("198.18.0.1"));
  CHECK(p->u32_option(dhcp4::option::LeaseTime) == 120u);
  CHECK(p->u32_option(dhcp4::option::RenewalTime) == 60u);
  CHECK(p->u32_option(dhcp4::option::RebindingTime) == 105u);
  CHECK(p->address_option(dhcp4::option::SubnetMask) == v4("255.255.255.0"));
  CHECK(p->string_option(dhcp4::option::HostName) == "golden");
  CHECK(p->string_option(dhcp4::option::DomainName) == "lab.test");
  auto search = p->domain_search();
  REQUIRE(search);
  CHECK(*search == std::vector<std::string>{"lab.test", "example.test"});  // second name uses a pointer
  auto routes = p->classless_routes();
  REQUIRE(routes);
  REQUIRE(routes->size() == 2);
  CHECK((*routes)[0] == dhcp4::ClasslessRoute{v4("198.18.5.0"), 24, v4("198.18.0.1")});
  CHECK((*routes)[1] == dhcp4::ClasslessRoute{v4("0.0.0.0"), 0, v4("198.18.0.1")});
}

// Kea's ACK: the options Kea sends by default and the lease time from our config.
TEST_CASE("Kea DHCPACK fields", "[dhcp4][golden]") {
  auto p = dhcp4::parse(golden("kea4-ack.txt"));
  REQUIRE(p.ok());
  CHECK(p->message_type() == dhcp4::MessageType::Ack);
  CHECK(p->yiaddr.octets[0] == 198);
  CHECK(p->u32_option(dhcp4::option::LeaseTime) == 3600u);
  CHECK(p->u32_option(dhcp4::option::RenewalTime) == 1800u);
  CHECK(p->u32_option(dhcp4::option::RebindingTime) == 3150u);
  CHECK(p->address_list_option(dhcp4::option::Router) == std::vector{v4("198.18.0.1")});
  CHECK(p->address_list_option(dhcp4::option::DnsServers) == std::vector{v4("198.18.0.1")});
  // Kea echoes the RFC 4361 client identifier we sent.
  auto id = p->find(dhcp4::option::ClientId);
  REQUIRE(id);
  CHECK(std::to_integer<int>((*id)[0]) == 255);
}

// Both servers refuse an INIT-REBOOT request for an address outside their network with a NAK.
TEST_CASE("DHCPNAK from dnsmasq and Kea", "[dhcp4][golden]") {
  for (const char* name : {"dnsmasq4-reboot-nak.txt", "kea4-reboot-nak.txt"}) {
    INFO(name);
    auto p = dhcp4::parse(golden(name));
    REQUIRE(p.ok());
    CHECK(p->message_type() == dhcp4::MessageType::Nak);
    CHECK(p->yiaddr.is_unspecified());
    CHECK(p->address_option(dhcp4::option::ServerId) == v4("198.18.0.1"));
  }
}

// Every captured DHCPv6 reply decodes and encodes back to the identical bytes.
TEST_CASE("DHCPv6 golden packets round-trip byte for byte", "[dhcp6][golden]") {
  for (const char* name : {"dnsmasq6-advertise.txt", "dnsmasq6-reply.txt", "kea6-advertise.txt", "kea6-reply.txt",
                           "kea6-rapid-reply.txt"}) {
    INFO(name);
    Bytes wire = golden(name);
    auto m = dhcp6::parse(wire);
    REQUIRE(m.ok());
    CHECK_FALSE(m->truncated_options);
    Bytes again;
    dhcp6::encode(*m, again);
    CHECK(again == wire);
  }
}

// Kea's Reply: one IA_NA with one address from the pool, our T1/T2, DNS and search list.
TEST_CASE("Kea DHCPv6 Reply fields", "[dhcp6][golden]") {
  auto m = dhcp6::parse(golden("kea6-reply.txt"));
  REQUIRE(m.ok());
  CHECK(m->type == dhcp6::MessageType::Reply);
  REQUIRE(m->find(dhcp6::option::ServerId));
  auto ias = m->ia_nas();
  REQUIRE(ias.size() == 1);
  CHECK(ias[0].t1 == 1800);
  CHECK(ias[0].t2 == 3150);
  REQUIRE(ias[0].addresses.size() == 1);
  CHECK(ias[0].addresses[0].valid_lifetime == 3600);
  auto a = ias[0].addresses[0].address;
  CHECK(a.to_string().rfind("fd00:18::", 0) == 0);
  CHECK(m->dns_servers() == std::vector{v6("fd00:18::1")});
  CHECK(m->domain_list() == std::vector<std::string>{"lab.test"});
}

// Kea's rapid-commit Reply carries the Rapid Commit option; dnsmasq's Advertise an address.
TEST_CASE("Rapid commit Reply and dnsmasq Advertise", "[dhcp6][golden]") {
  auto rapid = dhcp6::parse(golden("kea6-rapid-reply.txt"));
  REQUIRE(rapid.ok());
  CHECK(rapid->find(dhcp6::option::RapidCommit) != nullptr);
  auto adv = dhcp6::parse(golden("dnsmasq6-advertise.txt"));
  REQUIRE(adv.ok());
  CHECK(adv->type == dhcp6::MessageType::Advertise);
  auto ias = adv->ia_nas();
  REQUIRE(ias.size() == 1);
  REQUIRE(ias[0].addresses.size() == 1);
  CHECK(ias[0].addresses[0].valid_lifetime == 120);
}
