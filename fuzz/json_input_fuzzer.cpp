// libFuzzer target: the input is a request body (and, for the list, a query
// value) given to the parsers and validators of every JSON-taking route:
// create, setup data for each built-in toolkit, list parameters and cursors,
// and a subscription's create and PATCH.
//
// Beyond crashes and undefined behaviour, it checks the validators'
// promises: a rejection is a 4xx kind with a message; an accepted create
// has a known-shape slug and a clean client id of at most 256 bytes; every
// accepted setup value is clean text of at most 4096 bytes; an accepted
// subscription has a URL of at most 2048 bytes with a host, a known version
// and known, distinct event types.

#include <httplib.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "api/errors.h"
#include "api/params.h"
#include "api/resources.h"
#include "store/store.h"
#include "toolkits/catalog.h"
#include "util/text.h"

namespace webhooks {
namespace {

void Require(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckRejection(const ApiError& err) {
  Require(!err.message.empty());
  Require(InfoFor(err.kind).status >= 400 && InfoFor(err.kind).status < 500);
}

void FuzzCreate(const httplib::Request& req) {
  CreateParams params;
  ApiError err;
  if (!ParseCreateParams(req, &params, &err)) return CheckRejection(err);
  Require(!params.toolkit_slug.empty() && params.toolkit_slug.size() <= 64);
  Require(params.toolkit_slug.find_first_not_of(
              "abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos);
  Require(!params.client_id.empty() && params.client_id.size() <= 256);
  Require(IsCleanText(params.client_id));
}

void FuzzSetupData(const httplib::Request& req, const ToolkitCatalog& catalog) {
  for (const std::string& slug : catalog.Slugs()) {
    SetupDataParams params;
    std::vector<std::string> problems;
    const ToolkitSpec* toolkit = catalog.Find(slug);
    // Returns whether `data` was read; the problems decide acceptance.
    const bool data_read =
        ParseSetupDataParams(req, toolkit, &params, &problems);
    if (problems.empty()) Require(data_read);
    for (const SetupField& field : params.fields) {
      Require(toolkit->FindField(field.name) != nullptr);
      Require(field.value.size() <= kMaxSetupValueBytes);
      Require(IsCleanText(field.value));
    }
  }
}

void FuzzList(std::string_view text) {
  httplib::Request req;
  req.params.emplace("limit", std::string(text));
  req.params.emplace("cursor", std::string(text));
  req.params.emplace("toolkit_slug", std::string(text));
  ListParams params;
  ApiError err;
  if (!ParseListParams(req, &params, &err)) return CheckRejection(err);
  Require(params.limit >= 1 && params.limit <= 1000);
  EndpointCursor cursor;
  if (DecodeCursor(text, &cursor)) Require(!cursor.id.empty());
}

void FuzzSubscription(const httplib::Request& req, bool patch) {
  SubscriptionParams params;
  std::vector<std::string> problems;
  ParseSubscriptionParams(req, patch, &params, &problems);
  if (!problems.empty()) return;
  if (!patch) Require(params.webhook_url && params.enabled_events);
  if (params.webhook_url) {
    Require(params.webhook_url->size() <= kMaxWebhookUrlBytes);
    Require(!params.url_host.empty());
  }
  if (params.version) {
    Require(*params.version == "V1" || *params.version == "V2" ||
            *params.version == "V3");
  }
  if (params.enabled_events) {
    const std::vector<std::string>& events = *params.enabled_events;
    Require(!events.empty());
    for (size_t i = 0; i < events.size(); ++i) {
      Require(std::any_of(std::begin(kEventTypes), std::end(kEventTypes),
                          [&](const EventTypeInfo& type) {
                            return events[i] == type.event_type;
                          }));
      Require(std::find(events.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                        events.end(), events[i]) == events.end());
    }
  }
}

}  // namespace
}  // namespace webhooks

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const webhooks::ToolkitCatalog catalog =
      webhooks::ToolkitCatalog::Builtin();
  httplib::Request req;
  req.body.assign(reinterpret_cast<const char*>(data), size);
  req.headers.emplace("Content-Type", "application/json");
  webhooks::FuzzCreate(req);
  webhooks::FuzzSetupData(req, catalog);
  webhooks::FuzzList(req.body);
  webhooks::FuzzSubscription(req, /*patch=*/false);
  webhooks::FuzzSubscription(req, /*patch=*/true);
  return 0;
}
