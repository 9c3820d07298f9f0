#include "src/transport/interface_info.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "netdhcp/unique_fd.hpp"

namespace netdhcp {

Result<InterfaceInfo> query_interface(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return Error{"invalid interface name \"" + name + "\""};
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return system_error("socket", errno);
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  InterfaceInfo info;
  info.name = name;
  if (::ioctl(fd.get(), SIOCGIFINDEX, &req) < 0) {
    int e = errno;
    if (e == ENODEV) return Error{"no interface named " + name + " in this network namespace", e};
    return system_error("interface " + name, e);
  }
  info.index = req.ifr_ifindex;
  if (::ioctl(fd.get(), SIOCGIFHWADDR, &req) < 0) return system_error("interface " + name + ": MAC", errno);
  if (req.ifr_hwaddr.sa_family != ARPHRD_ETHER)
    return Error{"interface " + name + " is not an Ethernet interface; DHCP needs a MAC address"};
  std::memcpy(info.mac.octets.data(), req.ifr_hwaddr.sa_data, 6);
  if (::ioctl(fd.get(), SIOCGIFMTU, &req) == 0) info.mtu = req.ifr_mtu;
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &req) == 0) info.up = req.ifr_flags & IFF_UP;
  return info;
}

std::optional<Ipv6Address> link_local_address(const std::string& name) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) < 0) return std::nullopt;
  std::optional<Ipv6Address> found;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET6 || name != a->ifa_name) continue;
    Ipv6Address address;
    std::memcpy(address.octets.data(), &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, 16);
    if (address.is_link_local()) {
      found = address;
      break;
    }
  }
  ::freeifaddrs(list);
  return found;
}

}  // namespace netdhcp
