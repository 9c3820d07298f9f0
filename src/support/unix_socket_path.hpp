// A Unix socket's path as bind() and connect() take it. sun_path holds 107 bytes, and a managed
// plugin's socket reached from outside its engine is longer than that:
// <data root>/run/docker/plugins/<64 hex digits>/net-dhcp.sock. A longer path is reached
// through its folder, opened: /proc/self/fd/N/NAME (the folder stays open while this lives).
#pragma once

#include <boost/asio/local/stream_protocol.hpp>
#include <string>

#include "netdhcp/result.hpp"
#include "netdhcp/unique_fd.hpp"

namespace netdhcp {

class UnixSocketPath {
 public:
  // An error names the path and the reason (its folder missing, the name itself too long).
  static Result<UnixSocketPath> of(const std::string& path);

  boost::asio::local::stream_protocol::endpoint endpoint() const { return {usable_}; }

 private:
  UniqueFd folder_;
  std::string usable_;
};

}  // namespace netdhcp
