// status.h — library code never aborts: every fallible call returns a Status.
#pragma once
#include <string>
#include <utility>

namespace kk {

class Status {
 public:
  Status() = default;
  static Status OK() { return Status(); }
  static Status Error(std::string message) { Status s; s.ok_ = false; s.message_ = std::move(message); return s; }
  bool ok() const { return ok_; }
  const std::string& message() const { return message_; }
 private:
  bool ok_ = true;
  std::string message_;
};

#define KK_RETURN_IF_ERROR(expr) do { ::kk::Status _s = (expr); if (!_s.ok()) return _s; } while (0)

}  // namespace kk
