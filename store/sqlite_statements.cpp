// The SQL of every statement the SQLite backend runs, and the helpers that
// sqlite_statements.h declares.

#include "store/sqlite_statements.h"

#include <SQLiteCpp/SQLiteCpp.h>

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
      return "SELECT id FROM projects WHERE name = :name ORDER BY "
             "created_at, id LIMIT 1";
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
