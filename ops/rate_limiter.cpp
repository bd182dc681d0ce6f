#include "ops/rate_limiter.h"

namespace webhooks {

RateLimiter::Decision RateLimiter::Take(const std::string& project_id) {
  using std::chrono::steady_clock;
  const auto now = steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  Window& window = windows_[project_id];
  if (window.count == 0 || now - window.start >= std::chrono::minutes(1)) {
    window = Window{now, 0};
  }
  Decision decision;
  decision.allowed = window.count < per_minute_;
  if (decision.allowed) ++window.count;
  decision.remaining = per_minute_ - window.count;
  decision.reset_seconds =
      static_cast<int>(std::chrono::ceil<std::chrono::seconds>(
                           window.start + std::chrono::minutes(1) - now)
                           .count());
  return decision;
}

}  // namespace webhooks
