// Host paths as the daemon sees them. On the host (systemd, scripts/run) they are the same. As a
// managed Docker plugin the daemon lives in a mount namespace of its own, where Docker's
// network namespace files (Join's SandboxKey, /var/run/docker/netns/...) are not mounted; it
// reaches them through dockerd's own root instead, /proc/<dockerd's pid>/root: dockerd made
// those mounts, so its mount namespace has them. NET_DHCP_HOST_ROOT=dockerd selects this (the
// plugin's config.json sets it; it needs the host PID namespace and CAP_SYS_PTRACE; of several
// dockerds, the one in our network namespace, which a managed plugin shares); any other
// value is used as a directory prefix, e.g. /proc/1/root.
#pragma once

#include <string>

namespace netdhcp {

// The directory that is the host's "/" for us: "/" unless NET_DHCP_HOST_ROOT says otherwise.
std::string host_root_dir();

// `path` (absolute, on the host) as this process can open it. /var/run is spelt /run: the
// host's /var/run is an absolute symlink, which would resolve in our own root, not the host's.
std::string host_path(const std::string& path);

// As a managed plugin: our plugin ID (64 hex digits), which Docker keeps across `docker plugin
// upgrade`, read from the name of our cgroup (Docker names a plugin's cgroup after it). Empty
// when there is none (not a plugin, or a cgroup layout that does not show it).
std::string own_plugin_id(const std::string& cgroup_file = "/proc/self/cgroup");

}  // namespace netdhcp
