// The toolkit catalog: for each toolkit, its setup fields and how its
// ingress verifies requests. A built-in catalog ships in the binary; a JSON
// file given with --toolkits extends or replaces it. Both are read by the
// same parser, so the built-in one is also the format's first example.
//
// File format (every key optional unless marked required):
//   {
//     "replace": false,            // true: drop the built-in toolkits
//     "toolkits": {                // required
//       "acme": {                  // slug: 1-64 of a-z 0-9 _ -
//         "setup_fields": {        // name: 1-64 of a-z 0-9 _
//           "webhook_secret": {
//             "display_name": "Webhook Secret",   // required
//             "description": "…",
//             "is_required": true,
//             "is_secret": true
//           }
//         },
//         "verification": {
//           "scheme": "hmac_sha256",              // required, one of:
//               // slack_v0, notion: Slack's and Notion's own schemes;
//               // stripe: Stripe-Signature "t=…,v1=…", HMAC-SHA256 hex of
//               //   "{t}.{body}" keyed by the secret as given (whsec_ too);
//               // standard_webhooks: webhook-id/-timestamp/-signature (or
//               //   svix-*), HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed
//               //   by the base64 after "whsec_", any "v1,<base64>" matches;
//               // discord: Ed25519, X-Signature-Ed25519 (hex) over
//               //   X-Signature-Timestamp + body; PING answered;
//               // hmac_sha256, ed25519: parameterised by the keys below.
//           "secret_field": "webhook_secret",     // a setup field's name
//           // hmac_sha256 and ed25519 only (the other schemes fix them):
//           "signature_header": "X-Acme-Signature",  // required
//           "signature_prefix": "sha256=",
//           "encoding": "hex",                    // or "base64"
//           "timestamp_header": "X-Acme-Timestamp",  // none by default
//           "signed_payload": "{timestamp}.{body}",  // default "{body}";
//               // placeholders {body}, {timestamp}, {id} (the value of
//               // event_id_header); any other {name} is refused
//           // every scheme that signs a time but slack_v0 (fixed 300):
//           "tolerance_seconds": 300,             // 0: no window
//           // every scheme:
//           "event_id_header": "X-Acme-Delivery",
//           "event_id_field": "event_id"          // top-level JSON field
//         },
//         "keep_headers": ["X-Acme-Event"],       // kept with each event,
//               // beside Content-Type, User-Agent and the headers above;
//               // a signature or credential header is refused (see
//               // ToolkitSpec::keep_headers)
//         "triggers": {              // how a delivered event is described
//           "event_type_header": "X-Acme-Event",  // event type from a
//                                                 // header, else:
//           "event_type_pointer": "/action",      // JSON pointer in the body
//           "user_pointer": "/sender/login",
//           "slugs": {"push": "ACME_PUSH_EVENT"}  // event type -> slug
//         }
//       }
//     }
//   }
// A toolkit in the file with the slug of a built-in one replaces it.

#ifndef WEBHOOKS_TOOLKITS_CATALOG_H_
#define WEBHOOKS_TOOLKITS_CATALOG_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace webhooks {

struct SetupFieldSpec {
  std::string name;
  std::string display_name;
  std::string description;
  bool is_required = false;
  bool is_secret = false;
};

enum class SignatureScheme {
  kSlackV0,
  kNotion,
  kHmacSha256,
  kEd25519,
  kStripe,
  kStandardWebhooks,
  kDiscord,
};
enum class SignatureEncoding { kHex, kBase64 };

// How a toolkit's ingress checks that a request comes from its provider.
// slack_v0, notion, stripe, standard_webhooks and discord fix their headers
// and payload themselves; the other fields parameterise hmac_sha256 and
// ed25519.
struct VerificationSpec {
  SignatureScheme scheme = SignatureScheme::kHmacSha256;
  // The setup field holding the secret (HMAC key, or the Ed25519 public key
  // in hex). For notion, the field the verification handshake fills; it need
  // not be a listed setup field.
  std::string secret_field;
  // hmac_sha256 and ed25519: the header carrying the signature (required),
  // a prefix before it ("sha256="), and its encoding.
  std::string signature_header;
  std::string signature_prefix;
  SignatureEncoding encoding = SignatureEncoding::kHex;
  // Optional: a header carrying the request's Unix time in seconds, and how
  // far from now it may be (0: any time).
  std::string timestamp_header;
  int tolerance_seconds = 300;
  // What is signed: "{body}" is the raw body, "{timestamp}" the timestamp
  // header's value, "{id}" the event_id_header's value; other text is
  // literal ("{timestamp}.{body}"). The loader refuses any other {name}, so
  // a typo such as "{ts}" cannot silently become literal text.
  std::string signed_payload = "{body}";
  // Where the provider's event id is, to acknowledge retries without
  // storing them twice: a header, else a top-level string field of a JSON
  // body; with neither (or when absent) the body's SHA-256 is the id.
  std::string event_id_header;
  std::string event_id_field;
};

// How a stored event is described in the trigger message delivered to the
// project's app (the contract's trigger_slug and user_id).
struct TriggerSpec {
  // JSON pointers (RFC 6901) into the provider's body: its event type
  // (Slack "/event/type") and the provider's user ("/event/user"); empty:
  // none.
  std::string event_type_pointer;
  std::string user_pointer;
  // A request header holding the event type (GitHub's X-GitHub-Event); when
  // set and sent, it wins over event_type_pointer.
  std::string event_type_header;
  // Event type -> trigger slug, where Composio's name is not the default
  // TOOLKIT_EVENTTYPE (Slack "message" -> "SLACK_RECEIVE_MESSAGE").
  std::vector<std::pair<std::string, std::string>> slugs;
};

struct ToolkitSpec {
  std::string slug;
  std::vector<SetupFieldSpec> setup_fields;  // in the catalog's order
  std::optional<VerificationSpec> verification;
  // Provider headers kept with each event besides the ingress's own list
  // (GitHub's X-GitHub-Event). The loader refuses signature and credential
  // headers here (the scheme's signature header, any name containing
  // "signature" or "hmac", Authorization, Proxy-Authorization, Cookie,
  // x-api-key, x-user-api-key): a stored signature would let anyone who can
  // read events replay them, so naming one is a mistake worth stopping on.
  std::vector<std::string> keep_headers;
  TriggerSpec triggers;

  // The field called `name`, or null.
  const SetupFieldSpec* FindField(std::string_view name) const;
};

class ToolkitCatalog {
 public:
  // The catalog built into the binary: discord, github, notion, slack,
  // slackbot and stripe.
  static ToolkitCatalog Builtin();

  // Applies catalog JSON (the format above) to this catalog. On a problem,
  // returns false with *error naming the toolkit, the field and the problem,
  // and leaves the catalog unchanged.
  bool Apply(std::string_view json, std::string* error);

  // The toolkit `slug` (already lower-cased), or null.
  const ToolkitSpec* Find(std::string_view slug) const;

  // Every slug, sorted.
  std::vector<std::string> Slugs() const;

 private:
  std::vector<ToolkitSpec> toolkits_;  // sorted by slug
};

// Builds the catalog the server runs with: the built-in one, with the file
// at `path` applied if `path` is not empty. On failure *error is one line
// that names the file.
bool LoadToolkitCatalog(const std::string& path, ToolkitCatalog* out,
                        std::string* error);

}  // namespace webhooks

#endif  // WEBHOOKS_TOOLKITS_CATALOG_H_
