// ToolkitCatalog: the built-in catalog (as catalog JSON) and the parser that
// reads it and --toolkits files. See catalog.h for the format.

#include "toolkits/catalog.h"

#include <simdjson.h>

#include <algorithm>
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
    }
  }
})json";

constexpr std::pair<std::string_view, SignatureScheme> kSchemes[] = {
    {"slack_v0", SignatureScheme::kSlackV0},
    {"notion", SignatureScheme::kNotion},
    {"hmac_sha256", SignatureScheme::kHmacSha256},
    {"ed25519", SignatureScheme::kEd25519},
};

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

std::string ParseVerification(simdjson::dom::element value,
                              VerificationSpec* out) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return "verification must be an object";
  }
  std::string scheme, encoding;
  std::string problem = ForEachMember(
      object, [&](std::string_view key, simdjson::dom::element member) {
        if (key == "scheme") return ReadString(member, key, &scheme);
        if (key == "secret_field") {
          return ReadString(member, key, &out->secret_field);
        }
        if (key == "signature_header") {
          return ReadString(member, key, &out->signature_header);
        }
        if (key == "signature_prefix") {
          return ReadString(member, key, &out->signature_prefix);
        }
        if (key == "encoding") return ReadString(member, key, &encoding);
        if (key == "timestamp_header") {
          return ReadString(member, key, &out->timestamp_header);
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
          return ReadString(member, key, &out->signed_payload);
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
           "hmac_sha256, ed25519, got '" +
           scheme + "'";
  }
  out->scheme = known->second;
  if (encoding == "base64") {
    out->encoding = SignatureEncoding::kBase64;
  } else if (!encoding.empty() && encoding != "hex") {
    return "verification: encoding must be hex or base64";
  }
  const bool parameterised = out->scheme == SignatureScheme::kHmacSha256 ||
                             out->scheme == SignatureScheme::kEd25519;
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
  if (out->signed_payload.find("{body}") == std::string::npos) {
    return "verification: signed_payload must contain {body}";
  }
  if (out->signed_payload.find("{timestamp}") != std::string::npos &&
      out->timestamp_header.empty()) {
    return "verification: signed_payload uses {timestamp} but there is no "
           "timestamp_header";
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
               "' (allowed: event_type_pointer, user_pointer, slugs)";
      });
  if (!problem.empty()) return "triggers: " + problem;
  if (!IsJsonPointer(out->event_type_pointer) ||
      !IsJsonPointer(out->user_pointer)) {
    return "triggers: a pointer is empty or starts with / (RFC 6901), at "
           "most 256 characters";
  }
  return "";
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
        return "unknown key '" + std::string(key) +
               "' (allowed: setup_fields, verification, triggers)";
      });
  if (!problem.empty()) return problem;
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
