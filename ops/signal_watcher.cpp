#include "ops/signal_watcher.h"

#include <cerrno>
#include <cstdlib>
#include <ctime>

namespace webhooks {

const char* SignalWatcher::NameOf(int number) {
  return number == SIGINT ? "SIGINT" : "SIGTERM";
}

bool SignalWatcher::NoteHangUp(const std::function<std::string()>& reload,
                               const Logger& log, Shared& shared) {
  std::lock_guard<std::mutex> lock(shared.mu);
  if (shared.finished) return false;
  log.Notice(reload ? reload() : "SIGHUP: nothing to reload, carrying on");
  return true;
}

void SignalWatcher::Watch(const std::function<void()>& stop,
                          const std::function<std::string()>& reload,
                          sigset_t signals, const Logger& log, Shared& shared) {
  int number = 0;
  do {
    if (sigwait(&signals, &number) != 0) return;
  } while (number == SIGHUP && NoteHangUp(reload, log, shared));
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
  const auto window_end = first + std::chrono::seconds(kSameStopWindowSeconds);
  int again = 0;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    timespec bound{static_cast<time_t>(left.count() / 1'000'000'000),
                   static_cast<long>(left.count() % 1'000'000'000)};
    const int next = sigtimedwait(&signals, nullptr, &bound);
    if (next == SIGHUP) {
      if (!NoteHangUp(reload, log, shared)) return;
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

}  // namespace webhooks
