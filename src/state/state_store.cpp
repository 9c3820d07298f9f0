#include "src/state/state_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "netdhcp/unique_fd.hpp"
#include "src/state/lease_json.hpp"

namespace netdhcp {

namespace {

using std::chrono::milliseconds;

// Unix milliseconds -> steady-clock time, through the current offset of the two clocks.
TimePoint from_unix_ms(std::int64_t ms) {
  auto wall = std::chrono::system_clock::time_point(milliseconds(ms));
  return Clock::now() + std::chrono::duration_cast<Duration>(wall - std::chrono::system_clock::now());
}

// Reading with a first error that names the field.
struct Reader {
  const json::object* object = nullptr;
  std::string error;

  const json::value* field(const char* key) {
    const json::value* v = object->if_contains(key);
    if (!v && error.empty()) error = std::string("missing field ") + key;
    return v;
  }
  std::string string(const char* key, bool required = true) {
    const json::value* v = required ? field(key) : object->if_contains(key);
    if (!v) return {};
    if (!v->is_string()) {
      if (error.empty()) error = std::string("field ") + key + " is not a string";
      return {};
    }
    return std::string(v->as_string());
  }
  std::int64_t integer(const char* key, bool required = true) {
    const json::value* v = required ? field(key) : object->if_contains(key);
    if (!v) return 0;
    if (!v->is_int64() && !v->is_uint64()) {
      if (error.empty()) error = std::string("field ") + key + " is not an integer";
      return 0;
    }
    return v->is_int64() ? v->as_int64() : static_cast<std::int64_t>(v->as_uint64());
  }
  template <class Address>
  Address address(const char* key, bool required = true) {
    std::string text = string(key, required);
    if (text.empty()) return {};
    auto parsed = Address::parse(text);
    if (!parsed) {
      if (error.empty()) error = std::string("field ") + key + " is not an address: " + text;
      return {};
    }
    return *parsed;
  }
  template <class Address>
  std::vector<Address> addresses(const char* key) {
    std::vector<Address> out;
    const json::value* v = object->if_contains(key);
    if (!v || !v->is_array()) return out;
    for (const auto& item : v->as_array())
      if (item.is_string())
        if (auto a = Address::parse(std::string(item.as_string()))) out.push_back(*a);
    return out;
  }
  std::vector<std::string> strings(const char* key) {
    std::vector<std::string> out;
    const json::value* v = object->if_contains(key);
    if (!v || !v->is_array()) return out;
    for (const auto& item : v->as_array())
      if (item.is_string()) out.emplace_back(item.as_string());
    return out;
  }
};

template <class Address>
json::array address_list(const std::vector<Address>& list) {
  json::array out;
  for (const auto& a : list) out.emplace_back(a.to_string());
  return out;
}

json::array string_list(const std::vector<std::string>& list) {
  json::array out;
  for (const auto& s : list) out.emplace_back(s);
  return out;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return system_error("reading " + path, errno);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<void> make_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) < 0 && errno != EEXIST) return system_error("creating " + path, errno);
  return {};
}

// A file that cannot be used: keep it for a post-mortem, out of the way of the next start.
std::string set_aside(const std::string& path, const std::string& why) {
  std::string moved = path + ".corrupt";
  if (::rename(path.c_str(), moved.c_str()) < 0) moved = path + " (could not be moved aside)";
  return path + ": " + why + "; moved to " + moved;
}

}  // namespace

std::int64_t to_unix_ms(TimePoint t) {
  auto wall = std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - Clock::now());
  return std::chrono::duration_cast<milliseconds>(wall.time_since_epoch()).count();
}

std::string utc_time(TimePoint t) {
  std::time_t seconds = static_cast<std::time_t>(to_unix_ms(t) / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string_view to_string(EndpointPhase phase) {
  switch (phase) {
    case EndpointPhase::Creating: return "creating";
    case EndpointPhase::Created: return "created";
    case EndpointPhase::Joined: return "joined";
    case EndpointPhase::Left: return "left";
  }
  return "?";
}

json::object lease_to_json(const dhcp4::Lease& l) {
  json::object o{{"address", l.address.to_string()},
                 {"prefix_length", l.prefix_length},
                 {"server_id", l.server_id.to_string()},
                 {"lease_time", l.lease_time.count()},
                 {"t1", l.t1.count()},
                 {"t2", l.t2.count()},
                 {"acquired_at_unix_ms", to_unix_ms(l.acquired_at)}};
  lease_options_to_json(l, o);
  return o;
}

json::object lease_to_json(const dhcp6::Lease& l) {
  return json::object{{"address", l.address.to_string()},
                      {"preferred_lifetime", l.preferred_lifetime.count()},
                      {"valid_lifetime", l.valid_lifetime.count()},
                      {"t1", l.t1.count()},
                      {"t2", l.t2.count()},
                      {"iaid", l.iaid},
                      {"server_duid", hex(l.server_duid)},
                      {"server_address", l.server_address.to_string()},
                      {"dns_servers", address_list(l.dns_servers)},
                      {"search_domains", string_list(l.search_domains)},
                      {"acquired_at_unix_ms", to_unix_ms(l.acquired_at)}};
}

Result<dhcp4::Lease> lease4_from_json(const json::value& value) {
  if (!value.is_object()) return Error{"the DHCPv4 lease is not an object"};
  Reader r{&value.as_object(), {}};
  dhcp4::Lease l;
  l.address = r.address<Ipv4Address>("address");
  l.prefix_length = static_cast<int>(r.integer("prefix_length"));
  l.server_id = r.address<Ipv4Address>("server_id");
  l.lease_time = Seconds(r.integer("lease_time"));
  l.t1 = Seconds(r.integer("t1"));
  l.t2 = Seconds(r.integer("t2"));
  l.acquired_at = from_unix_ms(r.integer("acquired_at_unix_ms"));
  lease_options_from_json(value.as_object(), l);
  if (!r.error.empty()) return Error{"DHCPv4 lease: " + r.error};
  if (l.prefix_length < 0 || l.prefix_length > 32) return Error{"DHCPv4 lease: prefix_length out of range"};
  return l;
}

Result<dhcp6::Lease> lease6_from_json(const json::value& value) {
  if (!value.is_object()) return Error{"the DHCPv6 lease is not an object"};
  Reader r{&value.as_object(), {}};
  dhcp6::Lease l;
  l.address = r.address<Ipv6Address>("address");
  l.preferred_lifetime = Seconds(r.integer("preferred_lifetime"));
  l.valid_lifetime = Seconds(r.integer("valid_lifetime"));
  l.t1 = Seconds(r.integer("t1"));
  l.t2 = Seconds(r.integer("t2"));
  l.iaid = static_cast<std::uint32_t>(r.integer("iaid"));
  if (!parse_hex(r.string("server_duid"), l.server_duid) && r.error.empty()) r.error = "field server_duid is not hex";
  l.server_address = r.address<Ipv6Address>("server_address");
  l.dns_servers = r.addresses<Ipv6Address>("dns_servers");
  l.search_domains = r.strings("search_domains");
  l.acquired_at = from_unix_ms(r.integer("acquired_at_unix_ms"));
  if (!r.error.empty()) return Error{"DHCPv6 lease: " + r.error};
  return l;
}

json::object record_to_json(const EndpointRecord& e) {
  json::object o{{"version", 1},
                 {"endpoint_id", e.endpoint_id},
                 {"network_id", e.network_id},
                 {"mac", e.mac.to_string()},
                 {"phase", std::string(to_string(e.phase))},
                 {"sandbox_key", e.sandbox_key},
                 {"hostname", e.hostname},
                 {"container_id", e.container_id},
                 {"interface", e.interface},
                 {"prefix6", e.prefix6}};
  if (!e.endpoint_options.empty()) o["endpoint_options"] = endpoint_options_to_json(e.endpoint_options);
  if (e.lease4) o["lease4"] = lease_to_json(*e.lease4);
  if (e.lease6) o["lease6"] = lease_to_json(*e.lease6);
  return o;
}

Result<EndpointRecord> record_from_json(const json::value& value) {
  if (!value.is_object()) return Error{"not a JSON object"};
  const auto& o = value.as_object();
  Reader r{&o, {}};
  EndpointRecord e;
  if (r.integer("version") != 1 && r.error.empty()) r.error = "unknown version (written by a newer net-dhcp?)";
  e.endpoint_id = r.string("endpoint_id");
  e.network_id = r.string("network_id");
  e.mac = r.address<MacAddress>("mac");
  std::string phase = r.string("phase");
  if (phase == "creating") e.phase = EndpointPhase::Creating;
  else if (phase == "created") e.phase = EndpointPhase::Created;
  else if (phase == "joined") e.phase = EndpointPhase::Joined;
  else if (phase == "left") e.phase = EndpointPhase::Left;
  else if (r.error.empty()) r.error = "unknown phase " + phase;
  e.sandbox_key = r.string("sandbox_key", false);
  e.hostname = r.string("hostname", false);
  e.container_id = r.string("container_id", false);
  e.interface = r.string("interface", false);
  e.prefix6 = static_cast<int>(r.integer("prefix6", false));
  if (e.prefix6 <= 0 || e.prefix6 > 128) e.prefix6 = 128;
  if (!r.error.empty()) return Error{r.error};
  if (e.endpoint_id.empty() || e.network_id.empty()) return Error{"empty endpoint_id or network_id"};
  if (auto* eo = o.if_contains("endpoint_options")) {
    auto options = endpoint_options_from_json(*eo);
    if (!options) return options.error();
    e.endpoint_options = std::move(*options);
  }
  if (auto* l = o.if_contains("lease4")) {
    auto lease = lease4_from_json(*l);
    if (!lease) return lease.error();
    e.lease4 = *lease;
  }
  if (auto* l = o.if_contains("lease6")) {
    auto lease = lease6_from_json(*l);
    if (!lease) return lease.error();
    e.lease6 = *lease;
  }
  return e;
}

json::object network_to_json(const Network& n) {
  const auto& o = n.options;
  json::object generic;
  for (const auto& [key, value] : network_options_to_generic(o)) generic[key] = value;
  generic["ipv4"] = o.ipv4 ? "true" : "false";
  json::object network{{"id", n.id}, {"options", std::move(generic)}};
  if (n.created_vlan) network["created_vlan"] = true;
  return network;
}

Result<Network> network_from_json(const json::value& value) {
  if (!value.is_object()) return Error{"a network is not a JSON object"};
  Reader r{&value.as_object(), {}};
  std::string id = r.string("id");
  std::map<std::string, std::string> generic;
  if (auto* o = value.as_object().if_contains("options"); o && o->is_object())
    for (const auto& [k, val] : o->as_object())
      if (val.is_string()) generic[std::string(k)] = std::string(val.as_string());
  if (!r.error.empty() || id.empty()) return Error{"a network without an id"};
  // Not an -o option: Docker's --ipv4=false, kept here (files written before it have none).
  bool ipv4 = true;
  if (auto it = generic.find("ipv4"); it != generic.end()) {
    if (it->second != "true" && it->second != "false")
      return Error{"network " + id.substr(0, 12) + ": ipv4 is \"" + it->second + "\", not true or false"};
    ipv4 = it->second == "true";
    generic.erase(it);
  }
  auto options = parse_network_options(generic);
  if (!options) return Error{"network " + id.substr(0, 12) + ": " + options.error().message};
  options->ipv4 = ipv4;
  Network network{id, *options};
  if (auto* made = value.as_object().if_contains("created_vlan"); made && made->is_bool()) network.created_vlan = made->as_bool();
  return network;
}

Result<void> write_file_atomically(const std::string& path, std::string_view text) {
  std::string temporary = path + ".tmp";
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return system_error("writing " + temporary, errno);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd.get()) < 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    return system_error("writing " + temporary, saved);
  }
  fd.reset();
  if (::rename(temporary.c_str(), path.c_str()) < 0) return system_error("renaming " + temporary, errno);
  // The rename itself reaches the disk with the directory.
  auto slash = path.rfind('/');
  UniqueFd dir(::open(slash == std::string::npos ? "." : path.substr(0, slash).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) ::fsync(dir.get());
  return {};
}

Result<void> StateStore::prepare() const {
  if (auto r = make_directory(dir_); !r) return r;
  return make_directory(dir_ + "/endpoints");
}

std::string StateStore::endpoint_path(const std::string& endpoint_id) const {
  return dir_ + "/endpoints/" + endpoint_id + ".json";
}

Result<void> StateStore::save_networks(const std::map<std::string, Network>& networks) const {
  json::array list;
  for (const auto& [id, n] : networks) list.emplace_back(network_to_json(n));
  return write_file_atomically(dir_ + "/networks.json", json::serialize(json::object{{"networks", std::move(list)}}));
}

void StateStore::queue_identities(const IdentityMemory& memory) const {
  json::array list;
  for (const auto& [key, a] : memory) {
    json::object o{{"lan", key.lan}, {"identity", key.identity}, {"updated_at_unix_ms", a.updated_unix_ms}};
    if (a.v4) o["ipv4"] = a.v4->to_string();
    if (a.v6) o["ipv6"] = a.v6->to_string();
    list.emplace_back(std::move(o));
  }
  writer_->write(dir_ + "/identities.json", json::serialize(json::object{{"version", 1}, {"identities", std::move(list)}}));
}

Result<void> StateStore::save_endpoint(const EndpointRecord& record) const {
  return write_file_atomically(endpoint_path(record.endpoint_id), json::serialize(record_to_json(record)));
}

void StateStore::queue_endpoint(const EndpointRecord& record, StateWriter::Done done) const {
  writer_->write(endpoint_path(record.endpoint_id), json::serialize(record_to_json(record)), std::move(done));
}

void StateStore::write_endpoint_now(const EndpointRecord& record, StateWriter::Done done) const {
  writer_->write_now(endpoint_path(record.endpoint_id), json::serialize(record_to_json(record)), std::move(done));
}

void StateStore::queue_endpoint_later(const EndpointRecord& record, std::chrono::milliseconds within) const {
  writer_->write_later(endpoint_path(record.endpoint_id), json::serialize(record_to_json(record)), within);
}

void StateStore::remove_endpoint(const std::string& endpoint_id) const { writer_->remove(endpoint_path(endpoint_id)); }

StateStore::Loaded StateStore::load() const {
  Loaded loaded;
  std::string networks_path = dir_ + "/networks.json";
  if (auto text = read_file(networks_path)) {
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (ec || !v.is_object() || !v.as_object().contains("networks") || !v.at("networks").is_array()) {
      loaded.problems.push_back(set_aside(networks_path, ec ? ec.message() : "not a networks object") +
                                "; Docker's networks on net-dhcp must be re-created (docker network rm/create)");
    } else {
      for (const auto& n : v.at("networks").as_array()) {
        auto network = network_from_json(n);
        if (!network) loaded.problems.push_back(networks_path + ": " + network.error().message + "; skipped");
        else loaded.networks[network->id] = *network;
      }
    }
  }
  std::string identities_path = dir_ + "/identities.json";
  if (auto text = read_file(identities_path)) {
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (ec || !v.is_object() || !v.as_object().contains("identities") || !v.at("identities").is_array()) {
      loaded.problems.push_back(set_aside(identities_path, ec ? ec.message() : "not an identities object") +
                                "; containers with identity= may get other addresses once");
    } else {
      for (const auto& item : v.at("identities").as_array()) {
        if (!item.is_object()) continue;
        Reader r{&item.as_object(), {}};
        IdentityKey key{r.string("lan"), r.string("identity")};
        IdentityAddresses a;
        if (auto text4 = r.string("ipv4", false); !text4.empty()) a.v4 = Ipv4Address::parse(text4);
        if (auto text6 = r.string("ipv6", false); !text6.empty()) a.v6 = Ipv6Address::parse(text6);
        a.updated_unix_ms = r.integer("updated_at_unix_ms", false);
        if (!r.error.empty() || key.lan.empty() || key.identity.empty()) {
          loaded.problems.push_back(identities_path + ": an entry is unusable (" +
                                    (r.error.empty() ? std::string("empty lan or identity") : r.error) + "); skipped");
          continue;
        }
        loaded.identities[key] = a;
      }
    }
  }
  std::string endpoints_dir = dir_ + "/endpoints";
  DIR* dir = ::opendir(endpoints_dir.c_str());
  if (!dir) {
    loaded.endpoints_listed = false;
    loaded.problems.push_back("listing " + endpoints_dir + ": " + std::strerror(errno) +
                              "; no endpoint is re-adopted (make the folder readable and restart net-dhcp)");
    return loaded;
  }
  std::vector<std::string> names;
  errno = 0;
  while (auto* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name.size() > 5 && name.ends_with(".json")) names.push_back(name);
    else if (name.ends_with(".json.tmp")) ::unlinkat(::dirfd(dir), name.c_str(), 0);  // a write cut short
    errno = 0;
  }
  if (errno != 0) {
    loaded.endpoints_listed = false;
    loaded.problems.push_back("listing " + endpoints_dir + ": " + std::strerror(errno) + "; some endpoints may not be re-adopted");
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string path = endpoints_dir + "/" + name;
    std::string id = name.substr(0, name.size() - 5);
    auto unusable = [&](const std::string& why) {
      loaded.problems.push_back(set_aside(path, why));
      loaded.unreadable_endpoints.push_back(id);
    };
    auto text = read_file(path);
    if (!text) {
      unusable(text.error().message);
      continue;
    }
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (ec) {
      unusable("not JSON (" + ec.message() + ")");
      continue;
    }
    auto record = record_from_json(v);
    if (!record) {
      unusable(record.error().message);
      continue;
    }
    if (record->endpoint_id != id) {
      unusable("holds endpoint " + record->endpoint_id.substr(0, 12));
      continue;
    }
    loaded.endpoints.push_back(std::move(*record));
  }
  return loaded;
}

}  // namespace netdhcp
