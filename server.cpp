// webhooks-server: a self-hosted, single-binary implementation of Composio's
// webhook endpoints API (../shared/spec/webhook-endpoints.md is the contract).
// This file is the whole HTTP surface. Read it top to bottom:
//
//   1. Configuration: Config, ParseConfig (flags, WEBHOOKS_* environment).
//   2. Errors: the kind table (status, code, slug, suggested fix), ApiError
//      and ReplyError, the one funnel every error body goes through.
//   3. Toolkit catalog (catalog.h holds it) and secret masking.
//   4. JSON out: JsonWriter, the error body and one Write... function per
//      resource; the log, the metrics and the rate limiter, which write
//      or answer alongside.
//   5. JSON in: one Parse...Params function per request body.
//   6. Authentication: API keys to projects.
//   7. Handlers: one function per route (management, ingress, health).
//   8. The route table, and the hooks every request passes through.
//   9. main(), with the subcommands: send-test-event, keys, backup, check,
//      routes.
//
// Where the spec copies Composio, we copy it exactly; where a decision is
// ours, the comment says "our choice".

#include <arpa/inet.h>
#include <httplib.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "cli/admin.h"
#include "cli/send_test_event.h"
#include "config.h"
#include "http/hardened_server.h"
#include "ops/log_sink.h"
#include "store/store.h"
#include "toolkits/catalog.h"
#include "toolkits/verify.h"
#include "util/crypto.h"
#include "util/json_writer.h"
#include "util/net.h"
#include "util/text.h"
#include "util/time.h"

// The OpenAPI document of every route, compiled in from openapi.json
// (CMake generates its definition, as it does for schema.sql).
extern const char kOpenApiJson[];

namespace webhooks {
namespace {

// ===========================================================================
// 2. Errors
// ===========================================================================

// Every error the API answers with. The table below gives each its HTTP
// status, stable numeric code, slug and default suggested fix; the codes are
// our choice (Composio publishes none for these) and never change once
// released.
enum class ErrorKind {
  kBadRequest,
  kUnauthorized,
  kRouteNotFound,
  kMethodNotAllowed,
  kLengthRequired,
  kPayloadTooLarge,
  kUriTooLong,
  kUnsupportedMediaType,
  kRangeNotSatisfiable,
  kHeadersTooLarge,
  kHostNotAllowed,
  kNotImplemented,
  kInternal,
  kStorageUnavailable,
  kValidation,
  kEndpointNotFound,
  kToolkitNotFound,
  kIngressNotConfigured,
  kIngressInvalidSignature,
  kIngressAlreadyVerified,
};

struct ErrorInfo {
  ErrorKind kind;
  int status;
  int code;
  const char* slug;
  const char* suggested_fix;
};

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
     "Use a toolkit_slug from the toolkit catalog (built in: slack, "
     "slackbot, notion)."},
    {ErrorKind::kIngressNotConfigured, 400, 4400,
     "WebhookIngress_NotConfigured",
     "Store the toolkit's signing secret on the endpoint first (PATCH "
     "/api/v3.1/webhook_endpoints/{id} with {\"data\": {...}})."},
    {ErrorKind::kIngressInvalidSignature, 400, 4401,
     "WebhookIngress_InvalidSignature",
     "Sign the raw body with the secret stored on the endpoint, with a "
     "current timestamp where the scheme has one."},
    {ErrorKind::kIngressAlreadyVerified, 400, 4402,
     "WebhookIngress_AlreadyVerified",
     "The endpoint completed its handshake already; send events, or delete "
     "the endpoint and create a new one to verify again."},
};

// The table is indexed by kind; this keeps its order honest.
constexpr bool ErrorTableInKindOrder() {
  for (size_t i = 0; i < std::size(kErrorTable); ++i) {
    if (static_cast<size_t>(kErrorTable[i].kind) != i) return false;
  }
  return true;
}
static_assert(ErrorTableInKindOrder(), "kErrorTable must follow ErrorKind");

const ErrorInfo& InfoFor(ErrorKind kind) {
  return kErrorTable[static_cast<size_t>(kind)];
}

// An error on its way to the client. `suggested_fix` empty means the kind's
// default.
struct ApiError {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
  std::vector<std::string> errors;
  std::string suggested_fix;
};

ApiError MakeError(ErrorKind kind, std::string message,
                   std::vector<std::string> errors = {}) {
  return ApiError{kind, std::move(message), std::move(errors), ""};
}

constexpr char kRequestIdHeader[] = "x-request-id";

// The id of the current request, set by the pre-routing hook; requests the
// library rejected before routing get one here.
std::string RequestIdOf(httplib::Response& res) {
  std::string id = res.get_header_value(kRequestIdHeader);
  if (id.empty()) {
    id = "req_" + RandomToken(20);
    res.set_header(kRequestIdHeader, id);
  }
  return id;
}

// ===========================================================================
// 3. Toolkit catalog (catalog.h) and secrets
// ===========================================================================

// A field is shown in clear only if the catalog says it is not secret; a
// field the catalog does not know (say, of a toolkit since removed from a
// --toolkits file) is treated as secret.
bool IsSecretField(const ToolkitSpec* toolkit, std::string_view name) {
  const SetupFieldSpec* field =
      toolkit == nullptr ? nullptr : toolkit->FindField(name);
  return field == nullptr || field->is_secret;
}

// True for a secret that a provider handshake stored (Notion's
// verification_token): it is not a setup field, so `data` does not show it
// and a replace does not clear it.
bool IsHandshakeSecret(const ToolkitSpec* toolkit, std::string_view name) {
  return toolkit != nullptr && toolkit->verification &&
         toolkit->verification->secret_field == name &&
         toolkit->FindField(name) == nullptr;
}

// The spec's masking rule: 12 characters or more show their first 4
// followed by "..."; shorter values show "REDACTED". Characters, not bytes,
// so a mask never splits a UTF-8 sequence.
std::string MaskSecret(std::string_view value) {
  size_t characters = 0;
  size_t prefix_bytes = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if ((static_cast<unsigned char>(value[i]) & 0xC0) != 0x80) {
      ++characters;
      if (characters == 5) prefix_bytes = i;
    }
  }
  if (characters < 12) return "REDACTED";
  return std::string(value.substr(0, prefix_bytes)) + "...";
}

// ===========================================================================
// 4. JSON out
// ===========================================================================

// --- The log -----------------------------------------------------------------

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// One field of a log line. Values are escaped (Printable) before they are
// written, so a line can never be split or forged by what a client sent.
struct LogField {
  std::string_view key;
  std::string value;
  bool number = false;
};

// Formats one line per call, as JSON or key=value text, and hands it to a
// LogSink on standard error: a call never waits for the reader of standard
// error, and a line the sink has no room for is dropped and counted
// (dropped_lines(), shown by GET /metrics). Callers pass only fields that are
// safe to log: never a key, a secret, a signature or a body. Built in main;
// thread-safe. Its destructor writes what is queued for at most
// LogSink::kCloseWait.
class Logger {
 public:
  Logger(bool json, LogLevel least)
      : json_(json), least_(least), sink_(STDERR_FILENO) {}

  bool Enabled(LogLevel level) const { return level >= least_; }

  void Log(LogLevel level, std::string_view message,
           const std::vector<LogField>& fields) const {
    if (!Enabled(level)) return;
    static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
    std::string line;
    const std::string time = FormatTime(NowMillis());
    const char* level_name = kNames[static_cast<size_t>(level)];
    if (json_) {
      JsonWriter json;
      json.BeginObject();
      json.Key("time");
      json.Value(time);
      json.Key("level");
      json.Value(std::string_view(level_name));
      json.Key("msg");
      json.Value(Printable(message));
      for (const LogField& field : fields) {
        json.Key(field.key);
        if (field.number) {
          json.RawValue(field.value);
        } else {
          json.Value(Printable(field.value));
        }
      }
      json.EndObject();
      line = json.Take();
    } else {
      line = "time=" + time + " level=" + level_name + " msg=\"" +
             Printable(message) + "\"";
      for (const LogField& field : fields) {
        line += " " + std::string(field.key) + "=";
        line +=
            field.number ? field.value : "\"" + Printable(field.value) + "\"";
      }
    }
    sink_.Write(std::move(line));
  }

  // Queues "webhooks-server: <text>" whatever the level and format: the
  // process's own messages (how it stops), in the plain form the start-up
  // lines have.
  void Notice(std::string_view text) const {
    sink_.Write("webhooks-server: " + Printable(text, 1024));
  }

  // Waits up to `limit` for the queued lines to be written; false if some
  // are still queued (the reader of standard error is not reading).
  bool Flush(std::chrono::milliseconds limit) const {
    return sink_.Flush(limit);
  }

  uint64_t dropped_lines() const { return sink_.dropped_lines(); }

 private:
  const bool json_;
  const LogLevel least_;
  const LogSink sink_;
};

// --- Metrics -----------------------------------------------------------------

// Request counters and a latency histogram, kept in memory and written by
// GET /metrics in Prometheus' text exposition format (0.0.4). Requests are
// counted by route template, never by raw path, so ids cannot multiply the
// series. Thread-safe.
class Metrics {
 public:
  Metrics() : start_seconds_(static_cast<double>(NowMillis()) / 1000.0) {}

  // `route` is a route template or "unmatched"; a method outside RFC 9110's
  // and PATCH is counted as "other", so no request can add a series.
  void ObserveRequest(const std::string& route, const std::string& method,
                      int status, double seconds) {
    std::string label = IsKnownMethod(method) ? method : "other";
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_[{route, std::move(label), status}];
    size_t bucket = 0;
    while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
    ++latency_counts_[bucket];
    latency_sum_ += seconds;
  }

  void CountStoreError(Status::Code code) {
    const char* kind = "internal";
    switch (code) {
      case Status::Code::kUnavailable:
        kind = "unavailable";
        break;
      case Status::Code::kConflict:
        kind = "conflict";
        break;
      case Status::Code::kOk:
      case Status::Code::kNotFound:
      case Status::Code::kInvalidArgument:
      case Status::Code::kInternal:
        break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++store_errors_[kind];
  }

  // `log_lines_dropped` is the Logger's count, shown beside ours.
  std::string Render(int64_t endpoints, int64_t events,
                     uint64_t log_lines_dropped) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    auto number = [](double value) {
      char text[64];
      std::snprintf(text, sizeof(text), "%.17g", value);
      return std::string(text);
    };
    out +=
        "# HELP webhooks_http_requests_total HTTP requests answered, by "
        "route template, method and status.\n"
        "# TYPE webhooks_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
      const auto& [route, method, status] = key;
      out += "webhooks_http_requests_total{route=\"" + LabelValue(route) +
             "\",method=\"" + LabelValue(method) + "\",status=\"" +
             std::to_string(status) + "\"} " + std::to_string(count) + "\n";
    }
    out +=
        "# HELP webhooks_http_request_duration_seconds Time from a "
        "request's first byte to its answer.\n"
        "# TYPE webhooks_http_request_duration_seconds histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= kBuckets.size(); ++i) {
      cumulative += latency_counts_[i];
      out += "webhooks_http_request_duration_seconds_bucket{le=\"" +
             (i < kBuckets.size() ? Bound(kBuckets[i]) : "+Inf") + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "webhooks_http_request_duration_seconds_sum " +
           number(latency_sum_) + "\n" +
           "webhooks_http_request_duration_seconds_count " +
           std::to_string(cumulative) + "\n";
    out +=
        "# HELP webhooks_store_errors_total Store failures, by kind.\n"
        "# TYPE webhooks_store_errors_total counter\n";
    for (const char* kind : {"unavailable", "conflict", "internal"}) {
      auto it = store_errors_.find(kind);
      out += std::string("webhooks_store_errors_total{kind=\"") + kind +
             "\"} " +
             std::to_string(it == store_errors_.end() ? 0 : it->second) + "\n";
    }
    out +=
        "# HELP webhooks_endpoints Webhook endpoints stored.\n"
        "# TYPE webhooks_endpoints gauge\n"
        "webhooks_endpoints " +
        std::to_string(endpoints) +
        "\n"
        "# HELP webhooks_events Ingress events stored.\n"
        "# TYPE webhooks_events gauge\n"
        "webhooks_events " +
        std::to_string(events) +
        "\n"
        "# HELP webhooks_log_lines_dropped_total Log lines dropped because "
        "standard error did not keep up (or failed).\n"
        "# TYPE webhooks_log_lines_dropped_total counter\n"
        "webhooks_log_lines_dropped_total " +
        std::to_string(log_lines_dropped) +
        "\n"
        "# HELP process_start_time_seconds Start time of the process "
        "since the Unix epoch in seconds.\n"
        "# TYPE process_start_time_seconds gauge\n"
        "process_start_time_seconds " +
        number(start_seconds_) + "\n";
    return out;
  }

 private:
  static constexpr std::array<double, 11> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};

  // A bucket bound as written in the table ("0.0005", not 17 digits).
  static std::string Bound(double value) {
    char text[32];
    std::snprintf(text, sizeof(text), "%g", value);
    return text;
  }

  // The exposition format's escapes for a label value.
  static std::string LabelValue(const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    return out;
  }

  const double start_seconds_;
  mutable std::mutex mu_;
  // Guarded by mu_.
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::array<uint64_t, kBuckets.size() + 1> latency_counts_{};
  double latency_sum_ = 0;
  std::map<std::string, uint64_t> store_errors_;
};

// --- Rate limit
// ----------------------------------------------------------------

// A fixed one-minute window per project, counted in memory: enough for
// client code to be tested against throttling. Thread-safe.
class RateLimiter {
 public:
  explicit RateLimiter(int per_minute) : per_minute_(per_minute) {}

  struct Decision {
    bool allowed = true;
    int remaining = 0;
    int reset_seconds = 0;  // until the window ends
  };

  Decision Take(const std::string& project_id) {
    using std::chrono::steady_clock;
    const auto now = steady_clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    Window& window = windows_[project_id];
    if (window.count == 0 || now - window.start >= std::chrono::minutes(1)) {
      window = Window{now, 0};
    }
    Decision decision;
    decision.allowed = window.count < per_minute_;
    if (decision.allowed) ++window.count;
    decision.remaining = per_minute_ - window.count;
    decision.reset_seconds =
        static_cast<int>(std::chrono::ceil<std::chrono::seconds>(
                             window.start + std::chrono::minutes(1) - now)
                             .count());
    return decision;
  }

  int per_minute() const { return per_minute_; }

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    int count = 0;
  };
  const int per_minute_;
  std::mutex mu_;
  std::map<std::string, Window> windows_;  // Guarded by mu_.
};

// --- Memory
// ----------------------------------------------------------------

// Gives memory back to the system once large responses are done. glibc
// keeps what threads free in its arenas for reuse, as pages still resident:
// after 64 concurrent lists of 40,000 endpoints, 120 MB stayed resident for
// good (17 MB idle); after eight lists of big events, 600 MB more.
// malloc_trim(0) returns every free page of every arena, but it takes each
// arena's lock and walks its heap, so it runs on a thread of its own, once
// large responses have stopped for kQuiet: once per burst, never on a request's
// path, and not at all while only small requests come. Thread-safe.
class MemoryTrimmer {
 public:
  static constexpr std::chrono::milliseconds kQuiet{200};

  MemoryTrimmer() : thread_([this] { Loop(); }) {}
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;
  ~MemoryTrimmer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // A large response was built or sent, and what it held freed (or about
  // to be): trim once none has come for kQuiet.
  void NoteLargeResponse() {
    bool was_due = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      was_due = due_;
      due_ = true;
      last_ = std::chrono::steady_clock::now();
    }
    if (!was_due) wake_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      if (!due_) {
        wake_.wait(lock);
        continue;
      }
      const auto at = last_ + kQuiet;
      if (std::chrono::steady_clock::now() < at) {
        wake_.wait_until(lock, at);
        continue;
      }
      due_ = false;
      lock.unlock();
      malloc_trim(0);
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  bool due_ = false;                            // Guarded by mu_.
  bool stopping_ = false;                       // Guarded by mu_.
  std::chrono::steady_clock::time_point last_;  // Guarded by mu_.
  std::thread thread_;  // declared last: starts once the rest is ready
};

LogLevel LevelNamed(const std::string& name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

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

// The one funnel: every error response body is written here.
void ReplyError(httplib::Response& res, const ApiError& error) {
  const ErrorInfo& info = InfoFor(error.kind);
  JsonWriter json;
  WriteErrorBody(error, info, RequestIdOf(res), &json);
  res.status = info.status;
  res.set_content(json.Take(), "application/json");
}

// The endpoint object, in the order Composio emits its fields. Secret setup
// values are masked here, the one place that writes them.
void WriteEndpoint(const WebhookEndpoint& endpoint,
                   const ToolkitCatalog& catalog, JsonWriter* json) {
  const ToolkitSpec* toolkit = catalog.Find(endpoint.toolkit_slug);
  json->BeginObject();
  json->Key("id");
  json->Value(endpoint.id);
  json->Key("toolkit_slug");
  json->Value(endpoint.toolkit_slug);
  json->Key("client_id");
  json->Value(endpoint.client_id);
  json->Key("webhook_url");
  json->Value(endpoint.webhook_url);
  json->Key("data");
  bool any = false;
  for (const SetupField& field : endpoint.setup_fields) {
    if (IsHandshakeSecret(toolkit, field.name)) continue;
    if (!any) json->BeginObject();
    any = true;
    json->Key(field.name);
    json->Value(IsSecretField(toolkit, field.name) ? MaskSecret(field.value)
                                                   : field.value);
  }
  if (any) {
    json->EndObject();
  } else {
    json->Null();
  }
  json->Key("created_at");
  json->Value(FormatTime(endpoint.created_at_ms));
  json->Key("verified_at");
  if (endpoint.verified_at_ms) {
    json->Value(FormatTime(*endpoint.verified_at_ms));
  } else {
    json->Null();
  }
  json->EndObject();
}

// ===========================================================================
// 5. JSON in
// ===========================================================================

// Validated body of POST webhook_endpoints.
struct CreateParams {
  std::string toolkit_slug;  // lower-cased
  std::string client_id;
};

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

// The validation error for a list of problems, with a message that stands on
// its own when there is one.
ApiError ValidationError(std::vector<std::string> problems) {
  std::string message =
      problems.size() == 1
          ? "Invalid request: " + problems.front() + "."
          : "Invalid request: " + std::to_string(problems.size()) +
                " problems, listed in errors.";
  return MakeError(ErrorKind::kValidation, std::move(message),
                   std::move(problems));
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

// Validated body of PATCH and POST webhook_endpoints/{id}:
// {"data": {"field": "value", ...}}.
struct SetupDataParams {
  std::vector<SetupField> fields;  // in body order, names known, values clean
  std::vector<std::string> named;  // every known field named, valid or not
};

constexpr size_t kMaxSetupValueBytes = 4096;

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

// Reads the body into *out, adding every problem to *problems. Returns
// whether a `data` object was read, so that the caller can go on to check
// the fields against the stored endpoint and report all problems at once.
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

// Validated query of GET webhook_endpoints.
struct ListParams {
  std::optional<std::string> toolkit_slug;
  size_t limit = 0;  // 0: everything, as Composio answers
  std::optional<EndpointCursor> after;
};

// A cursor is "<created_at ms>.<endpoint id>" of the last item of the
// previous page: opaque to clients, readable in logs, and useless across
// projects since every list is scoped to the caller's project.
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
      problems.push_back(
          "cursor is not one this server gave out (use next_cursor of the "
          "previous page)");
    }
    out->after = std::move(cursor);
  }
  if (problems.empty()) return true;
  *err = ValidationError(std::move(problems));
  return false;
}

// ===========================================================================
// 6. Authentication
// ===========================================================================

// A key given at start-up, as its digest, and the project it stands for.
struct ConfiguredKey {
  std::string digest;
  std::string project_id;
};

// Which keys are accepted. Built once in main.
struct KeyPolicy {
  // Empty: zero-config local mode (any non-empty key, its own project).
  std::vector<ConfiguredKey> configured;
};

// Which Host a request may name. In zero-config local mode any key is
// accepted, so a web page whose owner rebinds its DNS name to 127.0.0.1
// (DNS rebinding) could drive this server from a visitor's browser with a
// made-up key and read what providers sent. Its requests carry the page's
// own name in Host, which is what is checked: local mode accepts only names
// that cannot be rebound (localhost and *.localhost, loopback addresses),
// the --public-url host (a tunnel's name, say) and --allowed-host names.
// With API keys the key protects the server, and any Host is accepted (a
// reverse proxy may forward any).
struct HostPolicy {
  bool enforced = false;           // local mode at start-up
  bool any = false;                // --allowed-host '*'
  std::vector<std::string> names;  // lower case, without port

  // The host of a Host header value, lower case, without port, brackets or
  // a final dot: "[::1]:9900" -> "::1", "LocalHost.:80" -> "localhost".
  static std::string HostOf(std::string_view value) {
    std::string_view host = value;
    if (!host.empty() && host.front() == '[') {
      host = host.substr(1, host.find(']') - 1);
    } else if (size_t colon = host.rfind(':');
               colon != std::string_view::npos) {
      host = host.substr(0, colon);
    }
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    return Lowercase(host);
  }

  bool Allows(const httplib::Request& req) const {
    if (!enforced || any) return true;
    if (req.get_header_value_count("Host") != 1) return false;
    const std::string host = HostOf(req.get_header_value("Host"));
    const std::string_view suffix = ".localhost";
    if (host.size() > suffix.size() &&
        host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
    if (IsLoopbackHost(host)) return true;  // localhost, 127/8, ::1
    return std::find(names.begin(), names.end(), host) != names.end();
  }
};

HostPolicy BuildHostPolicy(const Config& config, bool local_mode) {
  HostPolicy policy;
  policy.enforced = local_mode;
  for (const std::string& name : config.allowed_hosts) {
    if (name == "*") {
      policy.any = true;
    } else {
      policy.names.push_back(name);
    }
  }
  if (!config.public_url.empty()) {
    std::string_view authority = config.public_url;
    authority.remove_prefix(authority.find("://") + 3);
    authority = authority.substr(0, authority.find('/'));
    policy.names.push_back(HostPolicy::HostOf(authority));
  }
  return policy;
}

// Everything a handler needs; built in main, passed by reference.
struct Context {
  const Config& config;
  const KeyPolicy& keys;
  const ToolkitCatalog& catalog;
  Store& store;
  std::string public_base;  // what every new webhook_url starts with
  const Logger& log;
  Metrics& metrics;
  RateLimiter* rate_limiter;  // null: no limit
  // Null: memory is never trimmed (commands and fuzz targets). Set by Run.
  MemoryTrimmer* trimmer = nullptr;
};

struct Caller {
  std::string project_id;
};

// Counts and logs a store failure that the handler does not expect; the
// detail never reaches the client.
void NoteStoreError(const Context& ctx, const std::string& request_id,
                    const Status& status) {
  ctx.metrics.CountStoreError(status.code());
  ctx.log.Log(LogLevel::kError, "store error",
              {{"request_id", request_id}, {"detail", status.message()}});
}

// Maps a store failure that the handler does not expect to a response, and
// logs the detail.
void ReplyStoreError(const Context& ctx, httplib::Response& res,
                     const Status& status) {
  ErrorKind kind = ErrorKind::kInternal;
  switch (status.code()) {
    case Status::Code::kUnavailable:
      kind = ErrorKind::kStorageUnavailable;
      res.set_header("Retry-After", "1");
      break;
    case Status::Code::kOk:
    case Status::Code::kNotFound:
    case Status::Code::kInvalidArgument:
    case Status::Code::kConflict:
    case Status::Code::kInternal:
      kind = ErrorKind::kInternal;
      break;
  }
  NoteStoreError(ctx, RequestIdOf(res), status);
  ReplyError(res, MakeError(kind, kind == ErrorKind::kInternal
                                      ? "Internal error."
                                      : "The database is busy or full."));
}

constexpr char kApiKeyHeader[] = "x-api-key";
constexpr char kUserApiKeyHeader[] = "x-user-api-key";

// Every authentication failure but one answers this same body (request id
// aside): which part of a key was wrong, or whether it ever existed (a
// revoked key), is nothing a caller should learn. The exception is both key
// headers at once, whose message the spec fixes.
ApiError UnauthorizedError() {
  return MakeError(ErrorKind::kUnauthorized,
                   "Missing or invalid API key: send exactly one valid key "
                   "in the x-api-key header.");
}

// The header-only part of authentication, cheap enough for the pre-routing
// hook: exactly one well-formed key header. Sets *key on success.
bool CheckKeyHeaders(const httplib::Request& req, std::string* key,
                     ApiError* err) {
  const size_t project_keys = req.get_header_value_count(kApiKeyHeader);
  const size_t user_keys = req.get_header_value_count(kUserApiKeyHeader);
  if (project_keys > 0 && user_keys > 0) {
    *err = MakeError(ErrorKind::kUnauthorized,
                     "Multiple authentication modes provided (x-api-key and "
                     "x-user-api-key); exactly one is allowed.");
    return false;
  }
  if (project_keys + user_keys != 1) {
    *err = UnauthorizedError();
    return false;
  }
  *key = req.get_header_value(project_keys ? kApiKeyHeader : kUserApiKeyHeader);
  if (!IsTokenText(*key, kMaxApiKeyLength)) {
    *err = UnauthorizedError();
    return false;
  }
  return true;
}

// Resolves the caller's key to a project, or replies 401 (or 5xx) and
// returns false. A user key (x-user-api-key) is treated like a project key:
// our choice, since this server has no user accounts.
bool AuthenticateKeyOrReply(const Context& ctx, const httplib::Request& req,
                            httplib::Response& res, Caller* caller) {
  std::string key;
  ApiError err;
  if (!CheckKeyHeaders(req, &key, &err)) {
    ReplyError(res, err);
    return false;
  }
  const std::string digest = Sha256(key);
  // Look at every configured key, never stopping early, so the time taken
  // does not tell which key (or how much of one) matched.
  const ConfiguredKey* match = nullptr;
  for (const ConfiguredKey& candidate : ctx.keys.configured) {
    if (CRYPTO_memcmp(candidate.digest.data(), digest.data(), digest.size()) ==
        0) {
      match = &candidate;
    }
  }
  // Then the database, for every key, configured ones included: it holds
  // the revocations, and `keys` changes it while we run, so a key created
  // or revoked there counts from the next request. One indexed read.
  ApiKeyRecord record;
  Status found = ctx.store.FindKey(digest, &record);
  if (!found.ok() && found.code() != Status::Code::kNotFound) {
    ReplyStoreError(ctx, res, found);
    return false;
  }
  if (found.ok() && record.revoked) {
    ReplyError(res, UnauthorizedError());
    return false;
  }
  if (match != nullptr) {
    caller->project_id = match->project_id;
    return true;
  }
  if (found.ok() && record.origin == KeyOrigin::kAdmin) {
    caller->project_id = record.project_id;
    return true;
  }
  // Any other key is accepted only in local mode: no key configured at
  // start-up and no admin key ever created.
  bool admin_keys = false;
  Status mode = ctx.store.HasAdminKeys(&admin_keys);
  if (!mode.ok()) {
    ReplyStoreError(ctx, res, mode);
    return false;
  }
  if (!ctx.keys.configured.empty() || admin_keys) {
    ReplyError(res, UnauthorizedError());
    return false;
  }
  if (found.ok()) {
    caller->project_id = record.project_id;
    return true;
  }
  // Local mode: a new key is a new project.
  NewApiKey new_key;
  new_key.key_digest = digest;
  new_key.origin = KeyOrigin::kLocal;
  new_key.key_id = "key_" + RandomToken(12);
  new_key.project_id = "proj_" + RandomToken(12);
  new_key.project_name = "local";
  new_key.created_at_ms = NowMillis();
  Status registered = ctx.store.RegisterKey(new_key, &caller->project_id);
  if (!registered.ok()) {
    ReplyStoreError(ctx, res, registered);
    return false;
  }
  return true;
}

// AuthenticateKeyOrReply, and the project noted for the access log.
bool AuthenticateOrReply(const Context& ctx, const httplib::Request& req,
                         httplib::Response& res, Caller* caller) {
  if (!AuthenticateKeyOrReply(ctx, req, res, caller)) return false;
  if (auto* notes = HardenedServer::CurrentRequestNotes()) {
    notes->project_id = caller->project_id;
  }
  if (ctx.rate_limiter == nullptr) return true;
  const RateLimiter::Decision decision =
      ctx.rate_limiter->Take(caller->project_id);
  res.set_header("X-RateLimit-Limit",
                 std::to_string(ctx.rate_limiter->per_minute()));
  res.set_header("X-RateLimit-Remaining", std::to_string(decision.remaining));
  res.set_header("X-RateLimit-Reset", std::to_string(decision.reset_seconds));
  if (decision.allowed) return true;
  // Composio's 429 is the one error without the envelope (spec).
  res.set_header("Retry-After", std::to_string(decision.reset_seconds));
  JsonWriter json;
  json.BeginObject();
  json.Key("message");
  json.Value(
      "Rate limit exceeded: " + std::to_string(ctx.rate_limiter->per_minute()) +
      " requests per minute per project. Retry after " +
      std::to_string(decision.reset_seconds) + " s.");
  json.EndObject();
  res.status = 429;
  res.set_content(json.Take(), "application/json");
  return false;
}

// ===========================================================================
// 7. Handlers
// ===========================================================================

void ReplyJson(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), "application/json");
}

// The base every webhook_url starts with: --public-url, or this server.
std::string PublicBase(const Config& config, int bound_port) {
  if (!config.public_url.empty()) return config.public_url;
  return "http://localhost:" + std::to_string(bound_port);
}

ApiError ToolkitNotFound(const ToolkitCatalog& catalog,
                         const std::string& slug) {
  std::string known;
  for (const std::string& name : catalog.Slugs()) {
    known += (known.empty() ? "" : ", ") + name;
  }
  ApiError err =
      MakeError(ErrorKind::kToolkitNotFound,
                "Toolkit '" + slug + "' is not in the toolkit catalog.");
  err.suggested_fix = "Use a toolkit_slug from the toolkit catalog (" + known +
                      "); the server adds toolkits from a --toolkits file.";
  return err;
}

// Ids are "we_" and 12 characters of A-Za-z0-9_-. Anything else cannot
// exist, and answers exactly as a missing id does.
bool IsEndpointId(std::string_view id) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  return id.size() == 15 && id.substr(0, 3) == "we_" &&
         id.substr(3).find_first_not_of(kAlphabet) == std::string_view::npos;
}

// Replies for a store call on endpoint `id` that did not succeed: 404 for
// NotFound (the same for a missing id, a malformed one and another
// project's), else the store error.
void ReplyEndpointFailure(const Context& ctx, httplib::Response& res,
                          const Status& status, std::string_view id) {
  if (status.code() != Status::Code::kNotFound) {
    return ReplyStoreError(ctx, res, status);
  }
  ReplyError(res, MakeError(ErrorKind::kEndpointNotFound,
                            "Webhook endpoint '" + Printable(id, 64) +
                                "' not found."));
}

// Reads the caller's endpoint `id`, or replies 404 (the same for a missing
// id, a malformed one and another project's) and returns false.
bool GetEndpointOrReply(const Context& ctx, const Caller& caller,
                        const std::string& id, httplib::Response& res,
                        WebhookEndpoint* endpoint) {
  Status status = IsEndpointId(id)
                      ? ctx.store.GetEndpoint(caller.project_id, id, endpoint)
                      : Status::NotFound("malformed id");
  if (status.ok()) return true;
  ReplyEndpointFailure(ctx, res, status, id);
  return false;
}

void ReplyEndpoint(const Context& ctx, httplib::Response& res, int status,
                   const WebhookEndpoint& endpoint) {
  JsonWriter json;
  WriteEndpoint(endpoint, ctx.catalog, &json);
  ReplyJson(res, status, json.Take());
}

// POST webhook_endpoints: create, idempotent on (project, toolkit, client).
void HandleCreateEndpoint(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  CreateParams params;
  ApiError err;
  if (!ParseCreateParams(req, &params, &err)) return ReplyError(res, err);
  if (ctx.catalog.Find(params.toolkit_slug) == nullptr) {
    return ReplyError(res, ToolkitNotFound(ctx.catalog, params.toolkit_slug));
  }
  NewEndpoint endpoint;
  endpoint.id = "we_" + RandomToken(12);
  endpoint.project_id = caller.project_id;
  endpoint.toolkit_slug = params.toolkit_slug;
  endpoint.client_id = params.client_id;
  // Always the v3.1 ingress, whatever prefix the create came in on (spec).
  endpoint.webhook_url = ctx.public_base + "/api/v3.1/webhook_ingress/" +
                         params.toolkit_slug + "/" + endpoint.id +
                         "/trigger_event";
  endpoint.created_at_ms = NowMillis();
  WebhookEndpoint stored;
  bool created = false;
  Status status = ctx.store.CreateEndpoint(endpoint, &stored, &created);
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  ReplyEndpoint(ctx, res, created ? 201 : 200, stored);
}

// Ends a page object begun with {"items": [...]: adds "next_cursor" (null
// on the last page) and closes it. Our extension, for every listing.
void EndPage(const std::optional<std::string>& next_cursor, JsonWriter* json) {
  json->Key("next_cursor");
  if (next_cursor) {
    json->Value(*next_cursor);
  } else {
    json->Null();
  }
  json->EndObject();
}

// Endpoints as a list shows them: id, toolkit_slug and client_id only, as
// Composio's list items.
void WriteListItems(const std::vector<EndpointListItem>& items,
                    JsonWriter* json) {
  for (const EndpointListItem& item : items) {
    json->BeginObject();
    json->Key("id");
    json->Value(item.id);
    json->Key("toolkit_slug");
    json->Value(item.toolkit_slug);
    json->Key("client_id");
    json->Value(item.client_id);
    json->EndObject();
  }
}

// How many endpoints an unpaged list reads from the store at a time (and
// writes to the client at a time). Issue 12: the whole list used to be
// built in memory first, so memory grew with the project times the number
// of concurrent lists (64 lists of 40,000 endpoints at once: peak RSS 145
// MB); now each list holds one page (24 MB; pages of 1,000 peaked at 45
// MB, and 256 only adds short index seeks).
constexpr size_t kListReadPage = 256;

// Sends an unpaged endpoint list whose first page, `page`, is read and
// more follow: each call of the provider writes the page in hand and reads
// the next one, after the last endpoint written, on a read connection held
// only for that read. So a slow client holds no connection or snapshot, and
// the list shows every endpoint that exists throughout, once, in order (one
// created or deleted meanwhile may or may not appear). A store failure
// midway can no longer change the status: it is logged and the response is
// cut short (no final chunk), which every client reports as an error rather
// than reading a short list.
void StreamEndpointList(const Context& ctx, ListQuery query,
                        std::vector<EndpointListItem> page,
                        httplib::Response& res) {
  struct State {
    ListQuery query;
    std::vector<EndpointListItem> page;  // read, not written yet
    bool more = true;                    // endpoints follow `page`
    JsonWriter json;
    std::string request_id;
  };
  auto state = std::make_shared<State>();
  state->query = std::move(query);
  state->page = std::move(page);
  state->request_id = RequestIdOf(res);
  state->json.BeginObject();
  state->json.Key("items");
  state->json.BeginArray();
  res.status = 200;
  res.set_chunked_content_provider(
      "application/json",
      [&ctx, state](size_t, httplib::DataSink& sink) {
        WriteListItems(state->page, &state->json);
        const bool last = !state->more;
        if (last) {
          state->json.EndArray();
          EndPage(std::nullopt, &state->json);
        } else {
          const EndpointListItem& written = state->page.back();
          state->query.after =
              EndpointCursor{written.created_at_ms, written.id};
          // Freed before the next page is read: one page in memory at once.
          std::vector<EndpointListItem>().swap(state->page);
          Status status =
              ctx.store.ListEndpoints(state->query, &state->page, &state->more);
          if (!status.ok()) {
            NoteStoreError(ctx, state->request_id, status);
            return false;
          }
        }
        const std::string piece = state->json.Take();
        if (!sink.write(piece.data(), piece.size())) return false;
        if (last) sink.done();
        return true;
      },
      [&ctx](bool) {
        if (ctx.trimmer != nullptr) ctx.trimmer->NoteLargeResponse();
      });
}

// GET webhook_endpoints: the caller's endpoints, oldest first. Items carry
// only id, toolkit_slug and client_id, as Composio's do; limit, cursor and
// next_cursor are our extension. Without limit, every endpoint comes back
// (Composio's answer), sent page by page as read when there are many.
void HandleListEndpoints(const Context& ctx, const httplib::Request& req,
                         httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  ListParams params;
  ApiError err;
  if (!ParseListParams(req, &params, &err)) return ReplyError(res, err);
  ListQuery query;
  query.project_id = caller.project_id;
  query.toolkit_slug = params.toolkit_slug;
  query.limit = params.limit != 0 ? params.limit : kListReadPage;
  query.after = params.after;
  std::vector<EndpointListItem> items;
  bool more = false;
  Status status = ctx.store.ListEndpoints(query, &items, &more);
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  if (params.limit == 0 && more) {
    return StreamEndpointList(ctx, std::move(query), std::move(items), res);
  }
  JsonWriter json;
  json.BeginObject();
  json.Key("items");
  json.BeginArray();
  WriteListItems(items, &json);
  json.EndArray();
  EndPage(more ? std::optional<std::string>(EncodeCursor(items.back()))
               : std::nullopt,
          &json);
  ReplyJson(res, 200, json.Take());
}

// GET webhook_endpoints/schema?toolkit_slug=: the toolkit's setup fields,
// keyed by name.
void HandleGetSchema(const Context& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  const std::string slug = Lowercase(req.get_param_value("toolkit_slug"));
  if (slug.empty()) {
    return ReplyError(res, ValidationError({"the toolkit_slug query "
                                            "parameter is required"}));
  }
  const ToolkitSpec* toolkit = ctx.catalog.Find(slug);
  if (toolkit == nullptr) {
    return ReplyError(res, ToolkitNotFound(ctx.catalog, Printable(slug, 64)));
  }
  JsonWriter json;
  json.BeginObject();
  json.Key("toolkit_slug");
  json.Value(toolkit->slug);
  json.Key("setup_fields");
  json.BeginObject();
  for (const SetupFieldSpec& field : toolkit->setup_fields) {
    json.Key(field.name);
    json.BeginObject();
    json.Key("display_name");
    json.Value(field.display_name);
    json.Key("description");
    json.Value(field.description);
    json.Key("is_required");
    json.Value(field.is_required);
    json.Key("is_secret");
    json.Value(field.is_secret);
    json.EndObject();
  }
  json.EndObject();
  json.EndObject();
  ReplyJson(res, 200, json.Take());
}

// GET webhook_endpoints/{id}
void HandleGetEndpoint(const Context& ctx, const httplib::Request& req,
                       httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  WebhookEndpoint endpoint;
  if (!GetEndpointOrReply(ctx, caller, req.matches[1], res, &endpoint)) return;
  ReplyEndpoint(ctx, res, 200, endpoint);
}

// True for text shaped like one of our masks: "REDACTED", or four
// characters followed by "...".
bool LooksMasked(std::string_view value) {
  if (value == "REDACTED") return true;
  if (value.size() < 4 || value.substr(value.size() - 3) != "...") {
    return false;
  }
  std::string_view prefix = value.substr(0, value.size() - 3);
  size_t characters = 0;
  for (char c : prefix) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
  }
  return characters == 4;
}

// Clients read secrets masked and may send the object straight back. Our
// choice: a secret sent back as exactly the mask of its stored value keeps
// the stored value; any other mask-shaped value for a secret is refused, so
// a mask can never overwrite a secret.
void ResolveMaskedSecrets(const ToolkitSpec& toolkit,
                          const WebhookEndpoint& current,
                          std::vector<SetupField>* fields,
                          std::vector<std::string>* problems) {
  for (SetupField& field : *fields) {
    const SetupFieldSpec* spec = toolkit.FindField(field.name);
    if (spec == nullptr || !spec->is_secret || !LooksMasked(field.value)) {
      continue;
    }
    auto stored =
        std::find_if(current.setup_fields.begin(), current.setup_fields.end(),
                     [&](const SetupField& f) { return f.name == field.name; });
    if (stored != current.setup_fields.end() &&
        MaskSecret(stored->value) == field.value) {
      field.value = stored->value;
    } else {
      problems->push_back("data." + field.name +
                          " looks like a masked value; send the secret "
                          "itself");
    }
  }
}

// PATCH webhook_endpoints/{id} (merge) and POST webhook_endpoints/{id}
// (replace: unlisted fields are cleared, required ones must be present).
void HandleSetSetupData(const Context& ctx, bool replace,
                        const httplib::Request& req, httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  WebhookEndpoint current;
  if (!GetEndpointOrReply(ctx, caller, req.matches[1], res, &current)) return;
  const ToolkitSpec* toolkit = ctx.catalog.Find(current.toolkit_slug);
  SetupDataParams params;
  std::vector<std::string> problems;
  const bool data_read = ParseSetupDataParams(req, toolkit, &params, &problems);
  if (data_read && toolkit != nullptr) {
    ResolveMaskedSecrets(*toolkit, current, &params.fields, &problems);
    for (const SetupFieldSpec& spec : toolkit->setup_fields) {
      bool listed = std::find(params.named.begin(), params.named.end(),
                              spec.name) != params.named.end();
      if (replace && spec.is_required && !listed) {
        problems.push_back("data." + spec.name +
                           " is required when replacing the configuration");
      }
    }
  }
  if (!problems.empty()) {
    return ReplyError(res, ValidationError(std::move(problems)));
  }
  if (replace) {
    for (const SetupField& field : current.setup_fields) {
      if (IsHandshakeSecret(toolkit, field.name))
        params.fields.push_back(field);
    }
  }
  WebhookEndpoint updated;
  Status status = ctx.store.UpdateSetupFields(caller.project_id, current.id,
                                              params.fields, replace, &updated);
  // NotFound here means it was deleted between our read and this write.
  if (!status.ok()) return ReplyEndpointFailure(ctx, res, status, current.id);
  ReplyEndpoint(ctx, res, 200, updated);
}

// DELETE webhook_endpoints/{id}
void HandleDeleteEndpoint(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  const std::string id = req.matches[1];
  Status status = IsEndpointId(id)
                      ? ctx.store.DeleteEndpoint(caller.project_id, id)
                      : Status::NotFound("malformed id");
  if (!status.ok()) return ReplyEndpointFailure(ctx, res, status, id);
  ReplyJson(res, 200, R"({"success":true})");
}

// --- The ingress -------------------------------------------------------------

// A top-level string field of a JSON object body, if the body is one and
// names the field exactly once: a duplicate is ambiguous (simdjson would
// take the first, another parser the last), so it counts as absent, as
// every other JSON route refuses duplicates.
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

// The request headers worth keeping with an event: what a developer needs
// to see what the provider sent, never a signature.
std::string EventHeadersJson(const httplib::Request& req,
                             const VerificationSpec& spec) {
  std::vector<std::string> names = {
      "Content-Type", "User-Agent", "X-Slack-Request-Timestamp",
      "X-Slack-Retry-Num", "X-Slack-Retry-Reason"};
  for (const std::string& extra :
       {spec.timestamp_header, spec.event_id_header}) {
    if (!extra.empty()) names.push_back(extra);
  }
  JsonWriter json;
  json.BeginObject();
  std::vector<std::string> written;
  for (const std::string& name : names) {
    if (!req.has_header(name.c_str()) ||
        std::find(written.begin(), written.end(), name) != written.end()) {
      continue;
    }
    written.push_back(name);
    json.Key(name);
    json.Value(Printable(req.get_header_value(name.c_str()), 256));
  }
  json.EndObject();
  return json.Take();
}

// The provider's id for an event: the spec's header, else its JSON field,
// else the body's SHA-256 (so a byte-identical retry is still one event).
std::string ProviderEventId(const httplib::Request& req,
                            const VerificationSpec& spec) {
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

ApiError IngressEndpointNotFound(const std::string& slug,
                                 const std::string& id) {
  return MakeError(ErrorKind::kEndpointNotFound,
                   "No webhook endpoint '" + Printable(id, 64) +
                       "' for toolkit '" + Printable(slug, 64) + "'.");
}

// Answers a verified handshake: sets verified_at once (with `secret` for
// Notion). A repeat is refused and changes nothing.
void CompleteHandshake(const Context& ctx, const WebhookEndpoint& endpoint,
                       const std::optional<SetupField>& secret,
                       std::string response_body, httplib::Response& res) {
  bool verified = false;
  Status status =
      ctx.store.MarkVerified(endpoint.id, NowMillis(), secret, &verified);
  if (status.code() == Status::Code::kNotFound) {
    return ReplyError(
        res, IngressEndpointNotFound(endpoint.toolkit_slug, endpoint.id));
  }
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  if (!verified) {
    return ReplyError(res, MakeError(ErrorKind::kIngressAlreadyVerified,
                                     "This endpoint is verified already; a "
                                     "repeat handshake changes nothing."));
  }
  ReplyJson(res, 200, std::move(response_body));
}

// POST webhook_ingress/{toolkit_slug}/{id}/trigger_event: the provider's
// door, checked in the spec's order: endpoint, secret, signature,
// handshake, event.
void HandleIngress(const Context& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  const std::string slug = req.matches[1];
  const std::string id = req.matches[2];
  // 1. The endpoint, and the toolkit in the path is its own.
  WebhookEndpoint endpoint;
  Status found = IsEndpointId(id)
                     ? ctx.store.GetEndpointForIngress(id, &endpoint)
                     : Status::NotFound("malformed id");
  if (found.ok() && endpoint.toolkit_slug != slug) {
    found = Status::NotFound("another toolkit");
  }
  if (found.code() == Status::Code::kNotFound) {
    return ReplyError(res, IngressEndpointNotFound(slug, id));
  }
  if (!found.ok()) return ReplyStoreError(ctx, res, found);
  const ToolkitSpec* toolkit = ctx.catalog.Find(slug);
  if (toolkit == nullptr || !toolkit->verification) {
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
        return CompleteHandshake(
            ctx, endpoint, SetupField{spec.secret_field, *token}, "{}", res);
      }
    }
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
    ApiError err = MakeError(ErrorKind::kIngressInvalidSignature,
                             "The request's signature does not verify.",
                             {verdict.message});
    return ReplyError(res, err);
  }

  // 4. Handshakes.
  if (spec.scheme == SignatureScheme::kSlackV0 &&
      JsonStringField(req.body, "type") ==
          std::optional<std::string>("url_verification")) {
    JsonWriter json;
    json.BeginObject();
    json.Key("challenge");
    json.Value(JsonStringField(req.body, "challenge").value_or(""));
    json.EndObject();
    return CompleteHandshake(ctx, endpoint, std::nullopt, json.Take(), res);
  }
  if (spec.scheme == SignatureScheme::kNotion &&
      JsonStringField(req.body, "verification_token")) {
    return ReplyError(res, MakeError(ErrorKind::kIngressAlreadyVerified,
                                     "This endpoint is verified already; a "
                                     "repeat handshake changes nothing."));
  }

  // 5. An event: durable before the 200; a retry is acknowledged.
  NewEvent event;
  event.id = "ev_" + RandomToken(16);
  event.endpoint_id = endpoint.id;
  event.provider_event_id = ProviderEventId(req, spec);
  event.received_at_ms = NowMillis();
  event.headers_json = EventHeadersJson(req, spec);
  event.body = req.body;
  bool stored = false;
  Status status =
      ctx.store.RecordEvent(event, ctx.config.event_retention, &stored);
  if (status.code() == Status::Code::kNotFound) {
    return ReplyError(res, IngressEndpointNotFound(slug, id));
  }
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  ReplyJson(res, 200, "{}");
}

// An event as its listing shows it.
void WriteEvent(const StoredEvent& event, JsonWriter* json) {
  json->BeginObject();
  json->Key("id");
  json->Value(event.id);
  json->Key("provider_event_id");
  json->Value(event.provider_event_id);
  json->Key("received_at");
  json->Value(FormatTime(event.received_at_ms));
  json->Key("headers");
  json->RawValue(event.headers_json);
  // The raw body as text when it is UTF-8 (almost always: JSON or form
  // data), else in base64, so the listing is always valid JSON.
  const bool text = IsUtf8(event.body);
  json->Key("body_encoding");
  json->Value(std::string_view(text ? "utf-8" : "base64"));
  json->Key("body");
  json->Value(text ? event.body : Base64Encode(event.body));
  json->EndObject();
}

// Pages of the event listing (our extension, so the bounds are our
// choice). Issue 12: without limit every stored event came back, 60 MB for
// 1,000 events of 60 KB, 1.48 GB of peak RSS for eight such lists at once.
// Now a page holds at most kEventPageMax events and, past its first event,
// at most kEventPageBytes of items: 64 workers each building one fit well
// inside the 512 MB of the shipped systemd unit. One event larger than
// that (bodies reach --max-body, 16 MiB at most) still comes alone.
constexpr long long kEventPageDefault = 100;
constexpr long long kEventPageMax = 1000;
constexpr size_t kEventPageBytes = 1024 * 1024;
// An events page at least this large is noted to the MemoryTrimmer.
constexpr size_t kLargeResponseBytes = 256 * 1024;

// Writes `events` as items until the next one would take the items past
// kEventPageBytes (the first always fits), freeing each as it is written
// so the rows and the JSON are not both held whole. Returns how many were
// written.
size_t WriteEventItems(std::vector<StoredEvent>& events, JsonWriter* json) {
  size_t estimate = 0;
  for (const StoredEvent& event : events) {
    estimate += event.headers_json.size() + event.body.size() + 256;
  }
  json->Reserve(std::min(estimate, kEventPageBytes) + 256);
  const size_t start = json->size();
  size_t written = 0;
  for (StoredEvent& event : events) {
    JsonWriter item;
    WriteEvent(event, &item);
    const std::string text = item.Take();
    if (written > 0 && json->size() - start + text.size() > kEventPageBytes) {
      break;
    }
    json->RawValue(text);
    event.headers_json = std::string();
    event.body = std::string();
    ++written;
  }
  return written;
}

// GET webhook_endpoints/{id}/events: our extension for local development.
// Newest first; limit (1-1000, default 100) and cursor page as for the
// endpoint list, and a page stops early at kEventPageBytes.
void HandleListEvents(const Context& ctx, const httplib::Request& req,
                      httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  const std::string id = req.matches[1];
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
    problems.push_back(
        "cursor is not one this server gave out (use next_cursor of the "
        "previous page)");
  }
  if (!problems.empty()) {
    return ReplyError(res, ValidationError(std::move(problems)));
  }
  std::vector<StoredEvent> events;
  bool more = false;
  Status status = IsEndpointId(id)
                      ? ctx.store.ListEvents(caller.project_id, id,
                                             static_cast<size_t>(limit), before,
                                             kEventPageBytes, &events, &more)
                      : Status::NotFound("malformed id");
  if (!status.ok()) return ReplyEndpointFailure(ctx, res, status, id);
  JsonWriter json;
  json.BeginObject();
  json.Key("items");
  json.BeginArray();
  const size_t written = WriteEventItems(events, &json);
  more = more || written < events.size();
  json.EndArray();
  EndPage(more ? std::optional<std::string>(
                     std::to_string(events[written - 1].sequence))
               : std::nullopt,
          &json);
  if (json.size() >= kLargeResponseBytes && ctx.trimmer != nullptr) {
    ctx.trimmer->NoteLargeResponse();
  }
  ReplyJson(res, 200, json.Take());
}

// --- Health ------------------------------------------------------------------

// GET /healthz: the process is up and serving. No key, no database.
void HandleHealth(const Context&, const httplib::Request&,
                  httplib::Response& res) {
  ReplyJson(res, 200, R"({"status":"ok"})");
}

// GET /openapi.json: the contract, for tools and people. No key.
void HandleOpenApi(const Context&, const httplib::Request&,
                   httplib::Response& res) {
  ReplyJson(res, 200, kOpenApiJson);
}

// GET /metrics: Prometheus text format. No key (it holds counts only).
void HandleMetrics(const Context& ctx, const httplib::Request&,
                   httplib::Response& res) {
  int64_t endpoints = 0, events = 0;
  Status status = ctx.store.CountRows(&endpoints, &events);
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  res.status = 200;
  res.set_content(
      ctx.metrics.Render(endpoints, events, ctx.log.dropped_lines()),
      "text/plain; version=0.0.4; charset=utf-8");
}

// GET /readyz: the database answers a query, and the secrets key still
// opens its setup values (the start-up check, now one indexed read). No key.
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

// ===========================================================================
// 8. The route table and the hooks
// ===========================================================================

// Test-only fault injection. The webhooks-server-faults binary (built for
// the tests, never installed) throws, with text a client must never see,
// at the place a request's x-webhooks-fault header names: "pre-routing",
// "handler", "error-hook", "before-write" or "logger". In every other build
// this is empty and the header means nothing.
void InjectFault([[maybe_unused]] const httplib::Request& req,
                 [[maybe_unused]] std::string_view where) {
#ifdef WEBHOOKS_FAULT_INJECTION
  if (req.get_header_value("x-webhooks-fault") == where) {
    throw std::runtime_error("injected fault in " + std::string(where) +
                             ": secret_value=hunter2 SELECT * FROM api_keys");
  }
#endif
}

using RouteHandler =
    std::function<void(const httplib::Request&, httplib::Response&)>;

struct Route {
  const char* method;
  // The path after the API prefix, with {name} for each parameter; the
  // parameters reach the handler as req.matches[1], [2], ... in order.
  std::string path;
  RouteHandler handler;
};

constexpr const char* kPrefixes[] = {"/api/v3", "/api/v3.1"};

using HandlerFunction = void (*)(const Context&, const httplib::Request&,
                                 httplib::Response&);

// A handler of the route table, given the context it runs with.
RouteHandler Bind(const Context& ctx, HandlerFunction handler) {
  return [&ctx, handler](const httplib::Request& req, httplib::Response& res) {
    handler(ctx, req, res);
  };
}

// The whole API, one line a route. Every route is served under both
// prefixes. Order matters where patterns overlap: "schema" is matched before
// it could be taken for an id.
std::vector<Route> RouteTable(const Context& ctx) {
  auto set_data = [&ctx](bool replace) {
    return
        [&ctx, replace](const httplib::Request& req, httplib::Response& res) {
          HandleSetSetupData(ctx, replace, req, res);
        };
  };
  const std::string kId = "/webhook_endpoints/{id}";
  return {
      {"POST", "/webhook_endpoints", Bind(ctx, HandleCreateEndpoint)},
      {"GET", "/webhook_endpoints", Bind(ctx, HandleListEndpoints)},
      {"GET", "/webhook_endpoints/schema", Bind(ctx, HandleGetSchema)},
      {"GET", kId, Bind(ctx, HandleGetEndpoint)},
      {"PATCH", kId, set_data(false)},
      {"POST", kId, set_data(true)},
      {"DELETE", kId, Bind(ctx, HandleDeleteEndpoint)},
      {"GET", kId + "/events", Bind(ctx, HandleListEvents)},
      {"POST", "/webhook_ingress/{toolkit_slug}/{id}/trigger_event",
       Bind(ctx, HandleIngress)},
  };
}

// A compiled route: what both the library's router and our 405 check use.
struct CompiledRoute {
  std::string method;
  std::regex path;
  std::string path_template;  // "/api/v3.1/webhook_endpoints/{id}"
};

// Routes outside the API prefixes: for load balancers and supervisors.
std::vector<Route> OperationsRouteTable(const Context& ctx) {
  return {
      {"GET", "/healthz", Bind(ctx, HandleHealth)},
      {"GET", "/readyz", Bind(ctx, HandleReady)},
      {"GET", "/openapi.json", Bind(ctx, HandleOpenApi)},
      {"GET", "/metrics", Bind(ctx, HandleMetrics)},
  };
}

// Every route with its full path template ("/api/v3.1/webhook_endpoints/
// {id}"): the API routes under each prefix, then the operations routes.
std::vector<Route> FullRouteTable(const Context& ctx) {
  std::vector<Route> full;
  for (const char* prefix : kPrefixes) {
    for (Route route : RouteTable(ctx)) {
      route.path = prefix + route.path;
      full.push_back(std::move(route));
    }
  }
  for (Route& route : OperationsRouteTable(ctx)) full.push_back(route);
  return full;
}

// The router's regex for a path template: dots escaped, each {name} one
// path segment, captured.
std::string PatternOf(const std::string& path) {
  std::string pattern;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      i = path.find('}', i);
      pattern += "([^/]+)";
    } else {
      if (path[i] == '.') pattern += '\\';
      pattern += path[i];
    }
  }
  return pattern;
}

void RegisterRoutes(httplib::Server& server, const std::vector<Route>& routes,
                    std::vector<CompiledRoute>* compiled) {
  for (const Route& route : routes) {
    const std::string pattern = PatternOf(route.path);
    compiled->push_back({route.method, std::regex(pattern), route.path});
    // The template, not the raw path, names the request in logs and
    // metrics, so ids do not multiply the series.
    RouteHandler handler = [handler = route.handler, path = route.path](
                               const httplib::Request& req,
                               httplib::Response& res) {
      if (auto* notes = HardenedServer::CurrentRequestNotes()) {
        notes->route = path;
      }
      InjectFault(req, "handler");
      handler(req, res);
    };
    const std::string method = route.method;
    if (method == "GET") server.Get(pattern, handler);
    if (method == "POST") server.Post(pattern, handler);
    if (method == "PATCH") server.Patch(pattern, handler);
    if (method == "DELETE") server.Delete(pattern, handler);
  }
}

// The methods served at `path`, for a 405's Allow header; empty if the path
// is unknown.
std::string AllowedMethods(const std::vector<CompiledRoute>& routes,
                           const std::string& path) {
  std::string allow;
  for (const CompiledRoute& route : routes) {
    if (std::regex_match(path, route.path) &&
        allow.find(route.method) == std::string::npos) {
      if (!allow.empty()) allow += ", ";
      allow += route.method;
    }
  }
  return allow;
}

// Notes the template of the first route whose path matches `path` as the
// request's route (logs and metrics), for a request refused before any
// handler ran (a 401 or a 405): a known path is counted under its template,
// only an unknown one as "unmatched".
void NoteRouteOf(const std::vector<CompiledRoute>& routes,
                 const std::string& path) {
  auto* notes = HardenedServer::CurrentRequestNotes();
  if (notes == nullptr) return;
  for (const CompiledRoute& route : routes) {
    if (std::regex_match(path, route.path)) {
      notes->route = route.path_template;
      return;
    }
  }
}

// Paths that need an API key: the API, but not the ingress, which a
// provider calls with its signature instead.
bool NeedsApiKey(const std::string& path) {
  for (const char* prefix : {"/api/v3/", "/api/v3.1/"}) {
    if (path.rfind(prefix, 0) == 0) {
      return path.compare(std::strlen(prefix), 16, "webhook_ingress/") != 0;
    }
  }
  return false;
}

constexpr size_t kMaxHeaderCount = 100;

// Rejects, before the body is read, what the library would mishandle or
// what we never serve. Returns false with *err set to reject.
bool CheckFraming(const Config& config, const httplib::Request& req,
                  ApiError* err) {
  // The library adds REMOTE_ADDR, REMOTE_PORT, LOCAL_ADDR and LOCAL_PORT
  // after the client's headers; a second copy means the client sent one to
  // spoof its address (CVE-2025-66570).
  for (const char* name :
       {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR", "LOCAL_PORT"}) {
    if (req.get_header_value_count(name) > 1) {
      *err = MakeError(ErrorKind::kBadRequest,
                       std::string("Header ") + name + " is not allowed.");
      return false;
    }
  }
  if (req.headers.size() > kMaxHeaderCount + 4) {
    *err = MakeError(ErrorKind::kHeadersTooLarge,
                     "Too many headers: at most " +
                         std::to_string(kMaxHeaderCount) + " are accepted.");
    return false;
  }
  if (req.has_header("Transfer-Encoding")) {
    *err = MakeError(ErrorKind::kLengthRequired,
                     "Transfer-Encoding is not accepted; send Content-Length.");
    return false;
  }
  if (req.has_header("Content-Encoding")) {
    // The library would inflate it past any size limit (CVE-2026-28435).
    *err = MakeError(ErrorKind::kUnsupportedMediaType,
                     "Compressed request bodies are not accepted.");
    return false;
  }
  if (req.has_header("Range")) {
    *err = MakeError(ErrorKind::kRangeNotSatisfiable,
                     "Range requests are not supported.");
    return false;
  }
  const bool has_body_method =
      req.method == "POST" || req.method == "PATCH" || req.method == "PUT";
  if (!req.has_header("Content-Length")) {
    if (has_body_method) {
      *err = MakeError(ErrorKind::kLengthRequired,
                       req.method + " requests need a Content-Length header.");
      return false;
    }
    return true;
  }
  long long length = 0;
  if (req.get_header_value_count("Content-Length") != 1 ||
      !ParseInt(req.get_header_value("Content-Length"), 0,
                std::numeric_limits<long long>::max(), &length)) {
    *err = MakeError(ErrorKind::kBadRequest, "Invalid Content-Length header.");
    return false;
  }
  // 0.11.4 reads a body only for POST, PUT, PATCH and DELETE. On any other
  // method the bytes after the head would be parsed as the next request,
  // and behind a proxy that reuses its connections to us, one client's
  // bytes would be answered as another's request. Refused before they are
  // read, and the connection closed with the answer.
  const bool library_reads_body = has_body_method || req.method == "DELETE";
  if (length > 0 && !library_reads_body) {
    *err = MakeError(ErrorKind::kBadRequest,
                     "A " + req.method +
                         " request cannot carry a body; send it without "
                         "one (no Content-Length, or Content-Length: 0).");
    return false;
  }
  if (static_cast<unsigned long long>(length) > config.max_body) {
    *err = MakeError(ErrorKind::kPayloadTooLarge,
                     "The body is " + std::to_string(length) +
                         " bytes; the limit is " +
                         std::to_string(config.max_body) + " bytes.");
    return false;
  }
  return true;
}

// Assigns the request id: the caller's x-request-id if it is a sane token
// (our rule: 1-128 printable ASCII characters), else a fresh one.
void AssignRequestId(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.get_header_value(kRequestIdHeader);
  if (!IsTokenText(id, 128)) id = "req_" + RandomToken(20);
  res.set_header(kRequestIdHeader, id);
}

// The error for a head that RFC 9112 refuses (request_head.h): 501 for a
// method nobody implements, else 400.
ApiError HeadError(const HeadProblem& problem) {
  return MakeError(problem.status == 501 ? ErrorKind::kNotImplemented
                                         : ErrorKind::kBadRequest,
                   problem.message);
}

// 405, with the Allow header, for a path that other methods serve; else
// 404.
ApiError NoRouteError(const std::vector<CompiledRoute>& routes,
                      const httplib::Request& req, httplib::Response& res) {
  std::string allow = AllowedMethods(routes, req.path);
  if (allow.empty()) {
    return MakeError(ErrorKind::kRouteNotFound,
                     "No route for " + Printable(req.method, 16) + " " +
                         Printable(req.path, 200) + ".");
  }
  NoteRouteOf(routes, req.path);
  res.set_header("Allow", allow);
  return MakeError(
      ErrorKind::kMethodNotAllowed,
      "Method " + req.method + " is not allowed here; allowed: " + allow + ".");
}

// Whether the library can route `method` at all. It answers TRACE and
// CONNECT "400" without calling a handler or the error hook with a 404, so
// those are answered before routing, with NoRouteError; PUT and OPTIONS,
// which no route serves either, reach the error hook as a 404 that becomes
// the same 405 (after the library read a PUT's body, so the connection
// stays usable).
bool LibraryRoutes(const std::string& method) {
  return method != "TRACE" && method != "CONNECT";
}

// 0.11.4 answers with brotli, at its slowest quality (11), whenever "br"
// appears anywhere in Accept-Encoding: one 3.8 MB endpoint list cost 6.0 s
// of CPU that way (gzip: 0.2 s; none: 0.26 s), and any client may ask for
// it again and again. The offer is narrowed to gzip, or to nothing.
void NarrowAcceptEncoding(httplib::Request& req) {
  const std::string offer = req.get_header_value("Accept-Encoding");
  if (offer.find("br") == std::string::npos) return;
  const bool gzip = offer.find("gzip") != std::string::npos;
  req.headers.erase("Accept-Encoding");
  if (gzip) req.headers.emplace("Accept-Encoding", "gzip");
}

void RejectEarly(httplib::Response& res, const ApiError& err) {
  // The body, if any, is still unread; the connection cannot carry another
  // request after this answer.
  HardenedServer::CloseConnectionAfterResponse(res);
  ReplyError(res, err);
}

void InstallHooks(HardenedServer& server, const Config& config,
                  const HostPolicy& hosts, const Logger& log, Metrics& metrics,
                  const std::vector<CompiledRoute>& routes) {
  server.set_default_headers(
      {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}});

  server.set_pre_routing_handler([&config, &hosts, &routes](
                                     const httplib::Request& req,
                                     httplib::Response& res) {
    AssignRequestId(req, res);
    // A throw here reaches the exception handler below (the library
    // runs pre-routing inside its try).
    InjectFault(req, "pre-routing");
    // 0.11.4 applies a request's Range to whatever response is sent,
    // error bodies included (cutting the envelope, or multiplying it
    // into a multipart answer). The Request is the library's non-const
    // object, handed to us as const; emptying the parsed ranges is the
    // only way to turn that off.
    const_cast<httplib::Request&>(req).ranges.clear();
    // The same object, for the same reason: the encoding is chosen from
    // the request when the answer is written.
    NarrowAcceptEncoding(const_cast<httplib::Request&>(req));
    ApiError err;
    // What RFC 9112 refuses, judged on the head as sent; the header
    // values below are as sent too (HardenedServer).
    if (const auto* notes = HardenedServer::CurrentRequestNotes();
        notes != nullptr && notes->head_problem.status != 0) {
      RejectEarly(res, HeadError(notes->head_problem));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!hosts.Allows(req)) {
      const std::string host =
          req.has_header("Host")
              ? "Host '" + Printable(req.get_header_value("Host"), 100) + "' is"
              : "A request without a Host header is";
      RejectEarly(res, MakeError(ErrorKind::kHostNotAllowed,
                                 host + " not accepted: in local mode (no "
                                        "API keys) only localhost, loopback "
                                        "addresses, the --public-url host "
                                        "and --allowed-host names are."));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!LibraryRoutes(req.method)) {
      RejectEarly(res, NoRouteError(routes, req, res));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!CheckFraming(config, req, &err)) {
      RejectEarly(res, err);
      return httplib::Server::HandlerResponse::Handled;
    }
    // Key checks that need no database happen before the body is read;
    // the look-up happens in the handler.
    std::string key;
    if (NeedsApiKey(req.path) && !CheckKeyHeaders(req, &key, &err)) {
      NoteRouteOf(routes, req.path);
      RejectEarly(res, err);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Fills only empty error bodies: the library's own 400/404/413/414/416
  // and unknown routes. A body a handler wrote is left alone.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [&routes](const httplib::Request& req, httplib::Response& res) {
        try {
          InjectFault(req, "error-hook");
          if (!res.body.empty()) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          ApiError err;
          switch (res.status) {
            case 404:
              err = NoRouteError(routes, req, res);
              break;
            case 413:
              err = MakeError(ErrorKind::kPayloadTooLarge,
                              "The request is too large.");
              HardenedServer::CloseConnectionAfterResponse(res);
              break;
            case 414:
              err = MakeError(ErrorKind::kUriTooLong,
                              "The request line is too long.");
              HardenedServer::CloseConnectionAfterResponse(res);
              break;
            case 416:
              err = MakeError(ErrorKind::kRangeNotSatisfiable,
                              "Range requests are not supported.");
              HardenedServer::CloseConnectionAfterResponse(res);
              break;
            default: {
              // The library refused the head before our hooks ran (an
              // unknown method, say): the head as read tells why.
              const HeadProblem problem =
                  CheckRequestHead(HardenedServer::CurrentRequestHead());
              if (res.status == 400 && problem.status != 0) {
                err = HeadError(problem);
              } else {
                err = MakeError(res.status >= 500 ? ErrorKind::kInternal
                                                  : ErrorKind::kBadRequest,
                                res.status >= 500
                                    ? "Internal error."
                                    : "The request could not be read.");
              }
              HardenedServer::CloseConnectionAfterResponse(res);
              break;
            }
          }
          ReplyError(res, err);
          return httplib::Server::HandlerResponse::Handled;
        } catch (...) {
          // Runs outside the library's try: a throw here would end the
          // process. Answer a plain 500 in the envelope instead.
          try {
            res.headers.erase("Allow");
            ReplyError(res, MakeError(ErrorKind::kInternal, "Internal error."));
            return httplib::Server::HandlerResponse::Handled;
          } catch (...) {
            res.status = 500;
            return httplib::Server::HandlerResponse::Unhandled;
          }
        }
      }));

  // The last net. By default 0.11.4 would send what() in a header
  // (CVE-2026-28434); we log it with the request id and send nothing of it.
  server.set_exception_handler([&log](const httplib::Request&,
                                      httplib::Response& res,
                                      std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    try {
      log.Log(LogLevel::kError, "exception in a handler",
              {{"request_id", RequestIdOf(res)}, {"detail", what}});
      res.headers.erase("Allow");
      ReplyError(res, MakeError(ErrorKind::kInternal, "Internal error."));
    } catch (...) {
      res.status = 500;
    }
  });

  // Metrics count a request before its answer is written, so a scrape that
  // follows an answer always includes it.
  server.SetBeforeWrite([&metrics](const httplib::Request& req,
                                   const httplib::Response& res) {
    try {
      InjectFault(req, "before-write");
      const auto* notes = HardenedServer::CurrentRequestNotes();
      metrics.ObserveRequest(
          notes != nullptr && !notes->route.empty() ? notes->route
                                                    : "unmatched",
          req.method, res.status,
          notes == nullptr
              ? 0.0
              : std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              notes->started)
                    .count());
    } catch (...) {
    }
  });

  // One line per request, once it is answered: never a key, a body or a
  // setup value. Must not throw: it runs outside the library's try.
  server.set_logger([&log](const httplib::Request& req,
                           const httplib::Response& res) {
    try {
      InjectFault(req, "logger");
      if (!log.Enabled(LogLevel::kInfo)) return;
      const auto* notes = HardenedServer::CurrentRequestNotes();
      const double seconds =
          notes == nullptr
              ? 0.0
              : std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              notes->started)
                    .count();
      char duration[32];
      std::snprintf(duration, sizeof(duration), "%.3f", seconds * 1000);
      log.Log(
          LogLevel::kInfo, "request",
          {{"request_id", res.get_header_value(kRequestIdHeader)},
           {"method", req.method},
           {"route", notes != nullptr && !notes->route.empty() ? notes->route
                                                               : "unmatched"},
           {"status", std::to_string(res.status), true},
           {"duration_ms", duration, true},
           {"project_id", notes != nullptr ? notes->project_id : ""},
           {"remote", req.remote_addr}});
    } catch (...) {
    }
  });
}

// ===========================================================================
// 9. main
// ===========================================================================

// Registers the keys given at start-up, each as its own project (our
// choice), and returns the policy that accepts exactly them (less those
// revoked with `keys revoke`, which the database refuses).
bool BuildKeyPolicy(const Config& config, Store& store, KeyPolicy* policy) {
  for (const std::string& key : config.api_keys) {
    ConfiguredKey configured;
    configured.digest = Sha256(key);
    NewApiKey new_key;
    new_key.key_digest = configured.digest;
    new_key.origin = KeyOrigin::kConfig;
    new_key.key_id = "key_" + RandomToken(12);
    new_key.project_id = "proj_" + RandomToken(12);
    new_key.project_name = "configured";
    new_key.created_at_ms = NowMillis();
    Status status = store.RegisterKey(new_key, &configured.project_id);
    ApiKeyRecord record;
    if (status.ok()) status = store.FindKey(configured.digest, &record);
    if (!status.ok()) {
      std::fprintf(stderr, "webhooks-server: cannot register API keys: %s\n",
                   status.message().c_str());
      return false;
    }
    // A revoked key stays refused (every request asks the database), and
    // stays in the policy: revoking the only configured key must not turn
    // the next start into local mode, open to any key. Nor may it stop the
    // start: an emergency revocation comes before the configuration edit.
    if (record.revoked) {
      std::fprintf(stderr,
                   "webhooks-server: warning: API key %s given at start-up "
                   "was revoked and is refused; remove it from --api-key / "
                   "WEBHOOKS_API_KEYS\n",
                   record.key_id.c_str());
    }
    policy->configured.push_back(std::move(configured));
  }
  return true;
}

// Reads the secrets key: 64 hex characters, surrounding white space allowed.
// The message never contains the file's content.
bool ReadSecretsKey(const std::string& path, std::string* key,
                    std::string* error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    *error = "--secrets-key-file '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::string text(256, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), file));
  std::fclose(file);
  auto blank = [](char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
  };
  while (!text.empty() && blank(text.back())) text.pop_back();
  size_t start = 0;
  while (start < text.size() && blank(text[start])) ++start;
  text.erase(0, start);
  auto digit = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  key->clear();
  for (size_t i = 0; text.size() == 64 && i < text.size(); i += 2) {
    int high = digit(text[i]), low = digit(text[i + 1]);
    if (high < 0 || low < 0) break;
    key->push_back(static_cast<char>(high * 16 + low));
  }
  if (key->size() != 32) {
    key->clear();
    *error = "--secrets-key-file '" + path +
             "' must hold 64 hex characters (32 bytes), for example from "
             "`openssl rand -hex 32`";
    return false;
  }
  return true;
}

// Checks the secrets key against the database before anything is served:
// with a wrong key every read of a setup value would fail (500) while the
// server looked healthy. Returns 0 to go on, else the exit code after one
// line on stderr: 2, a configuration error (a restart cannot help), when
// the key does not fit; 1 when the database failed. Never prints the key.
int CheckSecretsKeyAtStart(const Config& config, Store& store) {
  Status status = store.CheckSecretsKey();
  if (status.ok()) return 0;
  if (status.code() != Status::Code::kInvalidArgument) {
    std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
    return 1;
  }
  const std::string fix =
      config.secrets_key_path.empty()
          ? "start with --secrets-key-file (or WEBHOOKS_SECRETS_KEY_FILE) "
            "naming the key file this database was used with"
          : "--secrets-key-file '" + config.secrets_key_path +
                "' must hold the key this database was used with; restore "
                "that file from your copy";
  std::fprintf(stderr, "webhooks-server: %s; %s\n", status.message().c_str(),
               fix.c_str());
  return 2;
}

void PrintConfig(const Config& config, const std::string& public_base,
                 const ToolkitCatalog& catalog, bool admin_keys,
                 const HostPolicy& hosts) {
  StartupFacts facts;
  facts.public_base = public_base;
  facts.toolkits = catalog.Slugs();
  facts.admin_keys = admin_keys;
  // The Host names local mode accepts (HostPolicy), so that a refused one
  // can be told from the start-up line.
  facts.hosts = "any";
  if (hosts.enforced && !hosts.any) {
    facts.hosts = "localhost,loopback";
    for (const std::string& name : hosts.names) facts.hosts += "," + name;
  }
  std::fprintf(stderr, "%s\n", ConfigLine(config, facts).c_str());
}

// How long in-flight requests may take to finish after SIGTERM or SIGINT:
// above the 5 s request deadline, so a request being read can complete.
constexpr int kShutdownTimeoutSeconds = 10;

// Stop signals that arrive within this time of the first are the same
// request to stop: `timeout`, for one, signals its child and then the whole
// process group, so the server gets SIGTERM twice almost at once.
constexpr int kSameStopWindowSeconds = 1;

// Watches for SIGTERM, SIGINT and SIGHUP (blocked in every thread, see Run)
// on a thread of its own. The first stop signal stops the server, which
// stops accepting and lets in-flight requests finish; more within
// kSameStopWindowSeconds change nothing; a later one, or the shutdown
// timeout, ends the process at once with status 1. SIGHUP is logged and
// changes nothing (yet: certificate reload will come with TLS); by default
// it would have ended the process with requests unanswered and the WAL not
// checkpointed. Its messages go through the log, so a standard error that
// nobody reads cannot hold the shutdown.
//
// Finish() (or the destructor) must run before `server` and `log` go: after
// it the thread touches neither, and it never ends the process.
class SignalWatcher {
 public:
  SignalWatcher(HardenedServer& server, sigset_t signals, const Logger& log)
      : shared_(std::make_shared<Shared>()) {
    std::thread([&server, signals, &log, shared = shared_] {
      Watch(server, signals, log, *shared);
    }).detach();
  }
  ~SignalWatcher() { Finish(); }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // The stop is done and the exit code is main's. Waits while the thread
  // is using the server or the log (if it is ending the process, forever).
  void Finish() {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->finished = true;
  }

 private:
  struct Shared {
    std::mutex mu;
    bool finished = false;  // guarded by mu
  };

  static const char* NameOf(int number) {
    return number == SIGINT ? "SIGINT" : "SIGTERM";
  }

  // Logs a SIGHUP, which asks for nothing yet. False if main has finished
  // (the log may be gone).
  static bool NoteHangUp(const Logger& log, Shared& shared) {
    std::lock_guard<std::mutex> lock(shared.mu);
    if (shared.finished) return false;
    log.Notice("SIGHUP: nothing to reload, carrying on");
    return true;
  }

  static void Watch(HardenedServer& server, sigset_t signals, const Logger& log,
                    Shared& shared) {
    int number = 0;
    do {
      if (sigwait(&signals, &number) != 0) return;
    } while (number == SIGHUP && NoteHangUp(log, shared));
    if (number == SIGHUP) return;  // main has finished
    const auto first = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      if (shared.finished) return;
      log.Notice(std::string(NameOf(number)) +
                 ": finishing in-flight requests (a signal more than " +
                 std::to_string(kSameStopWindowSeconds) +
                 " s later exits at once)");
      server.Stop();
    }
    const auto deadline = first + std::chrono::seconds(kShutdownTimeoutSeconds);
    const auto window_end =
        first + std::chrono::seconds(kSameStopWindowSeconds);
    int again = 0;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      timespec bound{static_cast<time_t>(left.count() / 1'000'000'000),
                     static_cast<long>(left.count() % 1'000'000'000)};
      const int next = sigtimedwait(&signals, nullptr, &bound);
      if (next == SIGHUP) {
        if (!NoteHangUp(log, shared)) return;
        continue;
      }
      if (next > 0 && std::chrono::steady_clock::now() < window_end) {
        std::lock_guard<std::mutex> lock(shared.mu);
        if (shared.finished) return;
        log.Notice(std::string(NameOf(next)) + " within " +
                   std::to_string(kSameStopWindowSeconds) +
                   " s of the first signal: the same stop");
        continue;
      }
      if (next > 0) {
        again = next;
        break;
      }
      // EINTR (a sanitizer's leak check at exit stops threads, say): wait
      // on; EAGAIN: the time is up.
      if (errno != EINTR) break;
    }
    // The lock is kept to the end: main cannot finish (and destroy the log)
    // while the last lines are flushed.
    std::lock_guard<std::mutex> lock(shared.mu);
    if (shared.finished) return;
    log.Notice(again != 0 ? std::string("second signal (") + NameOf(again) +
                                "), exiting now"
                          : std::string("shutdown timed out, exiting now"));
    log.Flush(LogSink::kCloseWait);
    std::_Exit(1);
  }

  const std::shared_ptr<Shared> shared_;
};

// webhooks-server routes: the route table, one "METHOD /path/{param}" a
// line, from the same table the server registers (tests compare it with
// openapi.json).
int PrintRoutes() {
  Config config;
  KeyPolicy keys;
  ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  std::unique_ptr<Store> store;
  if (!OpenSqliteStore(":memory:", &store).ok()) return 1;
  const Logger log(true, LogLevel::kError);
  Metrics metrics;
  Context ctx{config, keys, catalog, *store, "", log, metrics, nullptr};
  for (const Route& route : FullRouteTable(ctx)) {
    std::printf("%s %s\n", route.method, route.path.c_str());
  }
  return 0;
}

[[maybe_unused]] int Run(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "send-test-event") {
    return SendTestEvent(argc - 1, argv + 1);
  }
  if (argc == 2 && std::string_view(argv[1]) == "routes") return PrintRoutes();
  if (argc > 1 && (std::string_view(argv[1]) == "keys" ||
                   std::string_view(argv[1]) == "backup" ||
                   std::string_view(argv[1]) == "check")) {
    return RunAdminCommand(argc, argv);
  }
  // glibc gives each thread that allocates concurrently an arena of its
  // own, up to 8 per core, and keeps what they free: with 64 workers that
  // doubled peak RSS under load (22.9 -> 41.9 MB listing 1,000 endpoints
  // at 64 connections) for no measurable gain in throughput. One per core,
  // at least two.
  mallopt(M_ARENA_MAX,
          static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  Config config;
  std::string error;
  switch (ParseConfig(
      argc, argv, [](const char* name) { return std::getenv(name); }, &config,
      &error)) {
    case ParseOutcome::kHelp:
      std::fputs(ServerHelp().c_str(), stdout);
      return 0;
    case ParseOutcome::kVersion:
      std::fputs(VersionLine().c_str(), stdout);
      return 0;
    case ParseOutcome::kError:
      std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
      return 2;
    case ParseOutcome::kRun:
      break;
  }
  ToolkitCatalog catalog;
  if (!LoadToolkitCatalog(config.toolkits_path, &catalog, &error)) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 2;
  }

  // Block the signals the watcher takes before any thread starts, so that
  // all threads inherit the mask and only the watcher's sigwait receives
  // them.
  sigset_t watched_signals;
  sigemptyset(&watched_signals);
  sigaddset(&watched_signals, SIGTERM);
  sigaddset(&watched_signals, SIGINT);
  sigaddset(&watched_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &watched_signals, nullptr);

  if (!EnsureParentFolder(config.db_path, &error)) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 1;
  }
  StoreOptions store_options;
  store_options.read_connections = static_cast<size_t>(config.read_connections);
  // Ages events out (and finishes deleted endpoints' events) even on
  // endpoints that receive nothing more.
  store_options.background_retention = config.event_retention;
  store_options.track_clean_stop = true;
  if (!config.secrets_key_path.empty() &&
      !ReadSecretsKey(config.secrets_key_path, &store_options.secrets_key,
                      &error)) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 2;
  }
  std::unique_ptr<Store> store;
  const auto opening = std::chrono::steady_clock::now();
  if (Status status = OpenSqliteStore(config.db_path, store_options, &store);
      !status.ok()) {
    std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
    return 1;
  }
  if (store->FullCheckAtOpen()) {
    std::fprintf(stderr,
                 "webhooks-server: the last server on %s did not stop "
                 "cleanly (or was an older version): checked every page of "
                 "it in %lld ms\n",
                 config.db_path.c_str(),
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - opening)
                         .count()));
  }
  // Any return from here on is a clean stop: a start that fails (a busy
  // port, say) must not make the next one check every page.
  struct CleanStopOnReturn {
    Store& store;
    ~CleanStopOnReturn() { store.RecordCleanStop(); }
  } clean_stop_on_return{*store};
  if (int code = CheckSecretsKeyAtStart(config, *store); code != 0) {
    return code;
  }
  KeyPolicy keys;
  if (!BuildKeyPolicy(config, *store, &keys)) return 1;
  bool admin_keys = false;
  if (Status status = store->HasAdminKeys(&admin_keys); !status.ok()) {
    std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
    return 1;
  }
  if (keys.configured.empty() && !admin_keys &&
      (config.require_keys || !IsLoopbackHost(config.host))) {
    std::fprintf(stderr,
                 "webhooks-server: refusing to serve on %s without API keys: "
                 "anyone who can reach it could use it. Add --api-key KEY (or "
                 "WEBHOOKS_API_KEYS, or `webhooks-server keys create`)%s\n",
                 config.host.c_str(),
                 config.require_keys ? "" : ", or listen on 127.0.0.1");
    return 2;
  }

  HardenedServer::Limits limits;
  limits.max_request_bytes = config.max_body + 16 * 1024;
  HardenedServer server(limits);
  const size_t threads = static_cast<size_t>(config.threads);
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);
  };

  int port = server.Bind(config.host, config.port, &error);
  if (port < 0) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 1;
  }
  const std::string public_base = PublicBase(config, port);

  const Logger log(config.log_format == "json", LevelNamed(config.log_level));
  Metrics metrics;
  std::unique_ptr<RateLimiter> rate_limiter;
  if (config.rate_limit > 0) {
    rate_limiter = std::make_unique<RateLimiter>(config.rate_limit);
  }
  Context ctx{config,      keys, catalog, *store,
              public_base, log,  metrics, rate_limiter.get()};
  MemoryTrimmer trimmer;
  ctx.trimmer = &trimmer;
  std::vector<CompiledRoute> compiled;
  RegisterRoutes(server, FullRouteTable(ctx), &compiled);
  const HostPolicy hosts =
      BuildHostPolicy(config, keys.configured.empty() && !admin_keys);
  InstallHooks(server, config, hosts, log, metrics, compiled);

  Config shown = config;
  shown.port = port;
  PrintConfig(shown, public_base, catalog, admin_keys, hosts);
  const bool v6 = config.host.find(':') != std::string::npos;
  std::printf("listening on http://%s%s%s:%d\n", v6 ? "[" : "",
              config.host.c_str(), v6 ? "]" : "", port);
  std::fflush(stdout);
  // Declared after the log and the server, so it is finished before they go.
  SignalWatcher watcher(server, watched_signals, log);
  if (!server.Serve()) return 1;
  // Stopped by a signal, every request answered: record the clean stop,
  // then fold the WAL into the database file so it is complete on its own.
  if (Status status = store->RecordCleanStop(); !status.ok()) {
    log.Notice("recording the clean stop failed: " + status.message());
    return 1;
  }
  if (Status status = store->Checkpoint(); !status.ok()) {
    log.Notice("checkpoint failed: " + status.message());
    return 1;
  }
  watcher.Finish();
  log.Notice("stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace webhooks

// The fuzz targets (fuzz/) include this file to reach its parsers and its
// route table in process; they bring their own main.
#ifndef WEBHOOKS_NO_MAIN
int main(int argc, char** argv) { return webhooks::Run(argc, argv); }
#endif
