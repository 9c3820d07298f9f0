// A net-dhcp network's options, as given with `docker network create -o key=value`. The names
// are docker-net-dhcp's, so its users switch by changing the driver name; those of macvlan and
// ipvlan mode (mode, parent, macvlan_mode, ipvlan_mode) are Docker's macvlan and ipvlan drivers'.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "dhcp/clock.hpp"
#include "netdhcp/address.hpp"
#include "netdhcp/result.hpp"

namespace netdhcp {

// How containers are attached to the LAN: a veth pair on a Linux bridge, or a macvlan or
// ipvlan (L2) child of a host interface, with no bridge at all (src/endpoint/attachment.hpp).
enum class NetworkMode { Bridge, Macvlan, Ipvlan };
std::string_view to_string(NetworkMode mode);

struct NetworkOptions {
  NetworkMode mode = NetworkMode::Bridge;  // -o mode; bridge=BR alone means bridge mode
  std::string bridge;                 // bridge mode: the Linux bridge on the LAN (required)
  std::string parent;                 // macvlan/ipvlan: the host interface on the LAN, or IF.VID (required)
  std::string macvlan_mode = "bridge";  // macvlan: bridge, private, vepa or passthru
  bool ipv4 = true;                   // DHCPv4; false for Docker 28's --ipv4=false networks (not an -o option)
  bool ipv6 = false;                  // also DHCPv6 (and RAs) for each container
  Duration lease_timeout = Seconds(10);  // how long CreateEndpoint waits for the first lease
  bool ignore_conflicts = false;      // skip the bridge-sharing and subnet-overlap checks
  bool skip_routes = false;           // do not copy the bridge's routes into containers
  std::optional<Ipv4Address> gateway; // use this default gateway instead of the server's
  std::string interface_prefix = "eth";  // container interface names: eth0, eth1, ...
  std::string hostname;               // sent to the DHCP server when the container's is unknown
  bool rapid_commit = true;           // ask for two-message exchanges (servers may ignore it)
  bool firewall_check = true;         // refuse a bridge whose bridged traffic the host drops

  // The host interface the containers' traffic goes through: the bridge, or the parent.
  const std::string& lan_interface() const { return mode == NetworkMode::Bridge ? bridge : parent; }
  // For messages: "bridge br0", "parent eth1 (macvlan)", "parent eth1 (ipvlan L2)".
  std::string lan_text() const;
};

// Parses the generic options ("com.docker.network.generic"). Errors name the option and the fix.
Result<NetworkOptions> parse_network_options(const std::map<std::string, std::string>& generic);
// The options as parse_network_options takes them (the state file's form); ipv4, which is not
// an -o option, is not among them.
std::map<std::string, std::string> network_options_to_generic(const NetworkOptions& options);

// parent=IF.VID: the 802.1q sub-interface IF.VID of IF (VID 1 to 4094), which CreateNetwork makes
// when it does not exist (as Docker's macvlan driver does). nullopt: not of that form.
struct VlanName {
  std::string base;
  int vlan_id = 0;
};
std::optional<VlanName> parse_vlan_name(const std::string& parent);

// How long dockerd waits for a managed plugin's answer before it gives up on the call
// (`docker plugin enable --timeout`, 30 s unless changed). A socket plugin's calls have none.
inline constexpr Duration kDefaultDockerTimeout = Seconds(30);
// What CreateEndpoint spends besides waiting for the lease: the veth pair, a boot storm's pacing,
// the firewall re-probe after a timeout.
inline constexpr Duration kCreateEndpointOverhead = Seconds(1);

// A lease_timeout that, with CreateEndpoint's overhead, reaches Docker's timeout: Docker would
// give up first and the user would read Docker's "context deadline exceeded" instead of what
// happened on the wire. Returns the error for CreateNetwork, nullopt when it fits.
std::optional<Error> check_lease_timeout(Duration lease_timeout, Duration docker_timeout);

// "30 s", "1.5 s": a duration for messages.
std::string seconds_text(Duration d);

// "10s", "1500ms", "1m", "2.5s" (Go's time.Duration syntax for the units that make sense).
std::optional<Duration> parse_duration(const std::string& text);

}  // namespace netdhcp
