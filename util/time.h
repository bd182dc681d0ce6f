// Wall-clock time as the API shows it. Handlers take "now" from NowMillis
// once and pass it down, so the store and the tests can choose the time.

#ifndef WEBHOOKS_UTIL_TIME_H_
#define WEBHOOKS_UTIL_TIME_H_

#include <cstdint>
#include <string>

namespace webhooks {

// Milliseconds since the Unix epoch, from the system clock.
int64_t NowMillis();

// UTC, ISO 8601 with milliseconds and Z, as Composio formats times:
// "2026-12-02T06:12:30.123Z".
std::string FormatTime(int64_t millis);

// Reads what FormatTime writes, and the same without milliseconds
// ("2026-12-02T06:12:30Z") or with an offset instead of Z ("+01:00"). False
// for anything else, or a date that does not exist.
bool ParseTime(const std::string& text, int64_t* millis);

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_TIME_H_
