// What the daemon can learn about a container without asking dockerd: Docker tells network
// drivers neither the container's id nor its hostname, but once the container's first process
// runs in the sandbox's network namespace, /proc has both (its cgroup, its /etc/hostname).
#pragma once

#include <optional>
#include <string>

#include "netlink/namespace.hpp"

namespace netdhcp {

struct ContainerFacts {
  std::string hostname;  // its /etc/hostname (written by Docker), without trailing white space
  std::string id;        // the 64 hex digits in its cgroup path (/docker/<id>, docker-<id>.scope)
  // Why its /etc/hostname gave no name ("" when it did): a FIFO, a file over kMaxHostnameFile
  // bytes, something that is not a hostname. The container controls that file.
  std::string hostname_problem;
};

// Looks for a process in the network namespace `ns` that has pivoted into a root of its own
// (runc's init is in the namespace before it pivots: its /etc/hostname would be the host's).
// Nothing the container controls can block or grow this: /etc/hostname is opened without
// blocking, must be a regular file of at most kMaxHostnameFile bytes, and its first line must
// be a hostname (letters, digits, '-', '.', '_'; at most 253). Returns nothing while no such
// process runs; a process whose hostname is unusable gives its id and hostname_problem.
// A process whose cgroup names a container is preferred: one that `docker exec` is starting is
// in the namespace, pivoted, a moment before runc moves it into the container's cgroup. One
// without an id is returned only when no process has one (another runtime's cgroups). When
// `known_id` is given (a re-adopted endpoint's), that container's process is preferred over
// newer ones of another container sharing the namespace (docker run --network container:NAME).
std::optional<ContainerFacts> container_facts(const netlink::Namespace& ns, const std::string& known_id = "");

// The scan behind container_facts, over `proc_dir` (/proc, or a tree laid out like it in a
// test), for processes whose ns/net link reads `netns_link` ("net:[INODE]"), but `self_pid`.
std::optional<ContainerFacts> container_facts_in(const std::string& proc_dir, const std::string& netns_link,
                                                 long self_pid, const std::string& known_id = "");

// The hostname in the first line of `file` (a path inside a container's root, reached through
// /proc/PID/root), read as container_facts does; on nullopt, `problem` (if given) says why.
std::optional<std::string> read_container_hostname(const std::string& file, std::string* problem = nullptr);

constexpr std::size_t kMaxHostnameFile = 256;  // a hostname is at most 253 bytes (RFC 1035)

}  // namespace netdhcp
