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
// timeout, ends the process at once with status 1. SIGHUP runs the reload
// callback (the TLS certificate, when there is one) and logs what it
// returns; without one it is logged and changes nothing. By default SIGHUP
// would have ended the process with requests unanswered and the WAL not
// checkpointed. Its messages go through the log, so a standard error that
// nobody reads cannot hold the shutdown.
//
// Finish() (or the destructor) must run before `log` and what `stop` stops go:
// after it the thread touches neither, and it never ends the process.
class SignalWatcher {
 public:
  // `stop` asks the server to stop accepting and finish what is in flight.
  // `reload`, if given, answers SIGHUP and returns the line to log (what
  // it reloaded, or why it kept what it had); it runs on the watcher's
  // thread, one at a time, and must not throw.
  SignalWatcher(std::function<void()> stop, sigset_t signals, const Logger& log,
                std::function<std::string()> reload = nullptr)
      : shared_(std::make_shared<Shared>()) {
    std::thread([stop = std::move(stop), reload = std::move(reload), signals,
                 &log, shared = shared_] {
      Watch(stop, reload, signals, log, *shared);
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

  // Answers a SIGHUP: runs `reload` (if any) and logs the outcome. False
  // if main has finished (the log, and what reload touches, may be gone).
  static bool NoteHangUp(const std::function<std::string()>& reload,
                         const Logger& log, Shared& shared);

  static void Watch(const std::function<void()>& stop,
                    const std::function<std::string()>& reload,
                    sigset_t signals, const Logger& log, Shared& shared);

  const std::shared_ptr<Shared> shared_;
};

}  // namespace webhooks

#endif  // WEBHOOKS_OPS_SIGNAL_WATCHER_H_
