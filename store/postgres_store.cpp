// PostgresStore: the Store interface on PostgreSQL through libpq, one method
// per use case, and OpenPostgresStore. Each method borrows a connection from
// the pool and runs its statements (prepared once per connection, under the
// names below) in one transaction: READ COMMITTED for writes, whose
// idempotency rests on unique constraints (INSERT ... ON CONFLICT), and a
// REPEATABLE READ READ ONLY snapshot for reads of several statements. The
// subscriptions and deliveries live in store/postgres_deliveries.cpp, the
// secrets key check in store/postgres_secrets.cpp; the methods here only
// choose the connection and the transaction for them.
//
// Errors are values (libpq does not throw): a lost connection is
// Unavailable, and the pool opens a new one for the next call, so a restart
// of the server costs the calls made while it was down, never the store.

#include "store/postgres_store.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/postgres_connection.h"
#include "store/postgres_deliveries.h"
#include "store/postgres_schema.h"
#include "store/postgres_secrets.h"
#include "store/secret_box.h"
#include "util/background_loop.h"
#include "util/crypto.h"
#include "util/time.h"

namespace webhooks {
namespace {

using postgres_internal::Binary;
using postgres_internal::Connection;
using postgres_internal::Null;
using postgres_internal::Param;
using postgres_internal::Pool;
using postgres_internal::Result;
using postgres_internal::SecretsAtRest;
using postgres_internal::Text;

// ---- The statements --------------------------------------------------------

// One statement: the name it is prepared under on each connection, and its
// text. Parameters that PostgreSQL cannot type from their use carry a cast.
struct Sql {
  const char* name;
  const char* text;
};

// The columns ReadEndpointRow reads, in its order, are spelled out in every
// statement that feeds it: id, project_id, toolkit_slug, client_id,
// webhook_url, created_at, verified_at; the "with fields" reads add the
// setup field's name and value (NULLs for an endpoint without fields). The
// fields are ordered byte-wise (COLLATE "C"), as SQLite orders them.
constexpr Sql kInsertEndpoint{
    "insert_endpoint",
    "INSERT INTO webhook_endpoints (id, project_id, toolkit_slug, client_id, "
    "webhook_url, created_at) VALUES ($1, $2, $3, $4, $5, $6::bigint) ON "
    "CONFLICT (project_id, toolkit_slug, client_id) DO NOTHING RETURNING id, "
    "project_id, toolkit_slug, client_id, webhook_url, created_at, "
    "verified_at"};
constexpr Sql kSelectEndpointByTriple{
    "select_endpoint_by_triple",
    "SELECT e.id, e.project_id, e.toolkit_slug, e.client_id, e.webhook_url, "
    "e.created_at, e.verified_at, f.name, f.value FROM webhook_endpoints e "
    "LEFT JOIN endpoint_setup_fields f ON f.endpoint_id = e.id WHERE "
    "e.project_id = $1 AND e.toolkit_slug = $2 AND e.client_id = $3 ORDER BY "
    "f.name COLLATE \"C\""};
constexpr Sql kSelectEndpointWithFields{
    "select_endpoint_with_fields",
    "SELECT e.id, e.project_id, e.toolkit_slug, e.client_id, e.webhook_url, "
    "e.created_at, e.verified_at, f.name, f.value FROM webhook_endpoints e "
    "LEFT JOIN endpoint_setup_fields f ON f.endpoint_id = e.id WHERE e.id = "
    "$1 AND e.project_id = $2 ORDER BY f.name COLLATE \"C\""};
constexpr Sql kSelectAnyEndpointWithFields{
    "select_any_endpoint_with_fields",
    "SELECT e.id, e.project_id, e.toolkit_slug, e.client_id, e.webhook_url, "
    "e.created_at, e.verified_at, f.name, f.value FROM webhook_endpoints e "
    "LEFT JOIN endpoint_setup_fields f ON f.endpoint_id = e.id WHERE e.id = "
    "$1 ORDER BY f.name COLLATE \"C\""};
// Locks the row against a concurrent delete (FOR NO KEY UPDATE: events may
// still be recorded beside it) while its fields change.
constexpr Sql kLockEndpoint{
    "lock_endpoint",
    "SELECT id, project_id, toolkit_slug, client_id, webhook_url, "
    "created_at, verified_at FROM webhook_endpoints WHERE id = $1 AND "
    "project_id = $2 FOR NO KEY UPDATE"};
constexpr Sql kEndpointOfProject{
    "endpoint_of_project",
    "SELECT 1 FROM webhook_endpoints WHERE id = $1 AND project_id = $2"};
constexpr Sql kEndpointExists{"endpoint_exists",
                              "SELECT 1 FROM webhook_endpoints WHERE id = $1"};
// Without a position the first page starts after the least one, so that
// the position always bounds the index search (see sqlite_statements.cpp).
// A NULL limit is no limit.
constexpr Sql kListEndpoints{
    "list_endpoints",
    "SELECT id, toolkit_slug, client_id, created_at FROM webhook_endpoints "
    "WHERE project_id = $1 AND ($2::text IS NULL OR toolkit_slug = $2) AND "
    "(created_at, id) > ($3::bigint, $4::text) ORDER BY created_at, id "
    "LIMIT $5::bigint"};
constexpr Sql kUpsertSetupField{
    "upsert_setup_field",
    "INSERT INTO endpoint_setup_fields (endpoint_id, name, value) VALUES "
    "($1, $2, $3) ON CONFLICT (endpoint_id, name) DO UPDATE SET value = "
    "excluded.value"};
constexpr Sql kDeleteSetupFields{
    "delete_setup_fields",
    "DELETE FROM endpoint_setup_fields WHERE endpoint_id = $1"};
constexpr Sql kSelectSetupFields{
    "select_setup_fields",
    "SELECT name, value FROM endpoint_setup_fields WHERE endpoint_id = $1 "
    "ORDER BY name COLLATE \"C\""};
// The endpoint goes, and is listed for the pruner, in one statement; its
// events stay until PruneEvents deletes them in slices.
constexpr Sql kDeleteEndpoint{
    "delete_endpoint",
    "WITH gone AS (DELETE FROM webhook_endpoints WHERE id = $1 AND "
    "project_id = $2 RETURNING id), listed AS (INSERT INTO endpoint_purges "
    "(endpoint_id) SELECT id FROM gone ON CONFLICT (endpoint_id) DO NOTHING) "
    "SELECT count(*) FROM gone"};
// A fixture's reset of one project (ResetProject), in this order. The
// endpoints go first: that waits for an ingress holding one (FOR KEY SHARE)
// to commit, so the later statements, each with a fresh snapshot, see the
// delivery it wrote. Deliveries are found by project_id with no index of
// their own (their subscription may be gone): a scan, acceptable for a
// local-mode test database, and no cost added to the ingress.
constexpr Sql kResetEndpoints{
    "reset_endpoints",
    "WITH gone AS (DELETE FROM webhook_endpoints WHERE project_id = $1 "
    "RETURNING id) INSERT INTO endpoint_purges (endpoint_id) SELECT id FROM "
    "gone ON CONFLICT (endpoint_id) DO NOTHING"};
constexpr Sql kResetSubscriptions{
    "reset_subscriptions",
    "DELETE FROM webhook_subscriptions WHERE project_id = $1"};
constexpr Sql kResetDeliveryAttempts{
    "reset_delivery_attempts",
    "DELETE FROM webhook_delivery_attempts WHERE delivery_id IN (SELECT id "
    "FROM webhook_deliveries WHERE project_id = $1)"};
constexpr Sql kResetDeliveries{
    "reset_deliveries", "DELETE FROM webhook_deliveries WHERE project_id = $1"};
constexpr Sql kMarkVerified{
    "mark_verified",
    "UPDATE webhook_endpoints SET verified_at = $2::bigint WHERE id = $1 AND "
    "verified_at IS NULL"};
constexpr Sql kResetVerified{
    "reset_verified",
    "UPDATE webhook_endpoints SET verified_at = NULL WHERE id = $1"};
constexpr Sql kDeleteSetupField{
    "delete_setup_field",
    "DELETE FROM endpoint_setup_fields WHERE endpoint_id = $1 AND name = $2"};

// The event, if its endpoint exists: FOR KEY SHARE holds the endpoint until
// commit (a delete waits, and one committed first leaves no row), so a
// vanished endpoint is told from a duplicate event (both insert nothing)
// instead of failing the counting trigger's foreign key.
constexpr Sql kInsertEvent{
    "insert_event",
    "WITH endpoint AS (SELECT id FROM webhook_endpoints WHERE id = $2 FOR "
    "KEY SHARE), inserted AS (INSERT INTO webhook_events (id, endpoint_id, "
    "provider_event_id, received_at, headers, body) SELECT $1, id, $3, "
    "$4::bigint, $5, $6::bytea FROM endpoint ON CONFLICT (endpoint_id, "
    "provider_event_id) DO NOTHING RETURNING seq) SELECT EXISTS (SELECT 1 "
    "FROM endpoint), (SELECT seq FROM inserted)"};
// The count bound: the oldest events beyond `keep` ($2), at most $3 of
// them, found through the count the triggers keep and the (endpoint, seq)
// index. Its cost is the rows it deletes. SKIP LOCKED: concurrent events
// of one endpoint each delete other old rows instead of queueing behind
// the first one's commit for the same ones.
constexpr Sql kPruneOverCount{
    "prune_over_count",
    "DELETE FROM webhook_events WHERE seq IN (SELECT seq FROM webhook_events "
    "WHERE endpoint_id = $1 ORDER BY seq LIMIT greatest(0, least($3::bigint, "
    "coalesce((SELECT sum(events) FROM endpoint_event_counts WHERE "
    "endpoint_id = $1), 0) - $2::bigint)) FOR UPDATE SKIP LOCKED)"};
// A page of events, newest first, below seq $2. The page ($3 rows, NULL:
// all) is sized from the lengths alone (octet_length reads a stored value's
// size without reading the value), and only the rows that fit in $4 bytes
// (0: no bound; the first row always) are joined to their bodies, at most
// $5 of them: the result, which libpq holds whole, stays within the bound.
// page_rows tells whether rows were left out.
constexpr Sql kListEvents{
    "list_events",
    "WITH page AS (SELECT seq, row_number() OVER w AS n, "
    "sum(octet_length(headers) + octet_length(body)) OVER w AS total FROM "
    "webhook_events WHERE endpoint_id = $1 AND seq < $2::bigint WINDOW w AS "
    "(ORDER BY seq DESC) ORDER BY seq DESC LIMIT $3::bigint) SELECT e.seq, "
    "e.id, e.provider_event_id, e.received_at, e.headers, e.body, (SELECT "
    "count(*) FROM page) AS page_rows FROM page p JOIN webhook_events e ON "
    "e.seq = p.seq WHERE (p.n = 1 OR $4::bigint = 0 OR p.total <= "
    "$4::bigint) AND ($5::bigint IS NULL OR p.n <= $5::bigint) ORDER BY "
    "p.seq DESC"};
// Pruning. SKIP LOCKED: instances sharing the database prune different
// rows instead of queueing on the same ones.
constexpr Sql kSelectPurge{
    "select_purge",
    "SELECT endpoint_id FROM endpoint_purges LIMIT 1 FOR UPDATE SKIP LOCKED"};
constexpr Sql kDeleteOldestEvents{
    "delete_oldest_events",
    "DELETE FROM webhook_events WHERE seq IN (SELECT seq FROM webhook_events "
    "WHERE endpoint_id = $1 ORDER BY seq LIMIT $2::bigint FOR UPDATE SKIP "
    "LOCKED)"};
constexpr Sql kDeletePurge{
    "delete_purge", "DELETE FROM endpoint_purges WHERE endpoint_id = $1"};
constexpr Sql kDeleteAgedEvents{
    "delete_aged_events",
    "DELETE FROM webhook_events WHERE seq IN (SELECT seq FROM webhook_events "
    "WHERE received_at < $1::bigint ORDER BY received_at LIMIT $2::bigint "
    "FOR UPDATE SKIP LOCKED)"};
constexpr Sql kCountRows{"count_rows",
                         "SELECT (SELECT count(*) FROM webhook_endpoints), "
                         "(SELECT count(*) FROM webhook_events)"};
constexpr Sql kPing{"ping", "SELECT 1"};

// Keys and projects.
constexpr Sql kSelectProjectByName{
    "select_project_by_name",
    "SELECT id, CASE WHEN id = $1 THEN 1 ELSE 0 END FROM projects WHERE id "
    "= $1 OR name = $1 ORDER BY id = $1 DESC, created_at, id LIMIT 2"};
constexpr Sql kInsertProject{
    "insert_project",
    "INSERT INTO projects (id, name, created_at) VALUES ($1, $2, "
    "$3::bigint)"};
constexpr Sql kInsertKey{
    "insert_key",
    "INSERT INTO api_keys (id, project_id, key_digest, origin, created_at) "
    "VALUES ($1, $2, $3::bytea, $4, $5::bigint)"};
constexpr Sql kSelectKeyProject{
    "select_key_project",
    "SELECT project_id FROM api_keys WHERE key_digest = $1::bytea"};
constexpr Sql kSelectKey{
    "select_key",
    "SELECT id, project_id, origin, key_digest, revoked_at IS NOT NULL FROM "
    "api_keys WHERE key_digest = $1::bytea"};
constexpr Sql kListKeys{
    "list_keys",
    "SELECT k.id, k.project_id, p.name, k.origin, k.created_at, "
    "k.revoked_at FROM api_keys k JOIN projects p ON p.id = k.project_id "
    "ORDER BY k.created_at, k.id"};
constexpr Sql kRevokeKey{
    "revoke_key",
    "UPDATE api_keys SET revoked_at = $2::bigint WHERE id = $1 AND "
    "revoked_at IS NULL"};
constexpr Sql kAnyAdminKey{
    "any_admin_key",
    "SELECT EXISTS (SELECT 1 FROM api_keys WHERE origin = 'admin')"};
constexpr Sql kLockProjectNames{"lock_project_names",
                                "SELECT pg_advisory_xact_lock($1::bigint)"};

// pg_advisory_xact_lock's key for adding a key to a project by name
// ("wprj"): two admins adding keys to a new name at once make one project.
constexpr int64_t kProjectNameLockKey = 0x7770726a;

constexpr char kBeginSnapshot[] =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// ---- Reading rows ----------------------------------------------------------

Status Exec(Connection& c, const Sql& sql, const std::vector<Param>& params,
            Result* out) {
  return c.Exec(sql.name, sql.text, params, out);
}

Param Int(int64_t value) { return Text(std::to_string(value)); }

int64_t Int64At(const Result& r, int row, int column) {
  int64_t value = 0;
  r.Int64(row, column, &value);
  return value;
}

bool BoolAt(const Result& r, int row, int column) {
  return r.Text(row, column) == "t";
}

std::string StringAt(const Result& r, int row, int column) {
  return std::string(r.Text(row, column));
}

void ReadEndpointRow(const Result& r, int row, WebhookEndpoint* out) {
  out->id = StringAt(r, row, 0);
  out->project_id = StringAt(r, row, 1);
  out->toolkit_slug = StringAt(r, row, 2);
  out->client_id = StringAt(r, row, 3);
  out->webhook_url = StringAt(r, row, 4);
  out->created_at_ms = Int64At(r, row, 5);
  if (r.IsNull(row, 6)) {
    out->verified_at_ms.reset();
  } else {
    out->verified_at_ms = Int64At(r, row, 6);
  }
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

// `status` with `what` before its message, the code kept.
Status Prefixed(const char* what, const Status& status) {
  std::string message = std::string(what) + ": " + status.message();
  switch (status.code()) {
    case Status::Code::kOk:
      return status;
    case Status::Code::kNotFound:
      return Status::NotFound(std::move(message));
    case Status::Code::kInvalidArgument:
      return Status::InvalidArgument(std::move(message));
    case Status::Code::kConflict:
      return Status::Conflict(std::move(message));
    case Status::Code::kUnavailable:
      return Status::Unavailable(std::move(message));
    case Status::Code::kInternal:
      return Status::Internal(std::move(message));
  }
  return Status::Internal(std::move(message));
}

Status NoSuchEndpointInProject() {
  return Status::NotFound("no such endpoint in this project");
}

// ---- The store -------------------------------------------------------------

// Connections per store: read_connections + 12, 16 by default. Unlike
// SQLite's single writer, every connection writes, and commits that wait on
// one WAL flush share it, so more concurrent transactions bring more
// commits per flush: measured with 64 client connections (scripts/bench
// --only postgres), 16 made creates 1.3-1.8x and retrieves 1.1-1.6x faster
// than 8, and 32 bought nothing more but a longer tail. PostgreSQL's
// max_connections (100 by default) bounds instances x this.
size_t PoolSize(const StoreOptions& options) {
  return std::max<size_t>(options.read_connections, 1) + 12;
}

class PostgresStore final : public Store {
 public:
  PostgresStore(const std::string& uri, const StoreOptions& options)
      : pool_size_(PoolSize(options)),
        pool_(uri, pool_size_),
        secrets_(postgres_internal::RedactUri(uri), options.secrets_key) {
    if (options.background_retention) {
      pruner_ = std::make_unique<BackgroundLoop>(
          std::chrono::milliseconds(kPruneIntervalMs),
          [this, retention = *options.background_retention] {
            bool more = false;
            // A failure (the server restarting) is tried again at the next
            // look.
            return PruneEvents(retention, NowMillis(), kPruneSliceRows, &more)
                       .ok() &&
                   more;
          });
    }
  }

  // ---- Endpoints

  Status CreateEndpoint(const NewEndpoint& params, WebhookEndpoint* out,
                        bool* created) override {
    WebhookEndpoint row;
    bool inserted = false;
    // Two statements that each stand alone: the insert is atomic by itself,
    // and the read finds a row already committed. Without BEGIN and COMMIT
    // a create is one round trip, or two for a known triple.
    Status status = Autocommit("create endpoint", [&](Connection& c) {
      Result result;
      Status s = Exec(c, kInsertEndpoint,
                      {Text(params.id), Text(params.project_id),
                       Text(params.toolkit_slug), Text(params.client_id),
                       Text(params.webhook_url), Int(params.created_at_ms)},
                      &result);
      if (!s.ok()) return s;
      if (result.rows() > 0) {
        ReadEndpointRow(result, 0, &row);
        inserted = true;
        return Status::Ok();
      }
      // DO NOTHING fired: the conflicting row was committed before the
      // insert returned (it waits for an uncommitted one), so this
      // statement, which runs after, sees it.
      s = Exec(c, kSelectEndpointByTriple,
               {Text(params.project_id), Text(params.toolkit_slug),
                Text(params.client_id)},
               &result);
      if (!s.ok()) return s;
      if (result.rows() == 0) {
        return Status::Unavailable(
            "create endpoint: the existing endpoint was deleted meanwhile");
      }
      return ReadEndpointWithFields(result, &row);
    });
    if (!status.ok()) return status;
    *out = std::move(row);
    *created = inserted;
    return Status::Ok();
  }

  Status GetEndpoint(std::string_view project_id, std::string_view id,
                     WebhookEndpoint* out) override {
    WebhookEndpoint row;
    Status status = Read("get endpoint", [&](Connection& c) {
      Result result;
      Status s =
          Exec(c, kSelectEndpointWithFields,
               {Text(std::string(id)), Text(std::string(project_id))}, &result);
      if (!s.ok()) return s;
      if (result.rows() == 0) return NoSuchEndpointInProject();
      return ReadEndpointWithFields(result, &row);
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  Status ListEndpoints(const ListQuery& query,
                       std::vector<EndpointListItem>* out,
                       bool* more) override {
    std::vector<EndpointListItem> rows;
    Status status = Read("list endpoints", [&](Connection& c) {
      Result result;
      Status s =
          Exec(c, kListEndpoints,
               {Text(query.project_id),
                query.toolkit_slug ? Text(*query.toolkit_slug) : Null(),
                Int(query.after ? query.after->created_at_ms
                                : std::numeric_limits<int64_t>::min()),
                Text(query.after ? query.after->id : std::string()),
                // One row past the limit tells whether more follow.
                query.limit == 0 ? Null()
                                 : Int(static_cast<int64_t>(query.limit) + 1)},
               &result);
      if (!s.ok()) return s;
      rows.clear();
      rows.reserve(static_cast<size_t>(result.rows()));
      for (int row = 0; row < result.rows(); ++row) {
        EndpointListItem& item = rows.emplace_back();
        item.id = StringAt(result, row, 0);
        item.toolkit_slug = StringAt(result, row, 1);
        item.client_id = StringAt(result, row, 2);
        item.created_at_ms = Int64At(result, row, 3);
      }
      return Status::Ok();
    });
    if (!status.ok()) return status;
    bool has_more = query.limit != 0 && rows.size() > query.limit;
    if (has_more) rows.resize(query.limit);
    *out = std::move(rows);
    *more = has_more;
    return Status::Ok();
  }

  Status UpdateSetupFields(std::string_view project_id, std::string_view id,
                           const std::vector<SetupField>& fields, bool replace,
                           WebhookEndpoint* out) override {
    WebhookEndpoint row;
    Status status = Transaction("update setup fields", [&](Connection& c) {
      Result result;
      Status s =
          Exec(c, kLockEndpoint,
               {Text(std::string(id)), Text(std::string(project_id))}, &result);
      if (!s.ok()) return s;
      if (result.rows() == 0) return NoSuchEndpointInProject();
      ReadEndpointRow(result, 0, &row);
      if (replace) {
        s = Exec(c, kDeleteSetupFields, {Text(row.id)}, nullptr);
        if (!s.ok()) return s;
      }
      for (const SetupField& field : fields) {
        s = UpsertSetupField(c, row.id, field);
        if (!s.ok()) return s;
      }
      return ReloadSetupFields(c, &row);
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  Status DeleteEndpoint(std::string_view project_id,
                        std::string_view id) override {
    Status status = Transaction("delete endpoint", [&](Connection& c) {
      Result result;
      Status s =
          Exec(c, kDeleteEndpoint,
               {Text(std::string(id)), Text(std::string(project_id))}, &result);
      if (!s.ok()) return s;
      return Int64At(result, 0, 0) > 0 ? Status::Ok()
                                       : NoSuchEndpointInProject();
    });
    if (status.ok()) {
      std::lock_guard<std::mutex> lock(pruner_mu_);
      if (pruner_) pruner_->Wake();
    }
    return status;
  }

  Status ResetProject(std::string_view project_id) override {
    Status status = Transaction("reset project", [&](Connection& c) {
      for (const Sql& sql : {kResetEndpoints, kResetSubscriptions,
                             kResetDeliveryAttempts, kResetDeliveries}) {
        Status s = Exec(c, sql, {Text(std::string(project_id))}, nullptr);
        if (!s.ok()) return s;
      }
      return Status::Ok();
    });
    if (status.ok()) {
      std::lock_guard<std::mutex> lock(pruner_mu_);
      if (pruner_) pruner_->Wake();
    }
    return status;
  }

  Status GetEndpointForIngress(std::string_view id,
                               WebhookEndpoint* out) override {
    WebhookEndpoint row;
    Status status = Read("get endpoint for ingress", [&](Connection& c) {
      Result result;
      Status s = Exec(c, kSelectAnyEndpointWithFields, {Text(std::string(id))},
                      &result);
      if (!s.ok()) return s;
      if (result.rows() == 0) return Status::NotFound("no such endpoint");
      return ReadEndpointWithFields(result, &row);
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  Status MarkVerified(std::string_view id, int64_t at_ms,
                      const std::optional<SetupField>& secret,
                      bool* verified) override {
    bool changed = false;
    Status status = Transaction("mark verified", [&](Connection& c) {
      Result result;
      Status s =
          Exec(c, kMarkVerified, {Text(std::string(id)), Int(at_ms)}, &result);
      if (!s.ok()) return s;
      changed = result.affected_rows() > 0;
      if (!changed) {
        s = Exec(c, kEndpointExists, {Text(std::string(id))}, &result);
        if (!s.ok()) return s;
        if (result.rows() == 0) return Status::NotFound("no such endpoint");
        return Status::Ok();  // verified already: nothing written
      }
      return secret ? UpsertSetupField(c, std::string(id), *secret)
                    : Status::Ok();
    });
    if (status.ok()) *verified = changed;
    return status;
  }

  Status ResetVerification(std::string_view project_id, std::string_view id,
                           const std::optional<std::string>& secret_field,
                           WebhookEndpoint* out) override {
    WebhookEndpoint row;
    Status status = Transaction("reset verification", [&](Connection& c) {
      Result result;
      // The project's row, locked: a handshake racing the reset waits, and
      // then sees the endpoint unverified.
      Status s =
          Exec(c, kLockEndpoint,
               {Text(std::string(id)), Text(std::string(project_id))}, &result);
      if (!s.ok()) return s;
      if (result.rows() == 0) return NoSuchEndpointInProject();
      ReadEndpointRow(result, 0, &row);
      s = Exec(c, kResetVerified, {Text(row.id)}, nullptr);
      if (!s.ok()) return s;
      row.verified_at_ms.reset();
      if (secret_field) {
        s = Exec(c, kDeleteSetupField, {Text(row.id), Text(*secret_field)},
                 nullptr);
        if (!s.ok()) return s;
      }
      return ReloadSetupFields(c, &row);
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  // ---- Events

  Status RecordEvent(const NewEvent& event, const EventRetention& retention,
                     bool* stored,
                     std::optional<ClaimedDelivery>* claimed) override {
    bool inserted = false;
    std::optional<ClaimedDelivery> claim;
    Status status = Transaction("record event", [&](Connection& c) {
      Result result;
      Status s = Exec(c, kInsertEvent,
                      {Text(event.id), Text(event.endpoint_id),
                       Text(event.provider_event_id), Int(event.received_at_ms),
                       Text(event.headers_json), Binary(event.body)},
                      &result);
      if (!s.ok()) return s;
      // The endpoint was deleted since the ingress read it: the answer an
      // endpoint that never existed gets, not a failure (as in SQLite).
      if (!BoolAt(result, 0, 0)) return Status::NotFound("no such endpoint");
      inserted = !result.IsNull(0, 1);
      if (!inserted) return Status::Ok();  // a copy of a stored event
      if (event.delivery) {
        s = postgres_internal::InsertDeliveryForEvent(
            c, secrets_.box(), event, Int64At(result, 0, 1),
            claimed != nullptr ? &claim : nullptr);
        if (!s.ok()) return s;
      }
      if (retention.max_count_per_endpoint > 0) {
        s = Exec(c, kPruneOverCount,
                 {Text(event.endpoint_id),
                  Int(static_cast<int64_t>(retention.max_count_per_endpoint)),
                  Int(static_cast<int64_t>(kMaxPrunedPerEvent))},
                 nullptr);
        if (!s.ok()) return s;
      }
      return Status::Ok();
    });
    if (status.ok()) *stored = inserted;
    if (status.ok() && claimed != nullptr) *claimed = std::move(claim);
    return status;
  }

  Status ListEvents(std::string_view project_id, std::string_view endpoint_id,
                    size_t limit, int64_t before_sequence, size_t max_bytes,
                    std::vector<StoredEvent>* out, bool* more) override {
    std::vector<StoredEvent> rows;
    bool has_more = false;
    // One snapshot: the ownership check and the rows agree.
    Status status = Snapshot("list events", [&](Connection& c) {
      Result result;
      Status s =
          Exec(c, kEndpointOfProject,
               {Text(std::string(endpoint_id)), Text(std::string(project_id))},
               &result);
      if (!s.ok()) return s;
      if (result.rows() == 0) return NoSuchEndpointInProject();
      s = Exec(c, kListEvents,
               {Text(std::string(endpoint_id)),
                Int(before_sequence > 0 ? before_sequence
                                        : std::numeric_limits<int64_t>::max()),
                limit == 0 ? Null() : Int(static_cast<int64_t>(limit) + 1),
                Int(static_cast<int64_t>(std::min<size_t>(
                    max_bytes, std::numeric_limits<int64_t>::max()))),
                limit == 0 ? Null() : Int(static_cast<int64_t>(limit))},
               &result);
      if (!s.ok()) return s;
      rows.clear();
      rows.reserve(static_cast<size_t>(result.rows()));
      for (int row = 0; row < result.rows(); ++row) {
        StoredEvent& e = rows.emplace_back();
        e.sequence = Int64At(result, row, 0);
        e.id = StringAt(result, row, 1);
        e.provider_event_id = StringAt(result, row, 2);
        e.received_at_ms = Int64At(result, row, 3);
        e.headers_json = StringAt(result, row, 4);
        e.body = result.Bytes(row, 5);
      }
      has_more = result.rows() > 0 && Int64At(result, 0, 6) > result.rows();
      return Status::Ok();
    });
    if (!status.ok()) return status;
    *out = std::move(rows);
    *more = has_more;
    return Status::Ok();
  }

  Status PruneEvents(const EventRetention& retention, int64_t now_ms,
                     size_t max_rows, bool* more) override {
    bool worked = false;
    Status status = Transaction("prune events", [&](Connection& c) {
      worked = false;
      int64_t budget = static_cast<int64_t>(max_rows);
      Result result;
      Status s = Exec(c, kSelectPurge, {}, &result);
      if (!s.ok()) return s;
      if (result.rows() > 0) {
        const std::string purged = StringAt(result, 0, 0);
        s = Exec(c, kDeleteOldestEvents, {Text(purged), Int(budget)}, &result);
        if (!s.ok()) return s;
        budget -= result.affected_rows();
        worked = true;
        if (budget > 0) {  // fewer than asked for: none are left
          s = Exec(c, kDeletePurge, {Text(purged)}, nullptr);
          if (!s.ok()) return s;
        }
      }
      if (budget > 0 && retention.max_age_ms > 0) {
        const int64_t cutoff = now_ms - retention.max_age_ms;
        s = Exec(c, kDeleteAgedEvents, {Int(cutoff), Int(budget)}, &result);
        if (!s.ok()) return s;
        const int64_t deleted = result.affected_rows();
        // Finished deliveries share what the events left of the budget.
        budget -= deleted;
        int64_t deliveries = 0;
        if (budget > 0) {
          s = postgres_internal::PruneFinishedDeliveries(c, cutoff, budget,
                                                         &deliveries);
          if (!s.ok()) return s;
        }
        if (deleted + deliveries > 0) worked = true;
      }
      return Status::Ok();
    });
    if (status.ok()) *more = worked;
    return status;
  }

  // ---- Subscriptions: wrappers over store/postgres_deliveries.

  Status CreateSubscription(const WebhookSubscription& subscription,
                            WebhookSubscription* out) override {
    WebhookSubscription row;
    Status status = Transaction("create subscription", [&](Connection& c) {
      return postgres_internal::InsertSubscription(c, secrets_.box(),
                                                   subscription, &row);
    });
    // A Conflict with the existing subscription sets *out too.
    if (status.ok() ||
        (status.code() == Status::Code::kConflict && !row.id.empty())) {
      *out = std::move(row);
    }
    return status;
  }
  Status GetSubscription(std::string_view project_id, std::string_view id,
                         WebhookSubscription* out) override {
    WebhookSubscription row;
    Status status = Snapshot("get subscription", [&](Connection& c) {
      return postgres_internal::SelectSubscription(c, secrets_.box(),
                                                   project_id, id, &row);
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }
  Status ListSubscriptions(std::string_view project_id,
                           std::vector<WebhookSubscription>* out) override {
    std::vector<WebhookSubscription> rows;
    Status status = Snapshot("list subscriptions", [&](Connection& c) {
      return postgres_internal::SelectProjectSubscriptions(c, secrets_.box(),
                                                           project_id, &rows);
    });
    if (status.ok()) *out = std::move(rows);
    return status;
  }
  Status UpdateSubscription(std::string_view project_id, std::string_view id,
                            const SubscriptionChanges& changes,
                            WebhookSubscription* out) override {
    WebhookSubscription row;
    Status status = Transaction("update subscription", [&](Connection& c) {
      return postgres_internal::UpdateSubscription(
          c, secrets_.box(), project_id, id, changes, &row);
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }
  Status DeleteSubscription(std::string_view project_id, std::string_view id,
                            int64_t now_ms) override {
    return Transaction("delete subscription", [&](Connection& c) {
      return postgres_internal::DeleteSubscription(c, project_id, id, now_ms);
    });
  }
  Status RotateSubscriptionSecret(std::string_view project_id,
                                  std::string_view id,
                                  const std::string& secret, int64_t now_ms,
                                  WebhookSubscription* out) override {
    WebhookSubscription row;
    Status status =
        Transaction("rotate subscription secret", [&](Connection& c) {
          return postgres_internal::RotateSubscriptionSecret(
              c, secrets_.box(), project_id, id, secret, now_ms, &row);
        });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  // ---- Deliveries: wrappers over store/postgres_deliveries, which set
  // their outputs only when they return Ok. Outputs of writes go through a
  // local first: a failed COMMIT undoes what the function reported.

  Status ListDeliveries(const DeliveryListQuery& query,
                        std::vector<DeliveryRecord>* out, bool* more) override {
    return Snapshot("list deliveries", [&](Connection& c) {
      return postgres_internal::ListDeliveries(c, query, out, more);
    });
  }
  Status GetDelivery(std::string_view project_id,
                     std::string_view subscription_id,
                     std::string_view delivery_id, DeliveryRecord* out,
                     std::vector<DeliveryAttempt>* attempts) override {
    return Snapshot("get delivery", [&](Connection& c) {
      return postgres_internal::GetDelivery(c, project_id, subscription_id,
                                            delivery_id, out, attempts);
    });
  }
  Status ResendDelivery(std::string_view project_id,
                        std::string_view subscription_id,
                        std::string_view delivery_id, int64_t now_ms,
                        int* attempt) override {
    int next = 0;
    Status status = Transaction("resend delivery", [&](Connection& c) {
      return postgres_internal::ResendDelivery(c, project_id, subscription_id,
                                               delivery_id, now_ms, &next);
    });
    if (status.ok()) *attempt = next;
    return status;
  }
  Status RecoverDeliveries(std::string_view project_id,
                           std::string_view subscription_id, int64_t since_ms,
                           int64_t until_ms, int64_t now_ms,
                           int64_t* scheduled) override {
    int64_t count = 0;
    Status status = Transaction("recover deliveries", [&](Connection& c) {
      return postgres_internal::RecoverDeliveries(
          c, project_id, subscription_id, since_ms, until_ms, now_ms, &count);
    });
    if (status.ok()) *scheduled = count;
    return status;
  }
  Status ClaimDeliveries(int64_t now_ms, int64_t lease_ms, size_t max,
                         std::vector<ClaimedDelivery>* out) override {
    std::vector<ClaimedDelivery> claims;
    Status status = Transaction("claim deliveries", [&](Connection& c) {
      return postgres_internal::ClaimDeliveries(c, secrets_.box(), now_ms,
                                                lease_ms, max, &claims);
    });
    if (status.ok()) *out = std::move(claims);
    return status;
  }
  Status FinishAttempts(const std::vector<AttemptOutcome>& outcomes,
                        int64_t now_ms) override {
    return Transaction("finish attempts", [&](Connection& c) {
      return postgres_internal::FinishAttempts(c, outcomes, now_ms);
    });
  }
  Status FinishAndClaim(const std::vector<AttemptOutcome>& outcomes,
                        int64_t now_ms, int64_t lease_ms, size_t max,
                        std::vector<ClaimedDelivery>* out) override {
    std::vector<ClaimedDelivery> claims;
    Status status = Transaction("finish and claim", [&](Connection& c) {
      Status s = postgres_internal::FinishAttempts(c, outcomes, now_ms);
      if (!s.ok()) return s;
      return postgres_internal::ClaimDeliveries(c, secrets_.box(), now_ms,
                                                lease_ms, max, &claims);
    });
    // On failure both were rolled back, the claims with them.
    if (status.ok()) {
      *out = std::move(claims);
    } else {
      out->clear();
    }
    return status;
  }
  Status ReleaseLeases(int64_t now_ms) override {
    return Transaction("release leases", [&](Connection& c) {
      return postgres_internal::ReleaseLeases(c, now_ms);
    });
  }
  Status NextDeliveryDue(std::optional<int64_t>* at_ms) override {
    return Snapshot("next delivery due", [&](Connection& c) {
      return postgres_internal::NextDeliveryDue(c, at_ms);
    });
  }
  Status CountActivity(std::string_view project_id, int64_t since_ms,
                       int64_t bucket_ms,
                       std::vector<ActivityBucket>* out) override {
    return Snapshot("count activity", [&](Connection& c) {
      return postgres_internal::CountActivity(c, project_id, since_ms,
                                              bucket_ms, out);
    });
  }
  Status CountDeliveryQueue(int64_t now_ms, DeliveryQueueStats* out) override {
    return Snapshot("count delivery queue", [&](Connection& c) {
      return postgres_internal::CountDeliveryQueue(c, now_ms, out);
    });
  }

  // ---- Keys and projects

  Status AddKeyToProject(const NewApiKey& key, ProjectChoice choice,
                         std::string* project_id) override {
    if (key.key_digest.size() != 32) {
      return Status::InvalidArgument("key digest must be 32 bytes");
    }
    std::string project = key.project_id;
    Status status = Transaction("add key", [&](Connection& c) {
      Result result;
      Status s =
          Exec(c, kLockProjectNames, {Int(kProjectNameLockKey)}, &result);
      if (!s.ok()) return s;
      s = Exec(c, kSelectProjectByName, {Text(key.project_name)}, &result);
      if (!s.ok()) return s;
      std::vector<std::string> matches;
      for (int row = 0; row < result.rows(); ++row) {
        matches.push_back(StringAt(result, row, 0));
      }
      s = ChooseProject(choice, key.project_name, matches,
                        result.rows() > 0 && Int64At(result, 0, 1) == 1,
                        &project);
      if (!s.ok()) return s;
      if (project.empty()) {
        project = key.project_id;
        s = InsertProject(c, key);
        if (!s.ok()) return s;
      }
      return InsertKey(c, key, project);  // Conflict if the digest is known
    });
    if (status.ok()) *project_id = project;
    return status;
  }

  Status ListKeys(std::vector<ApiKeyInfo>* out) override {
    std::vector<ApiKeyInfo> keys;
    Status status = Read("list keys", [&](Connection& c) {
      Result result;
      Status s = Exec(c, kListKeys, {}, &result);
      if (!s.ok()) return s;
      keys.clear();
      for (int row = 0; row < result.rows(); ++row) {
        ApiKeyInfo& info = keys.emplace_back();
        info.key_id = StringAt(result, row, 0);
        info.project_id = StringAt(result, row, 1);
        info.project_name = StringAt(result, row, 2);
        info.origin = OriginFromName(result.Text(row, 3));
        info.created_at_ms = Int64At(result, row, 4);
        if (!result.IsNull(row, 5))
          info.revoked_at_ms = Int64At(result, row, 5);
      }
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(keys);
    return status;
  }

  Status RevokeKey(std::string_view key_id, int64_t at_ms) override {
    return Transaction("revoke key", [&](Connection& c) {
      Result result;
      Status s =
          Exec(c, kRevokeKey, {Text(std::string(key_id)), Int(at_ms)}, &result);
      if (!s.ok()) return s;
      return result.affected_rows() > 0
                 ? Status::Ok()
                 : Status::NotFound("no active key with that id");
    });
  }

  Status HasAdminKeys(bool* any) override {
    bool found = false;
    Status status = Read("has admin keys", [&](Connection& c) {
      Result result;
      Status s = Exec(c, kAnyAdminKey, {}, &result);
      if (s.ok()) found = BoolAt(result, 0, 0);
      return s;
    });
    if (status.ok()) *any = found;
    return status;
  }

  Status FindKey(std::string_view key_digest, ApiKeyRecord* out) override {
    ApiKeyRecord record;
    Status status = Read("find key", [&](Connection& c) {
      Result result;
      Status s =
          Exec(c, kSelectKey, {Binary(std::string(key_digest))}, &result);
      if (!s.ok()) return s;
      // The index found an equal digest; compare again in constant time so
      // that the contract holds whatever the index does.
      if (result.rows() == 0 ||
          !ConstantTimeEquals(result.Bytes(0, 3), key_digest)) {
        return Status::NotFound("unknown or revoked key");
      }
      record.key_id = StringAt(result, 0, 0);
      record.project_id = StringAt(result, 0, 1);
      record.origin = OriginFromName(result.Text(0, 2));
      record.revoked = BoolAt(result, 0, 4);
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(record);
    return status;
  }

  Status RegisterKey(const NewApiKey& key, std::string* project_id) override {
    if (key.key_digest.size() != 32) {
      return Status::InvalidArgument("key digest must be 32 bytes");
    }
    // A known key (every request after the first) costs one read.
    std::optional<std::string> project;
    Status status = SelectKeyProject(key.key_digest, &project);
    if (!status.ok()) return status;
    if (!project) {
      status = Transaction("register key", [&](Connection& c) {
        Status s = InsertProject(c, key);
        if (!s.ok()) return s;
        return InsertKey(c, key, key.project_id);
      });
      // Another caller (in this process or another) registered the digest
      // first: its unique index made our insert wait for that commit and
      // then fail, and the rolled-back project is not left behind. Its
      // project is the answer.
      if (status.code() == Status::Code::kConflict) {
        Status read = SelectKeyProject(key.key_digest, &project);
        if (!read.ok()) return read;
        if (project) status = Status::Ok();
      } else if (status.ok()) {
        project = key.project_id;
      }
      if (!status.ok()) return status;
    }
    *project_id = *project;
    return Status::Ok();
  }

  // ---- The database

  Status CountRows(int64_t* endpoints, int64_t* events) override {
    int64_t endpoint_count = 0, event_count = 0;
    Status status = Read("count rows", [&](Connection& c) {
      Result result;
      Status s = Exec(c, kCountRows, {}, &result);
      if (!s.ok()) return s;
      endpoint_count = Int64At(result, 0, 0);
      event_count = Int64At(result, 0, 1);
      return Status::Ok();
    });
    if (!status.ok()) return status;
    *endpoints = endpoint_count;
    *events = event_count;
    return Status::Ok();
  }

  Status Ping() override {
    return Read("ping", [&](Connection& c) {
      Result result;
      Status s = Exec(c, kPing, {}, &result);
      // Whatever failed, the database does not answer.
      if (!s.ok()) return Status::Unavailable(s.message());
      return result.rows() == 1 ? Status::Ok()
                                : Status::Unavailable("ping: no row");
    });
  }

  Status CheckSecretsKey() override {
    // Usually the record decides, with no lock and no write.
    bool decided = false;
    Status status = Read("check secrets key", [&](Connection& c) {
      return secrets_.QuickCheck(c, &decided);
    });
    if (!status.ok() || decided) return status;
    return Transaction("record secrets key", [&](Connection& c) {
      return secrets_.CheckAndAdopt(c);
    });
  }

  Status Checkpoint() override {
    // A commit is durable as it is; only the pruner stops, for good.
    std::unique_ptr<BackgroundLoop> pruner;
    {
      std::lock_guard<std::mutex> lock(pruner_mu_);
      pruner = std::move(pruner_);
    }
    pruner.reset();  // waits for a slice running, outside the lock
    return Status::Ok();
  }

  bool FullCheckAtOpen() override { return false; }

  Status RecordCleanStop() override { return Status::Ok(); }

 private:
  // ---- Connections and transactions

  // Lends a connection on which `begin` (BEGIN ..., or nullptr for none)
  // succeeded. An idle connection may have died with the server since its
  // last use (a restart); such a failure, before anything was done, is
  // retried on another connection, at most once per pool slot.
  Status Acquire(const char* what, const char* begin, Pool::Lease* lease) {
    Status status = Status::Ok();
    for (size_t attempt = 0; attempt <= pool_size_; ++attempt) {
      *lease = Pool::Lease();
      status = pool_.Acquire(lease);
      if (!status.ok()) return Prefixed(what, status);
      if (begin == nullptr) return status;
      status = (*lease)->Run(begin);
      if (status.ok()) return status;
      if ((*lease)->Reusable()) break;  // not a lost connection
    }
    *lease = Pool::Lease();
    return Prefixed(what, status);
  }

  // Runs `work` (Status(Connection&)) in one transaction begun with
  // `begin`, and commits it if `work` returns Ok; else, or if the commit
  // fails, rolls it back and returns the failure. `work` returns as soon as
  // a statement fails: PostgreSQL would reject every later one, and COMMIT
  // would quietly roll back.
  template <typename Work>
  Status Transaction(const char* what, Work&& work,
                     const char* begin = "BEGIN") {
    Pool::Lease lease;
    Status status = Acquire(what, begin, &lease);
    if (!status.ok()) return status;
    status = work(*lease);
    if (status.ok()) {
      status = lease->Run("COMMIT");
      if (!status.ok()) status = Prefixed(what, status);
    }
    // After a failed COMMIT there is no transaction left: ROLLBACK only
    // warns. On a lost connection it fails, and the pool drops it.
    if (!status.ok()) (void)lease->Run("ROLLBACK");
    return status;
  }

  // Runs `work` on one connection outside a transaction: each statement
  // commits by itself (durable when it returns). For work whose statements
  // each stand alone. Not retried, since a write may have committed before
  // its answer was lost; the pool has already dropped a connection the
  // server ended while it was idle (Connection::StillOpen).
  template <typename Work>
  Status Autocommit(const char* what, Work&& work) {
    Pool::Lease lease;
    Status status = Acquire(what, nullptr, &lease);
    if (!status.ok()) return status;
    return work(*lease);
  }

  // Runs `work`, which reads several statements, in one read-only snapshot.
  template <typename Work>
  Status Snapshot(const char* what, Work&& work) {
    return Transaction(what, std::forward<Work>(work), kBeginSnapshot);
  }

  // Runs `work`, which runs one statement and writes nothing, outside a
  // transaction. A read is safe to repeat: on a connection that died since
  // its last use, it is retried on another one.
  template <typename Work>
  Status Read(const char* what, Work&& work) {
    Status status = Status::Ok();
    for (size_t attempt = 0; attempt <= pool_size_; ++attempt) {
      Pool::Lease lease;
      status = Acquire(what, nullptr, &lease);
      if (!status.ok()) return status;
      status = work(*lease);
      if (status.ok() || lease->Reusable()) return status;
    }
    return status;
  }

  // ---- Steps shared by several methods

  // Reads a "with fields" result, which has at least one row.
  Status ReadEndpointWithFields(const Result& result,
                                WebhookEndpoint* out) const {
    ReadEndpointRow(result, 0, out);
    out->setup_fields.clear();
    for (int row = 0; row < result.rows(); ++row) {
      if (result.IsNull(row, 7)) continue;  // the endpoint has no fields
      Status s = secrets_.AppendSetupField(StringAt(result, row, 7),
                                           result.Text(row, 8), out);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  // Reads `row`'s setup fields again (opened), after a change to them.
  Status ReloadSetupFields(Connection& c, WebhookEndpoint* row) const {
    Result result;
    Status s = Exec(c, kSelectSetupFields, {Text(row->id)}, &result);
    if (!s.ok()) return s;
    row->setup_fields.clear();
    for (int r = 0; r < result.rows(); ++r) {
      s = secrets_.AppendSetupField(StringAt(result, r, 0), result.Text(r, 1),
                                    row);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  Status UpsertSetupField(Connection& c, const std::string& endpoint_id,
                          const SetupField& field) const {
    std::string sealed;
    Status s = secrets_.Seal(SetupFieldContext(endpoint_id, field.name),
                             field.value, &sealed);
    if (!s.ok()) return s;
    return Exec(c, kUpsertSetupField,
                {Text(endpoint_id), Text(field.name), Text(std::move(sealed))},
                nullptr);
  }

  static Status InsertProject(Connection& c, const NewApiKey& key) {
    return Exec(
        c, kInsertProject,
        {Text(key.project_id), Text(key.project_name), Int(key.created_at_ms)},
        nullptr);
  }

  static Status InsertKey(Connection& c, const NewApiKey& key,
                          const std::string& project_id) {
    return Exec(c, kInsertKey,
                {Text(key.key_id), Text(project_id), Binary(key.key_digest),
                 Text(OriginName(key.origin)), Int(key.created_at_ms)},
                nullptr);
  }

  // The project of the key whose digest is `digest`; unset if none.
  Status SelectKeyProject(const std::string& digest,
                          std::optional<std::string>* project) {
    return Read("register key", [&](Connection& c) {
      Result result;
      Status s = Exec(c, kSelectKeyProject, {Binary(digest)}, &result);
      if (!s.ok()) return s;
      if (result.rows() > 0) {
        *project = StringAt(result, 0, 0);
      } else {
        project->reset();
      }
      return Status::Ok();
    });
  }

  const size_t pool_size_;
  Pool pool_;
  const SecretsAtRest secrets_;
  std::mutex pruner_mu_;
  // Declared last, so stopped first: its slices use the pool. Null without
  // StoreOptions::background_retention, and after Checkpoint(). Guarded by
  // pruner_mu_.
  std::unique_ptr<BackgroundLoop> pruner_;
};

}  // namespace

bool IsPostgresDatabase(std::string_view db) {
  return postgres_internal::IsPostgresUri(db);
}

Status ApplyPostgresMigrations(const std::string& uri, int* from, int* to) {
  std::unique_ptr<Connection> connection;
  Status status = Connection::Open(uri, &connection);
  if (!status.ok()) {
    return Prefixed(("cannot open PostgreSQL database '" +
                     postgres_internal::RedactUri(uri) + "'")
                        .c_str(),
                    status);
  }
  return postgres_internal::ApplyMigrations(*connection, NowMillis(), from, to);
}

Status OpenPostgresStore(const std::string& uri, const StoreOptions& options,
                         std::unique_ptr<Store>* store) {
  if (!options.secrets_key.empty() &&
      options.secrets_key.size() != SecretBox::kKeyBytes) {
    return Status::InvalidArgument("the secrets key must be 32 bytes");
  }
  int from = 0, to = 0;
  Status status = ApplyPostgresMigrations(uri, &from, &to);
  if (!status.ok()) return status;
  *store = std::make_unique<PostgresStore>(uri, options);
  return Status::Ok();
}

}  // namespace webhooks
