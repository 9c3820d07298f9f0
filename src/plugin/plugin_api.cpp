#include "src/plugin/plugin_api.hpp"

#include "src/support/log.hpp"

namespace netdhcp {

namespace {

ApiReply ok(const json::object& o) { return ApiReply{200, json::serialize(o)}; }
ApiReply fail(int status, const std::string& message) {
  return ApiReply{status, json::serialize(json::object{{"Err", message}})};
}
ApiReply from(const DriverResult<json::object>& r) {
  if (auto* o = std::get_if<json::object>(&r)) return ok(*o);
  const auto& e = std::get<DriverError>(r);
  return fail(e.status, e.message);
}

}  // namespace

ApiReply metrics_reply(const Driver& driver) {
  return ApiReply{200, driver.metrics_text(), "text/plain; version=0.0.4"};
}

asio::awaitable<ApiReply> handle_plugin_request(Driver& driver, std::string path, std::string body) {
  // Calls that need no body.
  if (path == "/Plugin.Activate") co_return ok(json::object{{"Implements", json::array{"NetworkDriver"}}});
  if (path == "/NetworkDriver.GetCapabilities")
    co_return ok(json::object{{"Scope", "local"}, {"ConnectivityScope", "global"}});
  // Ours, not Docker's: `net-dhcp status` and Prometheus (also served by --metrics).
  if (path == "/NetDhcp.Status") co_return ok(driver.status());
  if (path == "/metrics") co_return metrics_reply(driver);

  static const char* const kKnown[] = {
      "/NetworkDriver.CreateNetwork",  "/NetworkDriver.DeleteNetwork", "/NetworkDriver.AllocateNetwork",
      "/NetworkDriver.FreeNetwork",    "/NetworkDriver.CreateEndpoint", "/NetworkDriver.DeleteEndpoint",
      "/NetworkDriver.EndpointOperInfo", "/NetworkDriver.Join",        "/NetworkDriver.Leave",
      "/NetworkDriver.DiscoverNew",    "/NetworkDriver.DiscoverDelete", "/NetworkDriver.ProgramExternalConnectivity",
      "/NetworkDriver.RevokeExternalConnectivity"};
  if (std::find(std::begin(kKnown), std::end(kKnown), path) == std::end(kKnown))
    co_return fail(404, "net-dhcp does not implement " + path);

  boost::system::error_code ec;
  json::value parsed = json::parse(body.empty() ? std::string("{}") : body, ec);
  if (ec || !parsed.is_object())
    co_return fail(400, "malformed request body for " + path + ": " + (ec ? ec.message() : "not a JSON object") +
                            "; expected a JSON object");
  const json::object& request = parsed.as_object();

  if (path == "/NetworkDriver.CreateNetwork") co_return from(co_await driver.create_network(request));
  if (path == "/NetworkDriver.DeleteNetwork") co_return from(driver.delete_network(request));
  if (path == "/NetworkDriver.CreateEndpoint") co_return from(co_await driver.create_endpoint(request));
  if (path == "/NetworkDriver.DeleteEndpoint") co_return from(driver.delete_endpoint(request));
  if (path == "/NetworkDriver.EndpointOperInfo") co_return from(driver.endpoint_info(request));
  if (path == "/NetworkDriver.Join") co_return from(co_await driver.join(request));
  if (path == "/NetworkDriver.Leave") co_return from(driver.leave(request));
  if (path == "/NetworkDriver.AllocateNetwork") co_return ok(json::object{{"Options", json::object{}}});
  // FreeNetwork, Discover*, Program/RevokeExternalConnectivity: nothing to do for a local driver.
  co_return ok(json::object{});
}

}  // namespace netdhcp
