// The process log: one line per call, JSON or key=value text, on standard
// error through a LogSink that never blocks a request.

#ifndef WEBHOOKS_OPS_LOGGER_H_
#define WEBHOOKS_OPS_LOGGER_H_

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ops/log_sink.h"

namespace webhooks {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// One field of a log line. Values are escaped (Printable) before they are
// written, so a line can never be split or forged by what a client sent.
struct LogField {
  std::string_view key;
  std::string value;
  bool number = false;
};

// Formats one line per call, as JSON or key=value text, and hands it to a
// LogSink on standard error: a call never waits for the reader of standard
// error, and a line the sink has no room for is dropped and counted
// (dropped_lines(), shown by GET /metrics). Callers pass only fields that are
// safe to log: never a key, a secret, a signature or a body. Built in main;
// thread-safe. Its destructor writes what is queued for at most
// LogSink::kCloseWait.
class Logger {
 public:
  Logger(bool json, LogLevel least)
      : json_(json), least_(least), sink_(STDERR_FILENO) {}

  bool Enabled(LogLevel level) const { return level >= least_; }

  void Log(LogLevel level, std::string_view message,
           const std::vector<LogField>& fields) const;

  // Queues "webhooks-server: <text>" whatever the level and format: the
  // process's own messages (how it stops), in the plain form the start-up
  // lines have.
  void Notice(std::string_view text) const;

  // Waits up to `limit` for the queued lines to be written; false if some
  // are still queued (the reader of standard error is not reading).
  bool Flush(std::chrono::milliseconds limit) const {
    return sink_.Flush(limit);
  }

  uint64_t dropped_lines() const { return sink_.dropped_lines(); }

 private:
  const bool json_;
  const LogLevel least_;
  const LogSink sink_;
};

// "debug", "warn", "error"; anything else is info.
LogLevel LevelNamed(const std::string& name);

}  // namespace webhooks

#endif  // WEBHOOKS_OPS_LOGGER_H_
