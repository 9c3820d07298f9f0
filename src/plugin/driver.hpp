// The Docker network driver's state and decisions: networks, endpoints, and what each
// libnetwork remote-driver call does. src/plugin_api.cpp turns HTTP+JSON into these calls.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "src/support/asio.hpp"
#include "src/endpoint/endpoint.hpp"
#include "src/state/network_options.hpp"
#include "src/plugin/pacer.hpp"
#include "src/state/state_store.hpp"

namespace netdhcp {

namespace json = boost::json;

// A refusal for Docker: the HTTP status and the message the user will read.
struct DriverError {
  int status = 400;
  std::string message;
};

template <class T>
using DriverResult = std::variant<T, DriverError>;

class Driver {
 public:
  // `state_dir` keeps the networks (Docker sends CreateNetwork only once) and the endpoints
  // (src/state_store.hpp). `docker_timeout`: how long dockerd waits for an answer from the
  // plugin (serve --docker-timeout); a network whose lease_timeout does not fit is refused.
  // `kernel`: what the driver and its endpoints ask of the kernel (src/endpoint/kernel.hpp);
  // nullptr: the real one.
  Driver(asio::any_io_executor executor, std::string state_dir, Duration docker_timeout = kDefaultDockerTimeout,
         std::shared_ptr<EndpointKernel> kernel = nullptr);
  ~Driver() { *alive_ = false; }
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;
  // How long an endpoint waits after Join for Docker to move its interface into the container
  // before it warns that it is not followed (serve --follow-timeout; default 30 s).
  void set_follow_timeout(Duration timeout) { follow_timeout_ = timeout; }
  // How status names the state directory (the store's own path may be a /proc/self/fd/N).
  void set_state_dir_shown(std::string dir) { state_dir_shown_ = std::move(dir); }

  // Picks up what an earlier run left: networks, and endpoints to re-adopt (in the
  // background, once the event loop runs). Problems with the state files are logged; the
  // daemon starts anyway. Errors: the state directory cannot be created.
  Result<void> load();
  // SIGTERM: write every endpoint's record once more. Leases are left alone.
  void save_all() const;

  // Awaits the firewall probe (~300 ms at most) without blocking the event loop.
  asio::awaitable<DriverResult<json::object>> create_network(const json::object& request);
  DriverResult<json::object> delete_network(const json::object& request);
  asio::awaitable<DriverResult<json::object>> create_endpoint(const json::object& request);
  DriverResult<json::object> endpoint_info(const json::object& request);
  DriverResult<json::object> delete_endpoint(const json::object& request);
  asio::awaitable<DriverResult<json::object>> join(const json::object& request);
  DriverResult<json::object> leave(const json::object& request);

  // `net-dhcp status`: every network and endpoint (Endpoint::describe).
  json::object status() const;
  // `--metrics`: Prometheus text.
  std::string metrics_text() const;


 private:
  Result<void> save() const;
  void adopt(std::shared_ptr<Endpoint> endpoint);
  static asio::awaitable<void> readopt(Driver* driver, std::shared_ptr<Endpoint> endpoint, EndpointRecord record,
                                       Duration delay);
  std::optional<DriverError> validate(const Network& network, const json::object& request) const;
  std::optional<DriverError> bridge_taken(const Network& network) const;
  std::optional<DriverError> make_vlan_parent(Network& network);

  // Per bridge: bursts of up to 20 starts, then one every 10 ms (src/pacer.hpp).
  Duration pace(const std::string& bridge);
  std::map<std::string, Pacer> pacers_;

  asio::any_io_executor executor_;
  std::shared_ptr<EndpointKernel> kernel_;
  StateStore store_;
  Duration docker_timeout_;
  std::string state_dir_shown_;
  Duration follow_timeout_ = std::chrono::seconds(30);
  Metrics metrics_;
  std::map<std::string, Network> networks_;
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints_;
  // The most endpoints since the heap was last given back (release_memory()).
  std::size_t endpoints_peak_ = 0;
  void release_memory();
  // Endpoint ids whose CreateEndpoint is under way, with the identity= each claims (if any) on
  // its LAN interface: a second claim is refused before either exists.
  struct IdentityClaim {
    std::string identity;
    std::string lan;
  };
  // At load: removes the links of ours on a network's bridge or parent that no record names.
  void remove_unrecorded_links(const std::vector<EndpointRecord>& records,
                               const std::vector<std::string>& unreadable);
  std::map<std::string, IdentityClaim> creating_;
  // False once the driver is gone. A request's coroutine can outlive it: at shutdown the event
  // loop destroys the frames still suspended (a CreateEndpoint waiting for its lease) after the
  // driver, and what runs in their destructors must not touch it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // Which other endpoint (for the message) already has `identity` on a network of the same
  // bridge or parent as `options`; nullopt when none does, or `identity` is empty. An endpoint
  // that has left (released its leases) no longer counts.
  // The addresses of the endpoints with identity=, per LAN (state_store.hpp's IdentityMemory):
  // noted when an endpoint is leased and when it leaves, saved in the background.
  void remember_identity(const Endpoint& endpoint);
  IdentityMemory identities_;
  // Per LAN (bridge or parent): the MACs the DHCPv4 replies CreateEndpoints took came from, the
  // latest first, where the next endpoint's first DISCOVER goes (EndpointConfig::servers4). At
  // most kMaxLanServers, each forgotten kLanServerMemory after it last answered one: a server
  // replaced is soon no longer sent to, and a Linux bridge, which forgets a quiet MAC after
  // 300 s (ageing_time) and then floods frames to it to every port, still knows the ones sent
  // to. In memory only: after a restart, or on a LAN quiet that long, the first DISCOVER is a
  // broadcast frame again.
  struct HeardServer {
    MacAddress mac;
    TimePoint at;
  };
  static constexpr std::size_t kMaxLanServers = 4;
  static constexpr Duration kLanServerMemory = std::chrono::minutes(4);
  std::map<std::string, std::vector<HeardServer>> lan_servers4_;
  std::vector<MacAddress> servers_heard_on(const std::string& lan);
  void heard_server(const std::string& lan, MacAddress mac);
  std::optional<std::string> identity_user(const std::string& endpoint_id, const std::string& identity,
                                           const NetworkOptions& options) const;
};

}  // namespace netdhcp
