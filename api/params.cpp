#include "api/params.h"

#include <simdjson.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <utility>

#include "api/resources.h"
#include "util/net.h"
#include "util/text.h"

namespace webhooks {
namespace {

constexpr size_t kMaxToolkitSlugBytes = 64;

constexpr size_t kMaxClientIdBytes = 256;

// True for "application/json", with or without parameters such as
// "; charset=utf-8", in any letter case.
bool IsJsonContentType(std::string_view value) {
  std::string_view media = value.substr(0, value.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return Lowercase(media) == "application/json";
}

// Parses the body as one JSON object. On failure, adds the problem to
// *problems and returns false. DOM rather than On-Demand: on simdjson 3.0.1
// only the DOM parser rejects trailing content and excessive depth up front
// (platform notes, section 3); bodies are at most --max-body bytes.
bool ParseJsonObject(const std::string& body, simdjson::dom::parser* parser,
                     simdjson::dom::object* object,
                     std::vector<std::string>* problems) {
  if (body.empty()) {
    problems->push_back("the body is empty; send a JSON object");
    return false;
  }
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  if (auto error = parser->parse(padded).get(root)) {
    problems->push_back(std::string("the body is not valid JSON: ") +
                        simdjson::error_message(error));
    return false;
  }
  if (root.get_object().get(*object) != simdjson::SUCCESS) {
    problems->push_back("the body must be a JSON object");
    return false;
  }
  return true;
}

// True the first time `key` is seen; after that, records the duplicate in
// *problems. simdjson keeps duplicate keys, and "first wins" would hide a
// client bug, so we refuse them.
bool FirstSighting(std::string_view key, std::vector<std::string_view>* seen,
                   std::vector<std::string>* problems) {
  if (std::find(seen->begin(), seen->end(), key) != seen->end()) {
    problems->push_back("field '" + std::string(key) +
                        "' appears more than once");
    return false;
  }
  seen->push_back(key);
  return true;
}

// The endpoint fields a client may think it can change; naming them earns a
// clearer error than "unknown field".
constexpr std::string_view kFixedEndpointFields[] = {
    "id",          "toolkit_slug", "client_id",
    "webhook_url", "created_at",   "verified_at"};

std::string AllowedFieldNames(const ToolkitSpec* toolkit) {
  std::string names;
  if (toolkit != nullptr) {
    for (const SetupFieldSpec& field : toolkit->setup_fields) {
      names += (names.empty() ? "" : ", ") + field.name;
    }
  }
  return names.empty() ? "this toolkit has no setup fields"
                       : "allowed: " + names;
}

// An empty value is refused, for every field (our choice; the spec is
// silent). Stored, an empty signing secret read back as "REDACTED", so the
// endpoint looked configured while no signature could ever match; and ""
// meaning "clear" for optional fields only would give one value two
// meanings. An optional field is cleared by a replace that leaves it out.
std::string EmptyValueProblem(const SetupFieldSpec& spec) {
  const std::string where = "data." + spec.name;
  return spec.is_required
             ? where + " must not be empty: it is required (" +
                   spec.display_name + ")"
             : where +
                   " must not be empty; to clear it, replace the setup data "
                   "(POST webhook_endpoints/{id}) without it";
}

// Checks webhook_url as the contract asks: an absolute http or https URL
// of at most kMaxWebhookUrlBytes, with a host, without user-info or
// fragment. Sets *host (without brackets) when the URL is valid. Our
// choices where the contract is silent: the scheme in any letter case;
// no spaces or control characters; a port, if any, of 1-65535; the host a
// DNS name or an IP literal (IPv6 in brackets).
void CheckWebhookUrl(std::string_view url, std::string* host,
                     std::vector<std::string>* problems) {
  const size_t before = problems->size();
  auto problem = [&](const std::string& text) {
    problems->push_back("webhook_url " + text);
  };
  if (url.size() > kMaxWebhookUrlBytes) {
    return problem("must be at most 2048 bytes, got " +
                   std::to_string(url.size()));
  }
  if (std::any_of(url.begin(), url.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
      })) {
    problem("must not contain spaces or control characters");
  }
  const size_t scheme_end = url.find("://");
  const std::string scheme = Lowercase(
      url.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end));
  if (scheme != "http" && scheme != "https") {
    return problem("must be an absolute http:// or https:// URL");
  }
  if (url.find('#') != std::string_view::npos) {
    problem("must not have a fragment (#...)");
  }
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    problem("must not hold user-info (user:password@)");
    authority = authority.substr(authority.rfind('@') + 1);
  }
  std::string_view name = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    name = authority.substr(1, close == std::string_view::npos
                                   ? std::string_view::npos
                                   : close - 1);
    port = close == std::string_view::npos ? std::string_view()
                                           : authority.substr(close + 1);
    if (close == std::string_view::npos ||
        name.find(':') == std::string_view::npos ||
        !IsIpLiteral(std::string(name))) {
      problem("has a bracketed host that is not an IPv6 address");
    }
  } else {
    const size_t colon = authority.find(':');
    name = authority.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view()
                                           : authority.substr(colon);
    if (name.empty()) {
      problem("must name a host");
    } else if (!IsHostName(std::string(name))) {
      problem("has a host that is not a DNS name or an IP address");
    }
  }
  long long port_number = 0;
  if (!port.empty() && (port.front() != ':' ||
                        !ParseInt(port.substr(1), 1, 65535, &port_number))) {
    problem("has a port that is not a number from 1 to 65535");
  }
  if (problems->size() == before) *host = Lowercase(name);
}

// Reads enabled_events: a non-empty array of known event types, each once.
void ReadEnabledEvents(simdjson::dom::element value,
                       std::vector<std::string>* events,
                       std::vector<std::string>* problems) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) {
    problems->push_back("enabled_events must be an array of event types");
    return;
  }
  if (array.size() == 0) {
    problems->push_back("enabled_events must name at least one event type");
  }
  std::string known;
  for (const EventTypeInfo& type : kEventTypes) {
    known += std::string(known.empty() ? "" : ", ") + type.event_type;
  }
  size_t index = 0;
  for (simdjson::dom::element item : array) {
    const std::string where = "enabled_events[" + std::to_string(index++) + "]";
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) {
      problems->push_back(where + " must be a string");
      continue;
    }
    const bool is_known = std::any_of(
        std::begin(kEventTypes), std::end(kEventTypes),
        [&](const EventTypeInfo& type) { return text == type.event_type; });
    if (!is_known) {
      problems->push_back(where + " '" + Printable(text, 64) +
                          "' is not a known event type (known: " + known + ")");
    } else if (std::find(events->begin(), events->end(), text) !=
               events->end()) {
      problems->push_back(where + " repeats '" + std::string(text) + "'");
    } else {
      events->emplace_back(text);
    }
  }
}

// The subscription fields a client may think it can change.
constexpr std::string_view kFixedSubscriptionFields[] = {
    "id", "secret", "created_at", "updated_at"};

}  // namespace

void ParseSubscriptionParams(const httplib::Request& req, bool patch,
                             SubscriptionParams* out,
                             std::vector<std::string>* problems) {
  if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
    problems->push_back("content-type must be application/json");
  }
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (!ParseJsonObject(req.body, &parser, &object, problems)) return;
  std::vector<std::string_view> seen_keys;
  for (auto [key, value] : object) {
    if (!FirstSighting(key, &seen_keys, problems)) continue;
    // A null is a field not given (our choice): SDKs that serialise unset
    // optional fields as null then mean what they say.
    if (value.is_null()) continue;
    std::string_view text;
    const bool is_string = value.get_string().get(text) == simdjson::SUCCESS;
    if (key == "webhook_url") {
      if (!is_string) {
        problems->push_back("webhook_url must be a string");
        continue;
      }
      CheckWebhookUrl(text, &out->url_host, problems);
      out->webhook_url = std::string(text);
    } else if (key == "version") {
      if (!is_string || (text != "V1" && text != "V2" && text != "V3")) {
        problems->push_back("version must be one of V1, V2 and V3");
        continue;
      }
      out->version = std::string(text);
    } else if (key == "enabled_events") {
      ReadEnabledEvents(value, &out->enabled_events.emplace(), problems);
    } else if (key == "status" && patch) {
      // Only a receiver's 410 Gone disables a subscription (our choice: a
      // client that wants no deliveries deletes it).
      if (!is_string || text != "enabled") {
        problems->push_back(
            "status can only be set to \"enabled\" (a subscription is "
            "disabled only by its receiver answering 410 Gone)");
      }
    } else {
      const bool fixed = std::find(std::begin(kFixedSubscriptionFields),
                                   std::end(kFixedSubscriptionFields),
                                   key) != std::end(kFixedSubscriptionFields);
      problems->push_back(
          fixed ? std::string(key) + " cannot be set"
                : "unknown field '" + Printable(key, 64) +
                      "'; the allowed fields are webhook_url, "
                      "enabled_events and version" +
                      (patch ? std::string(" (and status)") : std::string()));
    }
  }
  if (patch) return;
  if (!out->webhook_url) problems->push_back("webhook_url is required");
  if (!out->enabled_events) problems->push_back("enabled_events is required");
  if (!out->version) out->version = "V3";
}

bool ParseSubscriptionListParams(const httplib::Request& req, ApiError* err) {
  std::vector<std::string> problems;
  long long limit = 0;
  if (req.has_param("limit") &&
      !ParseInt(req.get_param_value("limit"), 1, 50, &limit)) {
    problems.push_back("limit must be a whole number from 1 to 50");
  }
  // An empty cursor is no cursor (our choice).
  if (!req.get_param_value("cursor").empty()) {
    problems.push_back(
        "cursor is not one this server gave out (a project's subscriptions "
        "fit on one page: next_cursor is always null)");
  }
  if (problems.empty()) return true;
  *err =
      ValidationError(std::move(problems), ErrorKind::kSubscriptionValidation);
  return false;
}

bool ParseCreateParams(const httplib::Request& req, CreateParams* out,
                       ApiError* err) {
  std::vector<std::string> problems;
  if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
    problems.push_back("content-type must be application/json");
  }
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  bool have_slug = false, have_client = false;
  if (ParseJsonObject(req.body, &parser, &object, &problems)) {
    std::vector<std::string_view> seen_keys;
    for (auto [key, value] : object) {
      if (!FirstSighting(key, &seen_keys, &problems)) continue;
      const bool is_slug = key == "toolkit_slug";
      const bool is_client = key == "client_id";
      if (!is_slug && !is_client) {
        problems.push_back("unknown field '" + std::string(key) +
                           "'; the allowed fields are toolkit_slug and "
                           "client_id");
        continue;
      }
      (is_slug ? have_slug : have_client) = true;
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) {
        problems.push_back(std::string(key) + " must be a string");
        continue;
      }
      if (is_slug) {
        std::string slug = Lowercase(text);
        if (slug.empty()) {
          problems.push_back("toolkit_slug must not be empty");
        } else if (slug.size() > kMaxToolkitSlugBytes ||
                   slug.find_first_not_of(
                       "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
                       std::string::npos) {
          problems.push_back(
              "toolkit_slug must be 1-64 characters of a-z, 0-9, _ and -");
        }
        out->toolkit_slug = std::move(slug);
      } else {
        if (text.empty()) {
          problems.push_back("client_id must not be empty");
        } else if (text.size() > kMaxClientIdBytes) {
          problems.push_back("client_id must be at most 256 bytes, got " +
                             std::to_string(text.size()));
        } else if (!IsCleanText(text)) {
          problems.push_back(
              "client_id must be valid UTF-8 without control characters");
        }
        out->client_id = std::string(text);
      }
    }
    if (!have_slug) problems.push_back("toolkit_slug is required");
    if (!have_client) problems.push_back("client_id is required");
  }
  if (problems.empty()) return true;
  *err = ValidationError(std::move(problems));
  return false;
}

bool ParseSetupDataParams(const httplib::Request& req,
                          const ToolkitSpec* toolkit, SetupDataParams* out,
                          std::vector<std::string>* problems_out) {
  std::vector<std::string>& problems = *problems_out;
  bool data_read = false;
  if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
    problems.push_back("content-type must be application/json");
  }
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (ParseJsonObject(req.body, &parser, &object, &problems)) {
    bool have_data = false;
    std::vector<std::string_view> seen_keys;
    for (auto [key, value] : object) {
      if (!FirstSighting(key, &seen_keys, &problems)) continue;
      if (key != "data") {
        bool fixed = std::find(std::begin(kFixedEndpointFields),
                               std::end(kFixedEndpointFields),
                               key) != std::end(kFixedEndpointFields);
        problems.push_back(fixed ? std::string(key) + " cannot be changed"
                                 : "unknown field '" + std::string(key) +
                                       "'; the body is {\"data\": {...}}");
        continue;
      }
      have_data = true;
      simdjson::dom::object data;
      if (value.get_object().get(data) != simdjson::SUCCESS) {
        problems.push_back("data must be an object of setup field values");
        continue;
      }
      data_read = true;
      std::vector<std::string_view> seen_names;
      for (auto [name, field_value] : data) {
        if (!FirstSighting(name, &seen_names, &problems)) continue;
        const std::string where = "data." + std::string(name);
        const SetupFieldSpec* spec =
            toolkit == nullptr ? nullptr : toolkit->FindField(name);
        if (spec == nullptr) {
          problems.push_back("unknown setup field '" + std::string(name) +
                             "' (" + AllowedFieldNames(toolkit) + ")");
          continue;
        }
        out->named.emplace_back(name);
        std::string_view text;
        if (field_value.get_string().get(text) != simdjson::SUCCESS) {
          problems.push_back(where + " must be a string");
        } else if (text.empty()) {
          problems.push_back(EmptyValueProblem(*spec));
        } else if (text.size() > kMaxSetupValueBytes) {
          problems.push_back(where + " must be at most 4096 bytes");
        } else if (!IsCleanText(text)) {
          problems.push_back(where +
                             " must be valid UTF-8 without control characters");
        } else {
          out->fields.push_back({std::string(name), std::string(text)});
        }
      }
    }
    if (!have_data) problems.push_back("data is required");
  }
  return data_read;
}

std::string EncodeCursor(const EndpointListItem& last) {
  return std::to_string(last.created_at_ms) + "." + last.id;
}

bool DecodeCursor(std::string_view text, EndpointCursor* out) {
  size_t dot = text.find('.');
  long long millis = 0;
  if (dot == std::string_view::npos ||
      !ParseInt(text.substr(0, dot), 0, std::numeric_limits<long long>::max(),
                &millis)) {
    return false;
  }
  std::string_view id = text.substr(dot + 1);
  if (id.empty() || !IsTokenText(id, 64)) return false;
  out->created_at_ms = millis;
  out->id = std::string(id);
  return true;
}

bool ParseListParams(const httplib::Request& req, ListParams* out,
                     ApiError* err) {
  std::vector<std::string> problems;
  if (req.has_param("toolkit_slug")) {
    out->toolkit_slug = Lowercase(req.get_param_value("toolkit_slug"));
  }
  if (req.has_param("limit")) {
    long long limit = 0;
    if (!ParseInt(req.get_param_value("limit"), 1, 1000, &limit)) {
      problems.push_back("limit must be a whole number from 1 to 1000");
    }
    out->limit = static_cast<size_t>(limit);
  }
  if (req.has_param("cursor")) {
    EndpointCursor cursor;
    if (!DecodeCursor(req.get_param_value("cursor"), &cursor)) {
      problems.push_back(kUnknownCursorProblem);
    }
    out->after = std::move(cursor);
  }
  if (problems.empty()) return true;
  *err = ValidationError(std::move(problems));
  return false;
}

bool ParseEventListParams(const httplib::Request& req, EventListParams* out,
                          ApiError* err) {
  std::vector<std::string> problems;
  long long limit = kEventPageDefault, before = 0;
  if (req.has_param("limit") &&
      !ParseInt(req.get_param_value("limit"), 1, kEventPageMax, &limit)) {
    problems.push_back("limit must be a whole number from 1 to " +
                       std::to_string(kEventPageMax));
  }
  if (req.has_param("cursor") &&
      !ParseInt(req.get_param_value("cursor"), 1,
                std::numeric_limits<long long>::max(), &before)) {
    problems.push_back(kUnknownCursorProblem);
  }
  if (!problems.empty()) {
    *err = ValidationError(std::move(problems));
    return false;
  }
  out->limit = static_cast<size_t>(limit);
  out->before = before;
  return true;
}

std::optional<std::string> JsonStringField(const std::string& body,
                                           std::string_view name) {
  if (body.empty() || body.front() != '{') return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::object root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return std::nullopt;
  std::optional<std::string> found;
  for (auto [key, value] : root) {
    if (key != name) continue;
    std::string_view text;
    if (found || value.get_string().get(text) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    found = std::string(text);
  }
  return found;
}

}  // namespace webhooks
