// Status and Result<T>: how every fallible call in Tributary reports failure.
//
// A Status is a code plus a message and, for input errors, the location of the problem
// (a JSON pointer such as "/run/runId" or a parameter name). Result<T> holds either a value
// or a non-OK Status. Both are cheap to move and are [[nodiscard]].
//
// Thread safety: value types; distinct objects may be used from distinct threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tributary {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument = 1,
  kNotFound = 2,
  kAlreadyExists = 3,
  kFailedPrecondition = 4,
  kDataLoss = 5,
  kUnavailable = 6,
  kInternal = 7,
  kTooLarge = 8,  // the input exceeds a configured size limit
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string path = {})
      : code_(code), message_(std::move(message)), path_(std::move(path)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg, std::string path = {}) {
    return Status(StatusCode::kInvalidArgument, std::move(msg), std::move(path));
  }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) {
    return Status(StatusCode::kAlreadyExists, std::move(msg));
  }
  static Status FailedPrecondition(std::string msg) {
    return Status(StatusCode::kFailedPrecondition, std::move(msg));
  }
  static Status DataLoss(std::string msg) { return Status(StatusCode::kDataLoss, std::move(msg)); }
  static Status Unavailable(std::string msg) {
    return Status(StatusCode::kUnavailable, std::move(msg));
  }
  static Status Internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }
  static Status TooLarge(std::string msg) { return Status(StatusCode::kTooLarge, std::move(msg)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Where the problem is: a JSON pointer into the input, or a parameter name. May be empty.
  const std::string& path() const { return path_; }

  // "InvalidArgument: message (at /path)".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string path_;
};

const char* StatusCodeName(StatusCode code);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tributary

#define TRIB_CONCAT_INNER(a, b) a##b
#define TRIB_CONCAT(a, b) TRIB_CONCAT_INNER(a, b)

#define TRIB_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::tributary::Status trib_status_ = (expr);   \
    if (!trib_status_.ok()) return trib_status_; \
  } while (0)

#define TRIB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#define TRIB_ASSIGN_OR_RETURN(lhs, expr) \
  TRIB_ASSIGN_OR_RETURN_IMPL(TRIB_CONCAT(trib_result_, __LINE__), lhs, expr)
