// The PostgreSQL schema, one migration per version. A released migration is
// never edited: a change is a new version. The tables mirror schema.sql
// (the SQLite schema) column for column, so a reader of one reads the
// other; what differs is said where it differs.

#include "store/postgres_schema.h"

#include <string>

namespace webhooks::postgres_internal {
namespace {

// Version 1: everything the SQLite schema holds at its version 2.
// - Times are BIGINT milliseconds since the Unix epoch, UTC.
// - Bodies are BYTEA (byte-exact); headers and JSON lists are TEXT.
// - webhook_events.seq is an identity column: it orders events, as SQLite's
//   rowid does.
// - The event counts and the copy of a body a delivery still needs are kept
//   by triggers, as in SQLite.
constexpr char kVersion1[] = R"sql(
CREATE TABLE projects (
  id         TEXT   PRIMARY KEY,
  name       TEXT   NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
  id         TEXT   PRIMARY KEY,
  project_id TEXT   NOT NULL REFERENCES projects (id),
  key_digest BYTEA  NOT NULL UNIQUE CHECK (length(key_digest) = 32),
  origin     TEXT   NOT NULL CHECK (origin IN ('local', 'config', 'admin')),
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX api_keys_by_origin ON api_keys (origin);

-- The UNIQUE triple is what makes create idempotent, across instances:
-- INSERT ... ON CONFLICT on it.
CREATE TABLE webhook_endpoints (
  id           TEXT   PRIMARY KEY,
  project_id   TEXT   NOT NULL REFERENCES projects (id),
  toolkit_slug TEXT   NOT NULL,
  client_id    TEXT   NOT NULL,
  webhook_url  TEXT   NOT NULL,
  created_at   BIGINT NOT NULL,
  verified_at  BIGINT,
  UNIQUE (project_id, toolkit_slug, client_id)
);
CREATE INDEX webhook_endpoints_by_project
  ON webhook_endpoints (project_id, created_at, id);

CREATE TABLE endpoint_setup_fields (
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  value       TEXT NOT NULL,
  PRIMARY KEY (endpoint_id, name)
);

-- No foreign key to the endpoint: a deleted endpoint's events go in slices
-- (endpoint_purges), not in the deleting transaction.
CREATE TABLE webhook_events (
  seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id                TEXT   NOT NULL UNIQUE,
  endpoint_id       TEXT   NOT NULL,
  provider_event_id TEXT   NOT NULL,
  received_at       BIGINT NOT NULL,
  headers           TEXT   NOT NULL,
  body              BYTEA  NOT NULL,
  UNIQUE (endpoint_id, provider_event_id)
);
CREATE INDEX webhook_events_by_endpoint ON webhook_events (endpoint_id, seq);
CREATE INDEX webhook_events_by_received_at ON webhook_events (received_at);

-- How many events each endpoint has (count retention without counting),
-- spread over 16 rows per endpoint (by seq % 16), summed when read: one row
-- per endpoint made every event of that endpoint wait for the previous
-- one's commit (its row lock lasts until the WAL flush), about 300 events/s
-- however many connections or instances. The foreign key refuses an event
-- whose endpoint is gone, and the rows go with their endpoint.
CREATE TABLE endpoint_event_counts (
  endpoint_id TEXT     NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  shard       SMALLINT NOT NULL,
  events      BIGINT   NOT NULL,
  PRIMARY KEY (endpoint_id, shard)
);

CREATE FUNCTION webhook_events_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO endpoint_event_counts (endpoint_id, shard, events)
    VALUES (NEW.endpoint_id, (NEW.seq % 16)::smallint, 1)
    ON CONFLICT (endpoint_id, shard) DO UPDATE SET events = endpoint_event_counts.events + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_events_counted AFTER INSERT ON webhook_events
  FOR EACH ROW EXECUTE FUNCTION webhook_events_counted();

-- The event's own shard: its insert made that row.
CREATE FUNCTION webhook_events_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE endpoint_event_counts SET events = events - 1
    WHERE endpoint_id = OLD.endpoint_id AND shard = (OLD.seq % 16)::smallint;
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_events_uncounted AFTER DELETE ON webhook_events
  FOR EACH ROW EXECUTE FUNCTION webhook_events_uncounted();

CREATE TABLE endpoint_purges (
  endpoint_id TEXT PRIMARY KEY
);

CREATE TABLE store_settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE webhook_subscriptions (
  id             TEXT    PRIMARY KEY,
  project_id     TEXT    NOT NULL UNIQUE REFERENCES projects (id),
  webhook_url    TEXT    NOT NULL,
  version        TEXT    NOT NULL CHECK (version IN ('V1', 'V2', 'V3')),
  enabled_events TEXT    NOT NULL,
  secret         TEXT    NOT NULL,
  enabled        BOOLEAN NOT NULL DEFAULT TRUE,
  created_at     BIGINT  NOT NULL,
  updated_at     BIGINT  NOT NULL
);

-- The outbox (see schema.sql). due_at is when any instance may claim the
-- row: the next attempt (pending, retrying) or the end of the lease
-- (in_flight); NULL otherwise. Claims take rows FOR UPDATE SKIP LOCKED.
CREATE TABLE webhook_deliveries (
  id                 TEXT    PRIMARY KEY,
  subscription_id    TEXT    NOT NULL,
  project_id         TEXT    NOT NULL,
  message_id         TEXT    NOT NULL,
  event_id           TEXT    NOT NULL,
  endpoint_id        TEXT    NOT NULL,
  toolkit_slug       TEXT    NOT NULL,
  trigger_slug       TEXT    NOT NULL,
  user_id            TEXT    NOT NULL,
  content_type       TEXT    NOT NULL,
  event_received_at  BIGINT  NOT NULL,
  event_seq          BIGINT  NOT NULL,
  body               BYTEA,
  status             TEXT    NOT NULL CHECK (status IN ('pending', 'in_flight', 'succeeded',
                                                        'retrying', 'failed', 'held',
                                                        'cancelled')),
  due_at             BIGINT,
  attempts           INTEGER NOT NULL DEFAULT 0,
  automatic_attempts INTEGER NOT NULL DEFAULT 0,
  manual             BOOLEAN NOT NULL DEFAULT FALSE,
  next_attempt_at    BIGINT,
  last_status_code   INTEGER,
  last_error         TEXT    NOT NULL DEFAULT '',
  created_at         BIGINT  NOT NULL,
  updated_at         BIGINT  NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at)
  WHERE due_at IS NOT NULL;
CREATE INDEX webhook_deliveries_by_subscription
  ON webhook_deliveries (subscription_id, created_at, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at)
  WHERE status IN ('succeeded', 'failed', 'cancelled');
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_seq);

CREATE FUNCTION webhook_events_keep_delivery_bodies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE webhook_deliveries SET body = OLD.body
    WHERE event_seq = OLD.seq AND body IS NULL AND status <> 'succeeded'
      AND status <> 'cancelled';
  RETURN OLD;
END $$;
CREATE TRIGGER webhook_events_keep_delivery_bodies BEFORE DELETE ON webhook_events
  FOR EACH ROW EXECUTE FUNCTION webhook_events_keep_delivery_bodies();

CREATE TABLE webhook_delivery_attempts (
  delivery_id      TEXT    NOT NULL,
  attempt          INTEGER NOT NULL,
  started_at       BIGINT  NOT NULL,
  request_headers  TEXT    NOT NULL,
  status_code      INTEGER,
  error_class      TEXT    NOT NULL,
  duration_ms      BIGINT  NOT NULL,
  response_headers TEXT    NOT NULL,
  response_body    BYTEA   NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);
)sql";

constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version    INTEGER PRIMARY KEY,"
    "  name       TEXT    NOT NULL,"
    "  applied_at BIGINT  NOT NULL)";

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "initial schema (SQLite schema version 2)", kVersion1},
  };
  return kMigrations;
}

int LatestSchemaVersion() { return Migrations().back().version; }

Status ApplyMigrations(Connection& c, int64_t at_ms, int* from, int* to) {
  Status status = c.Run("BEGIN");
  if (!status.ok()) return status;
  // Whatever fails below, the transaction is rolled back (and the lock
  // released with it) before we return.
  auto fail = [&c](Status failure) {
    (void)c.Run("ROLLBACK");
    return failure;
  };
  Result result;
  status = c.Exec("migrate_lock", "SELECT pg_advisory_xact_lock($1::bigint)",
                  {Text(std::to_string(kMigrationLockKey))}, &result);
  if (!status.ok()) return fail(status);
  // Quietly: "already exists, skipping" is a NOTICE on every start.
  status = c.Run("SET LOCAL client_min_messages = warning");
  if (!status.ok()) return fail(status);
  status = c.Run(kCreateMigrationsTable);
  if (!status.ok()) return fail(status);
  status = c.Exec("migrate_version",
                  "SELECT coalesce(max(version), 0) FROM schema_migrations", {},
                  &result);
  if (!status.ok()) return fail(status);
  int64_t found = 0;
  if (!result.Int64(0, 0, &found)) {
    return fail(Status::Internal("schema_migrations: unreadable version"));
  }
  if (found > LatestSchemaVersion()) {
    return fail(Status::InvalidArgument(
        "the database's schema is at version " + std::to_string(found) +
        ", newer than this server's " + std::to_string(LatestSchemaVersion()) +
        ": run a newer webhooks-server against it"));
  }
  for (const Migration& migration : Migrations()) {
    if (migration.version <= found) continue;
    status = c.Run(migration.sql);
    if (!status.ok()) return fail(status);
    status = c.Exec("migrate_record",
                    "INSERT INTO schema_migrations (version, name, applied_at) "
                    "VALUES ($1::integer, $2, $3::bigint)",
                    {Text(std::to_string(migration.version)),
                     Text(migration.name), Text(std::to_string(at_ms))},
                    &result);
    if (!status.ok()) return fail(status);
  }
  status = c.Run("COMMIT");
  if (!status.ok()) return fail(status);
  *from = static_cast<int>(found);
  *to = LatestSchemaVersion();
  return Status::Ok();
}

}  // namespace webhooks::postgres_internal
