// IPv4 and IPv6 addresses on links: add, replace, delete, list.
#pragma once

#include <optional>
#include <vector>

#include "netlink/socket.hpp"

namespace netdhcp::netlink {

struct Address {
  int index = 0;
  IpPrefix prefix;
  std::uint32_t flags = 0;  // IFA_F_*
  std::uint32_t valid_lifetime = 0xffffffff;
  std::uint32_t preferred_lifetime = 0xffffffff;
  bool tentative() const;   // IPv6 duplicate address detection still running
  bool dad_failed() const;
};

// Decodes RTM_NEWADDR/RTM_DELADDR; nullopt if it is not one or is malformed.
std::optional<Address> parse_address(const nlmsghdr* message);

// Errors: the kernel's, e.g. "RTM_NEWADDR 198.18.0.5/24: File exists".
Result<void> add_address(Socket& socket, const AddressSpec& spec);
Result<void> replace_address(Socket& socket, const AddressSpec& spec);  // also updates lifetimes
Result<void> delete_address(Socket& socket, int index, const IpPrefix& prefix);
// Addresses of one link (index > 0) or of all links (index 0), one family.
Result<std::vector<Address>> list_addresses(Socket& socket, int index, bool v6);

}  // namespace netdhcp::netlink
