// Requests per minute per project, counted in memory.

#ifndef WEBHOOKS_OPS_RATE_LIMITER_H_
#define WEBHOOKS_OPS_RATE_LIMITER_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace webhooks {

// A fixed one-minute window per project, counted in memory: enough for
// client code to be tested against throttling. Thread-safe.
class RateLimiter {
 public:
  explicit RateLimiter(int per_minute) : per_minute_(per_minute) {}

  struct Decision {
    bool allowed = true;
    int remaining = 0;
    int reset_seconds = 0;  // until the window ends
  };

  Decision Take(const std::string& project_id);

  int per_minute() const { return per_minute_; }

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    int count = 0;
  };
  const int per_minute_;
  std::mutex mu_;
  std::map<std::string, Window> windows_;  // Guarded by mu_.
};

}  // namespace webhooks

#endif  // WEBHOOKS_OPS_RATE_LIMITER_H_
