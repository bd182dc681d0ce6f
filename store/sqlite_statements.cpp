// The SQL of every statement the SQLite backend runs, and the helpers that
// sqlite_statements.h declares.

#include "store/sqlite_statements.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace webhooks {
namespace sqlite_internal {

// The columns ReadEndpointRow reads, in its order, are spelled out in every
// statement that feeds it: id, project_id, toolkit_slug, client_id,
// webhook_url, created_at, verified_at.
const char* SqlText(Sql sql) {
  switch (sql) {
    case Sql::kInsertEndpoint:
      return "INSERT INTO webhook_endpoints (id, project_id, toolkit_slug, "
             "client_id, webhook_url, created_at) VALUES (:id, :project_id, "
             ":toolkit_slug, :client_id, :webhook_url, :created_at) ON "
             "CONFLICT (project_id, toolkit_slug, client_id) DO NOTHING "
             "RETURNING id, project_id, toolkit_slug, client_id, "
             "webhook_url, created_at, verified_at";
    // The three "with fields" reads return one row per setup field (one row
    // of NULLs without any): one statement, so one implicit read
    // transaction, instead of BEGIN, two SELECTs and COMMIT.
    case Sql::kSelectEndpointByTriple:
      return "SELECT e.id, e.project_id, e.toolkit_slug, e.client_id, "
             "e.webhook_url, e.created_at, e.verified_at, f.name, f.value "
             "FROM webhook_endpoints e LEFT JOIN endpoint_setup_fields f ON "
             "f.endpoint_id = e.id WHERE e.project_id = :project_id AND "
             "e.toolkit_slug = :toolkit_slug AND e.client_id = :client_id "
             "ORDER BY f.name";
    case Sql::kSelectEndpointByIdWithFields:
      return "SELECT e.id, e.project_id, e.toolkit_slug, e.client_id, "
             "e.webhook_url, e.created_at, e.verified_at, f.name, f.value "
             "FROM webhook_endpoints e LEFT JOIN endpoint_setup_fields f ON "
             "f.endpoint_id = e.id WHERE e.id = :id AND e.project_id = "
             ":project_id ORDER BY f.name";
    case Sql::kSelectEndpointAnyWithFields:
      return "SELECT e.id, e.project_id, e.toolkit_slug, e.client_id, "
             "e.webhook_url, e.created_at, e.verified_at, f.name, f.value "
             "FROM webhook_endpoints e LEFT JOIN endpoint_setup_fields f ON "
             "f.endpoint_id = e.id WHERE e.id = :id ORDER BY f.name";
    case Sql::kSelectEndpointById:
      return "SELECT id, project_id, toolkit_slug, client_id, webhook_url, "
             "created_at, verified_at FROM webhook_endpoints WHERE id = :id "
             "AND project_id = :project_id";
    // Without a position the first page starts after the least one, so
    // that the position always bounds the index search: behind "(:after IS
    // NULL OR ...)" SQLite scanned the project from its start for every
    // page, and an unpaged list of 40,000 endpoints read in pages cost 9x
    // the CPU.
    case Sql::kListEndpoints:
      return "SELECT id, toolkit_slug, client_id, created_at FROM "
             "webhook_endpoints WHERE "
             "project_id = :project_id AND (:toolkit_slug IS NULL OR "
             "toolkit_slug = :toolkit_slug) AND (created_at, id) > "
             "(coalesce(:after_created_at, -9223372036854775808), "
             "coalesce(:after_id, '')) ORDER BY created_at, id LIMIT :limit";
    case Sql::kUpsertSetupField:
      return "INSERT INTO endpoint_setup_fields (endpoint_id, name, value) "
             "VALUES (:endpoint_id, :name, :value) ON CONFLICT (endpoint_id, "
             "name) DO UPDATE SET value = excluded.value";
    case Sql::kDeleteSetupFields:
      return "DELETE FROM endpoint_setup_fields WHERE endpoint_id = "
             ":endpoint_id";
    case Sql::kDeleteEndpoint:
      return "DELETE FROM webhook_endpoints WHERE id = :id AND project_id = "
             ":project_id";
    case Sql::kSelectEndpointAny:
      return "SELECT id, project_id, toolkit_slug, client_id, webhook_url, "
             "created_at, verified_at FROM webhook_endpoints WHERE id = :id";
    case Sql::kMarkVerified:
      return "UPDATE webhook_endpoints SET verified_at = :at WHERE id = :id "
             "AND verified_at IS NULL";
    case Sql::kResetVerified:
      return "UPDATE webhook_endpoints SET verified_at = NULL WHERE id = :id "
             "AND project_id = :project_id";
    case Sql::kDeleteSetupField:
      return "DELETE FROM endpoint_setup_fields WHERE endpoint_id = "
             ":endpoint_id AND name = :name";
    case Sql::kInsertEvent:
      return "INSERT INTO webhook_events (id, endpoint_id, provider_event_id, "
             "received_at, headers, body) VALUES (:id, :endpoint_id, "
             ":provider_event_id, :received_at, :headers, :body) ON CONFLICT "
             "(endpoint_id, provider_event_id) DO NOTHING";
    // The deletes below find their rows through an index and stop after
    // :limit: their cost is the rows they delete, never the rows kept
    // (EXPLAIN QUERY PLAN: SEARCH ... USING COVERING INDEX, no SCAN).
    case Sql::kSelectEventCount:
      return "SELECT events FROM endpoint_event_counts WHERE endpoint_id = "
             ":endpoint_id";
    case Sql::kDeleteOldestEvents:
      return "DELETE FROM webhook_events WHERE seq IN (SELECT seq FROM "
             "webhook_events WHERE endpoint_id = :endpoint_id ORDER BY seq "
             "LIMIT :limit)";
    case Sql::kDeleteAgedEvents:
      return "DELETE FROM webhook_events WHERE seq IN (SELECT seq FROM "
             "webhook_events WHERE received_at < :cutoff ORDER BY "
             "received_at LIMIT :limit)";
    case Sql::kSelectPurge:
      return "SELECT endpoint_id FROM endpoint_purges LIMIT 1";
    case Sql::kInsertPurge:
      return "INSERT INTO endpoint_purges (endpoint_id) VALUES (:endpoint_id) "
             "ON CONFLICT (endpoint_id) DO NOTHING";
    case Sql::kDeletePurge:
      return "DELETE FROM endpoint_purges WHERE endpoint_id = :endpoint_id";
    case Sql::kListEvents:
      return "SELECT seq, id, provider_event_id, received_at, headers, body "
             "FROM webhook_events WHERE endpoint_id = :endpoint_id AND "
             "(:before = 0 OR seq < :before) ORDER BY seq DESC LIMIT :limit";
    case Sql::kPing:
      return "SELECT count(*) FROM projects";
    case Sql::kCountRows:
      return "SELECT (SELECT count(*) FROM webhook_endpoints), (SELECT "
             "count(*) FROM webhook_events)";
    case Sql::kSelectProjectByName:
      // The project with that id first, then those with that name.
      return "SELECT id, id = :name FROM projects WHERE id = :name OR name "
             "= :name ORDER BY id = :name DESC, created_at, id LIMIT 2";
    case Sql::kListKeys:
      return "SELECT k.id, k.project_id, p.name, k.origin, k.created_at, "
             "k.revoked_at FROM api_keys k JOIN projects p ON p.id = "
             "k.project_id ORDER BY k.created_at, k.id";
    case Sql::kRevokeKey:
      return "UPDATE api_keys SET revoked_at = :at WHERE id = :id AND "
             "revoked_at IS NULL";
    case Sql::kAnyAdminKey:
      return "SELECT EXISTS (SELECT 1 FROM api_keys WHERE origin = 'admin')";
    case Sql::kSelectSetupFields:
      return "SELECT name, value FROM endpoint_setup_fields WHERE "
             "endpoint_id = :endpoint_id ORDER BY name";
    case Sql::kSelectKey:
      return "SELECT id, project_id, origin, key_digest, revoked_at IS NOT "
             "NULL FROM api_keys WHERE key_digest = :key_digest";
    case Sql::kInsertProject:
      return "INSERT INTO projects (id, name, created_at) VALUES (:id, "
             ":name, :created_at)";
    case Sql::kInsertKey:
      return "INSERT INTO api_keys (id, project_id, key_digest, origin, "
             "created_at) VALUES (:id, :project_id, :key_digest, :origin, "
             ":created_at)";
    case Sql::kSelectAnyKey:
      return "SELECT project_id FROM api_keys WHERE key_digest = :key_digest";
    case Sql::kSelectSetting:
      return "SELECT value FROM store_settings WHERE name = :name";
    case Sql::kUpsertSetting:
      return "INSERT INTO store_settings (name, value) VALUES (:name, "
             ":value) ON CONFLICT (name) DO UPDATE SET value = "
             "excluded.value";
    case Sql::kDeleteRunningSetting:
      return "DELETE FROM store_settings WHERE name = :name AND value = "
             ":value";
    case Sql::kSelectSealedField:
      return "SELECT endpoint_id, name, value FROM endpoint_setup_fields "
             "WHERE substr(value, 1, length(:prefix)) = :prefix LIMIT 1";
    case Sql::kSelectClearFields:
      return "SELECT endpoint_id, name, value FROM endpoint_setup_fields "
             "WHERE substr(value, 1, length(:prefix)) <> :prefix";
    case Sql::kUpdateSetupFieldValue:
      return "UPDATE endpoint_setup_fields SET value = :value WHERE "
             "endpoint_id = :endpoint_id AND name = :name";
    // ---- Deliveries (store/sqlite_deliveries.cpp). The columns of a
    // DeliveryRecord, in ReadDeliveryRecord's order: id, subscription_id,
    // message_id, event_id, endpoint_id, status, attempts, next_attempt_at,
    // last_status_code, last_error, created_at, updated_at.
    //
    // The outbox: one statement, so that an event without a subscription
    // costs two indexed look-ups (the endpoint by id, the subscription by
    // its unique project_id) and writes nothing.
    // With :lease > 0 the delivery is stored claimed: in flight, attempt 1,
    // due again (by another claim) only when the lease ends.
    case Sql::kInsertDelivery:
      return "INSERT INTO webhook_deliveries (id, subscription_id, "
             "project_id, message_id, event_id, endpoint_id, toolkit_slug, "
             "trigger_slug, user_id, content_type, event_received_at, "
             "event_seq, status, due_at, next_attempt_at, attempts, "
             "automatic_attempts, created_at, updated_at) "
             "SELECT :id, s.id, s.project_id, :message_id, :event_id, e.id, "
             "e.toolkit_slug, :trigger_slug, :user_id, :content_type, "
             ":received_at, :event_seq, CASE WHEN NOT s.enabled THEN 'held' "
             "WHEN :lease > 0 THEN 'in_flight' ELSE 'pending' END, CASE WHEN "
             "s.enabled THEN :received_at + :lease END, CASE WHEN s.enabled "
             "AND :lease = 0 THEN :received_at END, CASE WHEN s.enabled AND "
             ":lease > 0 THEN 1 ELSE 0 END, CASE WHEN s.enabled AND :lease > "
             "0 THEN 1 ELSE 0 END, :received_at, :received_at FROM "
             "webhook_endpoints e JOIN webhook_subscriptions s ON "
             "s.project_id = e.project_id WHERE e.id = :endpoint_id AND "
             "EXISTS (SELECT 1 FROM json_each(s.enabled_events) WHERE value "
             "= :event_type)";
    case Sql::kSelectClaimedAtInsert:
      return "SELECT d.toolkit_slug, d.subscription_id, s.webhook_url, "
             "s.secret, s.version, d.project_id FROM webhook_deliveries d JOIN "
             "webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id "
             "= :id AND d.status = 'in_flight'";
    // The dashboard's chart: events and deliveries per time bucket since a
    // time, along the received_at and subscription indexes. A deleted
    // endpoint's events, not yet purged, are not counted.
    case Sql::kCountEventsByBucket:
      return "SELECT (e.received_at - :since) / :bucket, count(*) FROM "
             "webhook_events e JOIN webhook_endpoints p ON p.id = "
             "e.endpoint_id WHERE e.received_at >= :since AND p.project_id = "
             ":project_id GROUP BY 1";
    case Sql::kCountDeliveriesByBucket:
      return "SELECT (created_at - :since) / :bucket, status, count(*) FROM "
             "webhook_deliveries WHERE subscription_id IN (SELECT id FROM "
             "webhook_subscriptions WHERE project_id = :project_id) AND "
             "created_at >= :since GROUP BY 1, 2";
    case Sql::kSelectSubscriptionOfProject:
      return "SELECT 1 FROM webhook_subscriptions WHERE id = :id AND "
             "project_id = :project_id";
    // Newest first from the cursor, which always bounds the index search
    // (see kListEndpoints); with no cursor the bound is past any time. A
    // status filter is checked row by row along the subscription's index.
    case Sql::kListDeliveries:
      return "SELECT id, subscription_id, message_id, event_id, "
             "endpoint_id, status, attempts, next_attempt_at, "
             "last_status_code, last_error, created_at, updated_at FROM "
             "webhook_deliveries WHERE subscription_id = :subscription_id "
             "AND (:status IS NULL OR status = :status) AND (created_at, id) "
             "< (coalesce(:after_created_at, 9223372036854775807), "
             "coalesce(:after_id, '')) ORDER BY created_at DESC, id DESC "
             "LIMIT :limit";
    case Sql::kSelectDelivery:
      return "SELECT id, subscription_id, message_id, event_id, "
             "endpoint_id, status, attempts, next_attempt_at, "
             "last_status_code, last_error, created_at, updated_at FROM "
             "webhook_deliveries WHERE id = :id AND subscription_id = "
             ":subscription_id";
    case Sql::kSelectDeliveryAttempts:
      return "SELECT attempt, started_at, request_headers, status_code, "
             "error_class, duration_ms, response_headers, response_body "
             "FROM webhook_delivery_attempts WHERE delivery_id = "
             ":delivery_id ORDER BY attempt";
    // Whether the body is still stored: a succeeded delivery gives it up
    // with its event (the trigger on webhook_events).
    case Sql::kSelectDeliveryState:
      return "SELECT status, attempts, body IS NOT NULL OR EXISTS (SELECT 1 "
             "FROM webhook_events e WHERE e.seq = event_seq) FROM "
             "webhook_deliveries WHERE id = :id AND subscription_id = "
             ":subscription_id";
    case Sql::kRescheduleDelivery:
      return "UPDATE webhook_deliveries SET due_at = :now, next_attempt_at "
             "= :now, updated_at = :now WHERE id = :id";
    case Sql::kResendDelivery:
      return "UPDATE webhook_deliveries SET status = 'pending', manual = 1, "
             "due_at = :now, next_attempt_at = :now, updated_at = :now WHERE "
             "id = :id";
    case Sql::kRecoverDeliveries:
      return "UPDATE webhook_deliveries SET status = 'pending', manual = 1, "
             "due_at = :now, next_attempt_at = :now, updated_at = :now WHERE "
             "subscription_id = :subscription_id AND created_at >= :since AND "
             "created_at <= :until AND status IN ('failed', 'held')";
    // Through the partial index on due_at: the claim's cost is the rows it
    // takes. The LEFT JOIN tells a delivery whose subscription is gone.
    case Sql::kSelectDueDeliveries:
      return "SELECT d.id, d.attempts, d.automatic_attempts, d.manual, "
             "d.message_id, d.event_id, d.endpoint_id, d.toolkit_slug, "
             "d.trigger_slug, d.user_id, d.content_type, "
             "d.event_received_at, coalesce(d.body, (SELECT e.body FROM "
             "webhook_events e WHERE e.seq = d.event_seq)), "
             "d.subscription_id, s.id IS NOT NULL, s.webhook_url, s.secret, "
             "s.version, d.project_id FROM webhook_deliveries d LEFT JOIN "
             "webhook_subscriptions s ON s.id = d.subscription_id WHERE "
             "d.due_at <= :now ORDER BY d.due_at LIMIT :limit";
    case Sql::kCancelDelivery:
      return "UPDATE webhook_deliveries SET status = 'cancelled', due_at = "
             "NULL, next_attempt_at = NULL, updated_at = :now WHERE id = :id";
    case Sql::kClaimDelivery:
      return "UPDATE webhook_deliveries SET status = 'in_flight', due_at = "
             ":lease_end, next_attempt_at = NULL, attempts = attempts + 1, "
             "automatic_attempts = automatic_attempts + (manual = 0), "
             "updated_at = :now WHERE id = :id";
    // Only for a delivery that exists: pruning finds attempts through their
    // delivery, and an orphan would stay for ever.
    case Sql::kInsertDeliveryAttempt:
      return "INSERT INTO webhook_delivery_attempts (delivery_id, attempt, "
             "started_at, request_headers, status_code, error_class, "
             "duration_ms, response_headers, response_body) SELECT "
             ":delivery_id, :attempt, :started_at, :request_headers, "
             ":status_code, :error_class, :duration_ms, :response_headers, "
             ":response_body WHERE EXISTS (SELECT 1 FROM webhook_deliveries "
             "WHERE id = :delivery_id) ON CONFLICT (delivery_id, attempt) DO "
             "NOTHING";
    case Sql::kFinishDelivery:
      return "UPDATE webhook_deliveries SET status = :status, due_at = "
             ":next, next_attempt_at = :next, manual = 0, last_status_code = "
             ":status_code, last_error = :error, updated_at = :now WHERE id = "
             ":id AND status = 'in_flight' AND attempts = :attempt RETURNING "
             "subscription_id";
    case Sql::kDisableSubscription:
      return "UPDATE webhook_subscriptions SET enabled = 0, updated_at = "
             ":now WHERE id = :id";
    case Sql::kHoldDeliveries:
      return "UPDATE webhook_deliveries SET status = 'held', due_at = NULL, "
             "next_attempt_at = NULL, updated_at = :now WHERE "
             "subscription_id = :subscription_id AND status IN ('pending', "
             "'retrying')";
    // Rows already due are left alone: the range stays on the index.
    case Sql::kReleaseLeases:
      return "UPDATE webhook_deliveries SET due_at = :now WHERE due_at > "
             ":now AND status = 'in_flight'";
    case Sql::kNextDeliveryDue:
      return "SELECT min(due_at) FROM webhook_deliveries WHERE due_at IS NOT "
             "NULL";
    // Counts over the partial index on due_at: its size is the queue's, not
    // the table's. A due row is pending, retrying or an ended lease.
    case Sql::kCountDeliveryQueue:
      return "SELECT (SELECT count(*) FROM webhook_deliveries WHERE due_at "
             "<= :now), (SELECT count(*) FROM webhook_deliveries WHERE due_at "
             "IS NOT NULL), (SELECT min(due_at) FROM webhook_deliveries WHERE "
             "due_at <= :now)";
    // The status term is spelled as in the partial index
    // webhook_deliveries_finished, which SQLite needs to use it.
    case Sql::kSelectFinishedDeliveries:
      return "SELECT id FROM webhook_deliveries WHERE (status = 'succeeded' "
             "OR status = 'failed' OR status = 'cancelled') AND created_at < "
             ":cutoff ORDER BY created_at LIMIT :limit";
    case Sql::kCountDeliveryAttempts:
      return "SELECT count(*) FROM webhook_delivery_attempts WHERE "
             "delivery_id = :delivery_id";
    case Sql::kDeleteDeliveryAttempts:
      return "DELETE FROM webhook_delivery_attempts WHERE delivery_id = "
             ":delivery_id";
    case Sql::kDeleteDelivery:
      return "DELETE FROM webhook_deliveries WHERE id = :id";
    // Subscriptions. The columns ReadSubscriptionRow reads, in its order:
    // id, project_id, webhook_url, version, enabled_events, secret,
    // enabled, created_at, updated_at. The UNIQUE project_id makes a second
    // create do nothing, even when two arrive at once. In the UPDATEs an
    // unbound parameter is NULL, so coalesce keeps the stored value.
    case Sql::kInsertSubscription:
      return "INSERT INTO webhook_subscriptions (id, project_id, "
             "webhook_url, version, enabled_events, secret, enabled, "
             "created_at, updated_at) VALUES (:id, :project_id, :webhook_url, "
             ":version, :enabled_events, :secret, :enabled, :created_at, "
             ":updated_at) ON CONFLICT (project_id) DO NOTHING";
    case Sql::kSelectSubscriptionById:
      return "SELECT id, project_id, webhook_url, version, enabled_events, "
             "secret, enabled, created_at, updated_at FROM "
             "webhook_subscriptions WHERE id = :id AND project_id = "
             ":project_id";
    case Sql::kSelectSubscriptionByProject:
      return "SELECT id, project_id, webhook_url, version, enabled_events, "
             "secret, enabled, created_at, updated_at FROM "
             "webhook_subscriptions WHERE project_id = :project_id";
    case Sql::kUpdateSubscription:
      return "UPDATE webhook_subscriptions SET webhook_url = "
             "coalesce(:webhook_url, webhook_url), version = "
             "coalesce(:version, version), enabled_events = "
             "coalesce(:enabled_events, enabled_events), enabled = 1, "
             "updated_at = :updated_at WHERE id = :id AND project_id = "
             ":project_id RETURNING id, project_id, webhook_url, version, "
             "enabled_events, secret, enabled, created_at, updated_at";
    case Sql::kRotateSubscriptionSecret:
      return "UPDATE webhook_subscriptions SET secret = :secret, updated_at "
             "= :updated_at WHERE id = :id AND project_id = :project_id "
             "RETURNING id, project_id, webhook_url, version, "
             "enabled_events, secret, enabled, created_at, updated_at";
    case Sql::kDeleteSubscription:
      return "DELETE FROM webhook_subscriptions WHERE id = :id AND "
             "project_id = :project_id";
    case Sql::kCancelSubscriptionDeliveries:
      return "UPDATE webhook_deliveries SET status = 'cancelled', due_at = "
             "NULL, next_attempt_at = NULL, updated_at = :now WHERE "
             "subscription_id = :id AND status IN ('pending', 'retrying', "
             "'held')";
    case Sql::kSelectSealedSubscriptionSecret:
      return "SELECT id, secret FROM webhook_subscriptions WHERE "
             "substr(secret, 1, length(:prefix)) = :prefix LIMIT 1";
    case Sql::kSelectClearSubscriptionSecrets:
      return "SELECT id, secret FROM webhook_subscriptions WHERE "
             "substr(secret, 1, length(:prefix)) <> :prefix";
    case Sql::kSealSubscriptionSecret:
      return "UPDATE webhook_subscriptions SET secret = :secret WHERE id = "
             ":id";
    // A fixture's reset of one project. Deliveries are found by project_id
    // with no index of their own (their subscription may be gone): a scan,
    // acceptable for a local-mode test database, and no cost added to the
    // ingress's inserts.
    case Sql::kResetDeliveryAttempts:
      return "DELETE FROM webhook_delivery_attempts WHERE delivery_id IN "
             "(SELECT id FROM webhook_deliveries WHERE project_id = "
             ":project_id)";
    case Sql::kResetDeliveries:
      return "DELETE FROM webhook_deliveries WHERE project_id = :project_id";
    case Sql::kResetSubscriptions:
      return "DELETE FROM webhook_subscriptions WHERE project_id = "
             ":project_id";
    case Sql::kResetPurges:
      return "INSERT INTO endpoint_purges (endpoint_id) SELECT id FROM "
             "webhook_endpoints WHERE project_id = :project_id ON CONFLICT "
             "(endpoint_id) DO NOTHING";
    case Sql::kResetEndpoints:
      return "DELETE FROM webhook_endpoints WHERE project_id = :project_id";
    case Sql::kCount:
      break;
  }
  return "SELECT 'no such statement'";
}

const char* OriginName(KeyOrigin origin) {
  switch (origin) {
    case KeyOrigin::kLocal:
      return "local";
    case KeyOrigin::kConfig:
      return "config";
    case KeyOrigin::kAdmin:
      return "admin";
  }
  return "local";
}

KeyOrigin OriginFromName(std::string_view name) {
  if (name == "config") return KeyOrigin::kConfig;
  if (name == "admin") return KeyOrigin::kAdmin;
  return KeyOrigin::kLocal;
}

void ReadEndpointRow(SQLite::Statement& row, WebhookEndpoint* out) {
  out->id = row.getColumn(0).getString();
  out->project_id = row.getColumn(1).getString();
  out->toolkit_slug = row.getColumn(2).getString();
  out->client_id = row.getColumn(3).getString();
  out->webhook_url = row.getColumn(4).getString();
  out->created_at_ms = row.getColumn(5).getInt64();
  if (row.isColumnNull(6)) {
    out->verified_at_ms.reset();
  } else {
    out->verified_at_ms = row.getColumn(6).getInt64();
  }
}

bool SelectEndpoint(Connection& c, std::string_view project_id,
                    std::string_view id, WebhookEndpoint* out) {
  Use select(c, Sql::kSelectEndpointById);
  select->bind(":id", std::string(id));
  select->bind(":project_id", std::string(project_id));
  if (!select->executeStep()) return false;
  ReadEndpointRow(*select, out);
  return true;
}

void PruneOverCount(Connection& c, const std::string& endpoint_id,
                    size_t keep) {
  int64_t stored = 0;
  {
    Use select(c, Sql::kSelectEventCount);
    select->bind(":endpoint_id", endpoint_id);
    if (select->executeStep()) stored = select->getColumn(0).getInt64();
  }
  const int64_t excess = stored - static_cast<int64_t>(keep);
  if (excess <= 0) return;
  DeleteOldestEvents(
      c, endpoint_id,
      std::min(excess, static_cast<int64_t>(kMaxPrunedPerEvent)));
}

int64_t DeleteOldestEvents(Connection& c, const std::string& endpoint_id,
                           int64_t limit) {
  Use remove(c, Sql::kDeleteOldestEvents);
  remove->bind(":endpoint_id", endpoint_id);
  remove->bind(":limit", limit);
  return remove->exec();
}

void InsertProject(Connection& c, const std::string& id,
                   const std::string& name, int64_t created_at_ms) {
  Use insert(c, Sql::kInsertProject);
  insert->bind(":id", id);
  insert->bind(":name", name);
  insert->bind(":created_at", created_at_ms);
  insert->exec();
}

void InsertKey(Connection& c, const NewApiKey& key,
               const std::string& project_id) {
  Use insert(c, Sql::kInsertKey);
  insert->bind(":id", key.key_id);
  insert->bind(":project_id", project_id);
  insert->bind(":key_digest", key.key_digest.data(),
               static_cast<int>(key.key_digest.size()));
  insert->bind(":origin", OriginName(key.origin));
  insert->bind(":created_at", key.created_at_ms);
  insert->exec();
}

}  // namespace sqlite_internal
}  // namespace webhooks
