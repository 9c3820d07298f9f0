#include "netlink/namespace.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace netdhcp::netlink {

namespace {
constexpr const char* kThreadNamespace = "/proc/thread-self/ns/net";
}

Result<Namespace> Namespace::adopt(UniqueFd fd, const std::string& path) {
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type < 0 || type != CLONE_NEWNET) return Error{path + " is not a network namespace"};
  struct stat st{};
  if (::fstat(fd.get(), &st) < 0) return system_error("stat " + path, errno);
  return Namespace(std::move(fd), st.st_dev, st.st_ino, path);
}

Result<Namespace> Namespace::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int e = errno;
    if (e == ENOENT) return Error{"network namespace " + path + " does not exist (container gone?)", e};
    return system_error("opening network namespace " + path, e);
  }
  return adopt(std::move(fd), path);
}

Result<Namespace> Namespace::current() { return open(kThreadNamespace); }

Result<Namespace> Namespace::create() {
  auto original = current();
  if (!original) return original.error();
  if (::unshare(CLONE_NEWNET) < 0) return system_error("unshare(CLONE_NEWNET)", errno);
  auto created = open(kThreadNamespace);
  if (::setns(original->fd().get(), CLONE_NEWNET) < 0) {
    // The thread would go on in the wrong namespace: nothing it does after this can be trusted.
    std::perror("net-dhcp: cannot return to the original network namespace");
    std::abort();
  }
  if (!created) return created.error();
  return created;
}

namespace {
thread_local UniqueFd t_home;  // the thread's own namespace, once it has entered another
thread_local int t_depth = 0;  // Enters alive on this thread
}  // namespace

Enter::Enter(const Namespace& target) {
  nested_ = t_depth > 0;
  UniqueFd& back = nested_ ? original_ : t_home;
  if (!back) back.reset(::open(kThreadNamespace, O_RDONLY | O_CLOEXEC));
  if (!back) {
    error_ = system_error("opening the current network namespace", errno);
    return;
  }
  if (::setns(target.fd().get(), CLONE_NEWNET) < 0) {
    error_ = system_error("entering network namespace " + target.path(), errno);
    return;
  }
  switched_ = true;
  ++t_depth;
}

Enter::~Enter() {
  if (!switched_) return;
  --t_depth;
  if (::setns((nested_ ? original_ : t_home).get(), CLONE_NEWNET) < 0) {
    std::perror("net-dhcp: cannot return to the original network namespace");
    std::abort();
  }
}

namespace {
std::string& proc_sys_root_storage() {
  static std::string root = "/proc/sys";
  return root;
}
}  // namespace

void set_proc_sys_root(std::string root) { proc_sys_root_storage() = std::move(root); }
const std::string& proc_sys_root() { return proc_sys_root_storage(); }

Result<void> set_interface_sysctl(const Namespace& target, const std::string& family, const std::string& interface,
                                  const std::string& key, const std::string& value) {
  // /proc/sys/net shows the namespace of the thread that opens the file.
  std::string path = proc_sys_root() + "/net/" + family + "/conf/" + interface + "/" + key;
  UniqueFd fd = [&] {
    Enter enter(target);
    return enter.ok() ? UniqueFd(::open(path.c_str(), O_WRONLY | O_CLOEXEC)) : UniqueFd();
  }();
  if (!fd) return system_error("opening " + path + " in " + target.path(), errno);
  if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
    return system_error("writing " + value + " to " + path, errno);
  return {};
}

}  // namespace netdhcp::netlink
