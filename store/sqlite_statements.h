// The SQLite backend's statement table: every SQL statement the store runs,
// named by the Sql enum, with Use, which runs one on a connection, and the
// row readers and one-statement helpers that several store methods share.
// Internal to store/: only the backend's own files include it. Apart from
// sqlite_store.cpp so that the SQL reads as one table, and each method there
// as its flow. Each connection prepares a statement on first use and keeps
// it (Connection::Prepared).

#ifndef WEBHOOKS_STORE_SQLITE_STATEMENTS_H_
#define WEBHOOKS_STORE_SQLITE_STATEMENTS_H_

#include <SQLiteCpp/Statement.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/sqlite_connections.h"
#include "store/store.h"

namespace webhooks {
namespace sqlite_internal {

// Every statement the store runs. Each connection prepares the ones it runs
// on first use and keeps them.
enum class Sql : size_t {
  kInsertEndpoint,
  kSelectEndpointByTriple,
  kSelectEndpointById,
  kSelectEndpointByIdWithFields,
  kSelectEndpointAnyWithFields,
  kListEndpoints,
  kUpsertSetupField,
  kDeleteSetupFields,
  kDeleteEndpoint,
  kSelectEndpointAny,
  kMarkVerified,
  kResetVerified,
  kDeleteSetupField,
  kInsertEvent,
  kSelectEventCount,
  kDeleteOldestEvents,
  kDeleteAgedEvents,
  kSelectPurge,
  kInsertPurge,
  kDeletePurge,
  kListEvents,
  kPing,
  kCountRows,
  kSelectProjectByName,
  kListKeys,
  kRevokeKey,
  kAnyAdminKey,
  kSelectSetupFields,
  kSelectKey,
  kInsertProject,
  kInsertKey,
  kSelectAnyKey,
  kSelectSetting,
  kUpsertSetting,
  kDeleteRunningSetting,
  kSelectSealedField,
  kSelectClearFields,
  kUpdateSetupFieldValue,
  // Deliveries.
  kInsertDelivery,
  kSelectClaimedAtInsert,
  kSelectSubscriptionOfProject,
  kListDeliveries,
  kSelectDelivery,
  kSelectDeliveryAttempts,
  kSelectDeliveryState,
  kRescheduleDelivery,
  kResendDelivery,
  kRecoverDeliveries,
  kSelectDueDeliveries,
  kCancelDelivery,
  kClaimDelivery,
  kInsertDeliveryAttempt,
  kFinishDelivery,
  kDisableSubscription,
  kHoldDeliveries,
  kReleaseLeases,
  kNextDeliveryDue,
  kCountDeliveryQueue,
  kSelectFinishedDeliveries,
  kCountDeliveryAttempts,
  kDeleteDeliveryAttempts,
  kDeleteDelivery,
  // Subscriptions.
  kInsertSubscription,
  kSelectSubscriptionById,
  kSelectSubscriptionByProject,
  kUpdateSubscription,
  kRotateSubscriptionSecret,
  kDeleteSubscription,
  kCancelSubscriptionDeliveries,
  kSelectSealedSubscriptionSecret,
  kSelectClearSubscriptionSecrets,
  kSealSubscriptionSecret,
  kCountEventsByBucket,
  kCountDeliveriesByBucket,
  // A fixture's reset of one project (ResetProject), in this order.
  kResetDeliveryAttempts,
  kResetDeliveries,
  kResetSubscriptions,
  kResetPurges,
  kResetEndpoints,
  kCount,  // not a statement: how many there are
};
static_assert(static_cast<size_t>(Sql::kCount) <= Connection::kMaxStatements);

// The SQL of `sql`, a constant string.
const char* SqlText(Sql sql);

// Statement `sql` of `connection`, reset when the scope ends.
class Use : public Query {
 public:
  Use(Connection& connection, Sql sql)
      : Query(connection.Prepared(static_cast<size_t>(sql), SqlText(sql))) {}
};

// KeyOrigin as api_keys.origin spells it, and back (an unknown name is
// kLocal).
const char* OriginName(KeyOrigin origin);
KeyOrigin OriginFromName(std::string_view name);

// Reads the endpoint columns of the current row of `row` (see SqlText for
// their order) into *out; its setup fields are left as they are.
void ReadEndpointRow(SQLite::Statement& row, WebhookEndpoint* out);

// Reads the endpoint row (without setup fields); false if `id` is not an
// endpoint of `project_id`.
bool SelectEndpoint(Connection& c, std::string_view project_id,
                    std::string_view id, WebhookEndpoint* out);

// Deletes the endpoint's oldest events beyond `keep`, at most
// kMaxPrunedPerEvent of them. Inside the writer's transaction.
void PruneOverCount(Connection& c, const std::string& endpoint_id, size_t keep);

// Deletes at most `limit` of the endpoint's oldest events; returns how many
// it deleted. Inside the writer's transaction.
int64_t DeleteOldestEvents(Connection& c, const std::string& endpoint_id,
                           int64_t limit);

// Inside a transaction.
void InsertProject(Connection& c, const std::string& id,
                   const std::string& name, int64_t created_at_ms);

// Inside a transaction.
void InsertKey(Connection& c, const NewApiKey& key,
               const std::string& project_id);

}  // namespace sqlite_internal
}  // namespace webhooks

#endif  // WEBHOOKS_STORE_SQLITE_STATEMENTS_H_
