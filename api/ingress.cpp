#include "api/ingress.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/activity.h"
#include "api/auth.h"
#include "api/endpoints.h"
#include "api/errors.h"
#include "api/params.h"
#include "api/resources.h"
#include "toolkits/sample_event.h"
#include "toolkits/trigger.h"
#include "toolkits/verify.h"
#include "util/crypto.h"
#include "util/json_writer.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

// The request headers worth keeping with an event: what a developer needs
// to see what the provider sent, never a signature (the catalog refuses a
// signature header in keep_headers).
std::string EventHeadersJson(const httplib::Request& req,
                             const ToolkitSpec& toolkit,
                             const VerificationSpec& spec) {
  std::vector<std::string> names = {
      "Content-Type", "User-Agent", "X-Slack-Request-Timestamp",
      "X-Slack-Retry-Num", "X-Slack-Retry-Reason"};
  for (std::string& extra : SchemeHeadersWorthKeeping(spec)) {
    names.push_back(std::move(extra));
  }
  names.insert(names.end(), toolkit.keep_headers.begin(),
               toolkit.keep_headers.end());
  JsonWriter json;
  json.BeginObject();
  std::vector<std::string> written;
  for (const std::string& name : names) {
    if (!req.has_header(name.c_str()) ||
        std::find_if(written.begin(), written.end(),
                     [&](const std::string& seen) {
                       return EqualsIgnoringCase(seen, name);
                     }) != written.end()) {
      continue;
    }
    written.push_back(name);
    json.Key(name);
    json.Value(Printable(req.get_header_value(name.c_str()), 256));
  }
  json.EndObject();
  return json.Take();
}

// The provider's id for an event: the id the signature covers (Standard
// Webhooks' webhook-id), else the spec's header, else its JSON field, else
// the body's SHA-256 (so a byte-identical retry is still one event).
std::string ProviderEventId(const httplib::Request& req,
                            const VerificationSpec& spec,
                            const std::string& signed_id) {
  if (IsTokenText(signed_id, 256)) return signed_id;
  if (!spec.event_id_header.empty()) {
    std::string value = req.get_header_value(spec.event_id_header.c_str());
    if (IsTokenText(value, 256)) return value;
  }
  if (!spec.event_id_field.empty()) {
    if (auto value = JsonStringField(req.body, spec.event_id_field);
        value && !value->empty() && value->size() <= 256 &&
        IsCleanText(*value)) {
      return *value;
    }
  }
  return "sha256:" + HexEncode(Sha256(req.body));
}

// Discord's PING ({"type": 1}), sent when the interactions URL is saved and
// now and then after: answered with {"type": 1}, never stored as an event.
bool IsDiscordPing(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::object object;
  int64_t type = 0;
  return parser.parse(padded).get_object().get(object) == simdjson::SUCCESS &&
         object["type"].get_int64().get(type) == simdjson::SUCCESS && type == 1;
}

ApiError IngressEndpointNotFound(const std::string& slug,
                                 const std::string& id) {
  return MakeError(ErrorKind::kEndpointNotFound,
                   "No webhook endpoint '" + Printable(id, 64) +
                       "' for toolkit '" + Printable(slug, 64) + "'.");
}

// What the ingress did with one request, for its log line (LogIngress):
// never a signature, a secret or the body.
struct IngressOutcome {
  std::string event_id;  // stored: ours; empty for a retry or a refusal
  std::string provider_event_id;
  size_t bytes = 0;        // the event's body
  bool duplicate = false;  // a retry of an event stored before
  std::string reason;      // why it was refused; empty when it was not
};

// Answers a verified handshake. The first one sets verified_at (and, for
// Notion, stores `secret`). Slack sends url_verification again whenever the
// Request URL is re-entered in its settings, so a repeat without a secret is
// answered too, verified_at keeping its first time; a second Notion token
// is refused and changes nothing (reset_verification makes room for one).
void CompleteHandshake(const Context& ctx, const WebhookEndpoint& endpoint,
                       const std::optional<SetupField>& secret,
                       std::string response_body, httplib::Response& res,
                       IngressOutcome* outcome) {
  bool verified = false;
  Status status =
      ctx.store.MarkVerified(endpoint.id, NowMillis(), secret, &verified);
  if (status.code() == Status::Code::kNotFound) {
    outcome->reason = "the endpoint was deleted during the handshake";
    return ReplyError(
        res, IngressEndpointNotFound(endpoint.toolkit_slug, endpoint.id));
  }
  if (!status.ok()) {
    outcome->reason = "the store failed (see the store error line)";
    return ReplyStoreError(ctx, res, status);
  }
  if (!verified && secret) {
    outcome->reason =
        "a second verification_token; the endpoint keeps its first";
    return ReplyError(res, MakeError(ErrorKind::kIngressAlreadyVerified,
                                     "This endpoint is verified already; a "
                                     "repeat handshake changes nothing."));
  }
  ReplyJson(res, 200, std::move(response_body));
  if (verified) {
    PublishResourceChange(ctx, endpoint.project_id, "endpoint", endpoint.id,
                          "verified");
  }
}

// Answers Discord's verified PING with {"type": 1}. Every PING is answered
// (Discord sends one each time the URL is saved); the first sets
// verified_at.
void AnswerDiscordPing(const Context& ctx, const WebhookEndpoint& endpoint,
                       httplib::Response& res) {
  bool verified = false;
  Status status =
      ctx.store.MarkVerified(endpoint.id, NowMillis(), std::nullopt, &verified);
  if (status.code() == Status::Code::kNotFound) {
    return ReplyError(
        res, IngressEndpointNotFound(endpoint.toolkit_slug, endpoint.id));
  }
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  ReplyJson(res, 200, R"({"type":1})");
  if (verified) {
    PublishResourceChange(ctx, endpoint.project_id, "endpoint", endpoint.id,
                          "verified");
  }
}

// The ingress for toolkit `slug`'s endpoint `id`: the provider's request
// (or the test event's, built like one) in `req`; the answer in `res`, and
// in *outcome what LogIngress says about it.
void Ingest(const Context& ctx, const std::string& slug, const std::string& id,
            const httplib::Request& req, httplib::Response& res,
            IngressOutcome* outcome) {
  // 1. The endpoint, and the toolkit in the path is its own.
  WebhookEndpoint endpoint;
  Status found = IsEndpointId(id)
                     ? ctx.store.GetEndpointForIngress(id, &endpoint)
                     : Status::NotFound("malformed id");
  if (found.ok() && endpoint.toolkit_slug != slug) {
    found = Status::NotFound("the endpoint is of toolkit '" +
                             endpoint.toolkit_slug + "'");
  }
  if (found.code() == Status::Code::kNotFound) {
    outcome->reason = "no such endpoint: " + found.message();
    return ReplyError(res, IngressEndpointNotFound(slug, id));
  }
  if (!found.ok()) {
    outcome->reason = "the store failed (see the store error line)";
    return ReplyStoreError(ctx, res, found);
  }
  const ToolkitSpec* toolkit = ctx.catalog.Find(slug);
  if (toolkit == nullptr || !toolkit->verification) {
    outcome->reason = "the toolkit has no verification scheme in the catalog";
    return ReplyError(
        res, MakeError(ErrorKind::kIngressNotConfigured,
                       "Toolkit '" + slug +
                           "' has no verification scheme in the catalog."));
  }
  const VerificationSpec& spec = *toolkit->verification;

  // 2. A secret to verify with. Notion's arrives in its first, unsigned
  // request, which is the one exception.
  auto secret = std::find_if(
      endpoint.setup_fields.begin(), endpoint.setup_fields.end(),
      [&](const SetupField& field) { return field.name == spec.secret_field; });
  if (secret == endpoint.setup_fields.end()) {
    if (spec.scheme == SignatureScheme::kNotion) {
      auto token = JsonStringField(req.body, "verification_token");
      if (token && IsTokenText(*token, 512)) {
        return CompleteHandshake(ctx, endpoint,
                                 SetupField{spec.secret_field, *token}, "{}",
                                 res, outcome);
      }
    }
    outcome->reason = "no secret stored (setup field '" + spec.secret_field +
                      "'), so nothing can verify the request";
    return ReplyError(
        res, MakeError(ErrorKind::kIngressNotConfigured,
                       "No verification secret is stored for this endpoint "
                       "yet (setup field '" +
                           spec.secret_field + "')."));
  }

  // 3. The signature, over the raw bytes, before anything parses them.
  HeaderLookup lookup =
      [&req](std::string_view name) -> std::optional<HeaderValue> {
    const std::string key(name);
    const size_t count = req.get_header_value_count(key.c_str());
    if (count == 0) return std::nullopt;
    return HeaderValue{req.get_header_value(key.c_str()), count > 1};
  };
  const int64_t now_seconds = NowMillis() / 1000;
  VerifyResult verdict =
      VerifySignature(spec, secret->value, lookup, req.body, now_seconds);
  if (verdict.status != VerifyStatus::kOk) {
    outcome->reason = verdict.message;
    // Discord requires a 401 here: it sends badly signed requests on
    // purpose and refuses a URL that answers them otherwise.
    ApiError err = MakeError(spec.scheme == SignatureScheme::kDiscord
                                 ? ErrorKind::kIngressSignatureUnauthorized
                                 : ErrorKind::kIngressInvalidSignature,
                             "The request's signature does not verify.",
                             {verdict.message});
    return ReplyError(res, err);
  }
  if (spec.scheme == SignatureScheme::kDiscord && IsDiscordPing(req.body)) {
    return AnswerDiscordPing(ctx, endpoint, res);
  }

  // 4. Handshakes.
  if (spec.scheme == SignatureScheme::kSlackV0 &&
      JsonStringField(req.body, "type") ==
          std::optional<std::string>("url_verification")) {
    JsonWriter json;
    WriteSlackChallenge(JsonStringField(req.body, "challenge").value_or(""),
                        &json);
    return CompleteHandshake(ctx, endpoint, std::nullopt, json.Take(), res,
                             outcome);
  }
  if (spec.scheme == SignatureScheme::kNotion &&
      JsonStringField(req.body, "verification_token")) {
    outcome->reason =
        "a second verification_token; the endpoint keeps its first";
    return ReplyError(res, MakeError(ErrorKind::kIngressAlreadyVerified,
                                     "This endpoint is verified already; a "
                                     "repeat handshake changes nothing."));
  }

  // 5. An event: durable before the 200; a retry is acknowledged.
  NewEvent event;
  event.received_at_ms = NowMillis();
  // Event ids, like delivery ids below, begin with their time (8 of the
  // 16 characters; 48 random bits follow): the events' id index is then
  // appended to. Random ids put each event in a random leaf of it, one more
  // page written per event (ingress at 64 connections, alternating runs:
  // 10.0-10.5k against 12.2-13.0k events/s). Only "ev_" is promised.
  event.id = NewOrderedId(ctx, "ev_", event.received_at_ms, 8);
  event.endpoint_id = endpoint.id;
  event.provider_event_id = ProviderEventId(req, spec, verdict.event_id);
  event.headers_json = EventHeadersJson(req, *toolkit, spec);
  event.body = req.body;
  // What the trigger message delivered to the project's app says; used by
  // the store only if the project has a subscription.
  const std::string& type_header = toolkit->triggers.event_type_header;
  const TriggerDescription trigger = DescribeEvent(
      *toolkit, req.body,
      type_header.empty() ? "" : req.get_header_value(type_header.c_str()));
  // Delivery ids grow with time, so the outbox's primary key is appended
  // to rather than written at random pages (our choice: only the "dlv_"
  // prefix is promised).
  NewDelivery& delivery = event.delivery.emplace();
  delivery.id = NewOrderedId(ctx, "dlv_", event.received_at_ms, 8);
  delivery.message_id = NewId(ctx, "msg_", 16);
  delivery.trigger_slug = trigger.trigger_slug;
  delivery.user_id = trigger.user_id;
  delivery.content_type = req.get_header_value("Content-Type");
  // Claimed as it is stored, and handed straight to the worker: the
  // delivery costs no claim (no commit) of its own.
  if (ctx.delivery_claim_lease) {
    delivery.claim_lease_ms = ctx.delivery_claim_lease();
  }
  bool stored = false;
  std::optional<ClaimedDelivery> claimed;
  Status status = ctx.store.RecordEvent(event, ctx.config.event_retention,
                                        &stored, &claimed);
  if (status.code() == Status::Code::kNotFound) {
    outcome->reason = "the endpoint was deleted as the event arrived";
    return ReplyError(res, IngressEndpointNotFound(slug, id));
  }
  if (!status.ok()) {
    outcome->reason = "the store failed (see the store error line)";
    return ReplyStoreError(ctx, res, status);
  }
  if (claimed && ctx.take_delivery) {
    ctx.take_delivery(std::move(*claimed));
  } else if (stored && ctx.wake_deliveries && delivery.claim_lease_ms == 0) {
    // Only without a lease (no worker, or a full one) can the store have
    // left a delivery due for the worker to find. With one, a delivery
    // stored in flight came back claimed, and a held one is not due: the
    // worker has nothing to look for, and waking it anyway (a thread
    // hand-off and a read) cost every event without a subscription.
    ctx.wake_deliveries();
  }
  if (stored) PublishEventStored(ctx, endpoint.project_id, event);
  outcome->event_id = stored ? event.id : "";
  outcome->provider_event_id = event.provider_event_id;
  outcome->bytes = event.body.size();
  outcome->duplicate = !stored;
  ReplyJson(res, 200, "{}");
}

// One line per ingress request beside the request line, which cannot say
// which endpoint or why: a refusal at warn (a provider whose events are all
// refused is an operator's problem: a wrong secret, a skewed clock), an
// accepted event at debug. The reason names a header and the problem, never
// its value; the body, the secret and the signature are never logged.
void LogIngress(const Context& ctx, const std::string& slug,
                const std::string& id, httplib::Response& res,
                const IngressOutcome& outcome) {
  const bool refused = res.status >= 400;
  const LogLevel level = refused ? LogLevel::kWarn : LogLevel::kDebug;
  if (!ctx.log.Enabled(level)) return;
  std::vector<LogField> fields = {{"request_id", RequestIdOf(res)},
                                  {"endpoint_id", Printable(id, 64)},
                                  {"toolkit", Printable(slug, 64)},
                                  {"status", std::to_string(res.status), true}};
  if (refused) {
    fields.push_back({"reason", outcome.reason});
    ctx.log.Log(level, "ingress " + Printable(id, 64) + " refused", fields);
    return;
  }
  if (outcome.provider_event_id.empty()) {
    ctx.log.Log(level, "ingress " + Printable(id, 64) + " handshake answered",
                fields);
    return;
  }
  fields.push_back({"event_id", outcome.event_id});
  fields.push_back({"provider_event_id", outcome.provider_event_id});
  fields.push_back({"bytes", std::to_string(outcome.bytes), true});
  fields.push_back({"duplicate", outcome.duplicate ? "true" : "false", true});
  ctx.log.Log(level, "ingress " + Printable(id, 64) + " accepted", fields);
}

}  // namespace

void HandleIngress(const Context& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  IngressOutcome outcome;
  const std::string slug = req.matches[1];
  const std::string id = req.matches[2];
  Ingest(ctx, slug, id, req, res, &outcome);
  LogIngress(ctx, slug, id, res, outcome);
}

void HandleTestEvent(const Context& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  WebhookEndpoint endpoint;
  if (!GetEndpointOrReply(ctx, caller, req.matches[1], res, &endpoint)) return;
  const ToolkitSpec* toolkit = ctx.catalog.Find(endpoint.toolkit_slug);
  auto unavailable = [&res](const std::string& message) {
    ReplyError(res, MakeError(ErrorKind::kTestEventUnavailable, message));
  };
  if (toolkit == nullptr || !toolkit->verification) {
    return unavailable("Toolkit '" + endpoint.toolkit_slug +
                       "' has no verification scheme in the catalog.");
  }
  const VerificationSpec& spec = *toolkit->verification;
  auto secret = std::find_if(
      endpoint.setup_fields.begin(), endpoint.setup_fields.end(),
      [&](const SetupField& field) { return field.name == spec.secret_field; });
  if (secret == endpoint.setup_fields.end()) {
    return unavailable(
        "No verification secret is stored for this endpoint "
        "yet (setup field '" +
        spec.secret_field + "'), so nothing can be signed.");
  }
  // A request as the provider would send it, through the whole ingress:
  // the signature is checked, the event stored and delivered.
  const int64_t now_seconds = NowMillis() / 1000;
  httplib::Request sample;
  sample.method = "POST";
  sample.path = "/api/v3/webhook_ingress/" + endpoint.toolkit_slug + "/" +
                endpoint.id + "/trigger_event";
  sample.body = SampleEvent(*toolkit, now_seconds);
  std::vector<std::pair<std::string, std::string>> signature;
  if (!CanSignAsProvider(spec)) {
    return unavailable(
        "This toolkit's provider signs with a private key; the server holds "
        "only the public key and cannot sign a test event. Send a real event "
        "from the provider instead.");
  }
  if (!SignAsProvider(spec, secret->value, sample.body, now_seconds,
                      &signature)) {
    return unavailable(
        "The secret stored in setup field '" + spec.secret_field +
        "' cannot sign for this toolkit's scheme; store the secret the "
        "provider shows.");
  }
  for (auto& [name, value] : signature) sample.headers.emplace(name, value);
  sample.headers.emplace("Content-Type", "application/json");
  sample.headers.emplace("User-Agent", UserAgent() + " (test event)");
  // The ingress answers into a response of its own, under this request's
  // id, so that an error it gives names the request the caller sees.
  httplib::Response answer;
  answer.set_header(kRequestIdHeader, RequestIdOf(res));
  IngressOutcome accepted;
  Ingest(ctx, endpoint.toolkit_slug, endpoint.id, sample, answer, &accepted);
  LogIngress(ctx, endpoint.toolkit_slug, endpoint.id, answer, accepted);
  if (answer.status != 200 || accepted.event_id.empty()) {
    // The ingress refused it (the endpoint deleted meanwhile, the store
    // busy): its error and headers (Retry-After), as a provider would have
    // had them.
    for (const auto& [name, value] : answer.headers) {
      if (name != kRequestIdHeader) res.set_header(name.c_str(), value);
    }
    res.status = answer.status;
    res.body = std::move(answer.body);
    return;
  }
  JsonWriter json;
  json.BeginObject();
  json.Key("event_id");
  json.Value(accepted.event_id);
  json.Key("provider_event_id");
  json.Value(accepted.provider_event_id);
  json.EndObject();
  ReplyJson(res, 200, json.Take());
}

}  // namespace webhooks
