// Where Docker's request is answered: the libnetwork remote driver protocol. One POST path,
// one JSON body in; a status and a JSON body out ({"Err": "..."} on failure, which is what the
// user sees). Unknown paths are 404 (Docker reads that as "not implemented").
#pragma once

#include <string>
#include <string_view>

#include "src/support/asio.hpp"
#include "src/plugin/driver.hpp"

namespace netdhcp {

struct ApiReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/vnd.docker.plugins.v1+json";
};

asio::awaitable<ApiReply> handle_plugin_request(Driver& driver, std::string path, std::string body);

// GET /metrics: Prometheus text (on the socket, and on `serve --metrics`).
ApiReply metrics_reply(const Driver& driver);

}  // namespace netdhcp
