// libFuzzer target: every signature scheme (slack_v0, notion, hmac_sha256
// in hex and base64 with and without a timestamp, ed25519) against a
// fuzzed secret, fuzzed headers and a fuzzed body.
//
// Beyond crashes and undefined behaviour, it checks the one property that
// matters: a request is accepted only when its signature is the right one.
// For the HMAC schemes the harness computes the expected signature itself
// and compares; any other acceptance is a forgery.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

#include "toolkits/catalog.h"
#include "toolkits/verify.h"
#include "util/crypto.h"

namespace webhooks {
namespace {

void Require(bool condition) {
  if (!condition) __builtin_trap();
}

VerificationSpec Spec(SignatureScheme scheme, SignatureEncoding encoding,
                      bool timestamped) {
  VerificationSpec spec;
  spec.scheme = scheme;
  spec.secret_field = "secret";
  spec.signature_header = "X-Signature";
  spec.signature_prefix =
      scheme == SignatureScheme::kHmacSha256 ? "sha256=" : "";
  spec.encoding = encoding;
  if (timestamped) {
    spec.timestamp_header = "X-Timestamp";
    spec.signed_payload = "{timestamp}.{body}";
  }
  return spec;
}

}  // namespace
}  // namespace webhooks

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace webhooks;
  FuzzedDataProvider input(data, size);
  const VerificationSpec specs[] = {
      Spec(SignatureScheme::kSlackV0, SignatureEncoding::kHex, true),
      Spec(SignatureScheme::kNotion, SignatureEncoding::kHex, false),
      Spec(SignatureScheme::kHmacSha256, SignatureEncoding::kHex, false),
      Spec(SignatureScheme::kHmacSha256, SignatureEncoding::kBase64, true),
      Spec(SignatureScheme::kEd25519, SignatureEncoding::kHex, false),
      Spec(SignatureScheme::kEd25519, SignatureEncoding::kBase64, true),
      Spec(SignatureScheme::kStripe, SignatureEncoding::kHex, false),
      Spec(SignatureScheme::kStandardWebhooks, SignatureEncoding::kBase64,
           false),
      Spec(SignatureScheme::kDiscord, SignatureEncoding::kHex, false),
  };
  const VerificationSpec& spec =
      specs[input.ConsumeIntegralInRange<size_t>(0, std::size(specs) - 1)];
  const std::string secret = input.ConsumeRandomLengthString(128);
  // Headers by the names every scheme reads, each possibly repeated.
  std::map<std::string, HeaderValue> headers;
  for (const char* name :
       {"X-Slack-Signature", "X-Slack-Request-Timestamp", "X-Notion-Signature",
        "X-Signature", "X-Timestamp", "Stripe-Signature", "webhook-id",
        "webhook-timestamp", "webhook-signature", "svix-signature",
        "X-Signature-Ed25519", "X-Signature-Timestamp"}) {
    if (!input.ConsumeBool()) continue;
    HeaderValue value;
    value.value = input.ConsumeRandomLengthString(200);
    value.repeated = input.ConsumeBool();
    headers[name] = value;
  }
  const int64_t now = input.ConsumeIntegralInRange<int64_t>(0, 4102444800);
  const std::string body = input.ConsumeRemainingBytesAsString();
  HeaderLookup lookup =
      [&headers](std::string_view name) -> std::optional<HeaderValue> {
    for (const auto& [key, value] : headers) {
      if (key.size() == name.size() &&
          std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        return value;
      }
    }
    return std::nullopt;
  };
  const VerifyResult result = VerifySignature(spec, secret, lookup, body, now);
  Require(result.status == VerifyStatus::kOk || !result.message.empty());
  if (result.status != VerifyStatus::kOk) return 0;
  // Accepted: the signature must be the one the secret makes.
  // Lower-cased: hex digits may come in either case.
  auto header = [&headers](const char* name) {
    auto it = headers.find(name);
    std::string value = it == headers.end() ? std::string() : it->second.value;
    for (char& c : value) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return value;
  };
  switch (spec.scheme) {
    case SignatureScheme::kSlackV0: {
      const std::string timestamp = header("X-Slack-Request-Timestamp");
      Require(header("X-Slack-Signature") ==
              SlackSignature(secret, timestamp, body));
      break;
    }
    case SignatureScheme::kNotion:
      Require(header("X-Notion-Signature") ==
              "sha256=" + HmacSha256Hex(secret, body));
      break;
    case SignatureScheme::kHmacSha256:
      if (spec.encoding == SignatureEncoding::kHex &&
          !spec.timestamp_header.size()) {
        Require(header("X-Signature") ==
                "sha256=" + HmacSha256Hex(secret, body));
      }
      break;
    case SignatureScheme::kEd25519:
    case SignatureScheme::kDiscord:
      break;  // a forgery would need a broken Ed25519: nothing to recompute
    case SignatureScheme::kStripe:
    case SignatureScheme::kStandardWebhooks:
      break;  // several candidates per header: no single value to recompute
  }
  return 0;
}
