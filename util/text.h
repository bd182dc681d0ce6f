// Text helpers, one copy each: ASCII case, numbers, tokens, UTF-8, hex and
// base64. Pure functions of their arguments; no allocation beyond results.

#ifndef WEBHOOKS_UTIL_TEXT_H_
#define WEBHOOKS_UTIL_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace webhooks {

// ASCII lower case; toolkit slugs, media types and host names are ASCII.
std::string Lowercase(std::string_view text);

// Printable ASCII without spaces, 1 to max_length bytes: the rule for API
// keys, request ids and provider event ids.
bool IsTokenText(std::string_view text, size_t max_length);

// A whole decimal number in [min, max]; false (and *out unchanged) for
// anything else, signs and spaces included.
bool ParseInt(std::string_view text, long long min, long long max,
              long long* out);

// Equal but for ASCII letter case (header names, media types).
bool EqualsIgnoringCase(std::string_view a, std::string_view b);

// The non-empty parts of a comma-separated list.
std::vector<std::string> SplitCommas(std::string_view text);

// Text from a request, made safe to put in a log line or an error message:
// control characters, quotes, backslashes and non-ASCII bytes are escaped
// as \xNN (a decoded path may hold any byte, not only UTF-8), and it is cut
// at max_length bytes with "..." after.
std::string Printable(std::string_view text, size_t max_length = 512);

// Decodes one UTF-8 sequence at text[*i] and advances *i past it; returns
// the code point, or -1 (and *i unchanged) if it is not valid: truncated,
// overlong, a surrogate or beyond U+10FFFF.
long NextCodePoint(std::string_view text, size_t* i);

// Valid UTF-8.
bool IsUtf8(std::string_view text);

// Valid UTF-8 without control characters (C0, DEL, C1).
bool IsCleanText(std::string_view text);

// Lower-case hex of raw bytes.
std::string HexEncode(std::string_view raw);

// Raw bytes of hex digits of either case; false on an odd length or a
// non-digit.
bool HexDecode(std::string_view hex, std::string* raw);

// Standard, padded base64 of raw bytes.
std::string Base64Encode(std::string_view raw);

// Exactly `size` raw bytes from standard, padded base64. Only the one
// canonical encoding of those bytes is accepted (no whitespace, no
// non-zero padding bits).
bool Base64DecodeExact(std::string_view text, size_t size, std::string* raw);

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_TEXT_H_
