// What the daemon keeps on disk so that a restart (SIGTERM, kill -9, an upgrade) carries on
// where it left: the networks Docker created (Docker sends CreateNetwork only once) and one
// record per endpoint (MAC, phase, the container's namespace, the leases). Every file is
// written atomically (temporary file, fsync, rename); a file that cannot be read is moved
// aside as NAME.corrupt and reported, never a reason not to start. Endpoint records are
// written off the event loop, in batches (state_writer.hpp).
//
// Layout:  STATE_DIR/networks.json   STATE_DIR/endpoints/<endpoint id>.json
//          STATE_DIR/identities.json (the addresses each identity= had, per LAN)
#pragma once

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dhcp/dhcp4_client.hpp"
#include "dhcp/dhcp6_client.hpp"
#include "netdhcp/result.hpp"
#include "src/state/endpoint_options.hpp"
#include "src/state/network_options.hpp"
#include "src/state/state_writer.hpp"

namespace netdhcp {

namespace json = boost::json;

struct Network {
  std::string id;
  NetworkOptions options;
  // CreateNetwork made the 802.1q sub-interface parent=IF.VID: it goes with the last network on
  // it, as with Docker's macvlan driver.
  bool created_vlan = false;
};

// How far an endpoint got. A record is written *before* the links are made, so that a
// kill -9 in the middle of CreateEndpoint leaves a note of what to clean.
enum class EndpointPhase {
  Creating,  // CreateEndpoint has not answered yet: links may exist, Docker has no endpoint
  Created,   // answered with a lease; the container end is still in the host namespace
  Joined,    // Join answered; the interface lives in the container's namespace (sandbox_key)
  Left,      // Leave released the leases; only DeleteEndpoint (removing the links) is missing
};
std::string_view to_string(EndpointPhase phase);

struct EndpointRecord {
  std::string endpoint_id;
  std::string network_id;
  MacAddress mac;
  EndpointPhase phase = EndpointPhase::Creating;
  std::string sandbox_key;  // the container's netns file, once joined
  std::string hostname;     // the name last sent to the server ("" = the network's option)
  std::string container_id; // once known (for status and log lines)
  std::string interface;    // the interface's name inside the container
  EndpointOptions endpoint_options;  // identity=, hostname= (CreateEndpoint's options)
  std::optional<dhcp4::Lease> lease4;
  std::optional<dhcp6::Lease> lease6;
  int prefix6 = 128;
};

// The addresses an identity (the endpoint option identity=NAME) last had on a LAN (a bridge or
// parent), asked for again when a container with that identity is created anew: a server that
// forgot the client (Kea deletes a released lease) still gives the address back if it is free.
struct IdentityKey {
  std::string lan;       // NetworkOptions::lan_interface()
  std::string identity;
  auto operator<=>(const IdentityKey&) const = default;
};
struct IdentityAddresses {
  std::optional<Ipv4Address> v4;
  std::optional<Ipv6Address> v6;
  std::int64_t updated_unix_ms = 0;
};
using IdentityMemory = std::map<IdentityKey, IdentityAddresses>;
constexpr std::size_t kMaxRememberedIdentities = 4096;  // the oldest are forgotten first

// Leases hold steady-clock times; on disk they are wall-clock (Unix milliseconds), so that
// they still mean something after a reboot.
json::object lease_to_json(const dhcp4::Lease& lease);
json::object lease_to_json(const dhcp6::Lease& lease);
Result<dhcp4::Lease> lease4_from_json(const json::value& value);
Result<dhcp6::Lease> lease6_from_json(const json::value& value);

json::object record_to_json(const EndpointRecord& record);
Result<EndpointRecord> record_from_json(const json::value& value);

json::object network_to_json(const Network& network);
Result<Network> network_from_json(const json::value& value);

// Steady-clock time as Unix milliseconds, and as "2026-11-28T10:52:31Z".
std::int64_t to_unix_ms(TimePoint t);
std::string utc_time(TimePoint t);

class StateStore {
 public:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}

  // Creates the directories. Errors: mkdir failed (e.g. a read-only file system).
  Result<void> prepare() const;

  // Written at once, on the calling thread: CreateNetwork and DeleteNetwork are rare.
  Result<void> save_networks(const std::map<std::string, Network>& networks) const;
  // Written at once, on the calling thread (tests, tools).
  Result<void> save_endpoint(const EndpointRecord& record) const;
  // Queued for the writer thread; `done` runs there once the record is on disk (or failed).
  // A record queued again before it was written is written once, with its latest content.
  void queue_endpoint(const EndpointRecord& record, StateWriter::Done done = {}) const;
  // Written and renamed on the calling thread when nothing of it is queued (StateWriter::
  // write_now: `done` runs before this returns), else queued as above; the syncs follow on the
  // writer thread. For a caller that waits for `done` anyway.
  void write_endpoint_now(const EndpointRecord& record, StateWriter::Done done) const;
  // Queued with no hurry: on disk within `within` (StateWriter::write_later), for a record whose
  // change a kill -9 may lose (a renewal of the same address).
  void queue_endpoint_later(const EndpointRecord& record, std::chrono::milliseconds within) const;
  // Queued likewise, after any queued write of the same record.
  void remove_endpoint(const std::string& endpoint_id) const;
  // Queued likewise: the whole identities.json (small: at most kMaxRememberedIdentities).
  void queue_identities(const IdentityMemory& memory) const;
  // Blocks until everything queued is on disk (SIGTERM).
  void flush() const { writer_->flush(); }
  StateWriter::Stats writer_stats() const { return writer_->stats(); }

  // What the last run left. Files that cannot be used are moved aside and described in
  // `problems` (one line each, naming the file).
  struct Loaded {
    std::map<std::string, Network> networks;
    std::vector<EndpointRecord> endpoints;
    std::vector<std::string> problems;
    std::vector<std::string> unreadable_endpoints;  // ids (from file names) of records set aside
    // False when the endpoints folder could not be listed (whole): then no one may conclude
    // that an endpoint has no record.
    bool endpoints_listed = true;
    IdentityMemory identities;
  };
  Loaded load() const;

  const std::string& dir() const { return dir_; }

 private:
  std::string endpoint_path(const std::string& endpoint_id) const;
  std::string dir_;
  std::shared_ptr<StateWriter> writer_ = std::make_shared<StateWriter>();
};

// Writes `text` to `path` atomically: PATH.tmp, fsync, rename (and fsync of the directory).
Result<void> write_file_atomically(const std::string& path, std::string_view text);

}  // namespace netdhcp
