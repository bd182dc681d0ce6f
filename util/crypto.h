// Cryptography, one copy each, all OpenSSL's: SHA-256, HMAC-SHA256, random
// tokens from the CSPRNG, and constant-time comparison.

#ifndef WEBHOOKS_UTIL_CRYPTO_H_
#define WEBHOOKS_UTIL_CRYPTO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace webhooks {

// The raw 32-byte SHA-256 digest. Aborts if OpenSSL cannot hash (nothing
// can go on without it).
std::string Sha256(std::string_view data);

// The raw 32-byte HMAC-SHA256 of `data` under `key` (any length, empty
// included). False if OpenSSL refuses the key.
bool HmacSha256(std::string_view key, std::string_view data,
                std::string* digest);

// Lower-case hex of HMAC-SHA256(key, data); empty if OpenSSL refuses.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// `length` characters of A-Za-z0-9_- from OpenSSL's CSPRNG: six bits each.
// Thread-safe. Aborts if the random source fails (ids would be guessable).
std::string RandomToken(size_t length);

// `millis` (0 to 64^8 - 1) in 8 characters of the same alphabet, in ASCII
// order, followed by RandomToken(random_length): tokens of later times
// sort after earlier ones, so a b-tree keyed by them grows at its end
// (one page written for many inserts) instead of at random pages.
std::string TimeOrderedToken(int64_t millis, size_t random_length);

// `count` raw random bytes (at most 4096), as RandomToken draws them.
std::string RandomBytes(size_t count);

// Equal contents, in a time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_CRYPTO_H_
