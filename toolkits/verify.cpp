// Provider signature checks for the ingress (see verify.h). Slack's,
// Notion's and Discord's schemes are fixed instances of the generic one;
// Stripe's and Standard Webhooks' carry several signatures in one header and
// have functions of their own. Every scheme runs through the same steps, in the
// order the ingress spec implies: the secret is usable; the headers are present
// once, not over-long and well formed; the timestamp is inside the window; only
// then the signature is checked. The signature is the last step so that a
// request that fails a cheap public check never costs a MAC or an Ed25519
// verification.

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
#include <vector>

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

// Stripe's scheme (docs.stripe.com/webhooks, "Verify manually"): one header
// with the time and one or more signatures.
constexpr std::string_view kStripeHeader = "Stripe-Signature";

// Standard Webhooks (standardwebhooks.com); Svix sends the same headers
// with its own prefix unless white-labelled, and its libraries accept both.
constexpr std::string_view kStandardPrefix = "webhook-";
constexpr std::string_view kSvixPrefix = "svix-";
constexpr std::string_view kStandardSecretPrefix = "whsec_";

// Discord's interactions and webhook events (discord.com/developers/docs,
// "Security and Authorization").
constexpr std::string_view kDiscordSignatureHeader = "X-Signature-Ed25519";
constexpr std::string_view kDiscordTimestampHeader = "X-Signature-Timestamp";

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
  std::string_view id_header;  // the {id} placeholder's header
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
    case SignatureScheme::kDiscord:
      scheme.ed25519 = true;
      scheme.signature_header = kDiscordSignatureHeader;
      scheme.timestamp_header = kDiscordTimestampHeader;
      scheme.tolerance_seconds = spec.tolerance_seconds;
      scheme.signed_payload = "{timestamp}{body}";
      return scheme;
    case SignatureScheme::kStripe:
      // Verified by VerifyStripe; named here for messages and SignAsProvider.
      scheme.signature_header = kStripeHeader;
      scheme.timestamp_header = kStripeHeader;
      scheme.tolerance_seconds = spec.tolerance_seconds;
      scheme.signed_payload = "{timestamp}.{body}";
      return scheme;
    case SignatureScheme::kStandardWebhooks:
      // Verified by VerifyStandardWebhooks.
      scheme.signature_header = "webhook-signature";
      scheme.timestamp_header = "webhook-timestamp";
      scheme.id_header = "webhook-id";
      scheme.encoding = SignatureEncoding::kBase64;
      scheme.tolerance_seconds = spec.tolerance_seconds;
      scheme.signed_payload = "{id}.{timestamp}.{body}";
      return scheme;
    case SignatureScheme::kHmacSha256:
    case SignatureScheme::kEd25519:
      break;
  }
  scheme.ed25519 = spec.scheme == SignatureScheme::kEd25519;
  scheme.id_header = spec.event_id_header;
  scheme.signature_header = spec.signature_header;
  scheme.signature_prefix = spec.signature_prefix;
  scheme.encoding = spec.encoding;
  scheme.timestamp_header = spec.timestamp_header;
  scheme.tolerance_seconds = spec.tolerance_seconds;
  scheme.signed_payload = spec.signed_payload;
  return scheme;
}

VerifyResult Fail(VerifyStatus status, std::string message) {
  return VerifyResult{status, std::move(message), ""};
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

// The template with "{timestamp}", "{id}" and "{body}" replaced; everything
// else, including other braces, is literal (the catalog refuses unknown
// placeholders before a template gets here).
std::string SignedPayload(std::string_view pattern, std::string_view timestamp,
                          std::string_view id, std::string_view body) {
  constexpr std::pair<std::string_view, int> kPlaceholders[] = {
      {"{timestamp}", 0}, {"{id}", 1}, {"{body}", 2}};
  const std::string_view values[] = {timestamp, id, body};
  std::string payload;
  payload.reserve(pattern.size() + timestamp.size() + id.size() + body.size());
  size_t i = 0;
  while (i < pattern.size()) {
    const std::string_view rest = pattern.substr(i);
    bool replaced = false;
    for (const auto& [placeholder, index] : kPlaceholders) {
      if (rest.substr(0, placeholder.size()) == placeholder) {
        payload.append(values[index]);
        i += placeholder.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      payload.push_back(pattern[i]);
      ++i;
    }
  }
  return payload;
}

bool Signs(std::string_view pattern, std::string_view placeholder) {
  return pattern.find(placeholder) != std::string_view::npos;
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

// Standard, padded base64 of any length; only the canonical encoding.
bool DecodeBase64(std::string_view text, std::string* out) {
  if (text.empty() || text.size() % 4 != 0) return false;
  size_t padding = 0;
  if (text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  return Base64DecodeExact(text, text.size() / 4 * 3 - padding, out);
}

// Compares `expected` with every candidate, without stopping at the first
// match, so the time taken does not say which one matched.
bool AnyMatches(const std::string& expected,
                const std::vector<std::string>& candidates) {
  bool matched = false;
  for (const std::string& candidate : candidates) {
    matched |= ConstantTimeEquals(expected, candidate);
  }
  return matched;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// Stripe: "t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]". Every v1 is a candidate
// (Stripe sends one per active secret while a secret is rolled); other keys
// are ignored, as Stripe's libraries ignore them. The key is the secret's
// bytes as given: Stripe does not decode its whsec_ secrets.
VerifyResult VerifyStripe(const Scheme& scheme, std::string_view secret,
                          const HeaderLookup& header, std::string_view body,
                          int64_t now_seconds) {
  const std::string name(kStripeHeader);
  std::string text;
  if (VerifyResult r = ReadHeader(header, kStripeHeader, &text); Failed(r)) {
    return r;
  }
  std::optional<std::string_view> timestamp_text;
  std::vector<std::string> signatures;
  for (const std::string_view item : Split(text, ',')) {
    const size_t equals = item.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view key = item.substr(0, equals);
    const std::string_view value = item.substr(equals + 1);
    if (key == "t") {
      // Two times would leave it to us which one was signed.
      if (timestamp_text) {
        return Fail(VerifyStatus::kMalformedHeader,
                    name + " header has more than one t= timestamp");
      }
      timestamp_text = value;
    } else if (key == "v1") {
      std::string signature;
      if (DecodeHex(value, kSha256Bytes, &signature)) {
        signatures.push_back(std::move(signature));
      }
    }
  }
  int64_t timestamp = 0;
  if (!timestamp_text) {
    return Fail(VerifyStatus::kMalformedHeader,
                name + " header has no t= timestamp");
  }
  if (!ParseUnixSeconds(*timestamp_text, &timestamp)) {
    return Fail(VerifyStatus::kMalformedHeader,
                name + " header's t= is not Unix time in decimal seconds");
  }
  if (signatures.empty()) {
    return Fail(VerifyStatus::kMalformedHeader,
                name + " header has no v1= signature of " +
                    std::to_string(2 * kSha256Bytes) + " hex digits");
  }
  if (VerifyResult r = CheckWindow(scheme, timestamp, now_seconds); Failed(r)) {
    return r;
  }
  std::string expected;
  if (!HmacSha256(
          secret,
          SignedPayload(scheme.signed_payload, *timestamp_text, "", body),
          &expected)) {
    return Fail(VerifyStatus::kBadSecret,
                "the endpoint's signing secret cannot be used as an HMAC key");
  }
  if (!AnyMatches(expected, signatures)) return BadSignature(scheme);
  return VerifyResult{};
}

// The HMAC key of a Standard Webhooks secret: the base64 after "whsec_"
// (a secret without the prefix is read as base64 too, as the reference
// libraries do). False if it is not base64 of at least one byte.
bool StandardWebhooksKey(std::string_view secret, std::string* key) {
  if (secret.substr(0, kStandardSecretPrefix.size()) == kStandardSecretPrefix) {
    secret.remove_prefix(kStandardSecretPrefix.size());
  }
  return DecodeBase64(secret, key) && !key->empty();
}

// Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature
// (Svix's svix-* when the webhook-* signature is absent). The signature
// header lists space-separated "version,base64" entries; every v1 entry is
// a candidate (several during a key rotation), other versions are ignored.
// The id is signed, so on success it is returned as the event's id.
VerifyResult VerifyStandardWebhooks(const Scheme& resolved,
                                    std::string_view secret,
                                    const HeaderLookup& header,
                                    std::string_view body,
                                    int64_t now_seconds) {
  std::string key;
  if (!StandardWebhooksKey(secret, &key)) {
    return Fail(VerifyStatus::kBadSecret,
                "the endpoint's signing secret is not whsec_ followed by "
                "padded base64, as Standard Webhooks secrets are");
  }
  std::string_view prefix = kStandardPrefix;
  if (header && !header(std::string(kStandardPrefix) + "signature") &&
      header(std::string(kSvixPrefix) + "signature")) {
    prefix = kSvixPrefix;
  }
  const std::string signature_name = std::string(prefix) + "signature";
  const std::string timestamp_name = std::string(prefix) + "timestamp";
  const std::string id_name = std::string(prefix) + "id";
  Scheme scheme = resolved;
  scheme.signature_header = signature_name;
  scheme.timestamp_header = timestamp_name;

  std::string signature_text, timestamp_text, id;
  for (const auto& [name, value] : {std::pair{&signature_name, &signature_text},
                                    std::pair{&timestamp_name, &timestamp_text},
                                    std::pair{&id_name, &id}}) {
    if (VerifyResult r = ReadHeader(header, *name, value); Failed(r)) {
      return r;
    }
  }
  std::vector<std::string> signatures;
  for (const std::string_view entry : Split(signature_text, ' ')) {
    const size_t comma = entry.find(',');
    if (comma == std::string_view::npos || entry.substr(0, comma) != "v1") {
      continue;
    }
    std::string signature;
    if (Base64DecodeExact(entry.substr(comma + 1), kSha256Bytes, &signature)) {
      signatures.push_back(std::move(signature));
    }
  }
  if (signatures.empty()) {
    return Fail(VerifyStatus::kMalformedHeader,
                signature_name + " header has no v1,<signature> entry of " +
                    std::to_string(Base64Size(kSha256Bytes)) +
                    " characters of padded base64");
  }
  int64_t timestamp = 0;
  if (!ParseUnixSeconds(timestamp_text, &timestamp)) {
    return Fail(VerifyStatus::kMalformedHeader,
                timestamp_name + " header is not Unix time in decimal seconds");
  }
  if (VerifyResult r = CheckWindow(scheme, timestamp, now_seconds); Failed(r)) {
    return r;
  }
  std::string expected;
  if (!HmacSha256(
          key, SignedPayload(scheme.signed_payload, timestamp_text, id, body),
          &expected)) {
    return Fail(VerifyStatus::kBadSecret,
                "the endpoint's signing secret cannot be used as an HMAC key");
  }
  if (!AnyMatches(expected, signatures)) return BadSignature(scheme);
  VerifyResult ok;
  ok.event_id = std::move(id);
  return ok;
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
  if (spec.scheme == SignatureScheme::kStripe) {
    return VerifyStripe(scheme, secret, header, raw_body, now_seconds);
  }
  if (spec.scheme == SignatureScheme::kStandardWebhooks) {
    return VerifyStandardWebhooks(scheme, secret, header, raw_body,
                                  now_seconds);
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

  std::string id;
  if (Signs(scheme.signed_payload, "{id}")) {
    if (scheme.id_header.empty()) {
      return Fail(VerifyStatus::kBadSecret,
                  "the toolkit's signed_payload uses {id} but names no "
                  "event_id_header");
    }
    if (VerifyResult r = ReadHeader(header, scheme.id_header, &id); Failed(r)) {
      return r;
    }
  }

  const std::string payload =
      SignedPayload(scheme.signed_payload, timestamp_text, id, raw_body);
  return scheme.ed25519 ? CheckEd25519(scheme, public_key, signature, payload)
                        : CheckHmac(scheme, secret, signature, payload);
}

std::vector<std::string> SchemeHeadersWorthKeeping(
    const VerificationSpec& spec) {
  if (spec.scheme == SignatureScheme::kStandardWebhooks) {
    return {"webhook-id", "webhook-timestamp", "svix-id", "svix-timestamp"};
  }
  const Scheme scheme = Resolve(spec);
  std::vector<std::string> names;
  // Stripe's time is inside its signature header, which is never kept.
  if (!scheme.timestamp_header.empty() &&
      scheme.timestamp_header != scheme.signature_header) {
    names.emplace_back(scheme.timestamp_header);
  }
  if (!spec.event_id_header.empty()) names.push_back(spec.event_id_header);
  return names;
}

bool CanSignAsProvider(const VerificationSpec& spec) {
  const Scheme scheme = Resolve(spec);
  return !scheme.ed25519 && !scheme.signature_header.empty();
}

bool SignAsProvider(const VerificationSpec& spec, std::string_view secret,
                    std::string_view body, int64_t now_seconds,
                    std::vector<std::pair<std::string, std::string>>* headers) {
  const Scheme scheme = Resolve(spec);
  if (!CanSignAsProvider(spec) || secret.empty()) return false;
  const std::string timestamp =
      scheme.timestamp_header.empty() ? "" : std::to_string(now_seconds);
  const std::string id = Signs(scheme.signed_payload, "{id}")
                             ? "msg_test_" + RandomToken(16)
                             : std::string();
  std::string key(secret);
  if (spec.scheme == SignatureScheme::kStandardWebhooks &&
      !StandardWebhooksKey(secret, &key)) {
    return false;
  }
  std::string digest;
  if (!HmacSha256(key,
                  SignedPayload(scheme.signed_payload, timestamp, id, body),
                  &digest)) {
    return false;
  }
  headers->clear();
  switch (spec.scheme) {
    case SignatureScheme::kStripe:
      headers->emplace_back(kStripeHeader,
                            "t=" + timestamp + ",v1=" + HexEncode(digest));
      return true;
    case SignatureScheme::kStandardWebhooks:
      headers->emplace_back("webhook-id", id);
      headers->emplace_back("webhook-timestamp", timestamp);
      headers->emplace_back("webhook-signature", "v1," + Base64Encode(digest));
      return true;
    case SignatureScheme::kSlackV0:
    case SignatureScheme::kNotion:
    case SignatureScheme::kHmacSha256:
    case SignatureScheme::kEd25519:
    case SignatureScheme::kDiscord:
      break;
  }
  headers->emplace_back(
      scheme.signature_header,
      std::string(scheme.signature_prefix) +
          (scheme.encoding == SignatureEncoding::kHex ? HexEncode(digest)
                                                      : Base64Encode(digest)));
  if (!timestamp.empty()) {
    headers->emplace_back(scheme.timestamp_header, timestamp);
  }
  if (!id.empty()) headers->emplace_back(scheme.id_header, id);
  return true;
}

std::string SlackSignature(std::string_view secret, std::string_view timestamp,
                           std::string_view body) {
  const std::string hex = HmacSha256Hex(
      secret, SignedPayload(kSlackSignedPayload, timestamp, "", body));
  return hex.empty() ? std::string() : "v0=" + hex;
}

}  // namespace webhooks
