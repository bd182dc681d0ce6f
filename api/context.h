// What every handler runs with (Context), built once by server.cpp, and
// the reply for a store failure a handler does not expect.

#ifndef WEBHOOKS_API_CONTEXT_H_
#define WEBHOOKS_API_CONTEXT_H_

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config.h"
#include "ops/change_feed.h"
#include "ops/logger.h"
#include "ops/memory_trimmer.h"
#include "ops/metrics.h"
#include "ops/rate_limiter.h"
#include "store/store.h"
#include "toolkits/catalog.h"
#include "util/id_source.h"

namespace webhooks {

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

// Everything a handler needs; built in main, passed by reference.
struct Context {
  const Config& config;
  const KeyPolicy& keys;
  const ToolkitCatalog& catalog;
  Store& store;
  std::string public_base;  // what every webhook_url written starts with
  const Logger& log;
  Metrics& metrics;
  RateLimiter* rate_limiter;  // null: no limit
  // Null: memory is never trimmed (commands and fuzz targets). Set by Run.
  MemoryTrimmer* trimmer = nullptr;
  // Tells the delivery worker that a delivery may be due now (an event was
  // stored, a resend, a recover). Empty: no worker (commands, fuzz
  // targets). Set by Run.
  std::function<void()> wake_deliveries = nullptr;
  // The lease to claim a new delivery with as its event is stored, or 0
  // (then the worker claims it later); and the hand-over of such a claimed
  // delivery to the worker. Both empty without a worker.
  std::function<int64_t()> delivery_claim_lease = nullptr;
  std::function<void(ClaimedDelivery)> take_delivery = nullptr;
  // What changed, for the dashboard's live stream (api/activity.h). Null:
  // nobody listens (commands, fuzz targets). Set by Run.
  ChangeFeed* changes = nullptr;
  // Where new ids and secrets come from (seeded with --id-seed). Null:
  // RandomToken (commands, fuzz targets). Set by Run.
  IdSource* ids = nullptr;
};

// `prefix` and `length` characters: a new id (or secret) from ctx.ids.
std::string NewId(const Context& ctx, std::string_view prefix, size_t length);

// `prefix`, 8 characters that sort in the order of `millis`, and `length`
// random ones (IdSource::MakeOrdered): an id whose index is appended to.
std::string NewOrderedId(const Context& ctx, std::string_view prefix,
                         int64_t millis, size_t length);

// Who is calling: the project an authenticated request acts for.
struct Caller {
  std::string project_id;
};

// Counts and logs a store failure that the handler does not expect; the
// detail never reaches the client.
void NoteStoreError(const Context& ctx, const std::string& request_id,
                    const Status& status);

// Maps a store failure that the handler does not expect to a response, and
// logs the detail.
void ReplyStoreError(const Context& ctx, httplib::Response& res,
                     const Status& status);

}  // namespace webhooks

#endif  // WEBHOOKS_API_CONTEXT_H_
