// The toolkit catalog: for each toolkit, its setup fields and how its
// ingress verifies requests. A built-in catalog ships in the binary; a JSON
// file given with --toolkits extends or replaces it. Both are read by the
// same parser, so the built-in one is also the format's first example.
//
// File format (every key optional unless marked required):
//   {
//     "replace": false,            // true: drop the built-in toolkits
//     "toolkits": {                // required
//       "github": {                // slug: 1-64 of a-z 0-9 _ -
//         "setup_fields": {        // name: 1-64 of a-z 0-9 _
//           "webhook_secret": {
//             "display_name": "Webhook Secret",   // required
//             "description": "…",
//             "is_required": true,
//             "is_secret": true
//           }
//         },
//         "verification": {
//           "scheme": "hmac_sha256",              // required: slack_v0,
//                                                 // notion, hmac_sha256,
//                                                 // ed25519
//           "secret_field": "webhook_secret",     // a setup field's name
//           "signature_header": "X-Hub-Signature-256",  // required for
//                                                 // hmac_sha256, ed25519
//           "signature_prefix": "sha256=",
//           "encoding": "hex",                    // or "base64"
//           "timestamp_header": "X-Timestamp",    // none by default
//           "tolerance_seconds": 300,             // 0: no window
//           "signed_payload": "{timestamp}.{body}",  // default "{body}"
//           "event_id_header": "X-GitHub-Delivery",
//           "event_id_field": "event_id"          // top-level JSON field
//         },
//         "triggers": {              // how a delivered event is described
//           "event_type_pointer": "/action",      // JSON pointer in the body
//           "user_pointer": "/sender/login",
//           "slugs": {"push": "GITHUB_PUSH_EVENT"}  // event type -> slug
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

enum class SignatureScheme { kSlackV0, kNotion, kHmacSha256, kEd25519 };
enum class SignatureEncoding { kHex, kBase64 };

// How a toolkit's ingress checks that a request comes from its provider.
// slack_v0 and notion fix their headers and payload themselves; the other
// fields parameterise hmac_sha256 and ed25519.
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
  // header's value; any other text is literal ("{timestamp}.{body}").
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
  // Event type -> trigger slug, where Composio's name is not the default
  // TOOLKIT_EVENTTYPE (Slack "message" -> "SLACK_RECEIVE_MESSAGE").
  std::vector<std::pair<std::string, std::string>> slugs;
};

struct ToolkitSpec {
  std::string slug;
  std::vector<SetupFieldSpec> setup_fields;  // in the catalog's order
  std::optional<VerificationSpec> verification;
  TriggerSpec triggers;

  // The field called `name`, or null.
  const SetupFieldSpec* FindField(std::string_view name) const;
};

class ToolkitCatalog {
 public:
  // The catalog built into the binary: slack, slackbot and notion.
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
