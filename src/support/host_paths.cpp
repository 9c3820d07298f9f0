#include "src/support/host_paths.hpp"

#include <dirent.h>

#include <cstdlib>
#include <fstream>

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

// dockerd's pid, remembered while it lives (it changes when dockerd restarts).
std::string dockerd_pid() {
  static std::string cached;
  if (!cached.empty() && is_dockerd(cached)) return cached;
  cached.clear();
  DIR* proc = ::opendir("/proc");
  if (!proc) return {};
  while (auto* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    if (is_dockerd(entry->d_name)) {
      cached = entry->d_name;
      break;
    }
  }
  ::closedir(proc);
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

}  // namespace netdhcp
