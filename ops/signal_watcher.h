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

  static const char* NameOf(int number) {
    return number == SIGINT ? "SIGINT" : "SIGTERM";
  }

  // Logs a SIGHUP, which asks for nothing yet. False if main has finished
  // (the log may be gone).
  static bool NoteHangUp(const Logger& log, Shared& shared) {
    std::lock_guard<std::mutex> lock(shared.mu);
    if (shared.finished) return false;
    log.Notice("SIGHUP: nothing to reload, carrying on");
    return true;
  }

  static void Watch(const std::function<void()>& stop, sigset_t signals,
                    const Logger& log, Shared& shared) {
    int number = 0;
    do {
      if (sigwait(&signals, &number) != 0) return;
    } while (number == SIGHUP && NoteHangUp(log, shared));
    if (number == SIGHUP) return;  // main has finished
    const auto first = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      if (shared.finished) return;
      log.Notice(std::string(NameOf(number)) +
                 ": finishing in-flight requests (a signal more than " +
                 std::to_string(kSameStopWindowSeconds) +
                 " s later exits at once)");
      stop();
    }
    const auto deadline = first + std::chrono::seconds(kShutdownTimeoutSeconds);
    const auto window_end =
        first + std::chrono::seconds(kSameStopWindowSeconds);
    int again = 0;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      timespec bound{static_cast<time_t>(left.count() / 1'000'000'000),
                     static_cast<long>(left.count() % 1'000'000'000)};
      const int next = sigtimedwait(&signals, nullptr, &bound);
      if (next == SIGHUP) {
        if (!NoteHangUp(log, shared)) return;
        continue;
      }
      if (next > 0 && std::chrono::steady_clock::now() < window_end) {
        std::lock_guard<std::mutex> lock(shared.mu);
        if (shared.finished) return;
        log.Notice(std::string(NameOf(next)) + " within " +
                   std::to_string(kSameStopWindowSeconds) +
                   " s of the first signal: the same stop");
        continue;
      }
      if (next > 0) {
        again = next;
        break;
      }
      // EINTR (a sanitizer's leak check at exit stops threads, say): wait
      // on; EAGAIN: the time is up.
      if (errno != EINTR) break;
    }
    // The lock is kept to the end: main cannot finish (and destroy the log)
    // while the last lines are flushed.
    std::lock_guard<std::mutex> lock(shared.mu);
    if (shared.finished) return;
    log.Notice(again != 0 ? std::string("second signal (") + NameOf(again) +
                                "), exiting now"
                          : std::string("shutdown timed out, exiting now"));
    log.Flush(LogSink::kCloseWait);
    std::_Exit(1);
  }

  const std::shared_ptr<Shared> shared_;
};

}  // namespace webhooks

#endif  // WEBHOOKS_OPS_SIGNAL_WATCHER_H_
