// The SQLite backend's webhook subscriptions: each step of the Store's
// subscription methods as a function that runs on a Connection inside the
// caller's transaction (SqliteStore's methods are thin wrappers that choose
// the connection and the transaction). Internal to store/: only the
// backend's own files include it. The secret is sealed at rest through
// SecretsAtRest, like setup values; enabled_events is a JSON array of
// strings.
//
// Every function throws SQLite::Exception when a statement fails, or when a
// stored secret cannot be opened with the store's key.

#ifndef WEBHOOKS_STORE_SQLITE_SUBSCRIPTIONS_H_
#define WEBHOOKS_STORE_SQLITE_SUBSCRIPTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_connections.h"
#include "store/sqlite_secrets.h"
#include "store/store.h"

namespace webhooks {
namespace sqlite_internal {

// enabled_events as stored: a JSON array of strings, and back. Decoding
// throws SQLite::Exception on text that is not such an array (a damaged
// row is a failure, never a guess).
std::string EncodeEventList(const std::vector<std::string>& events);
std::vector<std::string> DecodeEventList(std::string_view json);

// Inserts `subscription` unless its project has one already. Returns true
// and sets *out to it if inserted; else returns false and sets *out to the
// project's existing subscription.
bool InsertSubscription(Connection& c, const SecretsAtRest& secrets,
                        const WebhookSubscription& subscription,
                        WebhookSubscription* out);

// Subscription `id` of `project_id`; false if there is none.
bool SelectSubscription(Connection& c, const SecretsAtRest& secrets,
                        std::string_view project_id, std::string_view id,
                        WebhookSubscription* out);

// The project's subscriptions (at most one).
std::vector<WebhookSubscription> SelectProjectSubscriptions(
    Connection& c, const SecretsAtRest& secrets, std::string_view project_id);

// Applies the changes that are set, enables it and sets updated_at. False
// (and nothing changes) if `id` is not a subscription of `project_id`.
bool UpdateSubscription(Connection& c, const SecretsAtRest& secrets,
                        std::string_view project_id, std::string_view id,
                        const SubscriptionChanges& changes,
                        WebhookSubscription* out);

// Seals and stores `secret`, sets updated_at. False as for the update.
bool RotateSubscriptionSecret(Connection& c, const SecretsAtRest& secrets,
                              std::string_view project_id, std::string_view id,
                              const std::string& secret, int64_t now_ms,
                              WebhookSubscription* out);

// Deletes it and cancels its deliveries not made yet (pending, retrying,
// held). False as for the update.
bool DeleteSubscription(Connection& c, std::string_view project_id,
                        std::string_view id, int64_t now_ms);

}  // namespace sqlite_internal
}  // namespace webhooks

#endif  // WEBHOOKS_STORE_SQLITE_SUBSCRIPTIONS_H_
