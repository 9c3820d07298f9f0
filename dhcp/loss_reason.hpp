// Why a client's event lost a lease (or failed to get one), the same for DHCPv4 and DHCPv6: a
// typed value for owners that classify events (metrics, warnings) without reading event
// names or server text.
#pragma once

#include <cstdint>
#include <string_view>

namespace netdhcp {

enum class LossReason : std::uint8_t {
  None,       // the event lost nothing (Bound, Renewed, AddressChanged; Released is the owner's doing)
  Expired,    // the lease ran out without an answer
  Nak,        // DHCPv4: the server refused it (DHCPNAK)
  Declined,   // the address was in use (ARP conflict, DAD failure) and was declined
  Withdrawn,  // DHCPv6: the server gave the address lifetimes of 0 (RFC 8415 18.2.10.1)
  Failed,     // DHCPv6: the server's Reply gave no address (NoAddrsAvail, ...)
};

// The metrics label: "expired", "nak", ...
constexpr std::string_view to_string(LossReason reason) {
  switch (reason) {
    case LossReason::None: return "none";
    case LossReason::Expired: return "expired";
    case LossReason::Nak: return "nak";
    case LossReason::Declined: return "declined";
    case LossReason::Withdrawn: return "withdrawn";
    case LossReason::Failed: return "failed";
  }
  return "unknown";
}

}  // namespace netdhcp
