-- The one schema of webhooks-server. Plain SQL: paste it into `sqlite3` to inspect a database.
-- It is compiled into the binary (store/schema.cpp.in) and applied on every open, so every
-- statement is idempotent.
PRAGMA foreign_keys = ON;

-- A project owns endpoints; API keys authenticate as a project.
CREATE TABLE IF NOT EXISTS projects (
  id         TEXT    PRIMARY KEY,
  name       TEXT    NOT NULL,
  created_at INTEGER NOT NULL   -- milliseconds since the Unix epoch, UTC
) STRICT;

-- Keys are stored only as SHA-256 digests. `origin` tells how a key arrived: 'local' (zero-config
-- mode, registered on first use), 'config' (--api-key / WEBHOOKS_API_KEYS) or 'admin' (the keys
-- command, a later issue).
CREATE TABLE IF NOT EXISTS api_keys (
  id         TEXT    PRIMARY KEY,
  project_id TEXT    NOT NULL REFERENCES projects (id),
  key_digest BLOB    NOT NULL UNIQUE CHECK (length(key_digest) = 32),
  origin     TEXT    NOT NULL CHECK (origin IN ('local', 'config', 'admin')),
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;

-- "Was an admin key ever created?" is asked on every request in local mode: with this index it is
-- one look-up, whatever the number of keys (a scan took 1.47 ms a request at 20,000 keys).
CREATE INDEX IF NOT EXISTS api_keys_by_origin ON api_keys (origin);

-- The UNIQUE triple is what makes create idempotent, across threads and processes alike.
-- Version 3: WITHOUT ROWID, keyed by what the list query reads in order, (project_id, created_at,
-- id), so a list is one range of the table itself, and a new endpoint writes three b-trees (this
-- one, id's and the triple's), not four (a rowid table, its id, the triple, a list index): one
-- page less in every create's commit (issue 18).
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id           TEXT    NOT NULL UNIQUE,
  project_id   TEXT    NOT NULL REFERENCES projects (id),
  toolkit_slug TEXT    NOT NULL,
  client_id    TEXT    NOT NULL,
  webhook_url  TEXT    NOT NULL,  -- fixed at creation: it never changes for the endpoint's life
  created_at   INTEGER NOT NULL,
  verified_at  INTEGER,
  PRIMARY KEY (project_id, created_at, id),
  UNIQUE (project_id, toolkit_slug, client_id)
) STRICT, WITHOUT ROWID;

-- Setup fields of an endpoint (the `data` object), one row a field.
CREATE TABLE IF NOT EXISTS endpoint_setup_fields (
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  value       TEXT NOT NULL,
  PRIMARY KEY (endpoint_id, name)
) STRICT, WITHOUT ROWID;

-- Events the ingress accepted, newest last. `seq` orders them; the UNIQUE pair is what acknowledges
-- a provider's retry of an event without storing it twice, even when copies arrive concurrently.
-- endpoint_id has no REFERENCES clause (version 2): a cascade deleted all of an endpoint's events
-- in the transaction that deleted it, holding the one writer (320 ms for 53k events) while every
-- other project's writes waited. A deleted endpoint is listed in endpoint_purges instead, and its
-- events go in slices. A new event still needs its endpoint: endpoint_event_counts refers to it.
CREATE TABLE IF NOT EXISTS webhook_events (
  seq               INTEGER PRIMARY KEY,
  id                TEXT    NOT NULL UNIQUE,
  endpoint_id       TEXT    NOT NULL,
  provider_event_id TEXT    NOT NULL,
  received_at       INTEGER NOT NULL,
  headers           TEXT    NOT NULL,  -- JSON object: the headers that matter, no secrets
  body              BLOB    NOT NULL,  -- the raw body, as signed
  UNIQUE (endpoint_id, provider_event_id)
) STRICT;

CREATE INDEX IF NOT EXISTS webhook_events_by_endpoint ON webhook_events (endpoint_id, seq);

-- Age retention deletes the oldest events of every endpoint, a slice at a time.
CREATE INDEX IF NOT EXISTS webhook_events_by_received_at ON webhook_events (received_at);

-- How many events each endpoint has, so that count retention knows when it is over the bound
-- without counting (counting cost as much as the bound: 100,000 index steps per stored event).
-- Kept by the two triggers below, whatever deletes or inserts events. The foreign key is what
-- refuses an event for an endpoint that is gone: its count row went with it (ON DELETE CASCADE),
-- and the insert trigger's new row then names no endpoint.
CREATE TABLE IF NOT EXISTS endpoint_event_counts (
  endpoint_id TEXT    PRIMARY KEY REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  events      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS webhook_events_counted AFTER INSERT ON webhook_events BEGIN
  INSERT INTO endpoint_event_counts (endpoint_id, events) VALUES (NEW.endpoint_id, 1)
    ON CONFLICT (endpoint_id) DO UPDATE SET events = events + 1;
END;

CREATE TRIGGER IF NOT EXISTS webhook_events_uncounted AFTER DELETE ON webhook_events BEGIN
  UPDATE endpoint_event_counts SET events = events - 1 WHERE endpoint_id = OLD.endpoint_id;
END;

-- Endpoints deleted whose events are still stored. Written in the deleting transaction, so a
-- crash loses none: the background pruner deletes their events in slices, then the row.
CREATE TABLE IF NOT EXISTS endpoint_purges (
  endpoint_id TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- Facts about the database itself, one row each. 'secrets_key_check' records how setup values are
-- stored: '' in clear, or a known text sealed with the secrets key, which lets the server tell a
-- wrong key at start-up instead of failing every read. 'server_running' is present while a server
-- has the database open (a token of that start) and deleted at its clean stop: a start that finds
-- it runs the full integrity check. Added without a version change: like every
-- table here it is created on open when missing, and older servers ignore it.
CREATE TABLE IF NOT EXISTS store_settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- A project's webhook subscription (one per project: the UNIQUE project_id is what makes a second
-- create a conflict, even when two arrive at once). `secret` is sealed with the secrets key when
-- one is given (store/secret_box, bound to the subscription's id), like setup values.
-- enabled_events is a JSON array of strings, as given.
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
  id             TEXT    PRIMARY KEY,
  project_id     TEXT    NOT NULL UNIQUE REFERENCES projects (id),
  webhook_url    TEXT    NOT NULL,
  version        TEXT    NOT NULL CHECK (version IN ('V1', 'V2', 'V3')),
  enabled_events TEXT    NOT NULL,
  secret         TEXT    NOT NULL,
  enabled        INTEGER NOT NULL DEFAULT 1,  -- 0 after a receiver answered 410 Gone
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) STRICT;

-- The outbox: one row per event to deliver, written in the transaction that stores the event.
-- It keeps what the trigger message needs but not the body: `event_seq` names the event, whose
-- body is read at each attempt (a copy in every row doubled the bytes each ingress wrote, and
-- halved its rate). The trigger below copies the body into `body` when the event is deleted
-- (retention, a deleted endpoint) while the delivery may still need it, so nothing is lost; a
-- succeeded delivery lets it go (resending it then answers 409). subscription_id has no
-- REFERENCES clause: a deleted subscription leaves its deliveries, cancelled, for the record.
-- `due_at` is when a worker may claim the row: the next attempt's time (pending, retrying) or the
-- end of the lease (in_flight); NULL for every other status. One index on it serves every claim.
-- `automatic_attempts` counts the scheduled attempts (where the schedule stands); `attempts`
-- counts every attempt started, manual ones included (the x-composio-delivery-attempt header).
-- `manual` = 1: the next attempt is a resend or recover, never rescheduled.
-- Lists of statuses are spelled as OR chains, here and in the index below: SQLite evaluates an IN
-- list of more than two constants through a temporary table built for each statement, so every
-- outbox insert allocated and freed two of them, and glibc gave the memory back to the kernel each
-- time (madvise, a TLB flush on every core): the store's ingress rate fell to a third with a
-- subscription, against a half with the OR chains.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
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
  event_received_at  INTEGER NOT NULL,
  event_seq          INTEGER NOT NULL,  -- webhook_events.seq
  body               BLOB,              -- NULL while the event holds it
  status             TEXT    NOT NULL CHECK (status = 'pending' OR status = 'in_flight' OR
                                             status = 'succeeded' OR status = 'retrying' OR
                                             status = 'failed' OR status = 'held' OR
                                             status = 'cancelled'),
  due_at             INTEGER,
  attempts           INTEGER NOT NULL DEFAULT 0,
  automatic_attempts INTEGER NOT NULL DEFAULT 0,
  manual             INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    INTEGER,
  last_status_code   INTEGER,
  last_error         TEXT    NOT NULL DEFAULT '',
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (due_at)
  WHERE due_at IS NOT NULL;
-- The list (newest first), recover's window and the cancellations of a deleted subscription.
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_subscription
  ON webhook_deliveries (subscription_id, created_at, id);
-- Age retention of deliveries: only finished ones are pruned, oldest first, a slice at a time.
-- Partial, so the deliveries still to be made cost it nothing; a query uses it only when it spells
-- the same status term.
CREATE INDEX IF NOT EXISTS webhook_deliveries_finished ON webhook_deliveries (created_at)
  WHERE status = 'succeeded' OR status = 'failed' OR status = 'cancelled';

-- The deliveries of an event, for the trigger below: one probe per deleted event.
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_event ON webhook_deliveries (event_seq);

CREATE TRIGGER IF NOT EXISTS webhook_events_keep_delivery_bodies
BEFORE DELETE ON webhook_events BEGIN
  UPDATE webhook_deliveries SET body = OLD.body
    WHERE event_seq = OLD.seq AND body IS NULL AND status <> 'succeeded'
      AND status <> 'cancelled';
END;

-- Every attempt of a delivery, as sent and as answered.
CREATE TABLE IF NOT EXISTS webhook_delivery_attempts (
  delivery_id      TEXT    NOT NULL,
  attempt          INTEGER NOT NULL,
  started_at       INTEGER NOT NULL,
  request_headers  TEXT    NOT NULL,  -- JSON object, as sent
  status_code      INTEGER,
  error_class      TEXT    NOT NULL,
  duration_ms      INTEGER NOT NULL,
  response_headers TEXT    NOT NULL,  -- JSON object
  response_body    BLOB    NOT NULL,  -- at most 20,000 bytes
  PRIMARY KEY (delivery_id, attempt)
) STRICT, WITHOUT ROWID;

-- The three tables above came without a version change: like every table here they are
-- created on open when missing.
-- Version 2: webhook_events without a foreign key, endpoint_event_counts, endpoint_purges.
-- Version 3: webhook_endpoints WITHOUT ROWID, keyed for the list. An older database is migrated on
-- open (MigrateToVersion2, MigrateToVersion3 in store/sqlite_database.cpp).
PRAGMA user_version = 3;
