#include "api/operations.h"

#include <string>
#include <string_view>

#include "api/errors.h"
#include "util/crypto.h"
#include "util/text.h"
#include "util/time.h"

// The OpenAPI document of every route, compiled in from openapi.json
// (CMake generates its definition, as it does for schema.sql).
extern const char kOpenApiJson[];

namespace webhooks {

void HandleHealth(const Context&, const httplib::Request&,
                  httplib::Response& res) {
  ReplyJson(res, 200, R"({"status":"ok"})");
}

void HandleReady(const Context& ctx, const httplib::Request&,
                 httplib::Response& res) {
  Status status = ctx.store.Ping();
  if (status.ok()) status = ctx.store.CheckSecretsKey();
  // A key that does not fit is "not ready" (503), not a server bug (500),
  // and not "busy or full" either: the operator must act. The detail (the
  // database path) goes to the log only.
  if (status.code() == Status::Code::kInvalidArgument) {
    ctx.log.Log(
        LogLevel::kError, "not ready",
        {{"request_id", RequestIdOf(res)}, {"detail", status.message()}});
    res.set_header("Retry-After", "1");
    ApiError err = MakeError(
        ErrorKind::kStorageUnavailable,
        "Not ready: the secrets key does not open the stored setup values.");
    err.suggested_fix =
        "Restart with --secrets-key-file naming the key this database was "
        "used with.";
    return ReplyError(res, err);
  }
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  ReplyJson(res, 200, R"({"status":"ready"})");
}

void HandleOpenApi(const Context&, const httplib::Request&,
                   httplib::Response& res) {
  ReplyJson(res, 200, kOpenApiJson);
}

namespace {

// Whether the request carries "Authorization: Bearer <metrics key>". The
// digests are compared, in constant time, so that neither the key's bytes
// nor its length show in the time taken.
bool HasMetricsKey(const Config& config, const httplib::Request& req) {
  if (req.get_header_value_count("Authorization") != 1) return false;
  const std::string value = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() <= kScheme.size() ||
      Lowercase(value.substr(0, kScheme.size())) != "bearer ") {
    return false;
  }
  return ConstantTimeEquals(Sha256(value.substr(kScheme.size())),
                            Sha256(config.metrics_key));
}

}  // namespace

void HandleMetrics(const Context& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  if (!ctx.config.metrics_key.empty() && !HasMetricsKey(ctx.config, req)) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"metrics\"");
    ApiError err = MakeError(ErrorKind::kUnauthorized,
                             "GET /metrics needs the metrics key: send "
                             "\"Authorization: Bearer KEY\".");
    err.suggested_fix =
        "Send the key the server was started with (--metrics-key or "
        "WEBHOOKS_METRICS_KEY) as a bearer token; in Prometheus, "
        "authorization: {credentials: KEY} in the scrape config.";
    return ReplyError(res, err);
  }
  Metrics::Gauges gauges;
  Status status = ctx.store.CountRows(&gauges.endpoints, &gauges.events);
  const int64_t now = NowMillis();
  DeliveryQueueStats queue;
  if (status.ok()) status = ctx.store.CountDeliveryQueue(now, &queue);
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  gauges.log_lines_dropped = ctx.log.dropped_lines();
  gauges.deliveries_due = queue.due;
  gauges.deliveries_waiting = queue.waiting;
  if (queue.oldest_due_at_ms > 0) {
    gauges.oldest_due_delivery_seconds =
        static_cast<double>(now - queue.oldest_due_at_ms) / 1000.0;
  }
  res.status = 200;
  res.set_content(ctx.metrics.Render(gauges),
                  "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace webhooks
