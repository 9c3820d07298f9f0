#include "src/support/unix_socket_path.hpp"

#include <fcntl.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace netdhcp {

Result<UnixSocketPath> UnixSocketPath::of(const std::string& path) {
  constexpr std::size_t kMax = sizeof(sockaddr_un::sun_path) - 1;
  UnixSocketPath p;
  if (path.size() <= kMax) {
    p.usable_ = path;
    return p;
  }
  auto slash = path.rfind('/');
  std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  p.folder_.reset(::open(folder.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!p.folder_)
    return Error{"socket " + path + ": its folder cannot be opened: " + std::strerror(errno), errno};
  p.usable_ = "/proc/self/fd/" + std::to_string(p.folder_.get()) + "/" + name;
  if (p.usable_.size() > kMax)
    return Error{"socket " + path + ": its name " + name + " is too long for a Unix socket (at most " +
                     std::to_string(kMax - 20) + " bytes): choose a shorter one",
                 ENAMETOOLONG};
  return p;
}

}  // namespace netdhcp
