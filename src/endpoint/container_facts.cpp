#include "src/endpoint/container_facts.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <fstream>

#include "netdhcp/unique_fd.hpp"
#include "src/support/host_paths.hpp"

namespace netdhcp {

namespace {

std::string container_id_from_cgroup(const std::string& pid_dir) {
  std::ifstream in(pid_dir + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    std::size_t run = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      run = std::isxdigit(static_cast<unsigned char>(line[i])) ? run + 1 : 0;
      bool ends = i + 1 == line.size() || !std::isxdigit(static_cast<unsigned char>(line[i + 1]));
      if (run == 64 && ends) return line.substr(i + 1 - 64, 64);
    }
  }
  return {};
}

}  // namespace

std::optional<std::string> read_container_hostname(const std::string& file) {
  // O_NONBLOCK: the container may have put a FIFO there, whose open would wait for a writer.
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) return std::nullopt;
  struct stat st{};
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  char buffer[kMaxHostnameFile];
  ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
  if (n <= 0) return std::nullopt;
  std::string hostname(buffer, static_cast<std::size_t>(n));
  if (auto newline = hostname.find('\n'); newline != std::string::npos) hostname.resize(newline);
  while (!hostname.empty() && std::isspace(static_cast<unsigned char>(hostname.back()))) hostname.pop_back();
  if (hostname.empty()) return std::nullopt;
  return hostname;
}

std::optional<ContainerFacts> container_facts(const netlink::Namespace& ns) {
  std::string wanted = "net:[" + std::to_string(ns.inode()) + "]";
  // The host's root (not ours: as a managed plugin the daemon has its own).
  struct stat host_root{};
  if (::stat(host_root_dir().c_str(), &host_root) < 0) return std::nullopt;
  DIR* proc = ::opendir("/proc");
  if (!proc) return std::nullopt;
  std::optional<ContainerFacts> found;
  while (auto* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    std::string base = std::string("/proc/") + entry->d_name;
    char link[64];
    ssize_t n = ::readlink((base + "/ns/net").c_str(), link, sizeof link - 1);
    if (n <= 0 || std::string(link, static_cast<std::size_t>(n)) != wanted) continue;
    struct stat root{};
    if (::stat((base + "/root").c_str(), &root) < 0 || (root.st_dev == host_root.st_dev && root.st_ino == host_root.st_ino))
      continue;
    auto hostname = read_container_hostname(base + "/root/etc/hostname");
    if (!hostname) continue;
    found = ContainerFacts{*hostname, container_id_from_cgroup(base)};
    break;
  }
  ::closedir(proc);
  return found;
}

}  // namespace netdhcp
