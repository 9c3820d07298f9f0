#include "src/endpoint/container_facts.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <fstream>
#include <vector>

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

namespace {

bool hostname_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

const char* file_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

std::optional<std::string> read_container_hostname(const std::string& file, std::string* problem) {
  auto refuse = [&](std::string why) -> std::optional<std::string> {
    if (problem) *problem = file.substr(file.rfind("/etc/") == std::string::npos ? 0 : file.rfind("/etc/")) + " " + why;
    return std::nullopt;
  };
  // O_NONBLOCK: the container may have put a FIFO there, whose open would wait for a writer.
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) return refuse("cannot be opened");
  struct stat st{};
  if (::fstat(fd.get(), &st) < 0) return refuse("cannot be read");
  if (!S_ISREG(st.st_mode)) return refuse(std::string("is ") + file_kind(st.st_mode) + ", not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxHostnameFile)
    return refuse("has " + std::to_string(st.st_size) + " bytes, more than a hostname file's " +
                  std::to_string(kMaxHostnameFile));
  char buffer[kMaxHostnameFile];
  ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
  if (n <= 0) return refuse("is empty");
  std::string hostname(buffer, static_cast<std::size_t>(n));
  if (auto newline = hostname.find('\n'); newline != std::string::npos) hostname.resize(newline);
  while (!hostname.empty() && std::isspace(static_cast<unsigned char>(hostname.back()))) hostname.pop_back();
  if (hostname.empty()) return refuse("is empty");
  if (hostname.size() > 253 || !std::all_of(hostname.begin(), hostname.end(), hostname_char))
    return refuse("does not hold a hostname (only letters, digits, '-', '.' and '_', at most 253)");
  return hostname;
}

std::optional<ContainerFacts> container_facts(const netlink::Namespace& ns, const std::string& known_id) {
  return container_facts_in("/proc", "net:[" + std::to_string(ns.inode()) + "]", ::getpid(), known_id);
}

std::optional<ContainerFacts> container_facts_in(const std::string& proc_dir, const std::string& netns_link,
                                                 long self_pid, const std::string& known_id) {
  // The host's root (not ours: as a managed plugin the daemon has its own).
  struct stat host_root{};
  if (::stat(host_root_dir().c_str(), &host_root) < 0) return std::nullopt;
  // Newest first: the container's first process was started for it just now, so it is among
  // the highest PIDs, and a look at a busy host's thousands of processes (each one a readlink)
  // usually ends after a few. (After a PID wrap-around it is merely found later; when no
  // process in the namespace has a container's cgroup, every process is looked at.)
  std::vector<long> pids;
  DIR* proc = ::opendir(proc_dir.c_str());
  if (!proc) return std::nullopt;
  while (auto* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    pids.push_back(std::strtol(entry->d_name, nullptr, 10));
  }
  ::closedir(proc);
  std::sort(pids.begin(), pids.end(), std::greater<>());
  std::optional<ContainerFacts> other_id, without_id;
  for (long pid : pids) {
    // Our own event loop enters the container's namespace for a moment to open a socket there,
    // and as a managed plugin we have a root of our own.
    if (pid == self_pid) continue;
    std::string base = proc_dir + "/" + std::to_string(pid);
    char link[64];
    ssize_t n = ::readlink((base + "/ns/net").c_str(), link, sizeof link - 1);
    if (n <= 0 || std::string(link, static_cast<std::size_t>(n)) != netns_link) continue;
    struct stat root{};
    if (::stat((base + "/root").c_str(), &root) < 0 || (root.st_dev == host_root.st_dev && root.st_ino == host_root.st_ino))
      continue;
    std::string problem;
    auto hostname = read_container_hostname(base + "/root/etc/hostname", &problem);
    // A regular file of its own that Docker has not written yet is empty: look again. What the
    // container made unusable stays so: say why, and carry on without its name.
    if (!hostname && (problem.ends_with("is empty") || problem.ends_with("cannot be opened"))) continue;
    ContainerFacts facts{hostname.value_or(""), container_id_from_cgroup(base), hostname ? "" : problem};
    if (!facts.id.empty()) {
      if (known_id.empty() || facts.id == known_id) return facts;
      // Another container in this namespace (docker run --network container:NAME), newer.
      if (!other_id) other_id = std::move(facts);
      continue;
    }
    // A process that `docker exec` starts is in the namespace, and pivoted into the container's
    // root, before runc moves it into the container's cgroup: newest, it is met first, with the
    // right hostname and no id. The container's own process, older, has both: look on.
    if (!without_id) without_id = std::move(facts);
  }
  return other_id ? other_id : without_id;
}

}  // namespace netdhcp
