// An Endpoint from CreateEndpoint to DeleteEndpoint, and after a restart, on a real io_context
// over the fake kernel (test/unit/fake_kernel.hpp): the test plays the DHCP server and Docker.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "src/endpoint/endpoint.hpp"
#include "src/support/log_throttle.hpp"
#include "test/unit/fake_kernel.hpp"
#include "test/unit/helpers.hpp"

using namespace netdhcp;
using namespace netdhcp::test;
using namespace std::chrono_literals;

namespace {

const std::string kEndpointId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kContainerEnd = "dc-0123456789ab";
const std::string kSandbox = "/var/run/docker/netns/0a1b2c3d4e5f";

struct EndpointFixture {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::shared_ptr<FakeKernel> kernel = std::make_shared<FakeKernel>();
  Metrics metrics;
  std::vector<EndpointPhase> phases;  // every record persisted, in order
  std::vector<std::chrono::milliseconds> withins;  // how long each of them could wait (zero: now)
  std::optional<EndpointRecord> last_record;

  EndpointFixture() { kernel->add_bridge("br-test"); }

  std::shared_ptr<Endpoint> make(NetworkOptions options = default_options()) {
    EndpointConfig config{"net1", kEndpointId, options, kernel->host_links["br-test"].index, 1500,
                          *MacAddress::parse("02:00:00:00:05:01"), 30s, kernel, {}, {}, {}, {}};
    auto endpoint = std::make_shared<Endpoint>(io.get_executor(), config);
    endpoint->set_persist(persist_to([this](const EndpointRecord& r, std::chrono::milliseconds within) {
      phases.push_back(r.phase);
      withins.push_back(within);
      last_record = r;
      kernel->log.push_back("persist " + std::string(to_string(r.phase)));
    }));
    endpoint->set_metrics(&metrics);
    return endpoint;
  }
  static NetworkOptions default_options() {
    NetworkOptions o;
    o.bridge = "br-test";
    o.firewall_check = false;
    return o;
  }
  // An endpoint that got its lease from the fake server (CreateEndpoint answered).
  std::shared_ptr<Endpoint> created(NetworkOptions options = default_options(), const Offer4& offer = {});
};

// Named coroutines, not lambdas: what they write to outlives them.
asio::awaitable<void> create_into(std::shared_ptr<Endpoint> endpoint, std::optional<Result<void>>& out) {
  out.emplace(co_await endpoint->create());
}
asio::awaitable<void> readopt_into(std::shared_ptr<Endpoint> endpoint, EndpointRecord record, Duration delay,
                                   std::optional<bool>& out) {
  out = co_await endpoint->readopt(std::move(record), delay);
}

std::shared_ptr<Endpoint> EndpointFixture::created(NetworkOptions options, const Offer4& offer) {
  auto endpoint = make(options);
  std::optional<Result<void>> result;
  asio::co_spawn(io, create_into(endpoint, result), asio::detached);
  serve_dhcp4(io, *kernel, offer);
  REQUIRE(run_until(io, [&] { return result.has_value(); }));
  REQUIRE(result->ok());
  return endpoint;
}

std::ptrdiff_t position(const std::vector<std::string>& log, const std::string& line) {
  auto it = std::find(log.begin(), log.end(), line);
  return it == log.end() ? -1 : it - log.begin();
}

// The record a Created endpoint left before a restart: leased 198.18.0.42/24 a minute ago.
EndpointRecord created_record(EndpointPhase phase) {
  EndpointRecord record;
  record.endpoint_id = kEndpointId;
  record.network_id = "net1";
  record.mac = *MacAddress::parse("02:00:00:00:05:01");
  record.phase = phase;
  dhcp4::Lease lease;
  lease.address = *Ipv4Address::parse("198.18.0.42");
  lease.prefix_length = 24;
  lease.server_id = *Ipv4Address::parse("198.18.0.1");
  lease.routers = {*Ipv4Address::parse("198.18.0.1")};
  lease.lease_time = Seconds(3600);
  lease.t1 = Seconds(1800);
  lease.t2 = Seconds(3150);
  lease.acquired_at = Clock::now() - 60s;
  record.lease4 = lease;
  return record;
}

// Join as Docker drives it, in one step: the container's namespace with FACTS, the endpoint
// following into it, the link moved there, and the client's socket opened inside.
std::shared_ptr<FakeNamespaceState> joined(EndpointFixture& f, Endpoint& endpoint, ContainerFacts facts) {
  auto ns = f.kernel->start_container(kSandbox);
  ns->facts = std::move(facts);
  endpoint.follow_into(kSandbox);
  f.kernel->move_link(kContainerEnd, kSandbox);
  REQUIRE(run_until(f.io, [&] { return f.kernel->wires4.size() == 2; }));
  return ns;
}

// What log lines the daemon writes to stderr while it lives.
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    saved_ = ::dup(2);
    std::FILE* file = std::tmpfile();
    REQUIRE(file);
    file_ = file;
    ::dup2(::fileno(file_), 2);
  }
  ~StderrCapture() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    std::fclose(file_);
  }
  std::string text() {
    std::fflush(stderr);
    std::string out;
    std::rewind(file_);
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, file_)) out.append(buffer, n);
    return out;
  }

 private:
  int saved_ = -1;
  std::FILE* file_ = nullptr;
};

// A status field as text (json::value compares with string literals only).
std::string text(const boost::json::value& v) { return v.is_string() ? std::string(v.as_string()) : serialize(v); }

std::size_t count_lines(const std::string& text, const std::string& part) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find(part) != std::string::npos) ++n;
  return n;
}

}  // namespace

// CreateEndpoint: DISCOVER, OFFER, REQUEST, ACK on the container end in the host namespace;
// the record says Creating before the links exist (a kill -9 must leave a note) and Created
// once the lease is there.
TEST_CASE("endpoint create leases through the fake server and persists Creating before the links", "[endpoint]") {
  EndpointFixture f;
  auto endpoint = f.created();
  const auto& log = f.kernel->log;
  auto creating = position(log, "persist creating");
  auto links = position(log, "attachment create " + kContainerEnd);
  auto created = position(log, "persist created");
  REQUIRE(creating >= 0);
  CHECK(creating < links);
  CHECK(links < created);
  CHECK(f.phases.front() == EndpointPhase::Creating);
  CHECK(f.phases.back() == EndpointPhase::Created);
  CHECK(std::count(f.phases.begin(), f.phases.end(), EndpointPhase::Created) == 1);
  auto wire = f.kernel->last_wire4();
  CHECK(wire->where == "host");
  CHECK(wire->interface.name == kContainerEnd);
  CHECK(count_sent(*wire, dhcp4::MessageType::Discover) == 1);
  CHECK(count_sent(*wire, dhcp4::MessageType::Request) == 1);
  REQUIRE(endpoint->lease4());
  CHECK(endpoint->lease4()->address == *Ipv4Address::parse("198.18.0.42"));
  auto status = endpoint->describe();
  CHECK(status.at("phase") == "created");
  CHECK(status.at("ipv4").at("address") == "198.18.0.42/24");
  CHECK(status.at("ipv4").at("gateway") == "198.18.0.1");
  CHECK(status.at("ipv4").at("send_errors") == 0);
  CHECK(status.at("failed") == false);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 0);
}

// lease_timeout passes with an OFFER but no ACK: the error counts what went each way, and the
// links are gone (once).
TEST_CASE("endpoint create without a lease in time says what was sent and received, and removes the links",
          "[endpoint]") {
  EndpointFixture f;
  NetworkOptions options = EndpointFixture::default_options();
  options.lease_timeout = 300ms;
  auto endpoint = f.make(options);
  std::optional<Result<void>> result;
  asio::co_spawn(f.io, create_into(endpoint, result), asio::detached);
  REQUIRE(run_until(f.io, [&] { return f.kernel->last_wire4() && !f.kernel->last_wire4()->sent.empty(); }));
  auto wire = f.kernel->last_wire4();
  wire->reply(server_reply4(wire->sent.front(), dhcp4::MessageType::Offer));  // and then silence
  REQUIRE(run_until(f.io, [&] { return result.has_value(); }));
  REQUIRE_FALSE(result->ok());
  std::string discovers = std::to_string(count_sent(*wire, dhcp4::MessageType::Discover));
  CHECK_THAT(result->error().message,
             Catch::StartsWith("no DHCPv4 lease on bridge br-test within 0.3 s (" + discovers +
                               " DHCPDISCOVERs sent, 1 offers, 0 NAKs received)."));
  CHECK(count_sent(*wire, dhcp4::MessageType::Request) >= 1);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
  CHECK(f.kernel->probes == 0);  // something answered: not the firewall
  CHECK(f.phases == std::vector{EndpointPhase::Creating, EndpointPhase::Left});
}

// Nothing at all came back: the bridge is probed again and the error says it passes.
TEST_CASE("endpoint create with a silent LAN probes the firewall again", "[endpoint]") {
  EndpointFixture f;
  NetworkOptions options = EndpointFixture::default_options();
  options.lease_timeout = 300ms;
  options.firewall_check = true;
  auto endpoint = f.make(options);
  std::optional<Result<void>> result;
  asio::co_spawn(f.io, create_into(endpoint, result), asio::detached);
  REQUIRE(run_until(f.io, [&] { return result.has_value(); }));
  REQUIRE_FALSE(result->ok());
  CHECK_THAT(result->error().message, Catch::Contains("0 offers, 0 NAKs received"));
  CHECK_THAT(result->error().message, Catch::Contains("Bridged traffic passes the host firewall (checked just now)"));
  CHECK(f.kernel->probes == 1);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
}

// The links cannot be made: nothing runs, nothing is removed that was not made.
TEST_CASE("endpoint create reports a failed attachment", "[endpoint]") {
  EndpointFixture f;
  f.kernel->fail_attachment = Error{"RTM_NEWLINK veth dh-0123456789ab: File exists", EEXIST};
  auto endpoint = f.make();
  std::optional<Result<void>> result;
  asio::co_spawn(f.io, create_into(endpoint, result), asio::detached);
  REQUIRE(run_until(f.io, [&] { return result.has_value(); }));
  REQUIRE_FALSE(result->ok());
  CHECK(result->error().message == "creating the interfaces for the container: RTM_NEWLINK veth dh-0123456789ab: File exists");
  CHECK(f.kernel->wires4.empty());
}

// A container whose /etc/hostname is unusable (a FIFO, a huge file, not a hostname): the
// endpoint says why in status and the log, learns the container's id, and sends no hostname.
TEST_CASE("endpoint warns about a container's unusable /etc/hostname and sends none", "[endpoint]") {
  EndpointFixture f;
  auto endpoint = f.created();
  joined(f, *endpoint, ContainerFacts{"", std::string(64, 'e'), "/etc/hostname is a FIFO, not a regular file"});
  REQUIRE(run_until(f.io, [&] { return std::string(endpoint->describe().at("container_id").as_string()) == std::string(64, 'e'); }));
  auto status = endpoint->describe();
  CHECK(std::string(status.at("last_error").as_string()) ==
        "the container's /etc/hostname is a FIFO, not a regular file: not sent to the DHCP server");
  CHECK(status.at("hostname") == "");
  // No renewal was started for a hostname.
  f.io.run_for(std::chrono::milliseconds(50));
  CHECK(count_sent(*f.kernel->last_wire4(), dhcp4::MessageType::Request) == 0);
}

// Join: once Docker has moved the interface, the same client carries on from a socket inside
// the container; the container's hostname makes it renew there, and when the server moves it
// to another address the container's address and default route follow.
TEST_CASE("endpoint follows into the container and applies the lease there", "[endpoint]") {
  EndpointFixture f;
  auto endpoint = f.created();
  CHECK(f.kernel->background_calls == 0);  // what CreateEndpoint waits for stays on the loop (off_loop.hpp)
  auto ns = f.kernel->start_container(kSandbox);
  ns->facts = ContainerFacts{"web", std::string(64, 'c'), ""};
  endpoint->follow_into(kSandbox);
  CHECK(f.phases.back() == EndpointPhase::Joined);
  f.io.poll();  // following: the namespace is there, the interface not yet
  CHECK(f.kernel->wires4.size() == 1);
  f.kernel->move_link(kContainerEnd, kSandbox);  // Docker moves it after Join returns
  REQUIRE(run_until(f.io, [&] { return f.kernel->wires4.size() == 2; }));
  auto inside = f.kernel->last_wire4();
  CHECK(inside->where == kSandbox);
  CHECK(inside->interface.name == "eth0");
  // What the host end learnt from the server's replies: renewals from inside go to its MAC.
  CHECK(f.kernel->wires4.front()->neighbours.entries() == std::vector{std::pair{kFakeServerIp, kFakeServerMac}});
  CHECK(inside->neighbours.entries() == f.kernel->wires4.front()->neighbours.entries());
  CHECK(run_until(f.io, [&] { return f.kernel->wires4.front()->closed; }));
  // The hostname goes to the server in a renewal from inside.
  REQUIRE(run_until(f.io, [&] { return count_sent(*inside, dhcp4::MessageType::Request) == 1; }));
  auto renewal = dhcp4::parse(inside->sent.back().payload).value();
  CHECK(renewal.string_option(dhcp4::option::HostName) == "web");
  Offer4 moved;
  moved.address = *Ipv4Address::parse("198.18.0.43");
  inside->reply(server_reply4(inside->sent.back(), dhcp4::MessageType::Ack, moved));
  REQUIRE(run_until(f.io, [&] { return !ns->plans.empty(); }));
  CHECK(ns->plans[0].first == 2);  // the moved link's index
  CHECK(ns->plans[0].second == plan_lease4(created_record(EndpointPhase::Created).lease4, endpoint->lease4(), std::nullopt));
  CHECK(to_string(ns->plans[0].second.at(0)) == "address 198.18.0.43/24");
  auto status = endpoint->describe();
  CHECK(status.at("followed") == true);
  CHECK(status.at("interface") == "eth0");
  CHECK(status.at("hostname") == "web");
  CHECK(text(status.at("container_id")) == std::string(64, 'c'));
  CHECK(status.at("ipv4").at("address") == "198.18.0.43/24");
  CHECK(status.at("last_error") == "");
  // The namespace's links and the container's /proc were read off the event loop.
  CHECK(f.kernel->background_calls >= 2);
}

// A renewal that keeps the address may wait to reach the disk (StateWriter::write_later): less
// than a quarter of the lease, so the lease on disk is still valid after a kill -9. One that
// moves the address is written at once, and so is every change of phase.
TEST_CASE("endpoint writes a renewal of the same address later, a new address at once", "[endpoint]") {
  EndpointFixture f;
  auto endpoint = f.created();
  auto ns = joined(f, *endpoint, ContainerFacts{"web", std::string(64, 'c'), ""});
  auto inside = f.kernel->last_wire4();
  for (auto w : f.withins) CHECK(w == 0ms);  // Creating, Created, Joined, followed: all at once
  // The hostname's renewal: the same address, a lease of 3600 s -> 30 s at most. (T1 of 1 s:
  // the next renewal comes by itself.)
  REQUIRE(run_until(f.io, [&] { return count_sent(*inside, dhcp4::MessageType::Request) == 1; }));
  std::size_t before = f.withins.size();
  Offer4 long_lease;
  long_lease.t1_seconds = 1;
  inside->reply(server_reply4(inside->sent.back(), dhcp4::MessageType::Ack, long_lease));
  REQUIRE(run_until(f.io, [&] { return f.withins.size() > before; }));
  CHECK(f.withins.back() == 30s);
  CHECK(f.phases.back() == EndpointPhase::Joined);
  // Renewed at T1 with a short lease: a quarter of it.
  REQUIRE(run_until(f.io, [&] { return count_sent(*inside, dhcp4::MessageType::Request) == 2; }));
  before = f.withins.size();
  Offer4 short_lease;
  short_lease.lease_seconds = 40;
  short_lease.t1_seconds = 1;
  inside->reply(server_reply4(inside->sent.back(), dhcp4::MessageType::Ack, short_lease));
  REQUIRE(run_until(f.io, [&] { return f.withins.size() > before; }));
  CHECK(f.withins.back() == 10s);
  // The server moves it at the next renewal: written at once.
  REQUIRE(run_until(f.io, [&] { return count_sent(*inside, dhcp4::MessageType::Request) == 3; }));
  before = f.withins.size();
  Offer4 moved;
  moved.address = *Ipv4Address::parse("198.18.0.43");
  moved.t1_seconds = 1;
  inside->reply(server_reply4(inside->sent.back(), dhcp4::MessageType::Ack, moved));
  REQUIRE(run_until(f.io, [&] { return f.withins.size() > before; }));
  CHECK(f.withins.back() == 0ms);
  CHECK(endpoint->lease4()->address == moved.address);
  // Same address and server, new DNS servers: a re-adoption would use them, so at once.
  REQUIRE(run_until(f.io, [&] { return count_sent(*inside, dhcp4::MessageType::Request) == 4; }));
  before = f.withins.size();
  Offer4 new_dns = moved;
  new_dns.dns = *Ipv4Address::parse("198.18.0.53");
  inside->reply(server_reply4(inside->sent.back(), dhcp4::MessageType::Ack, new_dns));
  REQUIRE(run_until(f.io, [&] { return f.withins.size() > before; }));
  CHECK(f.withins.back() == 0ms);
}

// The deadline is also bounded by what is left of the lease the record on disk holds: a
// long lease renewed late in a short one (as after rebinding, or re-adopting an old lease) goes
// out before half of what is left of the short one, not a quarter of the long one.
TEST_CASE("endpoint writes a late renewal before the lease on disk runs out", "[endpoint]") {
  EndpointFixture f;
  Offer4 short_lease;  // 5 s, renewed at T1 = 2 s: 3 s left on disk then
  short_lease.lease_seconds = 5;
  short_lease.t1_seconds = 2;
  auto endpoint = f.created(EndpointFixture::default_options(), short_lease);
  joined(f, *endpoint, ContainerFacts{"", std::string(64, 'c'), ""});  // no hostname: no early renewal
  auto inside = f.kernel->last_wire4();
  REQUIRE(run_until(f.io, [&] { return count_sent(*inside, dhcp4::MessageType::Request) == 1; }));
  std::size_t before = f.withins.size();
  inside->reply(server_reply4(inside->sent.back(), dhcp4::MessageType::Ack, Offer4{}));  // 3600 s
  REQUIRE(run_until(f.io, [&] { return f.withins.size() > before; }));
  CHECK(f.withins.back() > 1000ms);   // deferred ...
  CHECK(f.withins.back() <= 1500ms);  // ... by half of the 3 s left, not 30 s
}

// Leave releases once (in the container if it was followed, here on the host end); remove()
// takes the links away once, however often Docker asks.
TEST_CASE("endpoint leave sends one DHCPRELEASE and remove removes the links once", "[endpoint]") {
  EndpointFixture f;
  auto endpoint = f.created();
  endpoint->leave();
  endpoint->leave();
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);
  CHECK(f.phases.back() == EndpointPhase::Left);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 0);
  endpoint->remove();
  endpoint->remove();
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);
}

// A container that exits at once: Docker moved the interface at Join, and Leave comes before
// follow() has found it in the namespace. The socket on the container end as it was in the
// host namespace cannot send any more; the RELEASE goes out on the bridge, from the
// container's MAC (the CI flake of stop 21: a `docker run --rm` lease kept by the server).
TEST_CASE("endpoint leave before follow() found the interface releases from the bridge", "[endpoint]") {
  EndpointFixture f;
  auto endpoint = f.created();
  auto host_end_wire = f.kernel->last_wire4();
  endpoint->follow_into(kSandbox);
  f.kernel->move_link(kContainerEnd, kSandbox);
  host_end_wire->fail_sends = Error{"sending on " + kContainerEnd + ": No such device or address", ENXIO};
  // No f.io.poll(): follow() has not run, so it has not seen the moved link.
  endpoint->leave();
  REQUIRE(f.kernel->wires4.size() == 2);
  auto via = f.kernel->last_wire4();
  CHECK(via->where == "host");
  CHECK(via->interface.name == "br-test");
  CHECK(via->interface.mac == *MacAddress::parse("02:00:00:00:05:01"));
  CHECK(count_sent(*via, dhcp4::MessageType::Release) == 1);
  CHECK(via->sent.back().destination == kFakeServerIp);
  CHECK(count_sent(*host_end_wire, dhcp4::MessageType::Release) == 0);
  // The server's MAC went along: the RELEASE is a frame to it, no ARP from the bridge.
  CHECK(via->neighbours.entries() == std::vector{std::pair{kFakeServerIp, kFakeServerMac}});
  CHECK(endpoint->describe().at("last_error") == "");
  // follow() then stops, and remove() opens nothing more.
  f.io.poll();
  endpoint->remove();
  f.io.poll();
  CHECK(f.kernel->wires4.size() == 2);
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);
}

// Leave once the clients run inside the container: the RELEASE goes from there, nothing new
// is opened.
TEST_CASE("endpoint leave after follow() releases from inside the container", "[endpoint]") {
  EndpointFixture f;
  auto endpoint = f.created();
  joined(f, *endpoint, ContainerFacts{});
  auto inside = f.kernel->last_wire4();
  REQUIRE(inside->where == kSandbox);
  endpoint->leave();
  CHECK(f.kernel->wires4.size() == 2);
  CHECK(count_sent(*inside, dhcp4::MessageType::Release) == 1);
}

// A coroutine of the endpoint threw: status and metrics say so.
TEST_CASE("endpoint mark_failed shows in status and metrics", "[endpoint]") {
  EndpointFixture f;
  auto endpoint = f.created();
  endpoint->mark_failed("the DHCP session", "boom");
  auto status = endpoint->describe();
  CHECK(status.at("failed") == true);
  CHECK_THAT(std::string(status.at("last_error").as_string()), Catch::StartsWith("internal error in the DHCP session: boom"));
  CHECK(f.metrics.render({}).find("\nnetdhcp_endpoint_failures_total 1\n") != std::string::npos);
}

// A packet the kernel refuses to send is not silent: each one counts in status and metrics,
// and the log has a line at once, then none for the rest of the minute (a renewing client
// retransmits every 250 ms here).
TEST_CASE("endpoint send errors show in status, metrics and a rate-limited log line", "[endpoint]") {
  EndpointFixture f;
  Offer4 short_lease;
  short_lease.lease_seconds = 4;
  short_lease.t1_seconds = 1;
  auto endpoint = f.created(EndpointFixture::default_options(), short_lease);
  auto wire = f.kernel->last_wire4();
  wire->fail_sends = Error{"sending on " + kContainerEnd + ": Network is down", ENETDOWN};
  StderrCapture captured;
  REQUIRE(run_until(f.io, [&] { return endpoint->describe().at("ipv4").at("send_errors").to_number<int>() >= 3; }));
  auto v4 = endpoint->describe().at("ipv4");
  auto errors = v4.at("send_errors").to_number<int>();
  CHECK(text(v4.at("last_send_error")) == "sending on " + kContainerEnd + ": Network is down");
  CHECK(v4.at("last_send_error_at") != "");
  std::string metrics = f.metrics.render({});
  CHECK(metrics.find("\nnetdhcp_send_errors_total{family=\"4\"} " + std::to_string(errors) + "\n") != std::string::npos);
  CHECK(metrics.find("\nnetdhcp_send_errors_total{family=\"6\"} 0\n") != std::string::npos);
  std::string text = captured.text();
  CHECK(count_lines(text, "packet not sent") == 1);
  CHECK(count_lines(text, "DHCPv4 packet not sent: sending on " + kContainerEnd + ": Network is down") == 1);
}

// The log throttle on a virtual clock: the first occurrence at once, then one line per minute
// at most, each with the count it stands for.
TEST_CASE("the log throttle writes the first line, then one a minute with a count", "[endpoint]") {
  LogThrottle throttle(std::chrono::minutes(1));
  CHECK(throttle.occurred(t0) == 1);
  for (int i = 1; i < 1000; ++i) REQUIRE(throttle.occurred(t0 + i * 10ms) == 0);
  CHECK(throttle.occurred(t0 + 60s) == 1000);  // 999 held back, and this one
  CHECK(throttle.occurred(t0 + 61s) == 0);
  CHECK(throttle.occurred(t0 + 10min) == 2);
}

// Re-adoption of an endpoint Docker created but had not joined: Join arrives while it waits its
// turn (the pacing delay). It must be held, not taken for a joined endpoint whose container is
// gone: no RELEASE, the links stay, and it follows once the clients run.
TEST_CASE("endpoint re-adoption keeps a Join that comes during its pacing wait", "[endpoint][readopt]") {
  EndpointFixture f;
  auto endpoint = f.make();
  f.kernel->add_link(kContainerEnd, *MacAddress::parse("02:00:00:00:05:01"));  // still in the host namespace
  std::optional<bool> kept;
  asio::co_spawn(f.io, readopt_into(endpoint, created_record(EndpointPhase::Created), 300ms, kept), asio::detached);
  f.io.poll();
  REQUIRE_FALSE(kept);
  REQUIRE(f.kernel->wires4.empty());  // still waiting its turn: no client runs yet
  endpoint->follow_into(kSandbox);    // Join; the container's namespace is not there yet
  CHECK(f.phases.back() == EndpointPhase::Joined);
  REQUIRE(run_until(f.io, [&] { return kept.has_value(); }));
  CHECK(*kept);
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 0);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 0);
  REQUIRE(f.kernel->wires4.size() == 1);
  CHECK(f.kernel->wires4[0]->where == "host");
  // The container starts and Docker moves the interface: followed.
  f.kernel->start_container(kSandbox)->facts = ContainerFacts{"", std::string(64, 'c'), ""};
  f.kernel->move_link(kContainerEnd, kSandbox);
  REQUIRE(run_until(f.io, [&] { return f.kernel->wires4.size() == 2; }));
  CHECK(f.kernel->last_wire4()->where == kSandbox);
  auto status = endpoint->describe();
  CHECK(status.at("phase") == "joined");
  CHECK(status.at("followed") == true);
  CHECK(text(status.at("sandbox_key")) == kSandbox);
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 0);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 0);
}

// The record of a joined endpoint whose container still runs: the container end was moved into
// the sandbox before the restart.
EndpointRecord joined_record_of_running_container(EndpointFixture& f) {
  auto record = created_record(EndpointPhase::Joined);
  record.sandbox_key = kSandbox;
  f.kernel->add_link(kContainerEnd, record.mac);
  f.kernel->move_link(kContainerEnd, kSandbox);
  f.kernel->namespaces[kSandbox]->facts = ContainerFacts{"", std::string(64, 'c'), ""};
  return record;
}

// Found by test/e2e/scale.sh: a Leave while re-adoption waits its turn (or follows the
// container) made readopt() report the endpoint gone, the driver forgot it, and the
// DeleteEndpoint that came next found nothing: the veth stayed on the bridge.
TEST_CASE("endpoint re-adoption keeps an endpoint left during its wait, for DeleteEndpoint", "[endpoint][readopt]") {
  EndpointFixture f;
  auto record = joined_record_of_running_container(f);
  auto endpoint = f.make();
  std::optional<bool> kept;
  asio::co_spawn(f.io, readopt_into(endpoint, record, 300ms, kept), asio::detached);
  f.io.poll();
  REQUIRE_FALSE(kept);
  endpoint->leave();  // Docker's Leave, during the pacing wait
  // Released, though the clients had not resumed the recorded lease yet (they sent nothing
  // before: the server kept the lease until it expired).
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);
  REQUIRE(run_until(f.io, [&] { return kept.has_value(); }));
  CHECK(*kept);  // still the driver's: DeleteEndpoint must find it
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 0);
  endpoint->remove();  // DeleteEndpoint
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
  CHECK(endpoint->describe().at("phase") == "left");
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);  // once
}

// The same for a record of an endpoint Docker had not joined yet, deleted during the wait
// (DeleteEndpoint with no Leave): its lease is released too.
TEST_CASE("endpoint re-adoption releases an endpoint deleted during its wait", "[endpoint][readopt]") {
  EndpointFixture f;
  auto record = created_record(EndpointPhase::Created);
  f.kernel->add_link(kContainerEnd, record.mac);
  auto endpoint = f.make();
  std::optional<bool> kept;
  asio::co_spawn(f.io, readopt_into(endpoint, record, 300ms, kept), asio::detached);
  f.io.poll();
  REQUIRE_FALSE(kept);
  endpoint->remove();  // DeleteEndpoint, during the pacing wait
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
  REQUIRE(run_until(f.io, [&] { return kept.has_value(); }));
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);
}

// A re-adopted endpoint tells the /proc scan the container id it knows (the scan prefers that
// container over another sharing the namespace: docker run --network container:NAME). The
// scan finds it, and the id stays; the scan finds only another container (the known one's
// processes are gone: the record's id was stale), and the id is replaced.
TEST_CASE("endpoint re-adoption asks for the container id it knows, and mends a stale one", "[endpoint][readopt]") {
  for (char found : {'a', 'b'}) {
    CAPTURE(found);
    EndpointFixture f;
    auto record = joined_record_of_running_container(f);
    record.container_id = std::string(64, 'a');
    auto ns = f.kernel->namespaces[kSandbox];
    ns->facts = ContainerFacts{"", std::string(64, found), ""};
    auto endpoint = f.make();
    std::optional<bool> kept;
    asio::co_spawn(f.io, readopt_into(endpoint, record, Duration::zero(), kept), asio::detached);
    REQUIRE(run_until(f.io, [&] { return kept.has_value() && !ns->facts_known_ids.empty(); }));
    CHECK(*kept);
    REQUIRE(run_until(f.io, [&] { return endpoint->container_id() == std::string(64, found); }));
    CHECK(ns->facts_known_ids.front() == std::string(64, 'a'));
    CHECK(text(endpoint->describe().at("container_id")) == std::string(64, found));
  }
}

// Re-adoption of a joined endpoint whose container still runs: its clients resume inside, and
// the lease's address is put back on the interface (a no-op when it is there).
TEST_CASE("endpoint re-adoption of a joined endpoint applies the lease in the container", "[endpoint][readopt]") {
  EndpointFixture f;
  auto record = joined_record_of_running_container(f);
  auto endpoint = f.make();
  auto ns = f.kernel->namespaces[kSandbox];
  std::optional<bool> kept;
  asio::co_spawn(f.io, readopt_into(endpoint, record, Duration::zero(), kept), asio::detached);
  REQUIRE(run_until(f.io, [&] { return kept.has_value(); }));
  CHECK(*kept);
  REQUIRE(f.kernel->wires4.size() == 1);
  CHECK(f.kernel->wires4[0]->where == kSandbox);
  REQUIRE(ns->plans.size() == 1);
  CHECK(ns->plans[0].second == plan_lease4(std::nullopt, record.lease4, std::nullopt));
  CHECK(to_string(ns->plans[0].second.at(0)) == "address 198.18.0.42/24");
  CHECK(f.metrics.render({}).find("\nnetdhcp_endpoints_readopted_total 1\n") != std::string::npos);
}

// Re-adoption of a joined endpoint whose container is gone: released from the host side, the
// links removed.
TEST_CASE("endpoint re-adoption of a joined endpoint without its container releases", "[endpoint][readopt]") {
  EndpointFixture f;
  auto record = created_record(EndpointPhase::Joined);
  record.sandbox_key = kSandbox;
  auto endpoint = f.make();
  std::optional<bool> kept;
  asio::co_spawn(f.io, readopt_into(endpoint, record, Duration::zero(), kept), asio::detached);
  REQUIRE(run_until(f.io, [&] { return kept.has_value(); }));
  CHECK_FALSE(*kept);
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);
  REQUIRE(f.kernel->last_wire4());
  CHECK(f.kernel->last_wire4()->interface.name == "br-test");  // the veth went with the container
  CHECK(f.kernel->last_wire4()->interface.mac == record.mac);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
}

// A dual-stack CreateEndpoint holds its DHCPv4 lease while DHCPv6 is still out: that lease is
// in the Creating record at once, so that re-adoption after a kill -9 in that window releases
// it (the record had no lease: the server kept it until it expired).
TEST_CASE("endpoint: a lease held while the other family's is awaited is in the Creating record", "[endpoint][state]") {
  EndpointFixture f;
  NetworkOptions options = EndpointFixture::default_options();
  options.ipv6 = true;
  options.lease_timeout = 500ms;
  auto endpoint = f.make(options);
  std::optional<Result<void>> result;
  asio::co_spawn(f.io, create_into(endpoint, result), asio::detached);
  serve_dhcp4(f.io, *f.kernel);  // no DHCPv6 server answers
  REQUIRE(run_until(f.io, [&] { return f.last_record && f.last_record->lease4.has_value(); }));
  CHECK(f.last_record->phase == EndpointPhase::Creating);
  CHECK(f.last_record->lease4->address == *Ipv4Address::parse("198.18.0.42"));
  CHECK_FALSE(result);
  // What a restart does with that record: releases the lease, removes the links.
  auto record = *f.last_record;
  REQUIRE(run_until(f.io, [&] { return result.has_value(); }));  // (this one times out: DHCPv6)
  EndpointFixture g;
  g.kernel->add_link(kContainerEnd, record.mac);
  auto readopted = g.make(options);
  std::optional<bool> kept;
  asio::co_spawn(g.io, readopt_into(readopted, record, Duration::zero(), kept), asio::detached);
  REQUIRE(run_until(g.io, [&] { return kept.has_value(); }));
  CHECK_FALSE(*kept);
  CHECK(count_sent(*g.kernel, dhcp4::MessageType::Release) == 1);
  CHECK(g.kernel->attachment_removes[kContainerEnd] == 1);
}

// The Created record (the lease in it) cannot be written: CreateEndpoint fails naming it, the
// lease is released and the links removed, instead of Docker being told of an endpoint a restart
// would not know.
TEST_CASE("endpoint: a Created record that cannot be written fails CreateEndpoint, nothing left", "[endpoint][state]") {
  EndpointFixture f;
  auto endpoint = f.make();
  int durable = 0;
  endpoint->set_persist([&](const EndpointRecord&, const Endpoint::OnDisk& on_disk, std::chrono::milliseconds) {
    if (!on_disk) return;
    if (++durable == 1) on_disk(Result<void>{});  // the Creating record
    else on_disk(Error{"writing /var/lib/net-dhcp/endpoints/x.json.tmp: No space left on device", ENOSPC});
  });
  std::optional<Result<void>> result;
  asio::co_spawn(f.io, create_into(endpoint, result), asio::detached);
  serve_dhcp4(f.io, *f.kernel);
  REQUIRE(run_until(f.io, [&] { return result.has_value(); }));
  REQUIRE_FALSE(result->ok());
  CHECK_THAT(result->error().message, Catch::Contains("the endpoint's record could not be saved (writing "
                                                      "/var/lib/net-dhcp/endpoints/x.json.tmp: No space left on device)"));
  CHECK(durable == 2);
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 1);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 1);
}

// The same for DHCPv6: an IPv6-only endpoint whose SOLICITs the kernel refuses.
TEST_CASE("endpoint DHCPv6 send errors show in status and metrics", "[endpoint]") {
  EndpointFixture f;
  NetworkOptions options = EndpointFixture::default_options();
  options.ipv4 = false;
  options.ipv6 = true;
  options.lease_timeout = 300ms;
  f.kernel->fail_sends6 = Error{"sending DHCPv6 SOLICIT on " + kContainerEnd + ": Cannot assign requested address",
                                EADDRNOTAVAIL};
  auto endpoint = f.make(options);
  std::optional<Result<void>> result;
  asio::co_spawn(f.io, create_into(endpoint, result), asio::detached);
  REQUIRE(run_until(f.io, [&] { return result.has_value(); }));
  REQUIRE_FALSE(result->ok());
  CHECK_THAT(result->error().message, Catch::Contains("no DHCPv6 lease on bridge br-test within 0.3 s"));
  CHECK(f.kernel->wires4.empty());
  auto v6 = endpoint->describe().at("ipv6");
  CHECK(v6.at("send_errors").to_number<int>() >= 1);
  CHECK_THAT(text(v6.at("last_send_error")), Catch::StartsWith("sending DHCPv6 SOLICIT on " + kContainerEnd));
  CHECK(endpoint->describe().if_contains("ipv4") == nullptr);
  CHECK(f.metrics.render({}).find("\nnetdhcp_send_errors_total{family=\"6\"} " +
                                  text(v6.at("send_errors")) + "\n") != std::string::npos);
}

// The same, when Docker has already moved the interface into the container (as it does right
// after Join returns) before the wait is over: the container end is no longer in the host
// namespace, which must not read as "gone". The clients start inside, nothing is released.
TEST_CASE("endpoint re-adoption follows a Join whose interface moved during the pacing wait", "[endpoint][readopt]") {
  EndpointFixture f;
  auto endpoint = f.make();
  f.kernel->add_link(kContainerEnd, *MacAddress::parse("02:00:00:00:05:01"));
  std::optional<bool> kept;
  asio::co_spawn(f.io, readopt_into(endpoint, created_record(EndpointPhase::Created), 300ms, kept), asio::detached);
  f.io.poll();
  REQUIRE_FALSE(kept);
  endpoint->follow_into(kSandbox);
  f.kernel->start_container(kSandbox)->facts = ContainerFacts{"", std::string(64, 'c'), ""};
  f.kernel->move_link(kContainerEnd, kSandbox);
  REQUIRE(run_until(f.io, [&] { return kept.has_value(); }));
  CHECK(*kept);
  REQUIRE(run_until(f.io, [&] { return !f.kernel->wires4.empty(); }));
  CHECK(f.kernel->wires4.size() == 1);
  CHECK(f.kernel->last_wire4()->where == kSandbox);
  CHECK(endpoint->describe().at("followed") == true);
  CHECK(count_sent(*f.kernel, dhcp4::MessageType::Release) == 0);
  CHECK(f.kernel->attachment_removes[kContainerEnd] == 0);
}
