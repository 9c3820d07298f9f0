// Network namespaces: an owning handle, identity, and the scoped "do this inside namespace N"
// that creates sockets there. The calling thread switches in and back out; never hold it across
// a co_await (ns::Enter is not movable on purpose).
#pragma once

#include <sys/types.h>

#include <string>

#include "netdhcp/result.hpp"
#include "netdhcp/unique_fd.hpp"

namespace netdhcp::netlink {

class Namespace {
 public:
  // Opens /var/run/docker/netns/ID, /proc/PID/ns/net, /run/netns/NAME, ...
  // Errors: the path cannot be opened, or is not a network namespace.
  static Result<Namespace> open(const std::string& path);
  // The calling thread's current network namespace.
  static Result<Namespace> current();
  // A new, empty network namespace (loopback only, down), not bound to any name: it lives as
  // long as this handle or anything inside it. The calling thread stays where it was.
  static Result<Namespace> create();

  BorrowedFd fd() const { return BorrowedFd(fd_); }
  // Identity: two handles refer to the same namespace iff device and inode are equal.
  dev_t device() const { return device_; }
  ino_t inode() const { return inode_; }
  bool same_as(const Namespace& other) const { return device_ == other.device_ && inode_ == other.inode_; }
  const std::string& path() const { return path_; }

 private:
  static Result<Namespace> adopt(UniqueFd fd, const std::string& path);
  Namespace(UniqueFd fd, dev_t device, ino_t inode, std::string path)
      : fd_(std::move(fd)), device_(device), inode_(inode), path_(std::move(path)) {}
  UniqueFd fd_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  std::string path_;
};

// Switches the calling thread into a namespace for the lifetime of this object, and back.
// Check ok() before relying on it. The way back from the outermost Enter is the thread's home
// namespace, opened at its first Enter and kept (a renewal enters twice: that open and close
// were a tenth of the daemon's CPU while renewing); a thread that moves itself by other means
// (unshare) must do so before its first Enter.
class Enter {
 public:
  explicit Enter(const Namespace& target);
  ~Enter();
  Enter(const Enter&) = delete;
  Enter& operator=(const Enter&) = delete;
  bool ok() const { return error_.message.empty(); }
  const Error& error() const { return error_; }

 private:
  UniqueFd original_;  // nested: where the outer Enter had the thread; outermost: unused (home)
  Error error_;
  bool switched_ = false;
  bool nested_ = false;
};

// Runs `create` inside `target` and returns its result; the thread is back where it was
// before this returns, whatever happened.
template <class F>
auto inside(const Namespace& target, F&& create) -> decltype(create()) {
  Enter enter(target);
  if (!enter.ok()) return enter.error();
  return create();
}

// Where sysctls are written: "/proc/sys" unless the daemon found it read-only (inside a managed
// Docker plugin runc mounts /proc/sys read-only) and mounted a procfs of its own.
void set_proc_sys_root(std::string root);
const std::string& proc_sys_root();

// Writes a per-interface sysctl inside a namespace, e.g. ("ipv6", "eth0", "accept_dad", "0")
// -> /proc/sys/net/ipv6/conf/eth0/accept_dad. Errors: cannot enter, no such file or value.
Result<void> set_interface_sysctl(const Namespace& target, const std::string& family, const std::string& interface,
                                  const std::string& key, const std::string& value);

}  // namespace netdhcp::netlink
