// Status: the outcome of a call that can fail for reasons the caller must
// handle (the store's, above all). Errors are values at the store boundary;
// nothing of ours throws across it.

#ifndef WEBHOOKS_UTIL_STATUS_H_
#define WEBHOOKS_UTIL_STATUS_H_

#include <string>
#include <utility>

namespace webhooks {

// The outcome of a store call. Expected outcomes ("already existed") are not
// errors; they are reported through output parameters.
class Status {
 public:
  enum class Code {
    kOk,
    kNotFound,         // the row does not exist (in this project)
    kInvalidArgument,  // the caller passed something the store cannot hold
    kConflict,         // a constraint the caller could not have known about
    kUnavailable,      // busy, locked or out of space: retrying later may work
    kInternal,         // anything else; the detail was logged by the store
  };

  static Status Ok() { return Status(Code::kOk, ""); }
  static Status NotFound(std::string msg) {
    return Status(Code::kNotFound, std::move(msg));
  }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status Conflict(std::string msg) {
    return Status(Code::kConflict, std::move(msg));
  }
  static Status Unavailable(std::string msg) {
    return Status(Code::kUnavailable, std::move(msg));
  }
  static Status Internal(std::string msg) {
    return Status(Code::kInternal, std::move(msg));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // A short description for logs. Never sent to API clients as is.
  const std::string& message() const { return message_; }

 private:
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  Code code_;
  std::string message_;
};

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_STATUS_H_
