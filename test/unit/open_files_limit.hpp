// For a test that makes the process run out of file descriptors: RLIMIT_NOFILE's soft limit
// set so that exactly `more` descriptors can still be opened, restored when the scope ends,
// however it ends (also when a REQUIRE fails inside it). Used by the unit and netlink tests.
#pragma once

#include <dirent.h>
#include <sys/resource.h>

#include <cstdlib>
#include <set>

#include <catch2/catch.hpp>

namespace netdhcp::test {

class OpenFilesLimit {
 public:
  explicit OpenFilesLimit(int more) {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &before_) == 0);
    rlimit tight = before_;
    tight.rlim_cur = static_cast<rlim_t>(free_fd(more));
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  }
  ~OpenFilesLimit() { (void)::setrlimit(RLIMIT_NOFILE, &before_); }
  OpenFilesLimit(const OpenFilesLimit&) = delete;
  OpenFilesLimit& operator=(const OpenFilesLimit&) = delete;

 private:
  // The number of the (n+1)-th lowest descriptor not in use: a soft limit there leaves the n
  // free ones below it.
  static int free_fd(int n) {
    std::set<int> used;
    DIR* d = ::opendir("/proc/self/fd");
    REQUIRE(d != nullptr);
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.') used.insert(std::atoi(e->d_name));
    used.erase(::dirfd(d));
    ::closedir(d);
    int free_found = 0;
    for (int fd = 0;; ++fd)
      if (!used.count(fd) && free_found++ == n) return fd;
  }

  rlimit before_{};
};

}  // namespace netdhcp::test
