// BackgroundLoop: a thread that runs one short step over and over, paced
// so that the work it competes with (the store's writes, for the pruner)
// keeps its share. Moved out of store/sqlite_store.cpp (issue 14), where it
// needed nothing of SQLite.

#ifndef WEBHOOKS_UTIL_BACKGROUND_LOOP_H_
#define WEBHOOKS_UTIL_BACKGROUND_LOOP_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace webhooks {

// Runs `step` on a thread of its own, at once and then again while it
// returns true (more work is due, after a pause as long as the step), and
// otherwise after `interval` or a Wake(). Each step is meant to be short: the
// destructor waits for the one running, then stops.
class BackgroundLoop {
 public:
  BackgroundLoop(std::chrono::milliseconds interval, std::function<bool()> step)
      : interval_(interval), step_(std::move(step)) {
    thread_ = std::thread([this] { Loop(); });
  }
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;
  ~BackgroundLoop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = true;
    }
    wake_.notify_one();
  }

 private:
  void Loop() {
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      const bool more = step_();
      // After a step with more to do, a pause as long as the step: other
      // writes queued behind it get the writer at least half the time.
      const auto pause = more ? std::chrono::steady_clock::now() - start
                              : std::chrono::steady_clock::duration(interval_);
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, pause, [this] { return stopping_ || woken_; });
      if (stopping_) return;
      woken_ = false;
    }
  }

  const std::chrono::milliseconds interval_;
  const std::function<bool()> step_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;     // started last, in the constructor body
};

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_BACKGROUND_LOOP_H_
