// Requests in: one Parse...Params function per request body or query,
// from the request to a validated struct, or every problem found.

#ifndef WEBHOOKS_API_PARAMS_H_
#define WEBHOOKS_API_PARAMS_H_

#include <httplib.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/errors.h"
#include "store/store.h"
#include "toolkits/catalog.h"

namespace webhooks {

// Validated body of POST webhook_endpoints.
struct CreateParams {
  std::string toolkit_slug;  // lower-cased
  std::string client_id;
};

bool ParseCreateParams(const httplib::Request& req, CreateParams* out,
                       ApiError* err);

// Validated body of PATCH and POST webhook_endpoints/{id}:
// {"data": {"field": "value", ...}}.
struct SetupDataParams {
  std::vector<SetupField> fields;  // in body order, names known, values clean
  std::vector<std::string> named;  // every known field named, valid or not
};

// Longest setup value accepted, in bytes.
constexpr size_t kMaxSetupValueBytes = 4096;

// Reads the body into *out, adding every problem to *problems. Returns
// whether a `data` object was read, so that the caller can go on to check
// the fields against the stored endpoint and report all problems at once.
bool ParseSetupDataParams(const httplib::Request& req,
                          const ToolkitSpec* toolkit, SetupDataParams* out,
                          std::vector<std::string>* problems_out);

// Validated query of GET webhook_endpoints.
struct ListParams {
  std::optional<std::string> toolkit_slug;
  size_t limit = 0;  // 0: everything, as Composio answers
  std::optional<EndpointCursor> after;
};

// A cursor is "<created_at ms>.<endpoint id>" of the last item of the
// previous page: opaque to clients, readable in logs, and useless across
// projects since every list is scoped to the caller's project.
std::string EncodeCursor(const EndpointListItem& last);

// What a validation error says of a cursor the server did not give out.
inline constexpr char kUnknownCursorProblem[] =
    "cursor is not one this server gave out (use next_cursor of the previous "
    "page)";

bool DecodeCursor(std::string_view text, EndpointCursor* out);

bool ParseListParams(const httplib::Request& req, ListParams* out,
                     ApiError* err);

// Validated query of GET webhook_endpoints/{id}/events.
struct EventListParams {
  size_t limit = 0;
  int64_t before = 0;  // 0: from the newest
};

// Reads limit (1-kEventPageMax, default kEventPageDefault) and cursor.
bool ParseEventListParams(const httplib::Request& req, EventListParams* out,
                          ApiError* err);

// Validated body of POST webhook_subscriptions (create) or PATCH
// webhook_subscriptions/{id} (patch): the fields given, checked.
struct SubscriptionParams {
  std::optional<std::string> webhook_url;
  std::string url_host;  // of webhook_url, without brackets: for IP checks
  std::optional<std::string> version;  // create: "V3" when not given
  std::optional<std::vector<std::string>> enabled_events;
};

// Longest webhook_url accepted, in bytes (contract).
constexpr size_t kMaxWebhookUrlBytes = 2048;

// Reads the body into *out, adding every problem found to *problems (the
// caller may add its own before replying). For a create, webhook_url and
// enabled_events are required; for a patch every field is optional, and
// "status" may be given as "enabled" (the only value a client may set).
void ParseSubscriptionParams(const httplib::Request& req, bool patch,
                             SubscriptionParams* out,
                             std::vector<std::string>* problems);

// Checks the query of GET webhook_subscriptions: limit 1-50 and no cursor
// (a project's subscriptions are one page, so this server issues none).
bool ParseSubscriptionListParams(const httplib::Request& req, ApiError* err);

// A top-level string field of a JSON object body, if the body is one and
// names the field exactly once: a duplicate is ambiguous (simdjson would
// take the first, another parser the last), so it counts as absent, as
// every other JSON route refuses duplicates.
std::optional<std::string> JsonStringField(const std::string& body,
                                           std::string_view name);

}  // namespace webhooks

#endif  // WEBHOOKS_API_PARAMS_H_
