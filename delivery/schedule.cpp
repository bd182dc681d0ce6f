#include "delivery/schedule.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "util/text.h"

namespace webhooks {

std::string ErrorClassOfStatus(int status_code) {
  if (status_code >= 200 && status_code < 300) return "";
  if (status_code >= 300 && status_code < 400) return "redirect";
  return "http_status";
}

std::optional<int64_t> RetryAfterSeconds(std::string_view value,
                                         int64_t now_ms) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  long long seconds = 0;
  if (ParseInt(value, 0, 365LL * 86400, &seconds)) return seconds;
  // IMF-fixdate, the one HTTP date form senders must use:
  // "Sun, 06 Nov 1994 08:49:37 GMT".
  struct tm parts {};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const int64_t at_seconds = timegm(&parts);
  return std::max<int64_t>(0, at_seconds - now_ms / 1000);
}

RetrySchedule::RetrySchedule(std::vector<int64_t> delays_ms, uint64_t seed)
    : delays_ms_(std::move(delays_ms)), random_(seed) {}

int64_t RetrySchedule::Jittered(int64_t delay_ms) {
  std::uniform_real_distribution<double> factor(0.8, 1.2);
  return static_cast<int64_t>(static_cast<double>(delay_ms) * factor(random_));
}

AttemptVerdict RetrySchedule::Decide(const ClaimedDelivery& delivery,
                                     const AttemptResult& result,
                                     int64_t now_ms,
                                     int64_t* next_attempt_at_ms) {
  if (result.status_code >= 200 && result.status_code < 300) {
    return AttemptVerdict::kSucceeded;
  }
  if (result.status_code == 410) {
    return AttemptVerdict::kGone;
  }
  if (delivery.manual) return AttemptVerdict::kFailed;
  // The automatic attempts made, this one included: the n-th is followed
  // by delays_ms_[n - 1], if there is one.
  const size_t made = static_cast<size_t>(delivery.automatic_attempts) + 1;
  if (made > delays_ms_.size()) return AttemptVerdict::kFailed;
  const int64_t scheduled = Jittered(delays_ms_[made - 1]);
  int64_t delay = scheduled;
  if ((result.status_code == 429 || result.status_code == 503) &&
      result.retry_after) {
    if (auto seconds = RetryAfterSeconds(*result.retry_after, now_ms)) {
      delay = std::min(*seconds * 1000, 2 * scheduled);
    }
  }
  *next_attempt_at_ms = now_ms + delay;
  return AttemptVerdict::kRetry;
}

}  // namespace webhooks
