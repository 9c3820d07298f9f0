// Docker's requests as an attacker could shape them: any path, any body, through
// handle_plugin_request (src/plugin_api.cpp), the driver, the endpoint code and netlink, for
// real. The process first moves into a network namespace of its own (root needed), with one
// bridge, fz0, and no DHCP server: whatever the input makes (veths, networks on fz0) stays
// inside it and vanishes with the process; endpoint creation fails for want of a lease.
//
// Input: the first byte picks the path, the rest is the body. Every reply must be a known
// status (200, 400, 404, 409, 500) with a JSON object body, and failures must carry an "Err" message.
#include <sched.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>

#include "netlink/link.hpp"
#include "src/support/log.hpp"
#include "src/state/network_options.hpp"
#include "src/plugin/plugin_api.hpp"

using namespace netdhcp;

namespace {

const char* const kPaths[] = {
    "/Plugin.Activate",           "/NetworkDriver.GetCapabilities",  "/NetworkDriver.CreateNetwork",
    "/NetworkDriver.DeleteNetwork", "/NetworkDriver.AllocateNetwork", "/NetworkDriver.FreeNetwork",
    "/NetworkDriver.CreateEndpoint", "/NetworkDriver.DeleteEndpoint", "/NetworkDriver.EndpointOperInfo",
    "/NetworkDriver.Join",        "/NetworkDriver.Leave",            "/NetworkDriver.DiscoverNew",
    "/NetworkDriver.DiscoverDelete", "/NetworkDriver.ProgramExternalConnectivity",
    "/NetworkDriver.RevokeExternalConnectivity", "/NetworkDriver.Nope", "/", ""};
constexpr std::size_t kPathCount = sizeof kPaths / sizeof kPaths[0];

asio::io_context* io;
Driver* driver;
char state_dir[] = "/tmp/fuzz-plugin-api-XXXXXX";

// An exception out of the handler is a bug (the daemon's session would drop the connection
// with no answer): named before the crash.
asio::awaitable<void> call(std::string path, std::string body, ApiReply* reply, bool* done) {
  try {
    *reply = co_await handle_plugin_request(*driver, path, std::move(body));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_plugin_api: %s threw: %s\n", path.c_str(), e.what());
    std::abort();
  }
  *done = true;
}

// Creating networks is fuzzed, but a network's lease_timeout is pinned to 1 ms (after its
// value went through the parser) and the firewall probe is off: an input must not be able to
// park the harness for an hour.
std::string pin_network_options(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return body;
  auto* options = v.as_object().if_contains("Options");
  if (!options || !options->is_object()) return body;
  auto* generic = options->as_object().if_contains("com.docker.network.generic");
  if (!generic || !generic->is_object()) return body;
  auto& g = generic->as_object();
  if (auto* t = g.if_contains("lease_timeout"); t && t->is_string()) (void)parse_duration(std::string(t->as_string()));
  g["lease_timeout"] = "1ms";
  g["firewall_check"] = "false";
  return json::serialize(v);
}

// The reply broke the contract: say how before the crash, so the log names it.
[[noreturn]] void broken(const char* what, const std::string& path, const ApiReply& reply) {
  std::fprintf(stderr, "fuzz_plugin_api: %s answered %s: status %d, body %.300s\n", path.c_str(), what, reply.status,
               reply.body.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (::unshare(CLONE_NEWNET) < 0) {
    std::perror("fuzz_plugin_api: unshare(CLONE_NEWNET) (run as root)");
    std::abort();
  }
  auto socket = netlink::Socket::open();
  if (!socket || !netlink::create_bridge(*socket, "fz0")) std::abort();
  if (auto bridge = netlink::find_link(*socket, "fz0"); !bridge || !netlink::set_up(*socket, *bridge, true)) std::abort();
  if (!::mkdtemp(state_dir)) std::abort();
  // At exit the state writer's thread may still be renaming files: wait for it (save_all()
  // flushes), and remove what is left without throwing (a throw here is a crash at exit).
  std::atexit([] {
    if (driver) driver->save_all();
    std::error_code ignored;
    std::filesystem::remove_all(state_dir, ignored);
  });
  log::set_level(log::Level::Error);
  io = new asio::io_context(1);
  driver = new Driver(io->get_executor(), state_dir);
  if (!driver->load()) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string path = kPaths[data[0] % kPathCount];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (path == "/NetworkDriver.CreateNetwork") body = pin_network_options(body);
  ApiReply reply;
  bool done = false;
  asio::co_spawn(*io, call(path, body, &reply, &done), asio::detached);
  while (!done) io->run_one();
  io->poll();  // let stopped sessions and removals finish
  io->restart();

  if (reply.status != 200 && reply.status != 400 && reply.status != 404 && reply.status != 409 && reply.status != 500)
    broken("an unknown status", path, reply);
  boost::system::error_code ec;
  json::value v = json::parse(reply.body, ec);
  if (ec || !v.is_object()) broken("a body that is not a JSON object", path, reply);
  if (reply.status != 200) {
    auto* err = v.as_object().if_contains("Err");
    if (!err || !err->is_string() || err->as_string().empty()) broken("a failure without an Err message", path, reply);
  }
  return 0;
}
