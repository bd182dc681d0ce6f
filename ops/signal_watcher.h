// SIGTERM, SIGINT and SIGHUP, taken on a thread of their own.

#ifndef WEBHOOKS_OPS_SIGNAL_WATCHER_H_
#define WEBHOOKS_OPS_SIGNAL_WATCHER_H_

#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "ops/logger.h"

namespace webhooks {

// How long in-flight requests may take to finish after SIGTERM or SIGINT:
// above the 5 s request deadline, so a request being read can complete.
constexpr int kShutdownTimeoutSeconds = 10;

// Stop signals that arrive within this time of the first are the same
// request to stop: `timeout`, for one, signals its child and then the whole
// process group, so the server gets SIGTERM twice almost at once.
constexpr int kSameStopWindowSeconds = 1;

// Watches for SIGTERM, SIGINT and SIGHUP (blocked in every thread, see Run)
// on a thread of its own. The first stop signal stops the server, which
// stops accepting and lets in-flight requests finish; more within
// kSameStopWindowSeconds change nothing; a later one, or the shutdown
// timeout, ends the process at once with status 1. SIGHUP is logged and
// changes nothing (yet: certificate reload will come with TLS); by default
// it would have ended the process with requests unanswered and the WAL not
// checkpointed. Its messages go through the log, so a standard error that
// nobody reads cannot hold the shutdown.
//
// Finish() (or the destructor) must run before `log` and what `stop` stops go:
// after it the thread touches neither, and it never ends the process.
class SignalWatcher {
 public:
  // `stop` asks the server to stop accepting and finish what is in flight.
  SignalWatcher(std::function<void()> stop, sigset_t signals, const Logger& log)
      : shared_(std::make_shared<Shared>()) {
    std::thread([stop = std::move(stop), signals, &log, shared = shared_] {
      Watch(stop, signals, log, *shared);
    }).detach();
  }
  ~SignalWatcher() { Finish(); }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // The stop is done and the exit code is main's. Waits while the thread
  // is using the server or the log (if it is ending the process, forever).
  void Finish() {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->finished = true;
  }

 private:
  struct Shared {
    std::mutex mu;
    bool finished = false;  // guarded by mu
  };

  static const char* NameOf(int number);

  // Logs a SIGHUP, which asks for nothing yet. False if main has finished
  // (the log may be gone).
  static bool NoteHangUp(const Logger& log, Shared& shared);

  static void Watch(const std::function<void()>& stop, sigset_t signals,
                    const Logger& log, Shared& shared);

  const std::shared_ptr<Shared> shared_;
};

}  // namespace webhooks

#endif  // WEBHOOKS_OPS_SIGNAL_WATCHER_H_
