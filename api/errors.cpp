#include "api/errors.h"

#include <iterator>
#include <string_view>
#include <utility>

#include "util/crypto.h"
#include "util/json_writer.h"

namespace webhooks {
namespace {

constexpr ErrorInfo kErrorTable[] = {
    {ErrorKind::kBadRequest, 400, 1400, "HTTP_BadRequest",
     "Send a well-formed HTTP/1.1 request."},
    {ErrorKind::kUnauthorized, 401, 1401, "HTTP_Unauthorized",
     "Send your project API key in the x-api-key header (exactly one of "
     "x-api-key or x-user-api-key)."},
    {ErrorKind::kRouteNotFound, 404, 1404, "HTTP_NotFound",
     "Check the path: routes live under /api/v3/ and /api/v3.1/, for example "
     "POST /api/v3.1/webhook_endpoints."},
    {ErrorKind::kMethodNotAllowed, 405, 1405, "HTTP_MethodNotAllowed",
     "Use one of the methods listed in the Allow header."},
    {ErrorKind::kLengthRequired, 411, 1411, "HTTP_LengthRequired",
     "Send the body with a Content-Length header (chunked bodies are not "
     "accepted)."},
    {ErrorKind::kPayloadTooLarge, 413, 1413, "HTTP_PayloadTooLarge",
     "Send a smaller body; the limit is set with --max-body."},
    {ErrorKind::kUriTooLong, 414, 1414, "HTTP_URITooLong",
     "Send a shorter request line."},
    {ErrorKind::kUnsupportedMediaType, 415, 1415, "HTTP_UnsupportedMediaType",
     "Send the body uncompressed, without a Content-Encoding header."},
    {ErrorKind::kRangeNotSatisfiable, 416, 1416, "HTTP_RangeNotSatisfiable",
     "Send the request without a Range header."},
    {ErrorKind::kHeadersTooLarge, 431, 1431, "HTTP_RequestHeaderFieldsTooLarge",
     "Send fewer or shorter headers."},
    {ErrorKind::kHostNotAllowed, 403, 1403, "HTTP_HostNotAllowed",
     "Call the server as localhost or 127.0.0.1, or start it with "
     "--allowed-host NAME (or API keys, which end local mode)."},
    {ErrorKind::kNotImplemented, 501, 1501, "HTTP_NotImplemented",
     "Use one of GET, POST, PATCH or DELETE, in upper case."},
    {ErrorKind::kInternal, 500, 1500, "HTTP_InternalError",
     "Retry later; if it persists, report it with the request_id."},
    {ErrorKind::kStorageUnavailable, 503, 1503, "Storage_Unavailable",
     "The database is busy or full; retry after the Retry-After delay."},
    {ErrorKind::kValidation, 400, 2400, "WebhookEndpoint_ValidationError",
     "Fix the problems listed in errors and send the request again."},
    {ErrorKind::kEndpointNotFound, 404, 2404, "WebhookEndpoint_NotFound",
     "Check the id: list your endpoints with GET "
     "/api/v3.1/webhook_endpoints."},
    {ErrorKind::kToolkitNotFound, 404, 3404, "Toolkit_NotFound",
     "Use a toolkit_slug from the toolkit catalog (built in: discord, "
     "github, notion, slack, slackbot, stripe)."},
    {ErrorKind::kIngressNotConfigured, 400, 4400,
     "WebhookIngress_NotConfigured",
     "Store the toolkit's signing secret on the endpoint first (PATCH "
     "/api/v3.1/webhook_endpoints/{id} with {\"data\": {...}})."},
    {ErrorKind::kIngressInvalidSignature, 400, 4401,
     "WebhookIngress_InvalidSignature",
     "Sign the raw body with the secret stored on the endpoint, with a "
     "current timestamp where the scheme has one."},
    // The same error for providers that require a 401 (Discord refuses an
    // interactions URL whose bad-signature answer is anything else): same
    // slug and code, so clients match it the same way.
    {ErrorKind::kIngressSignatureUnauthorized, 401, 4401,
     "WebhookIngress_InvalidSignature",
     "Sign the raw body with the secret stored on the endpoint, with a "
     "current timestamp where the scheme has one."},
    {ErrorKind::kIngressAlreadyVerified, 400, 4402,
     "WebhookIngress_AlreadyVerified",
     "The endpoint completed its handshake already; send events, or reset "
     "it with POST /api/v3.1/webhook_endpoints/{id}/reset_verification and "
     "have the provider send its handshake again."},
    {ErrorKind::kDeliveryNotFound, 404, 6404, "WebhookDelivery_NotFound",
     "Check the id: list the subscription's deliveries with GET "
     "/api/v3.1/webhook_subscriptions/{id}/deliveries."},
    {ErrorKind::kDeliveryConflict, 409, 6409, "WebhookDelivery_Conflict",
     "Wait for the attempt in flight to finish (GET the delivery to see it), "
     "then resend; a cancelled delivery cannot be resent."},
    {ErrorKind::kSubscriptionValidation, 400, 5400,
     "WebhookSubscription_ValidationError",
     "Fix the problems listed in errors and send the request again."},
    {ErrorKind::kSubscriptionNotFound, 404, 5404,
     "WebhookSubscription_NotFound",
     "Check the id: list your subscription with GET "
     "/api/v3.1/webhook_subscriptions."},
    {ErrorKind::kSubscriptionAlreadyExists, 409, 5409,
     "WebhookSubscription_AlreadyExists",
     "A project has one subscription: change it with PATCH "
     "/api/v3.1/webhook_subscriptions/{id}."},
    {ErrorKind::kStreamLimit, 503, 7503, "Stream_LimitReached",
     "Close another dashboard tab, or retry after the Retry-After seconds; "
     "the server's limit is --max-streams."},
    {ErrorKind::kTestEventUnavailable, 409, 7409, "TestEvent_Unavailable",
     "Store the endpoint's verification secret first (PATCH "
     "/api/v3.1/webhook_endpoints/{id}), or send a real event from the "
     "provider."},
    {ErrorKind::kLocalModeOnly, 403, 7403, "Fixture_LocalModeOnly",
     "This route is for test fixtures: start a server of your own without "
     "API keys (local mode), e.g. webhooks-server --port 0 --db :memory:."},
};

// The table is indexed by kind; this keeps its order honest.
constexpr bool ErrorTableInKindOrder() {
  for (size_t i = 0; i < std::size(kErrorTable); ++i) {
    if (static_cast<size_t>(kErrorTable[i].kind) != i) return false;
  }
  return true;
}

static_assert(ErrorTableInKindOrder(), "kErrorTable must follow ErrorKind");

void WriteErrorBody(const ApiError& error, const ErrorInfo& info,
                    const std::string& request_id, JsonWriter* json) {
  json->BeginObject();
  json->Key("error");
  json->BeginObject();
  json->Key("message");
  json->Value(error.message);
  json->Key("code");
  json->Value(static_cast<long long>(info.code));
  json->Key("slug");
  json->Value(std::string_view(info.slug));
  json->Key("status");
  json->Value(static_cast<long long>(info.status));
  json->Key("request_id");
  json->Value(request_id);
  json->Key("suggested_fix");
  json->Value(error.suggested_fix.empty()
                  ? std::string_view(info.suggested_fix)
                  : std::string_view(error.suggested_fix));
  json->Key("errors");
  json->BeginArray();
  for (const std::string& problem : error.errors) json->Value(problem);
  json->EndArray();
  json->EndObject();
  json->EndObject();
}

}  // namespace

const ErrorInfo& InfoFor(ErrorKind kind) {
  return kErrorTable[static_cast<size_t>(kind)];
}

ApiError MakeError(ErrorKind kind, std::string message,
                   std::vector<std::string> errors) {
  return ApiError{kind, std::move(message), std::move(errors), ""};
}

std::string RequestIdOf(httplib::Response& res) {
  std::string id = res.get_header_value(kRequestIdHeader);
  if (id.empty()) {
    id = "req_" + RandomToken(20);
    res.set_header(kRequestIdHeader, id);
  }
  return id;
}

void ReplyError(httplib::Response& res, const ApiError& error) {
  const ErrorInfo& info = InfoFor(error.kind);
  JsonWriter json;
  WriteErrorBody(error, info, RequestIdOf(res), &json);
  res.status = info.status;
  res.set_content(json.Take(), "application/json");
}

ApiError ValidationError(std::vector<std::string> problems, ErrorKind kind) {
  std::string message =
      problems.size() == 1
          ? "Invalid request: " + problems.front() + "."
          : "Invalid request: " + std::to_string(problems.size()) +
                " problems, listed in errors.";
  return MakeError(kind, std::move(message), std::move(problems));
}

void ReplyJson(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), "application/json");
}

}  // namespace webhooks
