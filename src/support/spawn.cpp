#include "src/support/spawn.hpp"

#include "src/support/log.hpp"

namespace netdhcp {

std::string describe_exception(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

void report_coroutine_failure(const std::string& what, std::exception_ptr e, const FailureHandler& on_failure) {
  std::string message = describe_exception(e);
  log::error(what + " failed: " + message);
  if (on_failure) on_failure(message);
}

}  // namespace netdhcp
