// The identity derivation (src/endpoint/client_identity.hpp) pinned byte for byte.
//
// THESE BYTES ARE AN INTERFACE. DHCP servers hold leases and reservations keyed on the client
// identifier, the DUID and the MAC that identity=NAME gives. If this test fails, the change
// moves every container that has an identity to a new address on its next start: that is a
// breaking change, to be made only on purpose, with a release note, never to make this pass.
//
// The expected values were computed by an independent implementation of the documented
// derivation (Python, docs/architecture.md "Identity"): FNV-1a 64 of "identity:" + NAME gives the
// DUID-UUID (version 8, variant 10), IAID = its two halves XORed, MAC = 02 and bytes 1-5 of the
// UUID of "mac:identity:" + NAME.
#include <catch2/catch.hpp>
#include <set>

#include "src/endpoint/client_identity.hpp"

using namespace netdhcp;

TEST_CASE("identity=web gives the same bytes on every machine and in every version", "[identity]") {
  ClientIdentity web = named_identity("web");
  CHECK(hex(web.duid) == "0004874b8c6a66af8ccbbac66c92621825c4");
  CHECK(web.iaid == 0xe1e4b0a1u);
  CHECK(hex(web.client_id) == "ffe1e4b0a10004874b8c6a66af8ccbbac66c92621825c4");
  CHECK(web.mac.to_string() == "02:c2:d8:1f:05:ef");

  ClientIdentity db = named_identity("db-1");
  CHECK(hex(db.duid) == "00044bb3be6887118cdba5ec4aa8cdad38c2");
  CHECK(db.iaid == 0xcca2c2b3u);
  CHECK(hex(db.client_id) == "ffcca2c2b300044bb3be6887118cdba5ec4aa8cdad38c2");
  CHECK(db.mac.to_string() == "02:30:ee:3a:18:12");
}

TEST_CASE("an endpoint without identity= keeps the identity of its id (as before identities existed)", "[identity]") {
  const std::string id(64, '5');
  ClientIdentity e = endpoint_identity(id);
  CHECK(hex(e.duid) == "00040e9f143363bf8c65beecc82264c36830");
  CHECK(e.iaid == 0x6d202856u);
  CHECK(e.mac.to_string() == "02:80:84:fc:70:d2");
  CHECK(hex(identity_of(id, EndpointOptions{}).client_id) == hex(e.client_id));
  CHECK(hex(identity_of(id, EndpointOptions{"web", ""}).client_id) == hex(named_identity("web").client_id));
}

TEST_CASE("identities are distinct, and their MACs locally administered unicast", "[identity]") {
  // An identity is not the endpoint id of the same text: "identity:" keeps them apart.
  CHECK(named_identity("web").duid != endpoint_identity("web").duid);
  std::set<std::string> macs, ids;
  for (int i = 0; i < 2000; ++i) {
    ClientIdentity c = named_identity("svc-" + std::to_string(i));
    CHECK((c.mac.octets[0] & 0x01) == 0);  // unicast
    CHECK((c.mac.octets[0] & 0x02) == 2);  // locally administered
    macs.insert(c.mac.to_string());
    ids.insert(hex(c.client_id));
    REQUIRE(c.client_id.size() == 1 + 4 + 18);
  }
  CHECK(macs.size() == 2000);
  CHECK(ids.size() == 2000);
}

TEST_CASE("the identity reaches both clients' configurations", "[identity]") {
  ClientIdentity web = named_identity("web");
  CHECK(web.client_id[0] == std::byte{255});  // RFC 4361 type 255
  // IAID in the client id is the one DHCPv6 uses; the DUID after it is DHCPv6's DUID.
  CHECK(hex(ByteView(web.client_id).subspan(5)) == hex(web.duid));
}
