// An independent signer for the test suites: HMAC-SHA256, SHA-256, Ed25519,
// hex and base64, and Slack's v0 scheme straight from OpenSSL, never through
// the server's code (verify.cpp), so that the server is checked against a
// second implementation. Header-only; every test binary links OpenSSL.

#ifndef WEBHOOKS_TESTS_SIGNER_H_
#define WEBHOOKS_TESTS_SIGNER_H_

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
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

// Standard padded base64 of `bytes`.
inline std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int size =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(size));
  return out;
}

// Standard padded base64 back to bytes; nullopt if it is not that.
inline std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int size =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (size < 0) return std::nullopt;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(size) - padding);
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

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// A fresh Ed25519 key from OpenSSL; `key` null if generation failed.
struct Ed25519Key {
  PkeyPtr key;
  std::string public_key;  // 32 raw bytes
};

inline Ed25519Key NewEd25519Key() {
  Ed25519Key out;
  const PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* generated = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &generated) != 1) {
    return out;
  }
  PkeyPtr key(generated);
  std::string public_key(32, '\0');
  size_t size = public_key.size();
  if (EVP_PKEY_get_raw_public_key(
          key.get(), reinterpret_cast<unsigned char*>(public_key.data()),
          &size) != 1 ||
      size != 32) {
    return out;
  }
  out.key = std::move(key);
  out.public_key = std::move(public_key);
  return out;
}

// A fresh Ed25519 key as raw bytes, for tests that keep the private key in
// a string (a signing key beside HMAC secrets).
struct Ed25519KeyPair {
  std::string private_key;  // 32 raw bytes; empty if generation failed
  std::string public_key;   // 32 raw bytes
};

inline Ed25519KeyPair GenerateEd25519KeyPair() {
  const Ed25519Key key = NewEd25519Key();
  std::string private_key(32, '\0');
  size_t private_size = private_key.size();
  if (key.key == nullptr ||
      EVP_PKEY_get_raw_private_key(
          key.key.get(), reinterpret_cast<unsigned char*>(private_key.data()),
          &private_size) != 1 ||
      private_size != 32) {
    return {};
  }
  return {private_key, key.public_key};
}

// The raw 64-byte Ed25519 signature of `data` with `key`, or "" if OpenSSL
// refused.
inline std::string Ed25519SignWith(EVP_PKEY* key, std::string_view data) {
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string signature(64, '\0');
  size_t size = signature.size();
  if (key == nullptr || ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(),
                     reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1 ||
      size != 64) {
    return std::string();
  }
  return signature;
}

inline std::string Ed25519Sign(const Ed25519Key& key, std::string_view data) {
  return Ed25519SignWith(key.key.get(), data);
}

// Signs with the 32 raw bytes of a private key.
inline std::string Ed25519Sign(std::string_view private_key,
                               std::string_view data) {
  const PkeyPtr key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(private_key.data()),
      private_key.size()));
  return Ed25519SignWith(key.get(), data);
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

// What Stripe sends in Stripe-Signature for one secret: "t=<time>,v1=" and
// the hex HMAC-SHA256 of "<time>.<body>" keyed by the secret's own bytes.
inline std::string StripeSignatureOf(std::string_view secret, int64_t timestamp,
                                     std::string_view body) {
  const std::string stamp = std::to_string(timestamp);
  return "t=" + stamp +
         ",v1=" + Hex(HmacSha256(secret, stamp + "." + std::string(body)));
}

// One Standard Webhooks signature entry, "v1,<base64>": HMAC-SHA256 of
// "<id>.<time>.<body>" keyed by `key`, the raw bytes a whsec_ secret's
// base64 stands for.
inline std::string StandardWebhooksSignatureOf(std::string_view key,
                                               std::string_view id,
                                               int64_t timestamp,
                                               std::string_view body) {
  return "v1," + Base64Encode(HmacSha256(key, std::string(id) + "." +
                                                  std::to_string(timestamp) +
                                                  "." + std::string(body)));
}

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_SIGNER_H_
