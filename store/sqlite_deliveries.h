// The SQLite backend's deliveries (issue 14): the outbox row RecordEvent
// writes beside its event, the worker's claim and finish, the API's list,
// resend and recover, and the pruning of finished deliveries. Internal to
// store/: only the backend's own files include it. Apart from
// sqlite_store.cpp so that its methods stay thin wrappers, each choosing the
// connection (the writer, or a reader's snapshot) while these functions hold
// the flow.
//
// Every function runs on a Connection inside the caller's transaction and
// throws SQLite::Exception when a statement fails; the caller's transaction
// then undoes what it wrote. Outputs are set only when the function
// returns Ok.

#ifndef WEBHOOKS_STORE_SQLITE_DELIVERIES_H_
#define WEBHOOKS_STORE_SQLITE_DELIVERIES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_connections.h"
#include "store/sqlite_secrets.h"
#include "store/store.h"
#include "util/status.h"

namespace webhooks {
namespace sqlite_internal {

// The outbox. After RecordEvent inserted `event` (not for a duplicate), with
// event.delivery set: stores its delivery if the endpoint's project has a
// subscription to kTriggerMessageEvent, pending and due at received_at, or
// held if the subscription is disabled. Without such a subscription it costs
// one look-up by primary key and one by the unique project_id.
// Returns whether a delivery was stored. With
// event.delivery->claim_lease_ms > 0 it is stored claimed (in flight,
// attempt 1) unless it is held.
bool InsertDeliveryForEvent(Connection& c, const NewEvent& event,
                            int64_t event_seq);

// The delivery InsertDeliveryForEvent just stored for `event`, as a claim
// returns it; unset if it was not stored in flight (held).
std::optional<ClaimedDelivery> ClaimedAtInsert(Connection& c,
                                               const SecretsAtRest& secrets,
                                               const NewEvent& event);

// Store::ListDeliveries, on a read snapshot.
Status ListDeliveries(Connection& c, const DeliveryListQuery& query,
                      std::vector<DeliveryRecord>* out, bool* more);

// Store::GetDelivery, on a read snapshot.
Status GetDelivery(Connection& c, std::string_view project_id,
                   std::string_view subscription_id,
                   std::string_view delivery_id, DeliveryRecord* out,
                   std::vector<DeliveryAttempt>* attempts);

// Store::ResendDelivery, in a write transaction.
Status ResendDelivery(Connection& c, std::string_view project_id,
                      std::string_view subscription_id,
                      std::string_view delivery_id, int64_t now_ms,
                      int* attempt);

// Store::RecoverDeliveries, in a write transaction.
Status RecoverDeliveries(Connection& c, std::string_view project_id,
                         std::string_view subscription_id, int64_t since_ms,
                         int64_t until_ms, int64_t now_ms, int64_t* scheduled);

// Store::CountActivity, on a read snapshot.
Status CountActivity(Connection& c, std::string_view project_id,
                     int64_t since_ms, int64_t bucket_ms,
                     std::vector<ActivityBucket>* out);

// Store::ClaimDeliveries, in a write transaction (which is what keeps two
// claims, in this process or another, from taking the same delivery).
// `secrets` opens the subscriptions' secrets (OpenSubscriptionSecret).
Status ClaimDeliveries(Connection& c, const SecretsAtRest& secrets,
                       int64_t now_ms, int64_t lease_ms, size_t max,
                       std::vector<ClaimedDelivery>* out);

// Store::FinishAttempts, in a write transaction.
Status FinishAttempts(Connection& c,
                      const std::vector<AttemptOutcome>& outcomes,
                      int64_t now_ms);

// Store::ReleaseLeases, in a write transaction.
Status ReleaseLeases(Connection& c, int64_t now_ms);

// Store::NextDeliveryDue and Store::CountDeliveryQueue: one statement each.
Status NextDeliveryDue(Connection& c, std::optional<int64_t>* at_ms);
Status CountDeliveryQueue(Connection& c, int64_t now_ms,
                          DeliveryQueueStats* out);

// Age retention of deliveries, for PruneEvents, in its write transaction:
// deletes finished deliveries (succeeded, failed, cancelled) created before
// `cutoff_ms`, oldest first, each with its attempt rows, counting every row
// deleted (delivery or attempt) against `budget`. A delivery goes with all
// its attempts or not at all, so the last one is left for the next slice
// when its rows would pass the budget, unless it is the slice's first (a
// delivery with more attempts than the budget must still go). Returns how
// many rows it deleted. Deliveries not yet final are never deleted.
int64_t PruneFinishedDeliveries(Connection& c, int64_t cutoff_ms,
                                int64_t budget);

// The secret of subscription `subscription_id` in clear, from its stored
// column: every read of webhook_subscriptions.secret for a delivery goes
// through here, so that unsealing it is one change.
std::string OpenSubscriptionSecret(const SecretsAtRest& secrets,
                                   std::string_view subscription_id,
                                   std::string stored);

}  // namespace sqlite_internal
}  // namespace webhooks

#endif  // WEBHOOKS_STORE_SQLITE_DELIVERIES_H_
