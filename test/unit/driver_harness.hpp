// A Driver over the fake kernel (test/unit/fake_kernel.hpp), driven through its plugin API
// (handle_plugin_request, as the HTTP server calls it): the test plays dockerd and the DHCP
// server. Shared by the driver tests; each adds the networks it needs.
#pragma once

#include <catch2/catch.hpp>

#include "src/plugin/driver.hpp"
#include "src/plugin/plugin_api.hpp"
#include "test/unit/fake_kernel.hpp"
#include "test/unit/helpers.hpp"

namespace netdhcp::test {

inline asio::awaitable<void> request_into(Driver& driver, std::string path, std::string body,
                                          std::optional<ApiReply>& out) {
  out = co_await handle_plugin_request(driver, std::move(path), std::move(body));
}

struct DriverHarness {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::shared_ptr<FakeKernel> kernel = std::make_shared<FakeKernel>();
  TempDir state_dir;
  std::optional<Driver> driver;

  // A driver on the state directory, loaded (as `net-dhcp serve` starts; again: a restart).
  void start_driver() {
    driver.reset();
    driver.emplace(io.get_executor(), state_dir.path, kDefaultDockerTimeout, kernel);
    REQUIRE(driver->load().ok());
  }
  ~DriverHarness() { driver.reset(); }  // its state writer is done before the directory goes

  // Sends a request and leaves it running; `reply` is set once it is answered.
  void send(const std::string& path, const json::object& body, std::optional<ApiReply>& reply) {
    asio::co_spawn(io, request_into(*driver, path, json::serialize(body), reply), asio::detached);
  }
  // Sends a request and waits for its answer.
  ApiReply call(const std::string& path, const json::object& body) {
    std::optional<ApiReply> reply;
    send(path, body, reply);
    REQUIRE(run_until(io, [&] { return reply.has_value(); }));
    return *reply;
  }
  static json::object body_of(const ApiReply& reply) { return json::parse(reply.body).as_object(); }

  static json::object network_request(const std::string& id, json::object generic) {
    return json::object{{"NetworkID", id},
                        {"Options", {{"com.docker.network.generic", std::move(generic)}}},
                        {"IPv4Data", json::array{json::object{{"AddressSpace", "null"}, {"Pool", "0.0.0.0/0"}}}}};
  }
  static json::object endpoint_request(const std::string& network_id, const std::string& endpoint_id,
                                       json::object options = {}, json::object interface = {}) {
    return json::object{{"NetworkID", network_id}, {"EndpointID", endpoint_id},
                        {"Options", std::move(options)}, {"Interface", std::move(interface)}};
  }
  // CreateEndpoint answered by the fake server (on this endpoint's own wire).
  ApiReply create_endpoint(const std::string& network_id, const std::string& endpoint_id, json::object options = {},
                           json::object interface = {}, const Offer4& offer = {}) {
    std::optional<ApiReply> reply;
    std::size_t wires = kernel->wires4.size();
    send("/NetworkDriver.CreateEndpoint", endpoint_request(network_id, endpoint_id, std::move(options), std::move(interface)),
         reply);
    REQUIRE(run_until(io, [&] { return reply.has_value() || kernel->wires4.size() > wires; }));
    if (!reply) serve_dhcp4(io, *kernel, offer);
    REQUIRE(run_until(io, [&] { return reply.has_value(); }));
    return *reply;
  }
};

// The MAC in a DHCPv4 message's chaddr (its first 6 bytes).
inline MacAddress chaddr_of(const dhcp4::Packet& p) {
  MacAddress mac;
  for (std::size_t i = 0; i < 6; ++i) mac.octets[i] = p.chaddr[i];
  return mac;
}

inline std::string text(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : json::serialize(v); }

// The first DHCPv4 message of `type` on `wire`, parsed.
inline std::optional<dhcp4::Packet> first_sent(const FakeWire4& wire, dhcp4::MessageType type) {
  for (const auto& t : wire.sent)
    if (t.kind == dhcp4::Transmit::Kind::Dhcp && t.type == type) return dhcp4::parse(t.payload).value();
  return std::nullopt;
}

}  // namespace netdhcp::test
