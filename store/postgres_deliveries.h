// The PostgreSQL backend's subscriptions and deliveries: the outbox row
// RecordEvent writes beside its event, the worker's claim (FOR UPDATE SKIP
// LOCKED, so instances sharing one database never claim the same row) and
// finish, the API's list, resend and recover, and the pruning of finished
// deliveries. Internal to store/: only the backend's own files include it.
// Apart from postgres_store.cpp so that its methods stay thin wrappers that
// choose the connection and the transaction, while these functions hold
// the flow.
//
// Every function runs on a Connection inside a transaction the caller
// opened (BEGIN ... COMMIT); when one returns a failure the caller rolls
// back, so nothing it wrote stays. Outputs are set only on Ok. Secrets are
// sealed and opened with `box` under SubscriptionSecretContext(id).

#ifndef WEBHOOKS_STORE_POSTGRES_DELIVERIES_H_
#define WEBHOOKS_STORE_POSTGRES_DELIVERIES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres_connection.h"
#include "store/secret_box.h"
#include "store/store.h"
#include "util/status.h"

namespace webhooks::postgres_internal {

// ---- Subscriptions (the Store methods of the same names).

// Conflict with *out set to the project's existing subscription if it has
// one (ON CONFLICT (project_id) DO NOTHING, then a read); Conflict with
// *out unchanged for another unique violation.
Status InsertSubscription(Connection& c, const SecretBox& box,
                          const WebhookSubscription& subscription,
                          WebhookSubscription* out);
Status SelectSubscription(Connection& c, const SecretBox& box,
                          std::string_view project_id, std::string_view id,
                          WebhookSubscription* out);
Status SelectProjectSubscriptions(Connection& c, const SecretBox& box,
                                  std::string_view project_id,
                                  std::vector<WebhookSubscription>* out);
Status UpdateSubscription(Connection& c, const SecretBox& box,
                          std::string_view project_id, std::string_view id,
                          const SubscriptionChanges& changes,
                          WebhookSubscription* out);
Status RotateSubscriptionSecret(Connection& c, const SecretBox& box,
                                std::string_view project_id,
                                std::string_view id, const std::string& secret,
                                int64_t now_ms, WebhookSubscription* out);
Status DeleteSubscription(Connection& c, std::string_view project_id,
                          std::string_view id, int64_t now_ms);

// ---- Deliveries.

// The outbox, called by RecordEvent after it inserted `event` as row
// `event_seq` (never for a duplicate), with event.delivery set: stores its
// delivery if the endpoint's project has a subscription to
// kTriggerMessageEvent, pending and due at received_at, or held if the
// subscription is disabled; nothing without one. With
// event.delivery->claim_lease_ms > 0 and `claimed` not null, a delivery
// that is not held is stored in flight (attempt 1, leased until
// received_at + claim_lease_ms) and returned in *claimed; else *claimed is
// left empty.
Status InsertDeliveryForEvent(Connection& c, const SecretBox& box,
                              const NewEvent& event, int64_t event_seq,
                              std::optional<ClaimedDelivery>* claimed);

Status ListDeliveries(Connection& c, const DeliveryListQuery& query,
                      std::vector<DeliveryRecord>* out, bool* more);
Status GetDelivery(Connection& c, std::string_view project_id,
                   std::string_view subscription_id,
                   std::string_view delivery_id, DeliveryRecord* out,
                   std::vector<DeliveryAttempt>* attempts);
Status ResendDelivery(Connection& c, std::string_view project_id,
                      std::string_view subscription_id,
                      std::string_view delivery_id, int64_t now_ms,
                      int* attempt);
Status RecoverDeliveries(Connection& c, std::string_view project_id,
                         std::string_view subscription_id, int64_t since_ms,
                         int64_t until_ms, int64_t now_ms, int64_t* scheduled);
Status CountActivity(Connection& c, std::string_view project_id,
                     int64_t since_ms, int64_t bucket_ms,
                     std::vector<ActivityBucket>* out);
// FOR UPDATE SKIP LOCKED: a row another transaction is claiming is passed
// over, not waited for, so concurrent claims (any instance) never return
// one delivery twice and never block each other.
Status ClaimDeliveries(Connection& c, const SecretBox& box, int64_t now_ms,
                       int64_t lease_ms, size_t max,
                       std::vector<ClaimedDelivery>* out);
Status FinishAttempts(Connection& c,
                      const std::vector<AttemptOutcome>& outcomes,
                      int64_t now_ms);
Status ReleaseLeases(Connection& c, int64_t now_ms);
Status NextDeliveryDue(Connection& c, std::optional<int64_t>* at_ms);
Status CountDeliveryQueue(Connection& c, int64_t now_ms,
                          DeliveryQueueStats* out);

// Age retention of deliveries, for PruneEvents, in its transaction: as
// sqlite_internal::PruneFinishedDeliveries (finished deliveries created
// before cutoff_ms, oldest first, each with all its attempts, rows counted
// against `budget`, the first one always). *deleted: rows deleted.
Status PruneFinishedDeliveries(Connection& c, int64_t cutoff_ms, int64_t budget,
                               int64_t* deleted);

}  // namespace webhooks::postgres_internal

#endif  // WEBHOOKS_STORE_POSTGRES_DELIVERIES_H_
