// Runs a function when the scope ends, however it ends: also when a coroutine that holds it is
// destroyed while suspended. Holds a std::function (not the lambda's own type), so that it can
// sit in a coroutine frame without GCC's -Wsubobject-linkage.
#pragma once

#include <functional>
#include <utility>

namespace netdhcp {

class ScopeExit {
 public:
  explicit ScopeExit(std::function<void()> run) : run_(std::move(run)) {}
  ~ScopeExit() {
    if (run_) run_();
  }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  std::function<void()> run_;
};

}  // namespace netdhcp
