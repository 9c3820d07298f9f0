#include "src/plugin/driver.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>


#include "netdhcp/scope_exit.hpp"
#include "netlink/address.hpp"
#include "netlink/link.hpp"
#include "netlink/route.hpp"
#include "src/endpoint/client_identity.hpp"
#include "src/plugin/docker_options.hpp"
#include "src/endpoint/kernel.hpp"
#include "src/endpoint/macvlan_attachment.hpp"
#include "src/endpoint/parent_link.hpp"
#include "src/endpoint/veth_attachment.hpp"
#include "src/support/background.hpp"
#include "src/support/log.hpp"
#include "src/support/version.hpp"

namespace netdhcp {

namespace {

std::string string_field(const json::object& o, const char* key) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->as_string());
  return {};
}

DriverError bad_request(std::string message) { return DriverError{400, std::move(message)}; }

// CreateNetwork's Options: Docker's own flags (src/docker_options.hpp) and, under
// com.docker.network.generic, the -o options.
const json::object& request_options(const json::object& request) {
  static const json::object kNone;
  auto* options = request.if_contains("Options");
  return options && options->is_object() ? options->as_object() : kNone;
}

std::map<std::string, std::string> generic_options(const json::object& options) {
  std::map<std::string, std::string> generic;
  if (auto* g = options.if_contains("com.docker.network.generic"); g && g->is_object()) {
    for (const auto& [key, value] : g->as_object())
      generic[std::string(key)] = value.is_string() ? std::string(value.as_string()) : json::serialize(value);
  }
  return generic;
}

// Docker's IPAM data for one family: with --ipam-driver null, address space "null" and the
// whole address range as the pool. Returns the pool Docker's IPAM chose, if it chose one.
std::optional<std::string> ipam_pool(const json::object& request, const char* key, const char* null_pool) {
  if (auto* data = request.if_contains(key); data && data->is_array()) {
    for (const auto& d : data->as_array()) {
      if (!d.is_object()) continue;
      std::string space = string_field(d.as_object(), "AddressSpace");
      std::string pool = string_field(d.as_object(), "Pool");
      if (space != "null" && pool != null_pool) return pool;
    }
  }
  return std::nullopt;
}

std::string families_text(const NetworkOptions& o) {
  return o.ipv4 && o.ipv6 ? "IPv4 and IPv6" : o.ipv6 ? "IPv6 only" : "IPv4";
}


// Endpoint ids name files in the state directory: Docker's are 64 hex digits.
bool valid_endpoint_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

bool prefixes_overlap(const netlink::IpPrefix& a, const netlink::IpPrefix& b) {
  int len = std::min(a.prefix_length, b.prefix_length);
  std::uint32_t mask = len == 0 ? 0 : ~0u << (32 - len);
  return (a.v4_address.to_u32() & mask) == (b.v4_address.to_u32() & mask);
}

}  // namespace

Driver::Driver(asio::any_io_executor executor, std::string state_dir, Duration docker_timeout,
               std::shared_ptr<EndpointKernel> kernel)
    : executor_(std::move(executor)),
      kernel_(kernel ? std::move(kernel) : real_kernel()),
      store_(std::move(state_dir)),
      docker_timeout_(docker_timeout) {}

Result<void> Driver::load() {
  if (auto prepared = store_.prepare(); !prepared) return prepared;
  auto loaded = store_.load();
  for (const auto& problem : loaded.problems) log::error("state: " + problem);
  networks_ = std::move(loaded.networks);
  identities_ = std::move(loaded.identities);
  // Created under a longer --docker-timeout: still served, but docker run may fail on Docker's
  // timeout before net-dhcp's.
  for (const auto& [id, network] : networks_)
    if (auto problem = check_lease_timeout(network.options.lease_timeout, docker_timeout_))
      log::warning("network " + id.substr(0, 12) + ": " + problem->message);
  log::info("state: " + std::to_string(networks_.size()) + " network(s) and " + std::to_string(loaded.endpoints.size()) +
            " endpoint(s) from " + store_.dir());
  // A record that could not be read still names its endpoint: remove its links.
  for (const auto& id : loaded.unreadable_endpoints) kernel_->remove_links_of(id, nullptr);
  if (loaded.endpoints_listed) remove_unrecorded_links(loaded.endpoints, loaded.unreadable_endpoints);
  // Many endpoints re-adopted at once would all renew at once: spread their first packets
  // (10 ms apart, 1 s for 100).
  Duration delay{0};
  for (auto& record : loaded.endpoints) {
    auto network = networks_.find(record.network_id);
    if (network == networks_.end()) {
      log::warning("endpoint " + record.endpoint_id.substr(0, 12) + " belongs to an unknown network: removing its links");
      kernel_->remove_links_of(record.endpoint_id, nullptr);
      store_.remove_endpoint(record.endpoint_id);
      continue;
    }
    const NetworkOptions& options = network->second.options;
    int bridge_index = 0, bridge_mtu = 1500;  // the bridge's, or the parent's
    if (auto lan = kernel_->query_interface(options.lan_interface())) {
      bridge_index = lan->index;
      bridge_mtu = lan->mtu;
    }
    EndpointConfig config{record.network_id, record.endpoint_id, options, bridge_index, bridge_mtu, record.mac,
                          follow_timeout_, kernel_, record.endpoint_options, {}, {}, {}};  // (no hints: the record holds the leases)
    auto endpoint = std::make_shared<Endpoint>(executor_, config);
    adopt(endpoint);
    spawn(executor_, readopt(this, endpoint, std::move(record), delay), "re-adopting endpoint " + config.endpoint_id.substr(0, 12),
          [weak = std::weak_ptr<Endpoint>(endpoint)](const std::string& message) {
            if (auto e = weak.lock()) e->mark_failed("re-adopting it", message);
          });
    delay += std::chrono::milliseconds(10);
  }
  return {};
}

// A DeleteEndpoint removes the record (on the state writer's thread, at once) and the links (on
// the helper thread, behind the socket closes queued there, each waiting for an RCU grace
// period): a kill -9 between the two leaves links that no record names, and nothing else would
// ever remove them; a macvlan child left so keeps its identity's MAC on the parent, and the next
// CreateEndpoint of that identity would fail. Every other link of ours has a record: CreateEndpoint
// writes it before it makes the links. So at start, the links left so are removed, on the bridges
// and parents of our networks only:
// - a veth `dh-X` (X: 12 hex digits, an endpoint id's start) whose peer is `dc-X` in the host
//   namespace (Docker moved it back at Leave, or never moved it). docker-net-dhcp names its host
//   ends `dh-X` too, on a bridge a net-dhcp network may share during a migration: its peer is
//   `X-dh`, or in a container, and it stays;
// - a macvlan child `dm-X` or an ipvlan child `di-X` in the host namespace.
// Not at all when the records could not be listed (StateStore::Loaded::endpoints_listed).
void Driver::remove_unrecorded_links(const std::vector<EndpointRecord>& records,
                                     const std::vector<std::string>& unreadable) {
  if (networks_.empty()) return;
  std::set<std::string> recorded;
  for (const auto& r : records) recorded.insert(r.endpoint_id.substr(0, 12));
  for (const auto& id : unreadable) recorded.insert(id.substr(0, 12));
  std::map<int, const NetworkOptions*> bridges, parents;  // by interface index
  for (const auto& [id, network] : networks_)
    if (auto lan = kernel_->query_interface(network.options.lan_interface()))
      (network.options.mode == NetworkMode::Bridge ? bridges : parents)[lan->index] = &network.options;
  auto host = kernel_->host_netlink();
  auto links = host ? (*host)->links() : Result<std::vector<netlink::Link>>(host.error());
  if (!links) {
    log::warning("state: listing the host's links to find ones no endpoint record names: " + links.error().message);
    return;
  }
  std::map<int, std::string> names;
  for (const auto& link : *links) names[link.index] = link.name;
  auto hex12 = [](std::string_view s) {
    return s.size() == 12 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  };
  for (const auto& link : *links) {
    if (link.name.size() != 15 || !hex12(std::string_view(link.name).substr(3))) continue;
    const std::string id = link.name.substr(3);  // the names below take the id's first 12 digits
    if (recorded.count(id)) continue;
    const NetworkOptions* lan = nullptr;
    NetworkMode mode = NetworkMode::Bridge;
    if (link.name == VethAttachment::host_end_of(id)) {
      auto bridge = bridges.find(link.master);
      auto peer = names.find(link.link);
      bool our_pair = link.kind == "veth" && !link.link_elsewhere && peer != names.end() &&
                      peer->second == VethAttachment::container_end_of(id);
      if (bridge != bridges.end() && our_pair) lan = bridge->second;
    } else if (link.name == ChildAttachment::macvlan_child_of(id) || link.name == ChildAttachment::ipvlan_child_of(id)) {
      mode = link.name == ChildAttachment::macvlan_child_of(id) ? NetworkMode::Macvlan : NetworkMode::Ipvlan;
      auto parent = parents.find(link.link);
      if (parent != parents.end() && !link.link_elsewhere) lan = parent->second;
    }
    if (!lan) continue;
    NetworkOptions options = *lan;
    options.mode = mode;  // the link's own kind: a parent may carry networks of both modes
    log::warning("state: removing " + link.name + " on " + (mode == NetworkMode::Bridge ? "bridge " : "parent ") +
                 options.lan_interface() + ": no endpoint record names it (left by a kill -9 during its DeleteEndpoint)");
    kernel_->remove_links_of(id, &options);
  }
}

void Driver::adopt(std::shared_ptr<Endpoint> endpoint) {
  endpoints_[endpoint->config().endpoint_id] = endpoint;
  endpoint->set_metrics(&metrics_);
  // Synced off the event loop (src/state/state_writer.hpp); errors are logged from where the
  // record was written. A record the endpoint waits for is written here and now (write_now).
  endpoint->set_persist([this](const EndpointRecord& record, Endpoint::OnDisk on_disk, std::chrono::milliseconds within) {
    if (within > std::chrono::milliseconds::zero() && !on_disk) return store_.queue_endpoint_later(record, within);
    StateWriter::Done done = [id = record.endpoint_id, on_disk](const Result<void>& saved) {
      if (!saved) log::error("endpoint " + id.substr(0, 12) + ": saving its state: " + saved.error().message);
      if (on_disk) on_disk(saved);  // also after a failure: the caller must not wait forever
    };
    if (on_disk) store_.write_endpoint_now(record, std::move(done));
    else store_.queue_endpoint(record, std::move(done));
  });
}

asio::awaitable<void> Driver::readopt(Driver* driver, std::shared_ptr<Endpoint> endpoint, EndpointRecord record,
                                      Duration delay) {
  std::string id = record.endpoint_id;
  bool kept = co_await endpoint->readopt(std::move(record), delay);
  if (kept) co_return;
  // Gone: unless Docker has created a new endpoint under that id meanwhile, forget it.
  auto it = driver->endpoints_.find(id);
  if (it != driver->endpoints_.end() && it->second == endpoint) {
    driver->endpoints_.erase(it);
    driver->store_.remove_endpoint(id);
  }
}

void Driver::save_all() const {
  // One batch (a thousand records share their directory's fsync), then wait for it.
  for (const auto& [id, endpoint] : endpoints_)
    store_.queue_endpoint(endpoint->record(), [](const Result<void>& saved) {
      if (!saved) log::error("state: " + saved.error().message);
    });
  store_.flush();
}

Result<void> Driver::save() const { return store_.save_networks(networks_); }

Duration Driver::pace(const std::string& bridge) {
  auto it = pacers_.try_emplace(bridge, 20, std::chrono::milliseconds(10)).first;
  return it->second.next(Clock::now());
}

std::optional<DriverError> Driver::validate(const Network& network, const json::object& request) const {
  const auto& o = network.options;
  // IPAM must be null: the addresses come from the LAN's DHCP server.
  for (auto [key, null_pool] : {std::pair{"IPv4Data", "0.0.0.0/0"}, std::pair{"IPv6Data", "::/0"}})
    if (auto pool = ipam_pool(request, key, null_pool))
      return bad_request("net-dhcp networks take their addresses from the LAN's DHCP server, not from Docker's IPAM "
                         "(pool " + *pool + "): use --ipam-driver null");
  auto host = kernel_->host_netlink();
  if (!host) return DriverError{500, host.error().message};
  HostNetlink& links = **host;
  int lan_index = 0;
  if (o.mode == NetworkMode::Bridge) {
    auto bridge = links.find_link(o.bridge);
    if (!bridge)
      return bad_request("bridge " + o.bridge + " does not exist: create it and attach the LAN interface to it "
                         "(ip link add " + o.bridge + " type bridge; ip link set ETH master " + o.bridge + "), or attach "
                         "containers to the LAN interface without a bridge (-o mode=macvlan -o parent=ETH)");
    if (bridge->kind != "bridge")
      return bad_request(o.bridge + " is not a bridge (it is " + (bridge->kind.empty() ? "a physical interface" : "a " + bridge->kind) +
                         "): net-dhcp needs a Linux bridge connected to the LAN, or -o mode=macvlan -o parent=" + o.bridge +
                         " for macvlan children of it");
    if (auto taken = bridge_taken(network)) return taken;
    lan_index = bridge->index;
  } else {
    // macvlan, ipvlan: the parent as it is (never changed), then the networks on it, then the
    // kernel's own verdict on a throw-away child (parent_link.hpp).
    auto parent = read_parent(links, o.parent);
    if (!parent) {
      if (parent.error().errno_value == ENODEV) return bad_request(missing_parent_message(o, false));
      return DriverError{500, "reading parent " + o.parent + ": " + parent.error().message};
    }
    parent->wireless = kernel_->is_wireless(o.parent);
    if (auto refusal = parent_refusal(*parent, o)) return bad_request(*refusal);
    if (auto taken = bridge_taken(network)) return taken;
    if (auto tried = kernel_->try_child(o, parent->link.index); !tried)
      return bad_request(explain_child_error(tried.error(), o, &*parent));
    lan_index = parent->link.index;
  }
  if (!o.ignore_conflicts) {
    // Another interface (docker0, br-..., a VPN) whose subnet overlaps the bridge's (or the
    // parent's): traffic for the LAN would be routed there instead.
    auto addresses = links.addresses();
    if (addresses) {
      for (const auto& mine : *addresses) {
        if (mine.index != lan_index) continue;
        for (const auto& theirs : *addresses) {
          if (theirs.index == lan_index || !prefixes_overlap(mine.prefix, theirs.prefix)) continue;
          if (theirs.prefix.v4_address.octets[0] == 127) continue;
          auto other = links.find_link(theirs.index);
          return bad_request("the subnet " + theirs.prefix.to_string() + " of " + (other ? other->name : "another interface") +
                             " overlaps " + mine.prefix.to_string() + " on " + o.lan_text() +
                             ": containers could not reach that part of the LAN; change the other network's subnet, "
                             "or pass -o ignore_conflicts=true");
        }
      }
    }
  }
  return std::nullopt;
}

// One net-dhcp network per bridge or parent (unless ignore_conflicts), and on a parent never
// macvlan next to ipvlan, nor anything next to a passthru network: the kernel refuses those.
std::optional<DriverError> Driver::bridge_taken(const Network& network) const {
  const auto& mine = network.options;
  auto passthru = [](const NetworkOptions& o) { return o.mode == NetworkMode::Macvlan && o.macvlan_mode == "passthru"; };
  for (const auto& [id, other] : networks_) {
    const auto& theirs = other.options;
    if (theirs.lan_interface() != mine.lan_interface() || id == network.id) continue;
    bool kinds_clash = mine.mode != NetworkMode::Bridge && theirs.mode != NetworkMode::Bridge && mine.mode != theirs.mode;
    bool whole = passthru(mine) || passthru(theirs);
    if (mine.ignore_conflicts && !kinds_clash && !whole) continue;
    // Only a network with endpoints is in the way. One without may be state Docker no longer
    // has: `docker network rm` while net-dhcp was stopped succeeds without telling the driver
    // (after ~15 s), and that record must not block the bridge for good.
    std::size_t endpoints = 0;
    for (const auto& [eid, e] : endpoints_)
      if (e->config().network_id == id) ++endpoints;
    if (endpoints == 0) {
      log::info("network " + network.id.substr(0, 12) + ": " + mine.lan_text() + " is also in net-dhcp network " +
                id.substr(0, 12) + ", which has no endpoints (removed from Docker while net-dhcp was stopped?): not a conflict");
      continue;
    }
    std::string count = std::to_string(endpoints) + " endpoint" + (endpoints == 1 ? "" : "s");
    const std::string& lan = mine.lan_interface();
    if (kinds_clash)
      return bad_request("parent " + lan + " is used by net-dhcp " + std::string(to_string(theirs.mode)) + " network " +
                         id.substr(0, 12) + " (" + count + "): macvlan and ipvlan cannot share a parent (the kernel refuses one "
                         "next to the other). Use -o mode=" + std::string(to_string(theirs.mode)) + ", or another parent");
    if (passthru(theirs))
      return bad_request("parent " + lan + " is given whole to net-dhcp network " + id.substr(0, 12) +
                         " (macvlan_mode=passthru, " + count + "): no other network can share it; use another parent");
    if (whole)
      return bad_request("macvlan_mode=passthru needs parent " + lan + " to itself, but net-dhcp network " + id.substr(0, 12) +
                         " has " + count + " on it: use macvlan_mode=bridge, or a parent of its own");
    if (mine.mode == NetworkMode::Bridge)
      return bad_request("bridge " + lan + " is already used by net-dhcp network " + id.substr(0, 12) + " (" + count +
                         "): use one network per bridge, or -o ignore_conflicts=true");
    return bad_request("parent " + lan + " is already used by net-dhcp network " + id.substr(0, 12) + " (" + count +
                       "): use one network per parent, or -o ignore_conflicts=true");
  }
  return std::nullopt;
}

// parent=IF.VID that does not exist: made as VLAN VID of IF, as Docker's macvlan driver does,
// and removed with the last network on it (delete_network).
std::optional<DriverError> Driver::make_vlan_parent(Network& network) {
  const auto& o = network.options;
  auto vlan = parse_vlan_name(o.parent);
  if (!vlan) return std::nullopt;
  auto host = kernel_->host_netlink();
  if (!host) return DriverError{500, host.error().message};
  if (auto existing = (*host)->find_link(o.parent); existing || existing.error().errno_value != ENODEV)
    return std::nullopt;  // there (made by the user, or by another network): used as it is
  auto base = read_parent(**host, vlan->base);
  if (!base) {
    if (base.error().errno_value == ENODEV) return bad_request(missing_parent_message(o, true));
    return DriverError{500, "reading " + vlan->base + ": " + base.error().message};
  }
  if (auto refusal = vlan_base_refusal(*base, o.parent, *vlan)) return bad_request(*refusal);
  if (auto made = kernel_->create_vlan(o.parent, base->link.index, vlan->vlan_id); !made)
    return bad_request(vlan_error_message(made.error(), o.parent, *vlan));
  network.created_vlan = true;
  log::info("network " + network.id.substr(0, 12) + ": made the 802.1q sub-interface " + o.parent + " (VLAN " +
            std::to_string(vlan->vlan_id) + " of " + vlan->base + ")");
  return std::nullopt;
}

asio::awaitable<DriverResult<json::object>> Driver::create_network(const json::object& request) {
  std::string id = string_field(request, "NetworkID");
  if (id.empty()) co_return bad_request("CreateNetwork without a NetworkID");
  const json::object& docker_options = request_options(request);
  auto families = network_families(docker_options);
  if (!families) co_return bad_request(families.error().message);
  auto options = parse_network_options(generic_options(docker_options));
  if (!options) co_return bad_request(options.error().message);
  // Docker's --ipv6 means what -o ipv6=true means; --ipv4=false leaves DHCPv6 alone.
  if (families->ipv6) options->ipv6 = true;
  options->ipv4 = families->ipv4;
  if (!options->ipv4 && !options->ipv6)
    co_return bad_request("this network has IPv4 turned off (--ipv4=false) and no IPv6, so net-dhcp would have nothing to "
                          "lease: add --ipv6 for an IPv6-only network (the LAN needs a DHCPv6 server), or drop --ipv4=false");
  if (auto problem = check_lease_timeout(options->lease_timeout, docker_timeout_)) co_return bad_request(problem->message);
  Network network{id, *options};
  if (auto problem = make_vlan_parent(network)) co_return *problem;
  if (auto problem = validate(network, request)) {
    if (network.created_vlan) kernel_->remove_vlan(options->parent);
    co_return *problem;
  }
  if (options->firewall_check && options->mode != NetworkMode::Bridge) {
    log::debug("network " + id.substr(0, 12) + " on " + options->lan_text() + ": the firewall probe is about traffic "
               "bridged through a Linux bridge; a macvlan or ipvlan child's crosses none: not probed");
  } else if (options->firewall_check) {
    int bridge_index = 0;
    if (auto bridge = kernel_->query_interface(options->bridge)) bridge_index = bridge->index;
    ProbeFamilies families{options->ipv4, options->ipv6};
    auto verdict = co_await kernel_->probe_bridge_forwarding(options->bridge, bridge_index, families);
    if (!verdict) co_return bad_request(verdict.error().message);
    if (verdict->dropped()) co_return bad_request(verdict->message);
    // Another CreateNetwork may have taken the bridge while this one probed.
    if (auto taken = bridge_taken(network)) co_return *taken;
  }
  networks_[id] = network;
  if (auto saved = save(); !saved) {
    // Docker sends CreateNetwork once: a network not on disk would be unknown after a restart,
    // and every CreateEndpoint on it refused.
    networks_.erase(id);
    if (network.created_vlan) kernel_->remove_vlan(options->parent);
    co_return DriverError{500, "the network could not be saved (" + saved.error().message +
                                   "): free space in net-dhcp's state directory or make it writable, then create the network again"};
  }
  log::info("network " + id.substr(0, 12) + " on " + options->lan_text() + " (" + families_text(*options) + ")");
  co_return json::object{};
}

DriverResult<json::object> Driver::delete_network(const json::object& request) {
  std::string id = string_field(request, "NetworkID");
  if (auto it = networks_.find(id); it != networks_.end()) {
    Network gone = std::move(it->second);
    networks_.erase(it);
    if (std::none_of(networks_.begin(), networks_.end(),
                     [&](const auto& n) { return n.second.options.lan_interface() == gone.options.lan_interface(); }))
      lan_servers4_.erase(gone.options.lan_interface());  // a new network there may have another server
    if (gone.created_vlan) {
      // The 802.1q sub-interface it made goes with the last network on it.
      auto heir = std::find_if(networks_.begin(), networks_.end(),
                               [&](const auto& n) { return n.second.options.lan_interface() == gone.options.parent; });
      if (heir != networks_.end()) heir->second.created_vlan = true;
      else {
        kernel_->remove_vlan(gone.options.parent);
        log::info("network " + id.substr(0, 12) + ": removing the 802.1q sub-interface " + gone.options.parent + " it made");
      }
    }
    if (auto saved = save(); !saved) log::error("saving networks: " + saved.error().message);
    log::info("network " + id.substr(0, 12) + " removed");
  }
  return json::object{};
}

std::vector<MacAddress> Driver::servers_heard_on(const std::string& lan) {
  auto it = lan_servers4_.find(lan);
  if (it == lan_servers4_.end()) return {};
  TimePoint now = Clock::now();
  std::erase_if(it->second, [&](const HeardServer& s) { return now - s.at > kLanServerMemory; });
  std::vector<MacAddress> macs;
  for (const auto& s : it->second) macs.push_back(s.mac);
  return macs;
}

void Driver::heard_server(const std::string& lan, MacAddress mac) {
  auto& heard = lan_servers4_[lan];
  std::erase_if(heard, [&](const HeardServer& s) { return s.mac == mac; });
  heard.insert(heard.begin(), HeardServer{mac, Clock::now()});
  if (heard.size() > kMaxLanServers) heard.resize(kMaxLanServers);
}

void Driver::remember_identity(const Endpoint& endpoint) {
  const EndpointConfig& c = endpoint.config();
  if (c.endpoint_options.identity.empty() || (!endpoint.lease4() && !endpoint.lease6())) return;
  IdentityAddresses& a = identities_[IdentityKey{c.options.lan_interface(), c.endpoint_options.identity}];
  IdentityAddresses before = a;
  if (endpoint.lease4()) a.v4 = endpoint.lease4()->address;
  if (endpoint.lease6()) a.v6 = endpoint.lease6()->address;
  if (before.v4 == a.v4 && before.v6 == a.v6 && before.updated_unix_ms) return;
  a.updated_unix_ms = to_unix_ms(Clock::now());
  while (identities_.size() > kMaxRememberedIdentities) {
    auto oldest = std::min_element(identities_.begin(), identities_.end(), [](const auto& x, const auto& y) {
      return x.second.updated_unix_ms < y.second.updated_unix_ms;
    });
    identities_.erase(oldest);
  }
  store_.queue_identities(identities_);
}

std::optional<std::string> Driver::identity_user(const std::string& endpoint_id, const std::string& identity,
                                                 const NetworkOptions& options) const {
  if (identity.empty()) return std::nullopt;
  const std::string& lan = options.lan_interface();
  for (const auto& [id, claim] : creating_)
    if (id != endpoint_id && claim.identity == identity && claim.lan == lan)
      return id.substr(0, 12) + " (its CreateEndpoint is under way)";
  for (const auto& [id, endpoint] : endpoints_) {
    const EndpointConfig& c = endpoint->config();
    if (id == endpoint_id || c.endpoint_options.identity != identity || c.options.lan_interface() != lan ||
        endpoint->phase() == EndpointPhase::Left)
      continue;
    std::string network = c.network_id.substr(0, 12);
    std::string container = endpoint->container_id().empty() ? "" : ", container " + endpoint->container_id().substr(0, 12);
    return id.substr(0, 12) + " (network " + network + container + ", on " + options.lan_text() + ")";
  }
  return std::nullopt;
}

asio::awaitable<DriverResult<json::object>> Driver::create_endpoint(const json::object& request) {
  std::string network_id = string_field(request, "NetworkID");
  std::string endpoint_id = string_field(request, "EndpointID");
  if (network_id.empty() || endpoint_id.empty()) co_return bad_request("CreateEndpoint without NetworkID or EndpointID");
  if (!valid_endpoint_id(endpoint_id))
    co_return bad_request("invalid EndpointID \"" + endpoint_id.substr(0, 80) + "\": expected up to 128 letters, digits, '-' or '_'");
  auto network = networks_.find(network_id);
  if (network == networks_.end())
    co_return bad_request("network " + network_id.substr(0, 12) +
                          " is not known to net-dhcp (its saved state was lost?): docker network rm it and create it again");
  json::object interface;
  if (auto* i = request.if_contains("Interface"); i && i->is_object()) interface = i->as_object();
  if (!string_field(interface, "Address").empty() || !string_field(interface, "AddressIPv6").empty())
    co_return bad_request("net-dhcp takes addresses from the LAN's DHCP server, so --ip/--ip6 cannot be honoured: "
                          "reserve an address for the container's MAC on the DHCP server and use --mac-address");
  EndpointOptions endpoint_options;
  if (auto* o = request.if_contains("Options"); o && o->is_object()) {
    auto parsed = parse_endpoint_options(o->as_object());
    if (!parsed) co_return bad_request(parsed.error().message);
    endpoint_options = std::move(*parsed);
  }
  auto requested = requested_mac(request);
  if (!requested) co_return bad_request(requested.error().message);
  // Docker refuses an answer that sets a MAC it chose itself: only a MAC of ours is returned.
  bool docker_chose_mac = requested->has_value();
  const NetworkOptions& options = network->second.options;
  // ipvlan and passthru children have the parent's MAC: Docker is told none (it would try to
  // set it), and one Docker asks for cannot be given.
  const bool own_mac = takes_own_mac(options);
  if (docker_chose_mac && !own_mac)
    co_return bad_request(options.mode == NetworkMode::Ipvlan
                              ? "--mac-address " + (*requested)->to_string() + " cannot be honoured on an ipvlan network: every "
                                "ipvlan interface has its parent's MAC (" + options.parent + "'s). The DHCP server tells the "
                                "containers apart by their client identifier; reserve addresses by that, or use -o mode=macvlan"
                              : "--mac-address " + (*requested)->to_string() + " cannot be honoured with macvlan_mode=passthru: "
                                "the passthru interface has its parent's MAC, and giving it another would change " +
                                options.parent + "'s; use macvlan_mode=bridge");
  // The frames' MAC: Docker's when it chose one (--mac-address), else the identity's (the
  // identity= option's, or the endpoint id's); the client id and DUID are the identity's either way.
  MacAddress mac = docker_chose_mac ? **requested : identity_of(endpoint_id, endpoint_options).mac;
  if (auto user = identity_user(endpoint_id, endpoint_options.identity, options))
    co_return DriverError{409, "identity=" + endpoint_options.identity + " is already in use by endpoint " +
                                   *user + ": two running containers with one identity would be one client to the "
                                   "DHCP server and fight over one lease. Stop that container first, or give this one "
                                   "another identity (one running container per identity per LAN)"};
  auto existing = endpoints_.find(endpoint_id);
  std::shared_ptr<Endpoint> endpoint;
  if (existing != endpoints_.end() && existing->second->have_all_leases()) {
    endpoint = existing->second;  // Docker retried after we answered: same answer
  } else if (creating_.count(endpoint_id)) {
    // A second request while the first waits for its lease would find the first one's links
    // (EEXIST) and, failing, remove them: refuse it and leave the first alone.
    co_return DriverError{409, "CreateEndpoint for endpoint " + endpoint_id.substr(0, 12) +
                                   " is already in progress; nothing was changed for this request"};
  } else {
    creating_.emplace(endpoint_id, IdentityClaim{endpoint_options.identity, options.lan_interface()});
    ScopeExit done([this, alive = alive_, endpoint_id] {
      if (*alive) creating_.erase(endpoint_id);
    });
    // The bridge, or the parent: its index, MTU and MAC by ioctl, which reads them under RCU.
    // An RTM_GETLINK waits for RTNL, behind dockerd's own link changes in a boot storm.
    auto lan = kernel_->query_interface(options.lan_interface());
    if (!lan && lan.error().errno_value == ENODEV)
      co_return bad_request(options.lan_text() + " no longer exists: " + lan.error().message +
                            "; create it again, or remove this network and create one on an interface that exists");
    if (!lan) co_return DriverError{500, "reading " + options.lan_text() + ": " + lan.error().message};
    if (!own_mac) mac = lan->mac;
    EndpointConfig config{network_id, endpoint_id, options, lan->index, lan->mtu, mac, follow_timeout_, kernel_,
                          endpoint_options, {}, {}, {}};  // the hints follow
    if (!endpoint_options.identity.empty()) {
      if (auto it = identities_.find(IdentityKey{options.lan_interface(), endpoint_options.identity}); it != identities_.end()) {
        config.address_hint4 = it->second.v4;
        config.address_hint6 = it->second.v6;
      }
    }
    if (Duration wait = pace(config.options.lan_interface()); wait > Duration::zero()) {
      log::debug("endpoint " + endpoint_id.substr(0, 12) + ": many endpoints starting at once, waiting " +
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()) + " ms");
      Timer timer(executor_);
      timer.expires_after(wait);
      co_await timer.async_wait(use_awaitable_tuple);
    }
    // After the pacer's wait: in a burst, the servers the first endpoints heard.
    config.servers4 = servers_heard_on(config.options.lan_interface());
    endpoint = std::make_shared<Endpoint>(executor_, config);
    adopt(endpoint);
    Result<void> created = Error{"not created"};
    try {
      created = co_await endpoint->create();
    } catch (const std::exception& e) {
      // A kernel call that throws (an epoll_ctl under memory pressure, say): the endpoint is
      // taken down like one that got no lease, not left half-made and renewing for ever.
      created = Error{"creating the endpoint: " + std::string(e.what())};
      endpoint->remove();
    }
    if (!created) {
      if (auto it = endpoints_.find(endpoint_id); it != endpoints_.end() && it->second == endpoint) {
        endpoints_.erase(it);
        store_.remove_endpoint(endpoint_id);
      }
      metrics_.create_failed();
      log::warning("endpoint " + endpoint_id.substr(0, 12) + ": " + created.error().message);
      co_return DriverError{500, created.error().message};
    }
  }
  remember_identity(*endpoint);
  if (auto server = endpoint->dhcp4_server_mac()) heard_server(endpoint->config().options.lan_interface(), *server);
  json::object reply_interface;
  if (const auto& lease = endpoint->lease4())
    reply_interface["Address"] = lease->address.to_string() + "/" + std::to_string(lease->prefix_length);
  if (!docker_chose_mac && own_mac) reply_interface["MacAddress"] = endpoint->config().mac.to_string();
  if (endpoint->lease6())
    reply_interface["AddressIPv6"] = endpoint->lease6()->address.to_string() + "/" + std::to_string(endpoint->prefix6());
  co_return json::object{{"Interface", std::move(reply_interface)}};
}

namespace {

// Join's IPv4 part: the Gateway and the StaticRoutes.
void add_ipv4_routes(EndpointKernel& kernel, const Endpoint& endpoint, const dhcp4::Lease& lease, json::object& reply) {
  const auto& options = endpoint.config().options;
  auto gateway = endpoint.gateway4(lease);
  if (gateway) reply["Gateway"] = gateway->to_string();
  json::array routes;
  // RFC 3442 routes from the server (the default one is the Gateway above).
  for (const auto& r : lease.classless_routes) {
    if (r.prefix_length == 0) continue;
    std::string destination = r.destination.to_string() + "/" + std::to_string(r.prefix_length);
    if (r.router.is_unspecified()) routes.emplace_back(json::object{{"Destination", destination}, {"RouteType", 1}});
    else routes.emplace_back(json::object{{"Destination", destination}, {"RouteType", 0}, {"NextHop", r.router.to_string()}});
  }
  // The routes the host has through the bridge (other subnets of the LAN), unless skip_routes.
  if (!options.skip_routes) {
    if (auto host = kernel.host_netlink()) {
      if (auto host_routes = (*host)->routes(false)) {
        std::uint32_t own = lease.address.to_u32() & prefix_netmask(lease.prefix_length).to_u32();
        for (const auto& r : *host_routes) {
          if (r.oif != endpoint.config().bridge_index || r.destination.prefix_length == 0) continue;
          if (r.destination.v4_address.to_u32() == own && r.destination.prefix_length == lease.prefix_length) continue;
          std::string destination = r.destination.to_string();
          if (r.gateway4) routes.emplace_back(json::object{{"Destination", destination}, {"RouteType", 0}, {"NextHop", r.gateway4->to_string()}});
          else routes.emplace_back(json::object{{"Destination", destination}, {"RouteType", 1}});
        }
      }
    }
  }
  if (!routes.empty()) reply["StaticRoutes"] = std::move(routes);
}

}  // namespace

asio::awaitable<DriverResult<json::object>> Driver::join(const json::object& request) {
  std::string endpoint_id = string_field(request, "EndpointID");
  std::string sandbox = string_field(request, "SandboxKey");
  auto it = endpoints_.find(endpoint_id);
  if (it == endpoints_.end() || it->second->phase() == EndpointPhase::Creating)
    co_return bad_request("endpoint " + endpoint_id.substr(0, 12) + " is not known to net-dhcp (the daemon restarted?)");
  auto joined = it->second;
  const auto& endpoint = *joined;
  const auto& options = endpoint.config().options;
  json::object reply;
  reply["InterfaceName"] = json::object{{"SrcName", endpoint.container_end()}, {"DstPrefix", options.interface_prefix}};
  // No IPv6 gateway: the container's IPv6 default route comes from the router's advertisements.
  // An IPv6-only endpoint (no DHCPv4 lease) gets no IPv4 gateway or routes either, and so does
  // one whose lease ran out since CreateEndpoint (a re-adopted one, say): refusing would fail
  // the container, while its client leases again and apply4() then sets address and gateway
  // inside the container.
  if (const auto& lease = endpoint.lease4()) add_ipv4_routes(*kernel_, endpoint, *lease, reply);
  // Never attach the container to docker_gwbridge behind the user's back.
  reply["DisableGatewayService"] = true;
  if (!sandbox.empty()) {
    joined->follow_into(sandbox);
    // The Joined record on disk before Docker moves the interface: after a kill -9 from then
    // on, re-adoption looks for it in the container, not in the host namespace. Not on disk:
    // the Join fails (Docker then deletes the endpoint, releasing the lease) rather than start
    // a container whose lease a restart would release under it.
    if (auto saved = co_await joined->save_durably(); !saved) {
      log::warning("endpoint " + endpoint_id.substr(0, 12) + ": Join refused: " + saved.error().message);
      co_return DriverError{500, saved.error().message};
    }
  }
  co_return reply;
}


DriverResult<json::object> Driver::leave(const json::object& request) {
  auto it = endpoints_.find(string_field(request, "EndpointID"));
  if (it != endpoints_.end()) {
    remember_identity(*it->second);  // before the leases go with the RELEASE
    it->second->leave();
  }
  return json::object{};
}

DriverResult<json::object> Driver::delete_endpoint(const json::object& request) {
  std::string endpoint_id = string_field(request, "EndpointID");
  auto it = endpoints_.find(endpoint_id);
  if (it != endpoints_.end()) {
    remember_identity(*it->second);  // a DeleteEndpoint without Leave (CreateEndpoint undone)
    it->second->remove();
    endpoints_.erase(it);
    store_.remove_endpoint(endpoint_id);
    log::info("endpoint " + endpoint_id.substr(0, 12) + " removed");
    release_memory();
  }
  return json::object{};
}

// glibc keeps freed memory in its arenas: a thousand endpoints deleted left the RSS where it
// was with all of them (test/e2e/scale.sh). Each time the endpoints fall to half of their peak
// the free memory goes back to the kernel: a handful of malloc_trim calls for a thousand
// deletions, none while the count is steady. The trim runs on the helper thread, queued behind
// the link deletions (and the socket closes of all but the last few) of the removed endpoints
// (src/support/background.hpp), when what those held is free too: at 1000, trimmed on the event
// loop even a second after the last DeleteEndpoint, 1.1 MB more stayed resident. The event loop
// does not do the trim's work (its own mallocs may wait on the arena's lock meanwhile).
void Driver::release_memory() {
  endpoints_peak_ = std::max(endpoints_peak_, endpoints_.size() + 1);
  if (endpoints_.size() * 2 > endpoints_peak_) return;
  run_later([] { ::malloc_trim(0); });
  endpoints_peak_ = endpoints_.size();
}

// Docker shows this with `docker network inspect --verbose` style tooling; the same facts as
// `net-dhcp status`.
DriverResult<json::object> Driver::endpoint_info(const json::object& request) {
  auto it = endpoints_.find(string_field(request, "EndpointID"));
  json::object value;
  if (it != endpoints_.end()) value = it->second->describe();
  return json::object{{"Value", std::move(value)}};
}

json::object Driver::status() const {
  json::array networks;
  for (const auto& [id, n] : networks_) {
    json::object network = network_to_json(n);
    json::array endpoints;
    for (const auto& [eid, e] : endpoints_)
      if (e->config().network_id == id) endpoints.emplace_back(e->describe());
    network["endpoints"] = std::move(endpoints);
    networks.emplace_back(std::move(network));
  }
  return json::object{{"version", NETDHCP_VERSION_STRING}, {"state_dir", state_dir_shown_.empty() ? store_.dir() : state_dir_shown_}, {"networks", std::move(networks)}};
}

std::string Driver::metrics_text() const {
  Metrics::Gauges g;
  g.networks = networks_.size();
  g.endpoints = endpoints_.size();
  for (const auto& [id, e] : endpoints_) {
    if (e->lease4()) ++g.leases4;
    if (e->lease6()) ++g.leases6;
    ++g.endpoints_by_mode[std::string(to_string(e->config().options.mode))];
  }
  return metrics_.render(g);
}

}  // namespace netdhcp
