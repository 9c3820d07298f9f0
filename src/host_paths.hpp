// Host paths as the daemon sees them. On the host (systemd, scripts/run) they are the same. As a
// managed Docker plugin the daemon lives in a mount namespace of its own, where Docker's
// network namespace files (Join's SandboxKey, /var/run/docker/netns/...) are not mounted; it
// reaches them through the host's PID 1 instead: NET_DHCP_HOST_ROOT=/proc/1/root (set in the
// plugin's config.json; needs the host PID namespace and CAP_SYS_PTRACE).
#pragma once

#include <cstdlib>
#include <string>

namespace netdhcp {

inline const std::string& host_root() {
  static const std::string root = [] {
    const char* env = std::getenv("NET_DHCP_HOST_ROOT");
    std::string r = env ? env : "";
    while (!r.empty() && r.back() == '/') r.pop_back();
    return r;
  }();
  return root;
}

// `path` (absolute, on the host) as this process can open it. /var/run is spelt /run: the
// host's /var/run is an absolute symlink, which would resolve in our own root, not the host's.
inline std::string host_path(const std::string& path) {
  if (host_root().empty()) return path;
  std::string p = path.rfind("/var/run/", 0) == 0 ? path.substr(4) : path;
  return host_root() + p;
}

}  // namespace netdhcp
