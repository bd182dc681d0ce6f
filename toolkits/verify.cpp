// Provider signature checks for the ingress (see verify.h). Slack's and
// Notion's schemes are fixed instances of the generic one, so every scheme
// runs through the same steps, in the order the ingress spec implies: the
// secret is usable; the headers are present once, not over-long and well
// formed; the timestamp is inside the window; only then the signature is
// checked. The signature is the last step so that a request that fails a cheap
// public check never costs a MAC or an Ed25519 verification.

#include "toolkits/verify.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "util/crypto.h"
#include "util/text.h"

namespace webhooks {
namespace {

constexpr size_t kSha256Bytes = 32;
constexpr size_t kEd25519PublicKeyBytes = 32;
constexpr size_t kEd25519SignatureBytes = 64;

// Unix seconds fit in 19 decimal digits (int64_t); longer is not a time.
constexpr size_t kMaxTimestampDigits = 19;

// Slack documents a five-minute window against replays.
constexpr int64_t kSlackToleranceSeconds = 300;
constexpr std::string_view kSlackSignedPayload = "v0:{timestamp}:{body}";

// Ed25519 public keys of small order, as hex with the x sign bit (the top
// bit of the last byte) cleared: y = 0, 1, p - 1, the two order-8 points,
// and the non-canonical p and p + 1. A signature check against such a key
// proves nothing (an all-zero placeholder key accepts the all-zero
// signature on any message), so they are refused as unusable. The list is
// libsodium's blocklist for the same purpose.
constexpr std::string_view kSmallOrderEd25519Keys[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// A scheme with every parameter resolved: Slack's and Notion's fixed ones,
// or those a catalog entry gives hmac_sha256 and ed25519. Views into
// string literals or into the VerificationSpec, which outlives it.
struct Scheme {
  bool ed25519 = false;
  std::string_view signature_header;
  std::string_view signature_prefix;
  SignatureEncoding encoding = SignatureEncoding::kHex;
  std::string_view timestamp_header;  // empty: the scheme signs no time
  int64_t tolerance_seconds = 0;      // 0: any time
  std::string_view signed_payload;
};

Scheme Resolve(const VerificationSpec& spec) {
  Scheme scheme;
  switch (spec.scheme) {
    case SignatureScheme::kSlackV0:
      scheme.signature_header = "X-Slack-Signature";
      scheme.signature_prefix = "v0=";
      scheme.timestamp_header = "X-Slack-Request-Timestamp";
      scheme.tolerance_seconds = kSlackToleranceSeconds;
      scheme.signed_payload = kSlackSignedPayload;
      return scheme;
    case SignatureScheme::kNotion:
      scheme.signature_header = "X-Notion-Signature";
      scheme.signature_prefix = "sha256=";
      scheme.signed_payload = "{body}";
      return scheme;
    case SignatureScheme::kHmacSha256:
    case SignatureScheme::kEd25519:
      break;
  }
  scheme.ed25519 = spec.scheme == SignatureScheme::kEd25519;
  scheme.signature_header = spec.signature_header;
  scheme.signature_prefix = spec.signature_prefix;
  scheme.encoding = spec.encoding;
  scheme.timestamp_header = spec.timestamp_header;
  scheme.tolerance_seconds = spec.tolerance_seconds;
  scheme.signed_payload = spec.signed_payload;
  return scheme;
}

VerifyResult Fail(VerifyStatus status, std::string message) {
  return VerifyResult{status, std::move(message)};
}

bool Failed(const VerifyResult& result) {
  return result.status != VerifyStatus::kOk;
}

// Decodes exactly `size` raw bytes from 2 * size hex digits of either case.
bool DecodeHex(std::string_view text, size_t size, std::string* out) {
  return text.size() == 2 * size && HexDecode(text, out);
}

size_t Base64Size(size_t size) { return 4 * ((size + 2) / 3); }

bool IsSmallOrderEd25519Key(std::string key) {
  key.back() = static_cast<char>(key.back() & 0x7f);
  const std::string hex = HexEncode(key);
  for (const std::string_view blocked : kSmallOrderEd25519Keys) {
    if (hex == blocked) return true;
  }
  return false;
}

// util/ keeps raw bytes in std::string; OpenSSL takes unsigned char.
const unsigned char* Raw(std::string_view bytes) {
  return reinterpret_cast<const unsigned char*>(bytes.data());
}

// The template with "{timestamp}" and "{body}" replaced; everything else,
// including other braces, is literal.
std::string SignedPayload(std::string_view pattern, std::string_view timestamp,
                          std::string_view body) {
  constexpr std::string_view kTimestamp = "{timestamp}";
  constexpr std::string_view kBody = "{body}";
  std::string payload;
  payload.reserve(pattern.size() + timestamp.size() + body.size());
  size_t i = 0;
  while (i < pattern.size()) {
    const std::string_view rest = pattern.substr(i);
    if (rest.substr(0, kTimestamp.size()) == kTimestamp) {
      payload.append(timestamp);
      i += kTimestamp.size();
    } else if (rest.substr(0, kBody.size()) == kBody) {
      payload.append(body);
      i += kBody.size();
    } else {
      payload.push_back(pattern[i]);
      ++i;
    }
  }
  return payload;
}

// Reads a header that must be sent exactly once, non-empty, and no longer
// than kMaxSignatureHeaderBytes. A repeat is refused rather than resolved:
// whichever copy we picked, a proxy or the application might read the other.
VerifyResult ReadHeader(const HeaderLookup& header, std::string_view name,
                        std::string* value) {
  std::optional<HeaderValue> found;
  if (header) found = header(name);
  const std::string header_name(name);
  if (!found) {
    return Fail(VerifyStatus::kMissingHeader,
                header_name + " header is missing");
  }
  if (found->repeated) {
    return Fail(VerifyStatus::kMalformedHeader,
                header_name + " header is sent more than once");
  }
  if (found->value.empty()) {
    return Fail(VerifyStatus::kMissingHeader, header_name + " header is empty");
  }
  if (found->value.size() > kMaxSignatureHeaderBytes) {
    return Fail(VerifyStatus::kMalformedHeader,
                header_name + " header is longer than " +
                    std::to_string(kMaxSignatureHeaderBytes) + " bytes");
  }
  *value = std::move(found->value);
  return VerifyResult{};
}

// The signature header's value: the prefix, then `size` bytes in the
// scheme's encoding. The message describes the expected form without
// echoing what was sent.
VerifyResult DecodeSignature(const Scheme& scheme, std::string_view text,
                             size_t size, std::string* out) {
  const bool hex = scheme.encoding == SignatureEncoding::kHex;
  const std::string_view prefix = scheme.signature_prefix;
  const bool decoded =
      text.substr(0, prefix.size()) == prefix &&
      (hex ? DecodeHex(text.substr(prefix.size()), size, out)
           : Base64DecodeExact(text.substr(prefix.size()), size, out));
  if (decoded) return VerifyResult{};
  std::string form =
      hex ? std::to_string(2 * size) + " hex digits"
          : std::to_string(Base64Size(size)) + " characters of padded base64";
  if (!prefix.empty()) {
    form = "'" + std::string(prefix) + "' followed by " + form;
  }
  return Fail(VerifyStatus::kMalformedHeader,
              std::string(scheme.signature_header) + " header is not " + form);
}

bool ParseUnixSeconds(std::string_view text, int64_t* seconds) {
  if (text.empty() || text.size() > kMaxTimestampDigits) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  const char* end = text.data() + text.size();
  const auto [parsed_end, error] = std::from_chars(text.data(), end, *seconds);
  return error == std::errc() && parsed_end == end;
}

// |a - b| without overflow: the distance between two int64_t values always
// fits in a uint64_t, and unsigned subtraction is exact modulo 2^64.
uint64_t Distance(int64_t a, int64_t b) {
  const uint64_t ua = static_cast<uint64_t>(a);
  const uint64_t ub = static_cast<uint64_t>(b);
  return a >= b ? ua - ub : ub - ua;
}

VerifyResult CheckWindow(const Scheme& scheme, int64_t timestamp,
                         int64_t now_seconds) {
  const int64_t tolerance = scheme.tolerance_seconds;
  if (tolerance == 0) return VerifyResult{};
  // A negative tolerance can only come from a bad spec; fail closed.
  const uint64_t distance = Distance(now_seconds, timestamp);
  if (tolerance < 0 || distance > static_cast<uint64_t>(tolerance)) {
    // How far, and which way: what tells a replay (far behind) from a
    // skewed clock (a steady offset) in the ingress log.
    return Fail(VerifyStatus::kStaleTimestamp,
                std::string(scheme.timestamp_header) + " header is " +
                    std::to_string(distance) + " seconds " +
                    (timestamp > now_seconds ? "ahead of" : "behind") +
                    " the server's clock (the window is " +
                    std::to_string(tolerance) + " seconds)");
  }
  return VerifyResult{};
}

VerifyResult BadSignature(const Scheme& scheme) {
  return Fail(VerifyStatus::kBadSignature,
              std::string(scheme.signature_header) +
                  " header does not match the request body and the "
                  "endpoint's " +
                  (scheme.ed25519 ? "public key" : "signing secret"));
}

VerifyResult CheckHmac(const Scheme& scheme, std::string_view secret,
                       const std::string& signature, std::string_view payload) {
  std::string expected;
  if (!HmacSha256(secret, payload, &expected)) {
    return Fail(VerifyStatus::kBadSecret,
                "the endpoint's signing secret cannot be used as an HMAC key");
  }
  // Both sides are kSha256Bytes long: DecodeSignature asked for exactly that.
  if (!ConstantTimeEquals(expected, signature)) return BadSignature(scheme);
  return VerifyResult{};
}

VerifyResult CheckEd25519(const Scheme& scheme, const std::string& public_key,
                          const std::string& signature,
                          std::string_view payload) {
  // Any 32 bytes load as a key; a point that is not on the curve shows up
  // as a failed verification below.
  const PkeyPtr key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, Raw(public_key), public_key.size()));
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  if (key == nullptr || ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) !=
          1) {
    ERR_clear_error();
    return Fail(VerifyStatus::kBadSecret,
                "the endpoint's Ed25519 public key cannot be loaded");
  }
  const int verified =
      EVP_DigestVerify(ctx.get(), Raw(signature), signature.size(),
                       Raw(payload), payload.size());
  if (verified != 1) {
    // Leave no stale error behind for the next OpenSSL caller on this thread.
    ERR_clear_error();
    return BadSignature(scheme);
  }
  return VerifyResult{};
}

}  // namespace

VerifyResult VerifySignature(const VerificationSpec& spec,
                             std::string_view secret,
                             const HeaderLookup& header,
                             std::string_view raw_body, int64_t now_seconds) {
  const Scheme scheme = Resolve(spec);

  // The secret is the endpoint's, not the request's: if it cannot be used,
  // no request can pass, and the caller should hear that rather than a
  // misleading "bad signature".
  std::string public_key;
  if (scheme.ed25519) {
    if (!DecodeHex(secret, kEd25519PublicKeyBytes, &public_key)) {
      return Fail(VerifyStatus::kBadSecret,
                  "the endpoint's Ed25519 public key is not 64 hex digits");
    }
    if (IsSmallOrderEd25519Key(public_key)) {
      return Fail(VerifyStatus::kBadSecret,
                  "the endpoint's Ed25519 public key is a weak (small-order) "
                  "key that cannot authenticate anything");
    }
  } else if (secret.empty()) {
    // Anyone can compute an HMAC under the empty key.
    return Fail(VerifyStatus::kBadSecret,
                "the endpoint's signing secret is empty");
  }
  if (scheme.signature_header.empty()) {
    // The catalog refuses such entries; a spec built elsewhere fails closed.
    return Fail(VerifyStatus::kBadSecret,
                "the toolkit's verification names no signature header");
  }

  std::string signature_text;
  if (VerifyResult r =
          ReadHeader(header, scheme.signature_header, &signature_text);
      Failed(r)) {
    return r;
  }
  std::string signature;
  const size_t signature_size =
      scheme.ed25519 ? kEd25519SignatureBytes : kSha256Bytes;
  if (VerifyResult r =
          DecodeSignature(scheme, signature_text, signature_size, &signature);
      Failed(r)) {
    return r;
  }

  std::string timestamp_text;
  if (!scheme.timestamp_header.empty()) {
    if (VerifyResult r =
            ReadHeader(header, scheme.timestamp_header, &timestamp_text);
        Failed(r)) {
      return r;
    }
    int64_t timestamp = 0;
    if (!ParseUnixSeconds(timestamp_text, &timestamp)) {
      return Fail(VerifyStatus::kMalformedHeader,
                  std::string(scheme.timestamp_header) +
                      " header is not Unix time in decimal seconds");
    }
    if (VerifyResult r = CheckWindow(scheme, timestamp, now_seconds);
        Failed(r)) {
      return r;
    }
  }

  const std::string payload =
      SignedPayload(scheme.signed_payload, timestamp_text, raw_body);
  return scheme.ed25519 ? CheckEd25519(scheme, public_key, signature, payload)
                        : CheckHmac(scheme, secret, signature, payload);
}

bool SignAsProvider(const VerificationSpec& spec, std::string_view secret,
                    std::string_view body, int64_t now_seconds,
                    std::vector<std::pair<std::string, std::string>>* headers) {
  const Scheme scheme = Resolve(spec);
  if (scheme.ed25519 || secret.empty() || scheme.signature_header.empty()) {
    return false;
  }
  const std::string timestamp =
      scheme.timestamp_header.empty() ? "" : std::to_string(now_seconds);
  std::string digest;
  if (!HmacSha256(secret, SignedPayload(scheme.signed_payload, timestamp, body),
                  &digest)) {
    return false;
  }
  headers->clear();
  headers->emplace_back(
      scheme.signature_header,
      std::string(scheme.signature_prefix) +
          (scheme.encoding == SignatureEncoding::kHex ? HexEncode(digest)
                                                      : Base64Encode(digest)));
  if (!timestamp.empty()) {
    headers->emplace_back(scheme.timestamp_header, timestamp);
  }
  return true;
}

std::string SlackSignature(std::string_view secret, std::string_view timestamp,
                           std::string_view body) {
  const std::string hex = HmacSha256Hex(
      secret, SignedPayload(kSlackSignedPayload, timestamp, body));
  return hex.empty() ? std::string() : "v0=" + hex;
}

}  // namespace webhooks
