#include "api/deliveries.h"

#include <simdjson.h>

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/auth.h"
#include "api/errors.h"
#include "api/params.h"
#include "api/subscriptions.h"
#include "util/json_writer.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

constexpr long long kDeliveryPageDefault = 50;
constexpr long long kDeliveryPageMax = 100;

// Delivery ids are "dlv_" and 16 characters of RandomToken's alphabet.
bool IsDeliveryId(std::string_view id) {
  return id.size() == 20 && id.substr(0, 4) == "dlv_" && IsTokenText(id, 20);
}

ApiError SubscriptionNotFound(std::string_view id) {
  return MakeError(
      ErrorKind::kSubscriptionNotFound,
      "No webhook subscription '" + Printable(id, 64) + "' in this project.");
}

ApiError DeliveryNotFound(std::string_view id) {
  return MakeError(
      ErrorKind::kDeliveryNotFound,
      "No delivery '" + Printable(id, 64) + "' of this webhook subscription.");
}

ApiError DeliveryValidation(std::vector<std::string> problems) {
  return ValidationError(std::move(problems),
                         ErrorKind::kSubscriptionValidation);
}

void WriteOptionalTime(const std::optional<int64_t>& millis, JsonWriter* json) {
  if (millis) {
    json->Value(FormatTime(*millis));
  } else {
    json->Null();
  }
}

void WriteCodeOrNull(const std::optional<int>& code, JsonWriter* json) {
  if (code) {
    json->Value(static_cast<long long>(*code));
  } else {
    json->Null();
  }
}

// An error class: null for none (success).
void WriteTextOrNull(const std::string& text, JsonWriter* json) {
  if (text.empty()) {
    json->Null();
  } else {
    json->Value(text);
  }
}

void WriteDelivery(const DeliveryRecord& d, JsonWriter* json) {
  json->Key("id");
  json->Value(d.id);
  json->Key("subscription_id");
  json->Value(d.subscription_id);
  json->Key("webhook_id");
  json->Value(d.webhook_id);
  json->Key("event_id");
  json->Value(d.event_id);
  json->Key("endpoint_id");
  json->Value(d.endpoint_id);
  json->Key("status");
  json->Value(DeliveryStatusName(d.status));
  json->Key("attempts");
  json->Value(static_cast<long long>(d.attempts));
  json->Key("next_attempt_at");
  WriteOptionalTime(d.next_attempt_at_ms, json);
  json->Key("last_status_code");
  WriteCodeOrNull(d.last_status_code, json);
  json->Key("last_error");
  WriteTextOrNull(d.last_error, json);
  json->Key("created_at");
  json->Value(FormatTime(d.created_at_ms));
  json->Key("updated_at");
  json->Value(FormatTime(d.updated_at_ms));
}

// A receiver's body as text: as received when it is UTF-8, else with the
// other bytes escaped (\xNN), so that the JSON stays valid.
std::string BodyAsText(const std::string& body) {
  return IsUtf8(body) ? body : Printable(body, body.size());
}

void WriteAttempt(const DeliveryAttempt& a, JsonWriter* json) {
  json->BeginObject();
  json->Key("attempt");
  json->Value(static_cast<long long>(a.attempt));
  json->Key("started_at");
  json->Value(FormatTime(a.started_at_ms));
  json->Key("request_headers");
  json->RawValue(a.request_headers_json);
  json->Key("status_code");
  WriteCodeOrNull(a.status_code, json);
  json->Key("error_class");
  WriteTextOrNull(a.error_class, json);
  json->Key("duration_ms");
  json->Value(static_cast<long long>(a.duration_ms));
  json->Key("response_headers");
  json->RawValue(a.response_headers_json);
  json->Key("response_body");
  json->Value(BodyAsText(a.response_body));
  json->EndObject();
}

// A malformed id is as unknown as a missing one: 404 without a look-up.
bool IdsWellFormedOrReply(const std::string& subscription_id,
                          const std::string& delivery_id,
                          httplib::Response& res) {
  if (!IsSubscriptionId(subscription_id)) {
    ReplyError(res, SubscriptionNotFound(subscription_id));
    return false;
  }
  if (!IsDeliveryId(delivery_id)) {
    ReplyError(res, DeliveryNotFound(delivery_id));
    return false;
  }
  return true;
}

// Replies 404 for NotFound (the subscription is not the caller's, or the
// delivery not the subscription's), else the store error.
void ReplyFailure(const Context& ctx, httplib::Response& res,
                  const Status& status, const ApiError& not_found) {
  if (status.code() == Status::Code::kNotFound) {
    return ReplyError(res, not_found);
  }
  ReplyStoreError(ctx, res, status);
}

bool ParseDeliveryListQuery(const httplib::Request& req,
                            DeliveryListQuery* query, ApiError* err) {
  std::vector<std::string> problems;
  long long limit = kDeliveryPageDefault;
  if (req.has_param("limit") &&
      !ParseInt(req.get_param_value("limit"), 1, kDeliveryPageMax, &limit)) {
    problems.push_back("limit must be a whole number from 1 to " +
                       std::to_string(kDeliveryPageMax));
  }
  query->limit = static_cast<size_t>(limit);
  if (req.has_param("status")) {
    const std::string name = req.get_param_value("status");
    query->status = DeliveryStatusFromName(name);
    if (!query->status) {
      problems.push_back(
          "status must be one of pending, in_flight, succeeded, retrying, "
          "failed, held, cancelled; got '" +
          Printable(name, 64) + "'");
    }
  }
  if (req.has_param("cursor")) {
    EndpointCursor cursor;
    if (!DecodeCursor(req.get_param_value("cursor"), &cursor)) {
      problems.push_back(kUnknownCursorProblem);
    }
    query->after = DeliveryCursor{cursor.created_at_ms, cursor.id};
  }
  if (problems.empty()) return true;
  *err = DeliveryValidation(std::move(problems));
  return false;
}

// {"since": ISO, "until"?: ISO}: every problem listed.
bool ParseRecoverWindow(const std::string& body, int64_t now_ms,
                        int64_t* since_ms, int64_t* until_ms, ApiError* err) {
  std::vector<std::string> problems;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::object root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) {
    *err =
        DeliveryValidation({"the body must be a JSON object: {\"since\": "
                            "\"2026-12-02T10:00:00Z\"}"});
    return false;
  }
  std::optional<int64_t> since, until;
  for (auto [key, value] : root) {
    std::string_view text;
    int64_t millis = 0;
    const bool is_time = value.get_string().get(text) == simdjson::SUCCESS &&
                         ParseTime(std::string(text), &millis);
    if (key == "since" || key == "until") {
      if (!is_time) {
        problems.push_back(std::string(key) +
                           " must be an ISO 8601 time such as "
                           "2026-12-02T10:00:00.000Z");
      } else {
        (key == "since" ? since : until) = millis;
      }
    } else {
      problems.push_back("unknown field '" + Printable(key, 64) +
                         "' (allowed: since, until)");
    }
  }
  if (!since && problems.empty()) problems.push_back("since is required");
  if (since && until && *until < *since) {
    problems.push_back("until must not be before since");
  }
  if (!problems.empty()) {
    *err = DeliveryValidation(std::move(problems));
    return false;
  }
  *since_ms = *since;
  *until_ms = until.value_or(now_ms);
  return true;
}

}  // namespace

void HandleListDeliveries(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  const std::string id = req.matches[1];
  DeliveryListQuery query;
  ApiError err;
  if (!ParseDeliveryListQuery(req, &query, &err)) return ReplyError(res, err);
  if (!IsSubscriptionId(id)) {
    return ReplyError(res, SubscriptionNotFound(id));
  }
  query.project_id = caller.project_id;
  query.subscription_id = id;
  std::vector<DeliveryRecord> items;
  bool more = false;
  Status status = ctx.store.ListDeliveries(query, &items, &more);
  if (!status.ok()) {
    return ReplyFailure(ctx, res, status, SubscriptionNotFound(id));
  }
  JsonWriter json;
  json.BeginObject();
  json.Key("items");
  json.BeginArray();
  for (const DeliveryRecord& item : items) {
    json.BeginObject();
    WriteDelivery(item, &json);
    json.EndObject();
  }
  json.EndArray();
  json.Key("next_cursor");
  if (more && !items.empty()) {
    json.Value(std::to_string(items.back().created_at_ms) + "." +
               items.back().id);
  } else {
    json.Null();
  }
  json.EndObject();
  ReplyJson(res, 200, json.Take());
}

void HandleGetDelivery(const Context& ctx, const httplib::Request& req,
                       httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  const std::string id = req.matches[1];
  const std::string delivery_id = req.matches[2];
  if (!IdsWellFormedOrReply(id, delivery_id, res)) return;
  DeliveryRecord delivery;
  std::vector<DeliveryAttempt> attempts;
  Status status = ctx.store.GetDelivery(caller.project_id, id, delivery_id,
                                        &delivery, &attempts);
  if (!status.ok()) {
    return ReplyFailure(ctx, res, status, DeliveryNotFound(delivery_id));
  }
  JsonWriter json;
  json.BeginObject();
  WriteDelivery(delivery, &json);
  json.Key("attempt_log");
  json.BeginArray();
  for (const DeliveryAttempt& attempt : attempts) WriteAttempt(attempt, &json);
  json.EndArray();
  json.EndObject();
  ReplyJson(res, 200, json.Take());
}

void HandleResendDelivery(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  const std::string id = req.matches[1];
  const std::string delivery_id = req.matches[2];
  if (!IdsWellFormedOrReply(id, delivery_id, res)) return;
  int attempt = 0;
  Status status = ctx.store.ResendDelivery(caller.project_id, id, delivery_id,
                                           NowMillis(), &attempt);
  if (status.code() == Status::Code::kConflict) {
    return ReplyError(
        res, MakeError(ErrorKind::kDeliveryConflict,
                       "Delivery '" + delivery_id + "' cannot be resent now: " +
                           status.message() + "."));
  }
  if (!status.ok()) {
    return ReplyFailure(ctx, res, status, DeliveryNotFound(delivery_id));
  }
  if (ctx.wake_deliveries) ctx.wake_deliveries();
  JsonWriter json;
  json.BeginObject();
  json.Key("id");
  json.Value(delivery_id);
  json.Key("attempt");
  json.Value(static_cast<long long>(attempt));
  json.EndObject();
  ReplyJson(res, 202, json.Take());
}

void HandleRecoverDeliveries(const Context& ctx, const httplib::Request& req,
                             httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  const std::string id = req.matches[1];
  const int64_t now = NowMillis();
  int64_t since = 0, until = 0;
  ApiError err;
  if (!IsSubscriptionId(id)) {
    return ReplyError(res, SubscriptionNotFound(id));
  }
  if (!ParseRecoverWindow(req.body, now, &since, &until, &err)) {
    return ReplyError(res, err);
  }
  int64_t scheduled = 0;
  Status status = ctx.store.RecoverDeliveries(caller.project_id, id, since,
                                              until, now, &scheduled);
  if (!status.ok()) {
    return ReplyFailure(ctx, res, status, SubscriptionNotFound(id));
  }
  if (scheduled > 0 && ctx.wake_deliveries) ctx.wake_deliveries();
  JsonWriter json;
  json.BeginObject();
  json.Key("scheduled");
  json.Value(static_cast<long long>(scheduled));
  json.EndObject();
  ReplyJson(res, 202, json.Take());
}

}  // namespace webhooks
