// A project's activity (our extension, for the dashboard): the counts per
// minute behind its chart, and the live stream of what changes: events
// stored, deliveries attempted, endpoints and the subscription changed.
// The handlers publish with the functions below; the delivery worker
// publishes its own changes (delivery/worker.h).

#ifndef WEBHOOKS_API_ACTIVITY_H_
#define WEBHOOKS_API_ACTIVITY_H_

#include <httplib.h>

#include <string_view>

#include "api/context.h"

namespace webhooks {

// An event was stored (not a provider's retry of one).
void PublishEventStored(const Context& ctx, std::string_view project_id,
                        const NewEvent& event);
// A resource changed: `kind` "endpoint" ("created", "updated", "deleted",
// "verified") or "subscription" ("created", "updated", "deleted",
// "secret_rotated").
void PublishResourceChange(const Context& ctx, std::string_view project_id,
                           std::string_view kind, std::string_view id,
                           std::string_view change);

// GET webhook_activity?minutes=N (1-1440, default 60): events received and
// deliveries created per minute, with where the deliveries stand now,
// oldest first, one item per minute, empty ones included.
void HandleActivity(const Context& ctx, const httplib::Request& req,
                    httplib::Response& res);

// GET webhook_activity/stream: text/event-stream of the project's changes.
// Read with fetch, so the key travels in a header. A "hello" first; each
// change with id "boot.seq" (resumable with Last-Event-ID, else a "reset"
// tells the page to reload); heartbeat comments; ended after
// --stream-lifetime so a stream never holds its worker for long, and at
// most --max-streams open (503 Stream_LimitReached beyond).
void HandleActivityStream(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res);

}  // namespace webhooks

#endif  // WEBHOOKS_API_ACTIVITY_H_
