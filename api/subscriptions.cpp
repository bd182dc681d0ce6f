#include "api/subscriptions.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "api/activity.h"
#include "api/auth.h"
#include "api/errors.h"
#include "api/params.h"
#include "api/resources.h"
#include "util/json_writer.h"
#include "util/net.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

// Characters of a new signing secret: A-Za-z0-9_- from the CSPRNG, 192
// bits. Returned in full by the API, as Composio does; never logged.
constexpr size_t kSecretLength = 32;

// Adds the problem of a webhook_url whose host is a refused IP literal.
void CheckTarget(const Context& ctx, const SubscriptionParams& params,
                 std::vector<std::string>* problems) {
  if (params.url_host.empty() ||
      !IsRefusedIpLiteral(params.url_host, ctx.config.deny_private_targets)) {
    return;
  }
  problems->push_back(
      "webhook_url points at " + params.url_host +
      ", an address this server never delivers to (link-local and cloud "
      "metadata addresses always" +
      (ctx.config.deny_private_targets
           ? std::string(
                 "; loopback and private ranges under --deny-private-targets")
           : std::string()) +
      ")");
}

ApiError SubscriptionValidation(std::vector<std::string> problems) {
  return ValidationError(std::move(problems),
                         ErrorKind::kSubscriptionValidation);
}

void ReplySubscriptionNotFound(httplib::Response& res, std::string_view id) {
  ReplyError(res, MakeError(ErrorKind::kSubscriptionNotFound,
                            "Webhook subscription '" + Printable(id, 64) +
                                "' not found."));
}

// Replies for a store call on subscription `id` that did not succeed: 404
// for NotFound (the same for a missing id and another project's), else the
// store error.
void ReplySubscriptionFailure(const Context& ctx, httplib::Response& res,
                              const Status& status, std::string_view id) {
  if (status.code() == Status::Code::kNotFound) {
    return ReplySubscriptionNotFound(res, id);
  }
  ReplyStoreError(ctx, res, status);
}

void ReplySubscription(httplib::Response& res, int status,
                       const WebhookSubscription& subscription) {
  JsonWriter json;
  WriteSubscription(subscription, &json);
  ReplyJson(res, status, json.Take());
}

// The id in the path, if it can be a subscription's; else replies 404 (as
// for a missing id) and returns false.
bool SubscriptionIdOrReply(const httplib::Request& req, httplib::Response& res,
                           std::string* id) {
  *id = req.matches[1];
  if (IsSubscriptionId(*id)) return true;
  ReplySubscriptionNotFound(res, *id);
  return false;
}

}  // namespace

bool IsSubscriptionId(std::string_view id) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  return id.size() == 16 && id.substr(0, 4) == "whs_" &&
         id.substr(4).find_first_not_of(kAlphabet) == std::string_view::npos;
}

void HandleCreateSubscription(const Context& ctx, const httplib::Request& req,
                              httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  SubscriptionParams params;
  std::vector<std::string> problems;
  ParseSubscriptionParams(req, /*patch=*/false, &params, &problems);
  CheckTarget(ctx, params, &problems);
  if (!problems.empty()) {
    return ReplyError(res, SubscriptionValidation(std::move(problems)));
  }
  WebhookSubscription subscription;
  subscription.id = NewId(ctx, "whs_", 12);
  subscription.project_id = caller.project_id;
  subscription.webhook_url = std::move(*params.webhook_url);
  subscription.version = std::move(*params.version);
  subscription.enabled_events = std::move(*params.enabled_events);
  subscription.secret = NewId(ctx, "", kSecretLength);
  subscription.created_at_ms = NowMillis();
  subscription.updated_at_ms = subscription.created_at_ms;
  WebhookSubscription stored;
  Status status = ctx.store.CreateSubscription(subscription, &stored);
  // A Conflict without the existing subscription is some other constraint:
  // a store failure.
  if (status.code() == Status::Code::kConflict && !stored.id.empty()) {
    ApiError err =
        MakeError(ErrorKind::kSubscriptionAlreadyExists,
                  "This project already has a webhook subscription, '" +
                      stored.id + "'; a project has one.");
    err.suggested_fix =
        "Change the existing subscription with PATCH "
        "/api/v3.1/webhook_subscriptions/" +
        stored.id + " instead of creating another.";
    // The official client retries every 409 twice; this one cannot change
    // by waiting (our choice: say so, in the header it honours).
    res.set_header("x-should-retry", "false");
    return ReplyError(res, err);
  }
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  PublishResourceChange(ctx, caller.project_id, "subscription", stored.id,
                        "created");
  ReplySubscription(res, 201, stored);
}

void HandleListSubscriptions(const Context& ctx, const httplib::Request& req,
                             httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  ApiError err;
  if (!ParseSubscriptionListParams(req, &err)) return ReplyError(res, err);
  std::vector<WebhookSubscription> subscriptions;
  Status status =
      ctx.store.ListSubscriptions(caller.project_id, &subscriptions);
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  JsonWriter json;
  WriteSubscriptionPage(subscriptions, &json);
  ReplyJson(res, 200, json.Take());
}

void HandleListEventTypes(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  JsonWriter json;
  WriteEventTypes(&json);
  ReplyJson(res, 200, json.Take());
}

void HandleGetSubscription(const Context& ctx, const httplib::Request& req,
                           httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  std::string id;
  if (!SubscriptionIdOrReply(req, res, &id)) return;
  WebhookSubscription subscription;
  Status status =
      ctx.store.GetSubscription(caller.project_id, id, &subscription);
  if (!status.ok()) return ReplySubscriptionFailure(ctx, res, status, id);
  ReplySubscription(res, 200, subscription);
}

void HandleUpdateSubscription(const Context& ctx, const httplib::Request& req,
                              httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  std::string id;
  if (!SubscriptionIdOrReply(req, res, &id)) return;
  SubscriptionParams params;
  std::vector<std::string> problems;
  ParseSubscriptionParams(req, /*patch=*/true, &params, &problems);
  CheckTarget(ctx, params, &problems);
  if (!problems.empty()) {
    // An id that is not the caller's answers 404 before any 400, as
    // endpoints do; only a failing request pays for this read.
    WebhookSubscription current;
    Status status = ctx.store.GetSubscription(caller.project_id, id, &current);
    if (!status.ok()) return ReplySubscriptionFailure(ctx, res, status, id);
    return ReplyError(res, SubscriptionValidation(std::move(problems)));
  }
  SubscriptionChanges changes;
  changes.webhook_url = std::move(params.webhook_url);
  changes.version = std::move(params.version);
  changes.enabled_events = std::move(params.enabled_events);
  changes.updated_at_ms = NowMillis();
  WebhookSubscription updated;
  Status status =
      ctx.store.UpdateSubscription(caller.project_id, id, changes, &updated);
  if (!status.ok()) return ReplySubscriptionFailure(ctx, res, status, id);
  PublishResourceChange(ctx, caller.project_id, "subscription", id, "updated");
  ReplySubscription(res, 200, updated);
}

void HandleDeleteSubscription(const Context& ctx, const httplib::Request& req,
                              httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  std::string id;
  if (!SubscriptionIdOrReply(req, res, &id)) return;
  Status status =
      ctx.store.DeleteSubscription(caller.project_id, id, NowMillis());
  if (!status.ok()) return ReplySubscriptionFailure(ctx, res, status, id);
  PublishResourceChange(ctx, caller.project_id, "subscription", id, "deleted");
  ReplyJson(res, 200, R"({"success":true})");
}

void HandleRotateSubscriptionSecret(const Context& ctx,
                                    const httplib::Request& req,
                                    httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  std::string id;
  if (!SubscriptionIdOrReply(req, res, &id)) return;
  WebhookSubscription rotated;
  Status status = ctx.store.RotateSubscriptionSecret(
      caller.project_id, id, NewId(ctx, "", kSecretLength), NowMillis(),
      &rotated);
  if (!status.ok()) return ReplySubscriptionFailure(ctx, res, status, id);
  PublishResourceChange(ctx, caller.project_id, "subscription", id,
                        "secret_rotated");
  JsonWriter json;
  WriteRotatedSecret(rotated, &json);
  ReplyJson(res, 200, json.Take());
}

}  // namespace webhooks
