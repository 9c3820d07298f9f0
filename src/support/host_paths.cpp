#include "src/support/host_paths.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>

namespace netdhcp {

namespace {

std::string setting() {
  static const std::string value = [] {
    const char* env = std::getenv("NET_DHCP_HOST_ROOT");
    std::string v = env ? env : "";
    while (v.size() > 1 && v.back() == '/') v.pop_back();
    return v == "/" ? std::string() : v;
  }();
  return value;
}

bool is_dockerd(const std::string& pid) {
  std::ifstream comm("/proc/" + pid + "/comm");
  std::string name;
  return std::getline(comm, name) && name == "dockerd";
}

std::string net_namespace_of(const std::string& proc_dir) {
  char link[64];
  ssize_t n = ::readlink((proc_dir + "/ns/net").c_str(), link, sizeof link - 1);
  return n > 0 ? std::string(link, static_cast<std::size_t>(n)) : std::string();
}

// The dockerd that runs this plugin, remembered while it lives (it changes when dockerd
// restarts). A managed plugin runs in dockerd's network namespace ("network": "host"), so that
// is the one chosen when the host PID namespace shows several (dockerds in namespaces of their
// own: a test's swarm nodes, Docker in Docker); the first dockerd otherwise.
std::string dockerd_pid() {
  // Asked from the event loop and from the off-loop threads (a container's /proc scan). The
  // calling thread's namespace, not /proc/self's: that is the event loop's thread, which may be
  // inside a container's namespace for a moment (netlink::Enter) while another thread asks.
  static std::mutex lock;
  std::lock_guard held(lock);
  static std::string cached;
  const std::string ours = net_namespace_of("/proc/thread-self");
  if (!cached.empty() && is_dockerd(cached) && net_namespace_of("/proc/" + cached) == ours) return cached;
  cached.clear();
  DIR* proc = ::opendir("/proc");
  if (!proc) return {};
  std::string first;
  while (auto* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    if (!is_dockerd(entry->d_name)) continue;
    if (first.empty()) first = entry->d_name;
    if (!ours.empty() && net_namespace_of(std::string("/proc/") + entry->d_name) == ours) {
      cached = entry->d_name;
      break;
    }
  }
  ::closedir(proc);
  if (cached.empty()) return first;  // not cached: look for ours again next time
  return cached;
}

std::string root_prefix() {
  std::string v = setting();
  if (v != "dockerd") return v;
  std::string pid = dockerd_pid();
  return pid.empty() ? std::string() : "/proc/" + pid + "/root";
}

}  // namespace

std::string host_root_dir() {
  std::string prefix = root_prefix();
  return prefix.empty() ? "/" : prefix;
}

std::string host_path(const std::string& path) {
  std::string prefix = root_prefix();
  if (prefix.empty()) return path;
  std::string p = path.rfind("/var/run/", 0) == 0 ? path.substr(4) : path;
  return prefix + p;
}

std::string own_plugin_id(const std::string& cgroup_file) {
  std::ifstream in(cgroup_file);
  std::string line;
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  while (std::getline(in, line)) {
    // "9:pids:/<id>" (cgroupfs), "0::/system.slice/docker-<id>.scope" (systemd): the last run of
    // exactly 64 hex digits in the path.
    auto colon = line.find(':', line.find(':') + 1);
    if (colon == std::string::npos) continue;
    std::string path = line.substr(colon + 1), found;
    for (std::size_t i = 0; i < path.size();) {
      if (!hex(path[i])) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < path.size() && hex(path[j])) ++j;
      if (j - i == 64) found = path.substr(i, 64);
      i = j;
    }
    if (!found.empty()) return found;
  }
  return {};
}

}  // namespace netdhcp
