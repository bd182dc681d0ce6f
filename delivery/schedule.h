// What happens after an attempt: the contract's rules ("Attempts, retries,
// outcomes" in ../shared/spec/subscriptions-and-delivery.md; Composio
// publishes none, so every rule here is our choice). 2xx succeeds; a 3xx is
// a failure and is never followed; 410 Gone ends the delivery and disables
// the subscription; anything else is retried on the schedule (Svix's by
// default) with +-20 % jitter, a Retry-After on 429/503 honoured up to twice
// the scheduled delay; a manual attempt (resend, recover) is never
// rescheduled.

#ifndef WEBHOOKS_DELIVERY_SCHEDULE_H_
#define WEBHOOKS_DELIVERY_SCHEDULE_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace webhooks {

// What ended an attempt, as the transport saw it.
struct AttemptResult {
  int status_code = 0;  // 0: no response (a transport error)
  // The Retry-After header of the response, if any, as received.
  std::optional<std::string> retry_after;
};

// The contract's error class of a received status: "" for 2xx, "redirect"
// for 3xx, "http_status" for the rest.
std::string ErrorClassOfStatus(int status_code);

// Seconds of a Retry-After value: a number of seconds, or an HTTP date
// (RFC 9110) relative to now_ms. Unset if neither.
std::optional<int64_t> RetryAfterSeconds(std::string_view value,
                                         int64_t now_ms);

class RetrySchedule {
 public:
  // `delays_ms`: after the first automatic attempt, after the second, ...
  // N delays give N + 1 automatic attempts. `seed` seeds the jitter.
  RetrySchedule(std::vector<int64_t> delays_ms, uint64_t seed);

  // The verdict on an attempt of `delivery` (whose automatic_attempts
  // counts those before it) that ended with `result` at now_ms; for kRetry,
  // *next_attempt_at_ms.
  AttemptVerdict Decide(const ClaimedDelivery& delivery,
                        const AttemptResult& result, int64_t now_ms,
                        int64_t* next_attempt_at_ms);

 private:
  int64_t Jittered(int64_t delay_ms);

  const std::vector<int64_t> delays_ms_;
  std::mt19937_64 random_;
};

}  // namespace webhooks

#endif  // WEBHOOKS_DELIVERY_SCHEDULE_H_
