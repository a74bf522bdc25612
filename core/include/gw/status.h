#pragma once
// Errors are values: the core is built with -fno-exceptions, so every fallible
// step returns a Status or a Result<T> instead of throwing.
#include <string>
#include <utility>

namespace gw {

struct Status {
  bool ok = true;
  std::string message;

  static Status success() { return {}; }
  static Status failure(std::string msg) { return {false, std::move(msg)}; }
  explicit operator bool() const { return ok; }
};

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status failure) : status_(std::move(failure)) {}  // NOLINT
  bool ok() const { return status_.ok; }
  const T& value() const { return value_; }
  T& value() { return value_; }
  const Status& status() const { return status_; }

 private:
  T value_{};
  Status status_;
};

}  // namespace gw
