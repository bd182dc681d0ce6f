// An independent signer for the test suites: HMAC-SHA256, SHA-256 and
// Slack's v0 scheme straight from OpenSSL, never through the server's code
// (verify.cpp), so that the server is checked against a second
// implementation. Header-only; every test binary links OpenSSL.

#ifndef WEBHOOKS_TESTS_SIGNER_H_
#define WEBHOOKS_TESTS_SIGNER_H_

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace webhooks::testing {

inline std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

// Raw HMAC-SHA256 of `data`. `key` must not be empty.
inline std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  static const unsigned char kNothing[1] = {0};
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           data.empty() ? kNothing
                        : reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), digest, &size) == nullptr) {
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

// Raw SHA-256 of `data`.
inline std::string Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(),
                 nullptr) != 1) {
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

// Unix seconds from the clock the server reads (system_clock, not time(),
// which may lag it by a tick).
inline int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What Slack sends in X-Slack-Signature: "v0=" and the hex HMAC-SHA256 of
// "v0:{timestamp}:{body}" keyed by the signing secret.
inline std::string SlackSignatureOf(std::string_view secret,
                                    const std::string& timestamp,
                                    std::string_view body) {
  return "v0=" +
         Hex(HmacSha256(secret, "v0:" + timestamp + ":" + std::string(body)));
}

// Slack's two headers for `body` signed at Unix time `timestamp`.
inline httplib::Headers SlackHeadersAt(std::string_view secret,
                                       int64_t timestamp,
                                       std::string_view body) {
  const std::string stamp = std::to_string(timestamp);
  return {{"X-Slack-Request-Timestamp", stamp},
          {"X-Slack-Signature", SlackSignatureOf(secret, stamp, body)}};
}

// Slack's two headers for `body`, signed now.
inline httplib::Headers SlackHeaders(std::string_view secret,
                                     std::string_view body) {
  return SlackHeadersAt(secret, UnixNow(), body);
}

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_SIGNER_H_
