#include "util/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace webhooks {

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatTime(int64_t millis) {
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, static_cast<int>(millis % 1000));
  return buffer;
}

bool ParseTime(const std::string& text, int64_t* millis) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month,
                  &day, &hour, &minute, &second, &consumed) != 6 ||
      consumed != 19) {
    return false;
  }
  size_t at = 19;
  int fraction_ms = 0;
  if (at < text.size() && text[at] == '.') {
    int digits = 0;
    ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (digits < 3) fraction_ms = fraction_ms * 10 + (text[at] - '0');
      ++digits;
      ++at;
    }
    if (digits == 0) return false;
    for (int d = digits; d < 3; ++d) fraction_ms *= 10;
  }
  int offset_minutes = 0;
  if (at + 1 == text.size() && text[at] == 'Z') {
    ++at;
  } else if (at == text.size()) {
    return false;  // no zone: which day it is would be a guess
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') &&
             text[at + 3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + at + 1, "%2d:%2d", &oh, &om) != 2 ||
        oh > 23 || om > 59) {
      return false;
    }
    offset_minutes = (text[at] == '-' ? -1 : 1) * (oh * 60 + om);
    at += 6;
  }
  if (at != text.size()) return false;
  std::tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  const std::time_t seconds = ::timegm(&parts);
  // timegm normalises (February 30th is March 2nd): a date that changed did
  // not exist.
  if (parts.tm_year != year - 1900 || parts.tm_mon != month - 1 ||
      parts.tm_mday != day || parts.tm_hour != hour || parts.tm_min != minute ||
      parts.tm_sec != second) {
    return false;
  }
  *millis = (static_cast<int64_t>(seconds) - offset_minutes * 60LL) * 1000 +
            fraction_ms;
  return true;
}

}  // namespace webhooks
