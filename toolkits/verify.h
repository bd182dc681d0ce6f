// Provider signature checks for the ingress, driven by a toolkit's
// VerificationSpec (catalog.h): Slack's v0 scheme, Notion's, Stripe's,
// Standard Webhooks (Svix), Discord's, a generic HMAC-SHA256 scheme and
// Ed25519. All cryptography is OpenSSL's; every
// comparison of secret-derived bytes is constant time; the signature is
// checked over the raw body bytes, before anything parses them.

#ifndef WEBHOOKS_TOOLKITS_VERIFY_H_
#define WEBHOOKS_TOOLKITS_VERIFY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "toolkits/catalog.h"

namespace webhooks {

enum class VerifyStatus {
  kOk,
  kMissingHeader,    // a required header is absent or empty
  kMalformedHeader,  // present but not of the expected form or size
  kStaleTimestamp,   // outside the scheme's window around now
  kBadSignature,     // well formed, but not made with this secret
  kBadSecret,        // the stored secret cannot be used (e.g. not a key)
};

struct VerifyResult {
  VerifyStatus status = VerifyStatus::kOk;
  // One sentence for the client's errors[]: names the header and the
  // problem, never a secret or a signature.
  std::string message;
  // On success, the provider's event id when the scheme signs one
  // (standard_webhooks' webhook-id); else empty.
  std::string event_id;
};

// Looks a request header up by name, case-insensitively. Returns nullopt if
// it is absent; a header sent more than once is reported as its first value
// with `repeated` set.
struct HeaderValue {
  std::string value;
  bool repeated = false;
};
using HeaderLookup =
    std::function<std::optional<HeaderValue>(std::string_view name)>;

// Longest signature or timestamp header value accepted; longer is malformed.
constexpr size_t kMaxSignatureHeaderBytes = 1024;

// Checks that `raw_body`, with the headers `header` finds, was signed with
// `secret` under `spec`, at a time within the spec's window of
// `now_seconds` (Unix time; a parameter so known-answer tests can use the
// providers' published timestamps).
VerifyResult VerifySignature(const VerificationSpec& spec,
                             std::string_view secret,
                             const HeaderLookup& header,
                             std::string_view raw_body, int64_t now_seconds);

// The headers `spec`'s scheme reads besides its signature: its timestamp
// and event id headers (both families for standard_webhooks). Not secret,
// and what a developer needs to see when a request was refused as stale.
std::vector<std::string> SchemeHeadersWorthKeeping(
    const VerificationSpec& spec);

// Whether SignAsProvider can sign for `spec`: a shared secret the server
// stores, not a provider's private key (ed25519, discord).
bool CanSignAsProvider(const VerificationSpec& spec);

// Signs `body` as the provider would, with the secret stored for the
// endpoint, at `now_seconds`: the signature header (and the timestamp
// header, if the scheme has one) that VerifySignature accepts. For the
// dashboard's test event. Schemes that sign an event id get a fresh
// "msg_test_…" one. False where CanSignAsProvider is, for an empty secret,
// and for a standard_webhooks secret that is not base64.
bool SignAsProvider(const VerificationSpec& spec, std::string_view secret,
                    std::string_view body, int64_t now_seconds,
                    std::vector<std::pair<std::string, std::string>>* headers);

// What Slack sends in X-Slack-Signature for this body and timestamp:
// "v0=" + hex HMAC-SHA256 of "v0:{timestamp}:{body}". For send-test-event
// and tests.
std::string SlackSignature(std::string_view secret, std::string_view timestamp,
                           std::string_view body);

}  // namespace webhooks

#endif  // WEBHOOKS_TOOLKITS_VERIFY_H_
