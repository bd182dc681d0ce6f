// ToolkitCatalog: the built-in catalog (as catalog JSON) and the parser that
// reads it and --toolkits files. See catalog.h for the format.

#include "toolkits/catalog.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

namespace webhooks {
namespace {

// The built-in catalog, in the same format as a --toolkits file.
constexpr char kBuiltinCatalog[] = R"json({
  "toolkits": {
    "slack": {
      "setup_fields": {
        "webhook_signing_secret": {
          "display_name": "Signing Secret",
          "description": "The Signing Secret from your Slack app's Basic Information page; it verifies that events come from Slack.",
          "is_required": true,
          "is_secret": true
        },
        "app_token": {
          "display_name": "App-Level Token",
          "description": "An App-Level Token (xapp-...) from your Slack app's Basic Information page.",
          "is_required": true,
          "is_secret": true
        }
      },
      "verification": {"scheme": "slack_v0", "secret_field": "webhook_signing_secret",
                       "event_id_field": "event_id"},
      "triggers": {"event_type_pointer": "/event/type", "user_pointer": "/event/user",
                   "slugs": {"message": "SLACK_RECEIVE_MESSAGE"}}
    },
    "slackbot": {
      "setup_fields": {
        "webhook_signing_secret": {
          "display_name": "Signing Secret",
          "description": "The Signing Secret from your Slack app's Basic Information page; it verifies that events come from Slack.",
          "is_required": true,
          "is_secret": true
        },
        "app_token": {
          "display_name": "App-Level Token",
          "description": "An App-Level Token (xapp-...) from your Slack app's Basic Information page.",
          "is_required": true,
          "is_secret": true
        }
      },
      "verification": {"scheme": "slack_v0", "secret_field": "webhook_signing_secret",
                       "event_id_field": "event_id"},
      "triggers": {"event_type_pointer": "/event/type", "user_pointer": "/event/user"}
    },
    "notion": {
      "setup_fields": {},
      "verification": {"scheme": "notion", "secret_field": "verification_token",
                       "event_id_field": "id"},
      "triggers": {"event_type_pointer": "/type"}
    },
    "discord": {
      "setup_fields": {
        "public_key": {
          "display_name": "Public Key",
          "description": "The Public Key (64 hex digits) from your Discord application's General Information page; it verifies that interactions come from Discord.",
          "is_required": true,
          "is_secret": false
        }
      },
      "verification": {"scheme": "discord", "secret_field": "public_key",
                       "event_id_field": "id"}
    },
    "github": {
      "setup_fields": {
        "webhook_secret": {
          "display_name": "Webhook Secret",
          "description": "The secret you typed when adding the webhook (repository or organization Settings > Webhooks, content type application/json); it verifies that deliveries come from GitHub.",
          "is_required": true,
          "is_secret": true
        }
      },
      "verification": {"scheme": "hmac_sha256", "secret_field": "webhook_secret",
                       "signature_header": "X-Hub-Signature-256",
                       "signature_prefix": "sha256=", "encoding": "hex",
                       "event_id_header": "X-GitHub-Delivery"},
      "keep_headers": ["X-GitHub-Event", "X-GitHub-Hook-ID",
                       "X-GitHub-Hook-Installation-Target-Type",
                       "X-GitHub-Hook-Installation-Target-ID"],
      "triggers": {"event_type_header": "X-GitHub-Event",
                   "user_pointer": "/sender/login"}
    },
    "stripe": {
      "setup_fields": {
        "webhook_secret": {
          "display_name": "Signing Secret",
          "description": "The endpoint's signing secret (whsec_...) from the Stripe Dashboard (Developers > Webhooks) or from `stripe listen`; it verifies that events come from Stripe.",
          "is_required": true,
          "is_secret": true
        }
      },
      "verification": {"scheme": "stripe", "secret_field": "webhook_secret",
                       "event_id_field": "id"},
      "triggers": {"event_type_pointer": "/type"}
    }
  }
})json";

constexpr std::pair<std::string_view, SignatureScheme> kSchemes[] = {
    {"slack_v0", SignatureScheme::kSlackV0},
    {"notion", SignatureScheme::kNotion},
    {"hmac_sha256", SignatureScheme::kHmacSha256},
    {"ed25519", SignatureScheme::kEd25519},
    {"stripe", SignatureScheme::kStripe},
    {"standard_webhooks", SignatureScheme::kStandardWebhooks},
    {"discord", SignatureScheme::kDiscord},
};

// The placeholders a signed_payload may use (VerificationSpec).
constexpr std::string_view kPlaceholders[] = {"{body}", "{timestamp}", "{id}"};

// Header names never kept with an event, whatever keep_headers says:
// credentials (besides any name containing "signature" or "hmac", which
// IsSignatureHeaderName catches).
constexpr std::string_view kCredentialHeaders[] = {
    "authorization", "proxy-authorization", "cookie", "x-api-key",
    "x-user-api-key"};

// Header names are tokens: letters, digits and - (RFC 9110, narrowed).
bool IsHeaderName(std::string_view text) {
  return !text.empty() && text.size() <= 64 &&
         text.find_first_not_of(
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
             "-") == std::string_view::npos;
}

bool IsName(std::string_view text, std::string_view allowed) {
  return !text.empty() && text.size() <= 64 &&
         text.find_first_not_of(allowed) == std::string_view::npos;
}
constexpr std::string_view kSlugChars =
    "abcdefghijklmnopqrstuvwxyz0123456789_-";
constexpr std::string_view kFieldChars =
    "abcdefghijklmnopqrstuvwxyz0123456789_";

// Walks an object's members, refusing duplicate keys (simdjson keeps them).
// `visit` returns an error text or "" for each member.
template <typename Visit>
std::string ForEachMember(simdjson::dom::object object, Visit visit) {
  std::vector<std::string_view> seen;
  for (auto [key, value] : object) {
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return "key '" + std::string(key) + "' appears more than once";
    }
    seen.push_back(key);
    std::string problem = visit(key, value);
    if (!problem.empty()) return problem;
  }
  return "";
}

std::string ReadString(simdjson::dom::element value, std::string_view what,
                       std::string* out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return std::string(what) + " must be a string";
  }
  *out = std::string(text);
  return "";
}

std::string ReadBool(simdjson::dom::element value, std::string_view what,
                     bool* out) {
  if (value.get_bool().get(*out) != simdjson::SUCCESS) {
    return std::string(what) + " must be true or false";
  }
  return "";
}

std::string ParseField(std::string_view name, simdjson::dom::element value,
                       SetupFieldSpec* field) {
  std::string prefix = "setup field '" + std::string(name) + "': ";
  if (!IsName(name, kFieldChars)) {
    return prefix + "names are 1-64 characters of a-z, 0-9 and _";
  }
  field->name = std::string(name);
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return prefix + "must be an object";
  }
  std::string problem = ForEachMember(
      object, [&](std::string_view key, simdjson::dom::element member) {
        if (key == "display_name") {
          return ReadString(member, key, &field->display_name);
        }
        if (key == "description") {
          return ReadString(member, key, &field->description);
        }
        if (key == "is_required") {
          return ReadBool(member, key, &field->is_required);
        }
        if (key == "is_secret") return ReadBool(member, key, &field->is_secret);
        return "unknown key '" + std::string(key) +
               "' (allowed: display_name, description, is_required, "
               "is_secret)";
      });
  if (problem.empty() && field->display_name.empty()) {
    problem = "display_name is required";
  }
  return problem.empty() ? "" : prefix + problem;
}

// The first {name} in `pattern` that is not one of kPlaceholders, or "".
// A name is letters, digits, _ and - (so "{Body}" and "{time-stamp}" are
// typos to report); other braces ("{}", "{\"a\":1}") are literal text.
std::string UnknownPlaceholder(std::string_view pattern) {
  for (size_t open = pattern.find('{'); open != std::string_view::npos;
       open = pattern.find('{', open + 1)) {
    const size_t close = pattern.find('}', open + 1);
    if (close == std::string_view::npos) break;
    const std::string_view name = pattern.substr(open + 1, close - open - 1);
    if (name.empty() ||
        name.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            "0123456789_-") != std::string_view::npos) {
      continue;
    }
    const std::string_view placeholder = pattern.substr(open, close - open + 1);
    if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders),
                  placeholder) == std::end(kPlaceholders)) {
      return std::string(placeholder);
    }
  }
  return "";
}

std::string ParseVerification(simdjson::dom::element value,
                              VerificationSpec* out) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return "verification must be an object";
  }
  std::string scheme, encoding;
  // The keys that only hmac_sha256 and ed25519 read, as given.
  std::vector<std::string> parameters;
  auto parameter = [&](std::string_view key, simdjson::dom::element member,
                       std::string* field) {
    parameters.emplace_back(key);
    return ReadString(member, key, field);
  };
  std::string problem = ForEachMember(
      object, [&](std::string_view key, simdjson::dom::element member) {
        if (key == "scheme") return ReadString(member, key, &scheme);
        if (key == "secret_field") {
          return ReadString(member, key, &out->secret_field);
        }
        if (key == "signature_header") {
          return parameter(key, member, &out->signature_header);
        }
        if (key == "signature_prefix") {
          return parameter(key, member, &out->signature_prefix);
        }
        if (key == "encoding") return parameter(key, member, &encoding);
        if (key == "timestamp_header") {
          return parameter(key, member, &out->timestamp_header);
        }
        if (key == "tolerance_seconds") {
          int64_t seconds = 0;
          if (member.get_int64().get(seconds) != simdjson::SUCCESS ||
              seconds < 0 || seconds > 86400) {
            return std::string(
                "tolerance_seconds must be a whole number from 0 to 86400");
          }
          out->tolerance_seconds = static_cast<int>(seconds);
          return std::string();
        }
        if (key == "signed_payload") {
          return parameter(key, member, &out->signed_payload);
        }
        if (key == "event_id_header") {
          return ReadString(member, key, &out->event_id_header);
        }
        if (key == "event_id_field") {
          return ReadString(member, key, &out->event_id_field);
        }
        return "unknown key '" + std::string(key) +
               "' (allowed: scheme, secret_field, signature_header, "
               "signature_prefix, encoding, timestamp_header, "
               "tolerance_seconds, signed_payload, event_id_header, "
               "event_id_field)";
      });
  if (!problem.empty()) return "verification: " + problem;
  auto known =
      std::find_if(std::begin(kSchemes), std::end(kSchemes),
                   [&](const auto& entry) { return entry.first == scheme; });
  if (known == std::end(kSchemes)) {
    return "verification: scheme must be one of slack_v0, notion, "
           "hmac_sha256, ed25519, stripe, standard_webhooks, discord, got '" +
           scheme + "'";
  }
  out->scheme = known->second;
  const bool parameterised = out->scheme == SignatureScheme::kHmacSha256 ||
                             out->scheme == SignatureScheme::kEd25519;
  // The schemes added with issue 17 fix their headers and payload; a key
  // that would be ignored is refused, so that nobody believes it applies.
  // (slack_v0 and notion have always ignored them; refusing now would stop
  // catalogs that start today.)
  const bool fixed = out->scheme == SignatureScheme::kStripe ||
                     out->scheme == SignatureScheme::kStandardWebhooks ||
                     out->scheme == SignatureScheme::kDiscord;
  if (fixed && !parameters.empty()) {
    return "verification: scheme " + scheme + " fixes its headers and " +
           "signed payload; remove " + parameters.front();
  }
  if (encoding == "base64") {
    out->encoding = SignatureEncoding::kBase64;
  } else if (!encoding.empty() && encoding != "hex") {
    return "verification: encoding must be hex or base64";
  }
  if (parameterised && out->signature_header.empty()) {
    return "verification: signature_header is required for " + scheme;
  }
  if (out->scheme == SignatureScheme::kEd25519 &&
      out->signed_payload == "{body}" && !out->timestamp_header.empty()) {
    out->signed_payload = "{timestamp}{body}";  // Discord's interactions
  }
  for (const std::string* header :
       {&out->signature_header, &out->timestamp_header,
        &out->event_id_header}) {
    if (!header->empty() && !IsHeaderName(*header)) {
      return "verification: '" + *header +
             "' is not a header name (letters, digits and -)";
    }
  }
  if (const std::string unknown = UnknownPlaceholder(out->signed_payload);
      !unknown.empty()) {
    return "verification: signed_payload has an unknown placeholder '" +
           unknown + "' (known: {body}, {timestamp}, {id})";
  }
  if (out->signed_payload.find("{body}") == std::string::npos) {
    return "verification: signed_payload must contain {body}";
  }
  if (out->signed_payload.find("{timestamp}") != std::string::npos &&
      out->timestamp_header.empty()) {
    return "verification: signed_payload uses {timestamp} but there is no "
           "timestamp_header";
  }
  if (out->signed_payload.find("{id}") != std::string::npos &&
      out->event_id_header.empty()) {
    return "verification: signed_payload uses {id} but there is no "
           "event_id_header";
  }
  if (out->secret_field.empty()) {
    return "verification: secret_field is required";
  }
  return "";
}

// A JSON pointer as the catalog writes one: empty, or "/a/b" (RFC 6901).
bool IsJsonPointer(const std::string& text) {
  return text.empty() || (text[0] == '/' && text.size() <= 256);
}

std::string ParseTriggers(simdjson::dom::element value, TriggerSpec* out) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return "triggers must be an object";
  }
  std::string problem = ForEachMember(
      object, [&](std::string_view key, simdjson::dom::element member) {
        if (key == "event_type_pointer") {
          return ReadString(member, key, &out->event_type_pointer);
        }
        if (key == "user_pointer") {
          return ReadString(member, key, &out->user_pointer);
        }
        if (key == "event_type_header") {
          return ReadString(member, key, &out->event_type_header);
        }
        if (key == "slugs") {
          simdjson::dom::object slugs;
          if (member.get_object().get(slugs) != simdjson::SUCCESS) {
            return std::string("slugs must be an object");
          }
          return ForEachMember(slugs, [&](std::string_view event_type,
                                          simdjson::dom::element slug) {
            out->slugs.emplace_back(std::string(event_type), "");
            return ReadString(slug, event_type, &out->slugs.back().second);
          });
        }
        return "unknown key '" + std::string(key) +
               "' (allowed: event_type_header, event_type_pointer, "
               "user_pointer, slugs)";
      });
  if (!problem.empty()) return "triggers: " + problem;
  if (!out->event_type_header.empty() &&
      !IsHeaderName(out->event_type_header)) {
    return "triggers: '" + out->event_type_header +
           "' is not a header name (letters, digits and -)";
  }
  if (!IsJsonPointer(out->event_type_pointer) ||
      !IsJsonPointer(out->user_pointer)) {
    return "triggers: a pointer is empty or starts with / (RFC 6901), at "
           "most 256 characters";
  }
  return "";
}

std::string ParseKeepHeaders(simdjson::dom::element value,
                             std::vector<std::string>* out) {
  simdjson::dom::array names;
  if (value.get_array().get(names) != simdjson::SUCCESS) {
    return "keep_headers must be an array of header names";
  }
  for (simdjson::dom::element element : names) {
    std::string name;
    if (!ReadString(element, "keep_headers", &name).empty() ||
        !IsHeaderName(name)) {
      return "keep_headers: every entry must be a header name (letters, "
             "digits and -)";
    }
    out->push_back(std::move(name));
  }
  if (out->size() > 16) return "keep_headers: at most 16 headers";
  return "";
}

bool ContainsIgnoringCase(std::string_view text, std::string_view part) {
  return std::search(text.begin(), text.end(), part.begin(), part.end(),
                     [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a)) ==
                              std::tolower(static_cast<unsigned char>(b));
                     }) != text.end();
}

// Whether `header` may carry a signature or a credential: the toolkit's own
// signature header, any name that says "signature" or "hmac" (Stripe's,
// Svix's, Shopify's X-Shopify-Hmac-Sha256), or a credential header.
bool IsSignatureOrCredential(std::string_view header,
                             const std::optional<VerificationSpec>& spec) {
  if (spec && !spec->signature_header.empty() &&
      ContainsIgnoringCase(header, spec->signature_header) &&
      header.size() == spec->signature_header.size()) {
    return true;
  }
  if (ContainsIgnoringCase(header, "signature") ||
      ContainsIgnoringCase(header, "hmac")) {
    return true;
  }
  for (const std::string_view credential : kCredentialHeaders) {
    if (header.size() == credential.size() &&
        ContainsIgnoringCase(header, credential)) {
      return true;
    }
  }
  return false;
}

std::string ParseToolkit(std::string_view slug, simdjson::dom::element value,
                         ToolkitSpec* toolkit) {
  if (!IsName(slug, kSlugChars)) {
    return "slugs are 1-64 characters of a-z, 0-9, _ and -";
  }
  toolkit->slug = std::string(slug);
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return "must be an object";
  }
  std::string problem = ForEachMember(
      object, [&](std::string_view key, simdjson::dom::element member) {
        if (key == "setup_fields") {
          simdjson::dom::object fields;
          if (member.get_object().get(fields) != simdjson::SUCCESS) {
            return std::string("setup_fields must be an object");
          }
          return ForEachMember(
              fields, [&](std::string_view name, simdjson::dom::element spec) {
                toolkit->setup_fields.emplace_back();
                return ParseField(name, spec, &toolkit->setup_fields.back());
              });
        }
        if (key == "verification") {
          toolkit->verification.emplace();
          return ParseVerification(member, &*toolkit->verification);
        }
        if (key == "triggers") return ParseTriggers(member, &toolkit->triggers);
        if (key == "keep_headers") {
          return ParseKeepHeaders(member, &toolkit->keep_headers);
        }
        return "unknown key '" + std::string(key) +
               "' (allowed: setup_fields, verification, keep_headers, "
               "triggers)";
      });
  if (!problem.empty()) return problem;
  for (const std::string& header : toolkit->keep_headers) {
    if (IsSignatureOrCredential(header, toolkit->verification)) {
      return "keep_headers: '" + header +
             "' carries a signature or a credential, which is never kept "
             "with an event";
    }
  }
  // Notion's secret arrives in its handshake, so it is not a setup field.
  if (toolkit->verification &&
      toolkit->verification->scheme != SignatureScheme::kNotion &&
      toolkit->FindField(toolkit->verification->secret_field) == nullptr) {
    return "verification: secret_field '" +
           toolkit->verification->secret_field +
           "' is not one of the toolkit's setup fields";
  }
  return "";
}

}  // namespace

const SetupFieldSpec* ToolkitSpec::FindField(std::string_view name) const {
  for (const SetupFieldSpec& field : setup_fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

ToolkitCatalog ToolkitCatalog::Builtin() {
  ToolkitCatalog catalog;
  std::string error;
  if (!catalog.Apply(kBuiltinCatalog, &error)) {
    // The built-in text is ours and tested; reaching this is a build bug.
    std::fprintf(stderr, "fatal: built-in toolkit catalog: %s\n",
                 error.c_str());
    std::abort();
  }
  return catalog;
}

bool ToolkitCatalog::Apply(std::string_view json, std::string* error) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (auto code = parser.parse(padded).get(root)) {
    *error = std::string("not valid JSON: ") + simdjson::error_message(code);
    return false;
  }
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    *error = "the catalog must be a JSON object";
    return false;
  }
  bool replace = false;
  bool have_toolkits = false;
  std::vector<ToolkitSpec> parsed;
  std::string problem = ForEachMember(
      object, [&](std::string_view key, simdjson::dom::element member) {
        if (key == "replace") return ReadBool(member, key, &replace);
        if (key != "toolkits") {
          return "unknown key '" + std::string(key) +
                 "' (allowed: replace, toolkits)";
        }
        have_toolkits = true;
        simdjson::dom::object toolkits;
        if (member.get_object().get(toolkits) != simdjson::SUCCESS) {
          return std::string("toolkits must be an object keyed by slug");
        }
        return ForEachMember(
            toolkits, [&](std::string_view slug, simdjson::dom::element spec) {
              parsed.emplace_back();
              std::string toolkit_problem =
                  ParseToolkit(slug, spec, &parsed.back());
              return toolkit_problem.empty() ? toolkit_problem
                                             : "toolkit '" + std::string(slug) +
                                                   "': " + toolkit_problem;
            });
      });
  if (problem.empty() && !have_toolkits) problem = "toolkits is required";
  if (!problem.empty()) {
    *error = problem;
    return false;
  }
  if (replace) toolkits_.clear();
  for (ToolkitSpec& toolkit : parsed) {
    auto same = std::find_if(
        toolkits_.begin(), toolkits_.end(),
        [&](const ToolkitSpec& known) { return known.slug == toolkit.slug; });
    if (same != toolkits_.end()) {
      *same = std::move(toolkit);
    } else {
      toolkits_.push_back(std::move(toolkit));
    }
  }
  std::sort(toolkits_.begin(), toolkits_.end(),
            [](const ToolkitSpec& a, const ToolkitSpec& b) {
              return a.slug < b.slug;
            });
  return true;
}

const ToolkitSpec* ToolkitCatalog::Find(std::string_view slug) const {
  auto it =
      std::lower_bound(toolkits_.begin(), toolkits_.end(), slug,
                       [](const ToolkitSpec& toolkit, std::string_view key) {
                         return toolkit.slug < key;
                       });
  return it != toolkits_.end() && it->slug == slug ? &*it : nullptr;
}

std::vector<std::string> ToolkitCatalog::Slugs() const {
  std::vector<std::string> slugs;
  for (const ToolkitSpec& toolkit : toolkits_) slugs.push_back(toolkit.slug);
  return slugs;
}

bool LoadToolkitCatalog(const std::string& path, ToolkitCatalog* out,
                        std::string* error) {
  ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      *error = "toolkits file '" + path + "': cannot be read";
      return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string problem;
    if (!catalog.Apply(text.str(), &problem)) {
      *error = "toolkits file '" + path + "': " + problem;
      return false;
    }
  }
  *out = std::move(catalog);
  return true;
}

}  // namespace webhooks
