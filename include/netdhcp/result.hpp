// Result<T>: a value or an Error with a message written for the person who will read it.
// (std::expected is C++23; this is the small subset we need.)
#pragma once

#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace netdhcp {

struct Error {
  std::string message;
  int errno_value = 0;  // 0 when the error did not come from a system call
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

// An Error from errno with "what: strerror" text.
inline Error system_error(std::string what, int errno_value) {
  return Error{std::move(what) + ": " + std::strerror(errno_value), errno_value};
}

}  // namespace netdhcp
