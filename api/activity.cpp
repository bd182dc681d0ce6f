#include "api/activity.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/auth.h"
#include "api/errors.h"
#include "util/json_writer.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr long long kMaxActivityMinutes = 1440;
// How long the page waits before it reconnects a stream that ended.
constexpr int kReconnectMs = 2000;
// Heartbeats keep proxies and the page's idle check from taking a quiet
// stream for a dead one.
constexpr int kHeartbeatSeconds = 15;

void Publish(const Context& ctx, std::string_view project_id,
             std::string_view kind, JsonWriter& json) {
  ctx.changes->Publish(project_id, kind, json.Take());
}

// One text/event-stream message. `data` is one line of JSON.
void AppendMessage(std::string_view id, std::string_view event,
                   std::string_view data, std::string* out) {
  if (!id.empty()) {
    out->append("id: ").append(id).append("\n");
  }
  out->append("event: ").append(event).append("\ndata: ");
  out->append(data).append("\n\n");
}

// An open stream: its slot in the feed and where it stands. Shared by the
// library's copies of the content provider.
struct Stream {
  std::unique_ptr<ChangeFeed::Reader> reader;
  uint64_t position = 0;
  bool resumed = false;
  bool greeted = false;
  std::chrono::steady_clock::time_point ends_at;
  std::chrono::seconds heartbeat{kHeartbeatSeconds};
  std::string hello;
};

// The next piece of the stream, written to `sink`: the greeting, the
// changes after the stream's position, a heartbeat, or the end.
bool WriteNext(const std::string& boot_id, Stream& stream,
               httplib::DataSink& sink) {
  std::string out;
  if (!stream.greeted) {
    stream.greeted = true;
    out = "retry: " + std::to_string(kReconnectMs) + "\n\n";
    AppendMessage("", "hello", stream.hello, &out);
    if (!stream.resumed) AppendMessage("", "reset", "{}", &out);
    return sink.write(out.data(), out.size());
  }
  const auto now = std::chrono::steady_clock::now();
  if (now >= stream.ends_at) {
    sink.done();
    return true;
  }
  std::vector<Change> changes;
  switch (stream.reader->Wait(&stream.position,
                              std::min(now + stream.heartbeat, stream.ends_at),
                              &changes)) {
    case ChangeFeed::Reader::Result::kChanges:
      for (const Change& change : changes) {
        AppendMessage(boot_id + "." + std::to_string(change.seq), change.kind,
                      change.data, &out);
      }
      break;
    case ChangeFeed::Reader::Result::kTimedOut:
      out = ": heartbeat\n\n";
      break;
    case ChangeFeed::Reader::Result::kGap:
      // Changes were dropped before this stream read them.
      AppendMessage("", "reset", "{}", &out);
      break;
    case ChangeFeed::Reader::Result::kClosed:
      sink.done();
      return true;
  }
  return sink.write(out.data(), out.size());
}

}  // namespace

void PublishEventStored(const Context& ctx, std::string_view project_id,
                        const NewEvent& event) {
  if (ctx.changes == nullptr) return;
  JsonWriter json;
  json.BeginObject();
  json.Key("id");
  json.Value(event.id);
  json.Key("endpoint_id");
  json.Value(event.endpoint_id);
  json.Key("provider_event_id");
  json.Value(event.provider_event_id);
  json.Key("received_at");
  json.Value(FormatTime(event.received_at_ms));
  json.EndObject();
  Publish(ctx, project_id, "event", json);
}

void PublishResourceChange(const Context& ctx, std::string_view project_id,
                           std::string_view kind, std::string_view id,
                           std::string_view change) {
  if (ctx.changes == nullptr) return;
  JsonWriter json;
  json.BeginObject();
  json.Key("id");
  json.Value(id);
  json.Key("change");
  json.Value(change);
  json.EndObject();
  Publish(ctx, project_id, kind, json);
}

void HandleActivity(const Context& ctx, const httplib::Request& req,
                    httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  long long minutes = 60;
  if (req.has_param("minutes") && !ParseInt(req.get_param_value("minutes"), 1,
                                            kMaxActivityMinutes, &minutes)) {
    ApiError err =
        MakeError(ErrorKind::kBadRequest,
                  "minutes must be a whole number from 1 to " +
                      std::to_string(kMaxActivityMinutes) + "; got '" +
                      Printable(req.get_param_value("minutes"), 32) + "'.");
    err.suggested_fix = "Send minutes=60 for the last hour, or leave it out.";
    return ReplyError(res, err);
  }
  // Whole minutes, the current one last.
  const int64_t now = NowMillis();
  const int64_t since = (now / kMinuteMs - (minutes - 1)) * kMinuteMs;
  std::vector<ActivityBucket> buckets;
  Status status =
      ctx.store.CountActivity(caller.project_id, since, kMinuteMs, &buckets);
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  JsonWriter json;
  json.BeginObject();
  json.Key("bucket_seconds");
  json.Value(60LL);
  json.Key("items");
  json.BeginArray();
  auto next = buckets.begin();
  for (long long minute = 0; minute < minutes; ++minute) {
    const int64_t start = since + minute * kMinuteMs;
    ActivityBucket empty;
    const ActivityBucket& bucket =
        next != buckets.end() && next->start_ms == start ? *next++ : empty;
    json.BeginObject();
    json.Key("start");
    json.Value(FormatTime(start));
    json.Key("events");
    json.Value(static_cast<long long>(bucket.events));
    json.Key("deliveries");
    json.BeginObject();
    json.Key("succeeded");
    json.Value(static_cast<long long>(bucket.succeeded));
    json.Key("failed");
    json.Value(static_cast<long long>(bucket.failed));
    json.Key("waiting");
    json.Value(static_cast<long long>(bucket.waiting));
    json.EndObject();
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  ReplyJson(res, 200, json.Take());
}

void HandleActivityStream(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  auto stream = std::make_shared<Stream>();
  if (ctx.changes != nullptr) {
    stream->reader = ctx.changes->OpenReader(caller.project_id);
  }
  if (stream->reader == nullptr) {
    res.set_header("Retry-After", "5");
    return ReplyError(
        res, MakeError(ErrorKind::kStreamLimit,
                       "Too many live streams are open on this server (at "
                       "most " +
                           std::to_string(ctx.config.max_streams) + ")."));
  }
  ChangeFeed& feed = *ctx.changes;
  // A first connection starts from now; a reconnection resumes, or is told
  // to reload what it shows when the changes it missed are gone.
  const std::string last_event_id = req.get_header_value("Last-Event-ID");
  stream->resumed =
      feed.Resume(last_event_id, &stream->position) || last_event_id.empty();
  const auto lifetime =
      std::chrono::seconds(ctx.config.stream_lifetime_seconds);
  stream->ends_at = std::chrono::steady_clock::now() + lifetime;
  stream->heartbeat = std::min<std::chrono::seconds>(
      std::chrono::seconds(kHeartbeatSeconds), lifetime / 2);
  JsonWriter hello;
  hello.BeginObject();
  hello.Key("boot");
  hello.Value(feed.boot_id());
  hello.Key("heartbeat_seconds");
  hello.Value(static_cast<long long>(stream->heartbeat.count()));
  hello.Key("lifetime_seconds");
  hello.Value(static_cast<long long>(lifetime.count()));
  hello.EndObject();
  stream->hello = hello.Take();
  // 0.11.4 would gzip text/event-stream (any text/*), holding every message
  // in the compressor until the stream ends. The Request is the library's
  // non-const object (see the pre-routing hook).
  const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [stream, &feed](size_t, httplib::DataSink& sink) {
        return WriteNext(feed.boot_id(), *stream, sink);
      },
      // The slot is freed when the response ends, however it ends.
      [stream](bool) { stream->reader.reset(); });
}

}  // namespace webhooks
