// Status and Result<T>: the error currency of tickflow.
//
// Expected failures (bad input, I/O, unavailable peers) are returned, never thrown.
// Exceptions are reserved for start-up errors and bugs. A Status says whether the
// caller may retry the operation (`retryable()`), following redpanda's habit.
// Thread-safety: plain values, safe to copy between threads.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tickflow {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // caller's input is wrong; do not retry
  kNotFound,
  kParse,            // malformed external data
  kCorruption,       // stored data failed a check
  kIo,               // local I/O failed (disk full, permissions)
  kUnavailable,      // peer down / timeout; retryable
  kResourceExhausted,// queue full, rate limited; retryable
  kAlreadyExists,
  kCancelled,
  kInternal,
};

std::string_view error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  static Status invalid_argument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Status parse_error(std::string m) { return {ErrorCode::kParse, std::move(m)}; }
  static Status corruption(std::string m) { return {ErrorCode::kCorruption, std::move(m)}; }
  static Status io_error(std::string m) { return {ErrorCode::kIo, std::move(m)}; }
  static Status unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Status resource_exhausted(std::string m) { return {ErrorCode::kResourceExhausted, std::move(m)}; }
  static Status internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // True when the same call may succeed later (peer down, back-pressure).
  bool retryable() const {
    return code_ == ErrorCode::kUnavailable || code_ == ErrorCode::kResourceExhausted;
  }
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Result<T>: a T or a non-ok Status (shaped like std::expected, which GCC 12 lacks).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(implicit)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(implicit)
    assert(!std::get<Status>(v_).is_ok() && "Result from an ok Status has no value");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T value_or(T fallback) const { return is_ok() ? value() : fallback; }

 private:
  std::variant<T, Status> v_;
};

#define TICKFLOW_RETURN_IF_ERROR(expr)        \
  do {                                        \
    ::tickflow::Status _st = (expr);          \
    if (!_st.is_ok()) return _st;             \
  } while (0)

}  // namespace tickflow
