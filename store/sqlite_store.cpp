// SqliteStore: the Store interface on SQLite through SQLiteCpp. With
// store/sqlite_connections.*, the only code that includes SQLiteCpp or
// sqlite3.h; every SQLite::Exception becomes a Status in StatusFromSqlite().
//
// A file database has one write connection, owned by a writer thread that
// commits concurrent writes together (GroupCommit), a pool of read
// connections that read beside it (WAL), and a background checkpointer.
// ":memory:" is a separate database per connection, so there the writer
// runs the reads too.

#include "store/sqlite_store.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "store/secret_box.h"
#include "store/sqlite_connections.h"
#include "util/crypto.h"

extern const char kSchemaSql[];

namespace webhooks {
namespace {

constexpr std::string_view kMemoryPath = ":memory:";

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

// Creates the database file with mode 0600 before SQLite opens it (SQLite
// would use 0644 less the umask; the WAL and SHM files then copy our mode),
// and syncs the folder so the new file's name survives a crash.
void CreateFilePrivately(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return;  // exists already, or SQLite will report the problem
  ::fsync(fd);
  ::close(fd);
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos) {
    dir = slash == 0 ? "/" : path.substr(0, slash);
  }
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

// The user_version schema.sql sets. 0 is a new database; 1 had a foreign key
// from webhook_events to webhook_endpoints that deleted an endpoint's events
// in the deleting transaction, and no endpoint_event_counts.
constexpr int kSchemaVersion = 2;

// Brings a version 1 database to version 2, in one transaction: a crash
// leaves it at version 1. SQLite cannot drop a foreign key in place, so
// webhook_events is rebuilt as https://sqlite.org/lang_altertable.html
// section 7 says (foreign keys off, new table, copy, drop the old one): the
// old table is renamed out of the way, schema.sql creates the new one with
// its indexes and triggers, and the copy fills endpoint_event_counts
// through the insert trigger. One pass over the events, once.
void MigrateToVersion2(SQLite::Database& db) {
  db.exec("PRAGMA foreign_keys = OFF");  // a no-op inside a transaction
  {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec("ALTER TABLE webhook_events RENAME TO webhook_events_v1");
    // Index names are per database: free them for the new table's.
    db.exec("DROP INDEX IF EXISTS webhook_events_by_endpoint");
    db.exec("DROP INDEX IF EXISTS webhook_events_by_received_at");
    db.exec("DROP TRIGGER IF EXISTS webhook_events_counted");
    db.exec("DROP TRIGGER IF EXISTS webhook_events_uncounted");
    db.exec(kSchemaSql);
    db.exec(
        "INSERT INTO webhook_events (seq, id, endpoint_id, provider_event_id, "
        "received_at, headers, body) SELECT seq, id, endpoint_id, "
        "provider_event_id, received_at, headers, body FROM "
        "webhook_events_v1 ORDER BY seq");
    db.exec("DROP TABLE webhook_events_v1");
    SQLite::Statement check(db, "PRAGMA foreign_key_check");
    if (check.executeStep()) {
      throw SQLite::Exception("migration to version 2: dangling rows",
                              SQLITE_CONSTRAINT);
    }
    check.reset();
    transaction.commit();
  }
  db.exec("PRAGMA foreign_keys = ON");
}

// The store_settings row that says a server has the database open: set when
// it opens it (StoreOptions::track_clean_stop), deleted by CloseCleanly. Its
// value is a token of that open, so a server deletes only its own.
constexpr char kRunningSetting[] = "server_running";

// `name` quoted as an SQL identifier.
std::string QuotedName(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

// The cheap check: reads the first row of every table and every index, so
// the file is a database, its schema reads and each b-tree's root page
// parses, in a time that does not grow with the file (quick_check reads
// every page: 182 ms of a 193 ms start on a 121 MB file). Throws
// SQLite::Exception (SQLITE_NOTADB, SQLITE_CORRUPT) if not.
void CheckRootPages(SQLite::Database& db) {
  std::vector<std::string> probes;
  {
    // Partial indexes are left out: INDEXED BY cannot scan them whole.
    SQLite::Statement trees(
        db,
        "SELECT m.name, NULL FROM sqlite_schema m WHERE m.type = 'table' AND "
        "m.rootpage > 0 UNION ALL SELECT m.name, i.name FROM sqlite_schema "
        "m, pragma_index_list(m.name) i WHERE m.type = 'table' AND "
        "m.rootpage > 0 AND i.partial = 0");
    while (trees.executeStep()) {
      const std::string table = QuotedName(trees.getColumn(0).getString());
      probes.push_back(
          "SELECT 1 FROM " + table +
          (trees.isColumnNull(1)
               ? std::string(" NOT INDEXED")
               : " INDEXED BY " + QuotedName(trees.getColumn(1).getString())) +
          " LIMIT 1");
    }
  }
  for (const std::string& probe : probes) {
    SQLite::Statement(db, probe).executeStep();
  }
}

// Whether the last server that opened the database stopped cleanly. False
// for a database that predates the record (no store_settings table): its
// history is unknown. A new, empty database counts as clean.
bool StoppedCleanly(SQLite::Database& db) {
  SQLite::Statement tables(
      db,
      "SELECT count(*), count(*) FILTER (WHERE name = 'store_settings') "
      "FROM sqlite_schema WHERE type = 'table'");
  tables.executeStep();
  if (tables.getColumn(0).getInt() == 0) return true;
  if (tables.getColumn(1).getInt() == 0) return false;
  SQLite::Statement running(db, "SELECT 1 FROM store_settings WHERE name = ?");
  running.bind(1, kRunningSetting);
  return !running.executeStep();
}

// SQLite's own check of every page; throws if it finds a problem.
void CheckEveryPage(SQLite::Database& db) {
  SQLite::Statement check(db, "PRAGMA quick_check");
  if (!check.executeStep() || check.getColumn(0).getString() != "ok") {
    throw SQLite::Exception("database failed quick_check", SQLITE_CORRUPT);
  }
}

// Opens the connection, checks the file, sets it up and applies the schema,
// all before any statement is prepared (preparing against a missing table
// throws). With `track_clean_stop` (StoreOptions), a file whose last server
// did not stop cleanly gets the full check, and once the file passed, a
// fresh token is recorded as kRunningSetting and returned in
// *running_token. *full_check tells which check ran.
SQLite::Database OpenDatabase(const std::string& path, bool track_clean_stop,
                              bool* full_check, std::string* running_token) {
  const bool in_memory = path == kMemoryPath;
  if (!in_memory) CreateFilePrivately(path);
  // NOMUTEX: only the writer thread uses this connection.
  SQLite::Database db(
      path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX,
      kBusyTimeoutMs);
  *full_check = false;
  if (!in_memory) {
    // A corrupt or foreign file fails here, before we write anything.
    CheckRootPages(db);
    if (track_clean_stop && !StoppedCleanly(db)) {
      *full_check = true;
      CheckEveryPage(db);
    }
    // The statements above are finalized: the journal mode cannot change
    // while one is active.
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA journal_size_limit = 67108864");
  }
  // Every acknowledged write is on disk, not only in the OS cache: WAL with
  // synchronous=FULL syncs the WAL at each commit.
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  const int version = db.execAndGet("PRAGMA user_version").getInt();
  // Also after an older server set the version back to 1: copying again is
  // correct, if slow.
  if (version == 1) MigrateToVersion2(db);
  static_assert(kSchemaVersion == 2, "add the migration to the new version");
  db.exec(kSchemaSql);
  if (!in_memory && track_clean_stop) {
    SQLite::Statement mark(
        db,
        "INSERT INTO store_settings (name, value) VALUES (?, "
        "lower(hex(randomblob(16)))) ON CONFLICT (name) DO UPDATE SET value "
        "= excluded.value RETURNING value");
    mark.bind(1, kRunningSetting);
    if (!mark.executeStep()) {
      throw SQLite::Exception("cannot record the open", SQLITE_ERROR);
    }
    *running_token = mark.getColumn(0).getString();
    while (mark.executeStep()) {
    }
  }
  return db;
}

// The store_settings row that records how setup values are stored: "" in
// clear, else kKeyCheckText sealed with the secrets key under
// kKeyCheckContext (a context no setup field has: those hold a NUL).
constexpr char kKeyCheckSetting[] = "secrets_key_check";
constexpr std::string_view kKeyCheckContext =
    "store_settings.secrets_key_check";
constexpr std::string_view kKeyCheckText = "webhooks-server secrets key check";

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
  kCount,  // not a statement: how many there are
};
static_assert(static_cast<size_t>(Sql::kCount) <= Connection::kMaxStatements);

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
    case Sql::kCount:
      break;
  }
  return "SELECT 'no such statement'";
}

// Statement `sql` of `connection`, reset when the scope ends.
class Use : public Query {
 public:
  Use(Connection& connection, Sql sql)
      : Query(connection.Prepared(static_cast<size_t>(sql), SqlText(sql))) {}
};

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

// Reads the endpoint row (without setup fields); false if `id` is not an
// endpoint of `project_id`.
bool SelectEndpoint(Connection& c, std::string_view project_id,
                    std::string_view id, WebhookEndpoint* out) {
  Use select(c, Sql::kSelectEndpointById);
  select->bind(":id", std::string(id));
  select->bind(":project_id", std::string(project_id));
  if (!select->executeStep()) return false;
  ReadEndpointRow(*select, out);
  return true;
}

// Inside a transaction.
void InsertProject(Connection& c, const std::string& id,
                   const std::string& name, int64_t created_at_ms) {
  Use insert(c, Sql::kInsertProject);
  insert->bind(":id", id);
  insert->bind(":name", name);
  insert->bind(":created_at", created_at_ms);
  insert->exec();
}

// Inside a transaction.
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

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs `step` on a thread of its own, at once and then again while it
// returns true (more work is due, after a pause as long as the step), and
// otherwise after `interval` or a Wake(). Each step is meant to be short: the
// destructor waits for the one running, then stops.
class BackgroundLoop {
 public:
  BackgroundLoop(std::chrono::milliseconds interval, std::function<bool()> step)
      : interval_(interval), step_(std::move(step)) {
    thread_ = std::thread([this] { Loop(); });
  }
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;
  ~BackgroundLoop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = true;
    }
    wake_.notify_one();
  }

 private:
  void Loop() {
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      const bool more = step_();
      // After a step with more to do, a pause as long as the step: other
      // writes queued behind it get the writer at least half the time.
      const auto pause = more ? std::chrono::steady_clock::now() - start
                              : std::chrono::steady_clock::duration(interval_);
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, pause, [this] { return stopping_ || woken_; });
      if (stopping_) return;
      woken_ = false;
    }
  }

  const std::chrono::milliseconds interval_;
  const std::function<bool()> step_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;     // started last, in the constructor body
};

// Idempotency does not rest on the writer thread but on UNIQUE constraints,
// so it also holds against other processes writing the same file.
class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, const StoreOptions& options)
      : path_(path), secrets_(options.secrets_key) {
    auto writer = std::make_unique<Connection>(OpenDatabase(
        path, options.track_clean_stop, &full_check_at_open_, &running_token_));
    if (path != kMemoryPath) {
      checkpointer_ = std::make_unique<Checkpointer>(
          Connection::OpenExisting(path, /*reader=*/false));
      checkpointer_->WatchWriter(*writer);
      // ":memory:" is a separate database per connection: there, reads go
      // through the writer too.
      readers_ = std::make_unique<ReaderPool>(path, options.read_connections);
      struct stat info {};
      if (::stat(path.c_str(), &info) == 0) inode_ = info.st_ino;
    }
    std::function<void(Connection&)> between_batches;
    if (checkpointer_) {
      between_batches = [checkpointer = checkpointer_.get()](Connection& c) {
        checkpointer->CatchUp(c);
      };
    }
    writer_ = std::make_unique<GroupCommit>(std::move(writer),
                                            std::move(between_batches));
    if (options.background_retention) {
      pruner_ = std::make_unique<BackgroundLoop>(
          std::chrono::milliseconds(kPruneIntervalMs),
          [this, retention = *options.background_retention] {
            bool more = false;
            // A failure (busy, a full disk) is tried again at the next look.
            return PruneEvents(retention, NowMs(), kPruneSliceRows, &more)
                       .ok() &&
                   more;
          });
    }
  }

  Status CreateEndpoint(const NewEndpoint& params, WebhookEndpoint* out,
                        bool* created) override {
    WebhookEndpoint row;
    bool found = false;
    // A known triple (a retry, an idempotent re-run) is answered from a
    // reader, without waiting for the writer.
    if (readers_) {
      Status status = Read("create endpoint", [&](Connection& c) {
        found = SelectByTriple(c, params, &row);
        return Status::Ok();
      });
      if (!status.ok()) return status;
      if (found) {
        *out = std::move(row);
        *created = false;
        return Status::Ok();
      }
    }
    bool inserted = false;
    Status status = writer_->Run("create endpoint", [&](Connection& c) {
      Use insert(c, Sql::kInsertEndpoint);
      insert->bind(":id", params.id);
      insert->bind(":project_id", params.project_id);
      insert->bind(":toolkit_slug", params.toolkit_slug);
      insert->bind(":client_id", params.client_id);
      insert->bind(":webhook_url", params.webhook_url);
      insert->bind(":created_at", params.created_at_ms);
      // RETURNING yields no row when DO NOTHING fired: the triple exists.
      if (insert->executeStep()) {
        ReadEndpointRow(*insert, &row);
        inserted = true;
        // Step to completion so the statement finishes before COMMIT.
        while (insert->executeStep()) {
        }
        return Status::Ok();
      }
      if (!SelectByTriple(c, params, &row)) {
        return Status::Internal("create: conflict without an existing row");
      }
      return Status::Ok();
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
      Use select(c, Sql::kSelectEndpointByIdWithFields);
      select->bind(":id", std::string(id));
      select->bind(":project_id", std::string(project_id));
      if (!ReadEndpointWithFields(*select, &row)) {
        return Status::NotFound("no such endpoint in this project");
      }
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  Status ListEndpoints(const ListQuery& query,
                       std::vector<EndpointListItem>* out,
                       bool* more) override {
    std::vector<EndpointListItem> rows;
    Status status = Read("list endpoints", [&](Connection& c) {
      Use select(c, Sql::kListEndpoints);
      select->bind(":project_id", query.project_id);
      if (query.toolkit_slug)
        select->bind(":toolkit_slug", *query.toolkit_slug);
      if (query.after) {
        select->bind(":after_created_at", query.after->created_at_ms);
        select->bind(":after_id", query.after->id);
      }
      // Growing the vector row by row moved every endpoint ten times over.
      rows.reserve(query.limit == 0 ? 256 : query.limit + 1);
      // One row past the limit tells whether more follow; -1 is no limit.
      select->bind(":limit", query.limit == 0
                                 ? static_cast<int64_t>(-1)
                                 : static_cast<int64_t>(query.limit) + 1);
      while (select->executeStep()) {
        EndpointListItem& item = rows.emplace_back();
        item.id = select->getColumn(0).getString();
        item.toolkit_slug = select->getColumn(1).getString();
        item.client_id = select->getColumn(2).getString();
        item.created_at_ms = select->getColumn(3).getInt64();
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
    Status status = writer_->Run("update setup fields", [&](Connection& c) {
      if (!SelectEndpoint(c, project_id, id, &row)) {
        return Status::NotFound("no such endpoint in this project");
      }
      if (replace) {
        Use remove(c, Sql::kDeleteSetupFields);
        remove->bind(":endpoint_id", row.id);
        remove->exec();
      }
      for (const SetupField& field : fields) {
        Use upsert(c, Sql::kUpsertSetupField);
        upsert->bind(":endpoint_id", row.id);
        upsert->bind(":name", field.name);
        upsert->bind(":value",
                     Seal(SetupFieldContext(row.id, field.name), field.value));
        upsert->exec();
      }
      ReadSetupFields(c, &row);
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  Status DeleteEndpoint(std::string_view project_id,
                        std::string_view id) override {
    Status status = writer_->Run("delete endpoint", [&](Connection& c) {
      {
        Use remove(c, Sql::kDeleteEndpoint);
        remove->bind(":id", std::string(id));
        remove->bind(":project_id", std::string(project_id));
        if (remove->exec() == 0) {
          return Status::NotFound("no such endpoint in this project");
        }
      }
      // Its events stay, listed for the pruner: deleting them here held the
      // one writer (and so every project's writes) for as long as they took.
      Use purge(c, Sql::kInsertPurge);
      purge->bind(":endpoint_id", std::string(id));
      purge->exec();
      return Status::Ok();
    });
    if (status.ok() && pruner_) pruner_->Wake();
    return status;
  }

  Status GetEndpointForIngress(std::string_view id,
                               WebhookEndpoint* out) override {
    WebhookEndpoint row;
    Status status = Read("get endpoint for ingress", [&](Connection& c) {
      Use select(c, Sql::kSelectEndpointAnyWithFields);
      select->bind(":id", std::string(id));
      if (!ReadEndpointWithFields(*select, &row)) {
        return Status::NotFound("no such endpoint");
      }
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  Status MarkVerified(std::string_view id, int64_t at_ms,
                      const std::optional<SetupField>& secret,
                      bool* verified) override {
    bool changed = false;
    Status status = writer_->Run("mark verified", [&](Connection& c) {
      {
        Use update(c, Sql::kMarkVerified);
        update->bind(":id", std::string(id));
        update->bind(":at", at_ms);
        changed = update->exec() > 0;
      }
      if (!changed) {
        Use select(c, Sql::kSelectEndpointAny);
        select->bind(":id", std::string(id));
        if (!select->executeStep()) return Status::NotFound("no such endpoint");
        return Status::Ok();  // verified already: nothing written
      }
      if (secret) {
        Use upsert(c, Sql::kUpsertSetupField);
        upsert->bind(":endpoint_id", std::string(id));
        upsert->bind(":name", secret->name);
        upsert->bind(":value",
                     Seal(SetupFieldContext(id, secret->name), secret->value));
        upsert->exec();
      }
      return Status::Ok();
    });
    if (status.ok()) *verified = changed;
    return status;
  }

  Status RecordEvent(const NewEvent& event, const EventRetention& retention,
                     bool* stored) override {
    bool inserted = false;
    Status status = writer_->Run("record event", [&](Connection& c) {
      {
        Use insert(c, Sql::kInsertEvent);
        insert->bind(":id", event.id);
        insert->bind(":endpoint_id", event.endpoint_id);
        insert->bind(":provider_event_id", event.provider_event_id);
        insert->bind(":received_at", event.received_at_ms);
        insert->bind(":headers", event.headers_json);
        insert->bind(":body", event.body.data(),
                     static_cast<int>(event.body.size()));
        try {
          inserted = insert->exec() > 0;
        } catch (const SQLite::Exception& e) {
          // The endpoint was deleted since the ingress read it: the answer
          // an endpoint that never existed gets, not a failure.
          if (e.getExtendedErrorCode() != SQLITE_CONSTRAINT_FOREIGNKEY) throw;
          return Status::NotFound("no such endpoint");
        }
      }
      if (inserted && retention.max_count_per_endpoint > 0) {
        PruneOverCount(c, event.endpoint_id, retention.max_count_per_endpoint);
      }
      return Status::Ok();
    });
    if (status.ok()) *stored = inserted;
    return status;
  }

  Status ListEvents(std::string_view project_id, std::string_view endpoint_id,
                    size_t limit, int64_t before_sequence, size_t max_bytes,
                    std::vector<StoredEvent>* out, bool* more) override {
    std::vector<StoredEvent> rows;
    bool has_more = false;
    // One read transaction: the ownership check and the rows agree.
    Status status = ReadSnapshot("list events", [&](Connection& c) {
      WebhookEndpoint endpoint;
      if (!SelectEndpoint(c, project_id, endpoint_id, &endpoint)) {
        return Status::NotFound("no such endpoint in this project");
      }
      Use select(c, Sql::kListEvents);
      select->bind(":endpoint_id", std::string(endpoint_id));
      select->bind(":before", before_sequence);
      select->bind(":limit", limit == 0 ? static_cast<int64_t>(-1)
                                        : static_cast<int64_t>(limit) + 1);
      size_t bytes = 0;
      while (select->executeStep()) {
        SQLite::Column headers = select->getColumn(4);
        SQLite::Column body = select->getColumn(5);
        const size_t size = static_cast<size_t>(headers.getBytes()) +
                            static_cast<size_t>(body.getBytes());
        // The row past the limit, or past the byte bound, is not copied:
        // it only tells that more follow.
        if ((limit != 0 && rows.size() == limit) ||
            (max_bytes != 0 && !rows.empty() && bytes + size > max_bytes)) {
          has_more = true;
          break;
        }
        bytes += size;
        StoredEvent& event = rows.emplace_back();
        event.sequence = select->getColumn(0).getInt64();
        event.id = select->getColumn(1).getString();
        event.provider_event_id = select->getColumn(2).getString();
        event.received_at_ms = select->getColumn(3).getInt64();
        event.headers_json = headers.getString();
        if (body.getBytes() > 0) {
          event.body.assign(static_cast<const char*>(body.getBlob()),
                            static_cast<size_t>(body.getBytes()));
        }
      }
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
    Status status = writer_->Run("prune events", [&](Connection& c) {
      worked = false;
      int64_t budget = static_cast<int64_t>(max_rows);
      std::optional<std::string> purged;
      {
        Use select(c, Sql::kSelectPurge);
        if (select->executeStep()) purged = select->getColumn(0).getString();
      }
      if (purged) {
        const int64_t deleted = DeleteOldest(c, *purged, budget);
        budget -= deleted;
        worked = true;
        if (budget > 0) {  // fewer than asked for: none are left
          Use done(c, Sql::kDeletePurge);
          done->bind(":endpoint_id", *purged);
          done->exec();
        }
      }
      if (budget > 0 && retention.max_age_ms > 0) {
        Use remove(c, Sql::kDeleteAgedEvents);
        remove->bind(":cutoff", now_ms - retention.max_age_ms);
        remove->bind(":limit", budget);
        if (remove->exec() > 0) worked = true;
      }
      return Status::Ok();
    });
    if (status.ok()) *more = worked;
    return status;
  }

  Status AddKeyToProject(const NewApiKey& key,
                         std::string* project_id) override {
    if (key.key_digest.size() != 32) {
      return Status::InvalidArgument("key digest must be 32 bytes");
    }
    std::string project = key.project_id;
    Status status = writer_->Run("add key", [&](Connection& c) {
      bool exists = false;
      {
        Use select(c, Sql::kSelectProjectByName);
        select->bind(":name", key.project_name);
        if (select->executeStep()) {
          project = select->getColumn(0).getString();
          exists = true;
        }
      }
      if (!exists)
        InsertProject(c, project, key.project_name, key.created_at_ms);
      InsertKey(c, key, project);
      return Status::Ok();
    });
    if (status.ok()) *project_id = project;
    return status;
  }

  Status ListKeys(std::vector<ApiKeyInfo>* out) override {
    std::vector<ApiKeyInfo> keys;
    Status status = Read("list keys", [&](Connection& c) {
      Use select(c, Sql::kListKeys);
      while (select->executeStep()) {
        ApiKeyInfo info;
        info.key_id = select->getColumn(0).getString();
        info.project_id = select->getColumn(1).getString();
        info.project_name = select->getColumn(2).getString();
        info.origin = OriginFromName(select->getColumn(3).getString());
        info.created_at_ms = select->getColumn(4).getInt64();
        if (!select->isColumnNull(5)) {
          info.revoked_at_ms = select->getColumn(5).getInt64();
        }
        keys.push_back(std::move(info));
      }
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(keys);
    return status;
  }

  Status RevokeKey(std::string_view key_id, int64_t at_ms) override {
    return writer_->Run("revoke key", [&](Connection& c) {
      Use update(c, Sql::kRevokeKey);
      update->bind(":id", std::string(key_id));
      update->bind(":at", at_ms);
      if (update->exec() == 0) {
        return Status::NotFound("no active key with that id");
      }
      return Status::Ok();
    });
  }

  Status HasAdminKeys(bool* any) override {
    bool exists = false;
    Status status = Read("has admin keys", [&](Connection& c) {
      Use select(c, Sql::kAnyAdminKey);
      select->executeStep();
      exists = select->getColumn(0).getInt() != 0;
      return Status::Ok();
    });
    if (status.ok()) *any = exists;
    return status;
  }

  Status CountRows(int64_t* endpoints, int64_t* events) override {
    int64_t endpoint_count = 0, event_count = 0;
    Status status = Read("count rows", [&](Connection& c) {
      Use select(c, Sql::kCountRows);
      select->executeStep();
      endpoint_count = select->getColumn(0).getInt64();
      event_count = select->getColumn(1).getInt64();
      return Status::Ok();
    });
    if (!status.ok()) return status;
    *endpoints = endpoint_count;
    *events = event_count;
    return Status::Ok();
  }

  Status Ping() override {
    if (path_ != kMemoryPath) {
      struct stat info {};
      if (::stat(path_.c_str(), &info) != 0 || info.st_ino != inode_) {
        return Status::Unavailable("the database file is gone or replaced");
      }
      if ((info.st_mode & (S_IRUSR | S_IWUSR)) != (S_IRUSR | S_IWUSR)) {
        return Status::Unavailable(
            "the database file is not readable and "
            "writable by its owner");
      }
    }
    return Read("ping", [&](Connection& c) {
      Use select(c, Sql::kPing);
      if (!select->executeStep()) return Status::Internal("ping: no row");
      return Status::Ok();
    });
  }

  Status CheckSecretsKey() override {
    // Usually the record decides, on a reader, without waiting for writes.
    std::optional<std::string> recorded;
    Status status = Read("check secrets key", [&](Connection& c) {
      recorded = SelectKeyCheck(c);
      return Status::Ok();
    });
    if (!status.ok()) return status;
    if (recorded && !NeedsAdoption(*recorded)) return JudgeKeyCheck(*recorded);
    return writer_->Run("record secrets key", [&](Connection& c) {
      // Read again in the write transaction: another process may have
      // recorded a key since.
      std::optional<std::string> now = SelectKeyCheck(c);
      if (now && !NeedsAdoption(*now)) return JudgeKeyCheck(*now);
      if (!now) {
        Status legacy = JudgeFirstSealedValue(c);
        if (!legacy.ok()) return legacy;
      }
      if (secrets_.enabled()) SealClearValues(c);
      Use upsert(c, Sql::kUpsertSetting);
      upsert->bind(":name", kKeyCheckSetting);
      upsert->bind(":value", secrets_.enabled()
                                 ? Seal(kKeyCheckContext, kKeyCheckText)
                                 : std::string());
      upsert->exec();
      return Status::Ok();
    });
  }

  Status Checkpoint() override {
    // A slice running meanwhile would make the checkpoint wait for it.
    pruner_.reset();
    return checkpointer_ ? checkpointer_->Truncate() : Status::Ok();
  }

  bool FullCheckAtOpen() override { return full_check_at_open_; }

  Status RecordCleanStop() override {
    if (running_token_.empty()) return Status::Ok();
    Status status = writer_->Run("record clean stop", [&](Connection& c) {
      Use remove(c, Sql::kDeleteRunningSetting);
      remove->bind(":name", kRunningSetting);
      remove->bind(":value", running_token_);
      remove->exec();
      return Status::Ok();
    });
    if (status.ok()) running_token_.clear();
    return status;
  }

  Status FindKey(std::string_view key_digest, ApiKeyRecord* out) override {
    ApiKeyRecord record;
    Status status = Read("find key", [&](Connection& c) {
      Use select(c, Sql::kSelectKey);
      select->bind(":key_digest", key_digest.data(),
                   static_cast<int>(key_digest.size()));
      if (!select->executeStep()) {
        return Status::NotFound("unknown or revoked key");
      }
      // The index lookup found an equal digest; compare again in constant
      // time so that the contract holds whatever the index does.
      SQLite::Column stored = select->getColumn(3);
      if (!ConstantTimeEquals(
              std::string_view(static_cast<const char*>(stored.getBlob()),
                               static_cast<size_t>(stored.getBytes())),
              key_digest)) {
        return Status::NotFound("unknown or revoked key");
      }
      record.key_id = select->getColumn(0).getString();
      record.project_id = select->getColumn(1).getString();
      record.origin = OriginFromName(select->getColumn(2).getString());
      record.revoked = select->getColumn(4).getInt() != 0;
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(record);
    return status;
  }

  Status RegisterKey(const NewApiKey& key, std::string* project_id) override {
    if (key.key_digest.size() != 32) {
      return Status::InvalidArgument("key digest must be 32 bytes");
    }
    std::string project;
    // The writer's transaction is IMMEDIATE: the look-up and the insert see
    // the same database even with other processes writing.
    Status status = writer_->Run("register key", [&](Connection& c) {
      {
        Use select(c, Sql::kSelectAnyKey);
        select->bind(":key_digest", key.key_digest.data(),
                     static_cast<int>(key.key_digest.size()));
        if (select->executeStep()) {
          project = select->getColumn(0).getString();
          return Status::Ok();  // known already: nothing to write
        }
      }
      InsertProject(c, key.project_id, key.project_name, key.created_at_ms);
      InsertKey(c, key, key.project_id);
      project = key.project_id;
      return Status::Ok();
    });
    if (status.ok()) *project_id = project;
    return status;
  }

 private:
  // Deletes the endpoint's oldest events beyond `keep`, at most
  // kMaxPrunedPerEvent of them. Inside the writer's transaction.
  static void PruneOverCount(Connection& c, const std::string& endpoint_id,
                             size_t keep) {
    int64_t stored = 0;
    {
      Use select(c, Sql::kSelectEventCount);
      select->bind(":endpoint_id", endpoint_id);
      if (select->executeStep()) stored = select->getColumn(0).getInt64();
    }
    const int64_t excess = stored - static_cast<int64_t>(keep);
    if (excess <= 0) return;
    DeleteOldest(c, endpoint_id,
                 std::min(excess, static_cast<int64_t>(kMaxPrunedPerEvent)));
  }

  // Deletes at most `limit` of the endpoint's oldest events; returns how
  // many it deleted.
  static int64_t DeleteOldest(Connection& c, const std::string& endpoint_id,
                              int64_t limit) {
    Use remove(c, Sql::kDeleteOldestEvents);
    remove->bind(":endpoint_id", endpoint_id);
    remove->bind(":limit", limit);
    return remove->exec();
  }

  // Reads run on the reader pool, or, for ":memory:", on the writer.
  // Runs `work`, which runs one statement, on a reader.
  Status Read(const char* operation, ConnectionWork work) {
    return readers_ ? readers_->Run(operation, work, /*snapshot=*/false)
                    : writer_->Run(operation, work);
  }

  // Runs `work`, which runs several statements, on a reader, in one read
  // transaction so that they all see the same database.
  Status ReadSnapshot(const char* operation, ConnectionWork work) {
    return readers_ ? readers_->Run(operation, work, /*snapshot=*/true)
                    : writer_->Run(operation, work);
  }

  // The endpoint of params' triple with its setup fields; false if none.
  bool SelectByTriple(Connection& c, const NewEndpoint& params,
                      WebhookEndpoint* out) const {
    Use select(c, Sql::kSelectEndpointByTriple);
    select->bind(":project_id", params.project_id);
    select->bind(":toolkit_slug", params.toolkit_slug);
    select->bind(":client_id", params.client_id);
    return ReadEndpointWithFields(*select, out);
  }

  // Reads a "with fields" statement to its end; false if it has no row.
  bool ReadEndpointWithFields(SQLite::Statement& rows,
                              WebhookEndpoint* out) const {
    if (!rows.executeStep()) return false;
    ReadEndpointRow(rows, out);
    out->setup_fields.clear();
    do {
      if (rows.isColumnNull(7)) continue;  // the endpoint has no fields
      AppendSetupField(rows.getColumn(7).getString(),
                       rows.getColumn(8).getString(), out);
    } while (rows.executeStep());
    return true;
  }

  void ReadSetupFields(Connection& c, WebhookEndpoint* endpoint) const {
    Use select(c, Sql::kSelectSetupFields);
    select->bind(":endpoint_id", endpoint->id);
    endpoint->setup_fields.clear();
    while (select->executeStep()) {
      AppendSetupField(select->getColumn(0).getString(),
                       select->getColumn(1).getString(), endpoint);
    }
  }

  // The recorded key check; unset if none was recorded yet.
  static std::optional<std::string> SelectKeyCheck(Connection& c) {
    Use select(c, Sql::kSelectSetting);
    select->bind(":name", kKeyCheckSetting);
    if (!select->executeStep()) return std::nullopt;
    return select->getColumn(0).getString();
  }

  // Values recorded in clear, and a key given now.
  bool NeedsAdoption(const std::string& recorded) const {
    return recorded.empty() && secrets_.enabled();
  }

  Status WrongKey() const {
    return Status::InvalidArgument(
        "the secrets key does not decrypt the setup values stored in '" +
        path_ + "'");
  }
  Status NoKey() const {
    return Status::InvalidArgument("the setup values stored in '" + path_ +
                                   "' are encrypted, and no secrets key was "
                                   "given");
  }

  // Compares the record with the key we hold (adoption aside).
  Status JudgeKeyCheck(const std::string& recorded) const {
    if (recorded.empty()) return Status::Ok();
    if (!secrets_.enabled()) return NoKey();
    std::string plain;
    Status opened = secrets_.Open(kKeyCheckContext, recorded, &plain);
    if (CannotOpen(opened) || (opened.ok() && plain != kKeyCheckText)) {
      return WrongKey();
    }
    return opened;
  }

  // A database sealed before the record existed: one of its sealed values
  // stands in for the record (all were sealed with the same key).
  Status JudgeFirstSealedValue(Connection& c) const {
    Use select(c, Sql::kSelectSealedField);
    select->bind(":prefix", SecretBox::SealedPrefix());
    if (!select->executeStep()) return Status::Ok();
    if (!secrets_.enabled()) return NoKey();
    std::string plain;
    Status opened =
        secrets_.Open(SetupFieldContext(select->getColumn(0).getString(),
                                        select->getColumn(1).getString()),
                      select->getColumn(2).getString(), &plain);
    return CannotOpen(opened) ? WrongKey() : opened;
  }

  // Seals every value stored in clear (from before the key was given).
  void SealClearValues(Connection& c) const {
    struct Clear {
      std::string endpoint_id, name, value;
    };
    std::vector<Clear> clear;
    {
      Use select(c, Sql::kSelectClearFields);
      select->bind(":prefix", SecretBox::SealedPrefix());
      while (select->executeStep()) {
        clear.push_back({select->getColumn(0).getString(),
                         select->getColumn(1).getString(),
                         select->getColumn(2).getString()});
      }
    }
    for (const Clear& field : clear) {
      Use update(c, Sql::kUpdateSetupFieldValue);
      update->bind(":endpoint_id", field.endpoint_id);
      update->bind(":name", field.name);
      update->bind(
          ":value",
          Seal(SetupFieldContext(field.endpoint_id, field.name), field.value));
      update->exec();
    }
  }

  // Opens a stored value (sealed or clear) and adds it to the endpoint.
  void AppendSetupField(std::string name, const std::string& stored,
                        WebhookEndpoint* endpoint) const {
    SetupField field;
    field.name = std::move(name);
    Status opened = secrets_.Open(SetupFieldContext(endpoint->id, field.name),
                                  stored, &field.value);
    if (CannotOpen(opened)) {
      // Converted to Internal by StatusFromSqlite: never a garbage value.
      throw SQLite::Exception(
          "setup field '" + field.name + "' of " + endpoint->id +
              " cannot be decrypted (missing or different secrets key)",
          SQLITE_ERROR);
    }
    ThrowIfFailed(opened);
    endpoint->setup_fields.push_back(std::move(field));
  }

  // `plain` sealed for a statement. Throws if sealing fails.
  std::string Seal(std::string_view context, std::string_view plain) const {
    std::string sealed;
    ThrowIfFailed(secrets_.Seal(context, plain, &sealed));
    return sealed;
  }

  // SecretBox's failures are values. Inside a transaction they become the
  // SQLite::Exception every other failure is, so that StatusFromSqlite makes
  // them Internal and the transaction rolls back, as for any other failure.
  static void ThrowIfFailed(const Status& status) {
    if (!status.ok()) throw SQLite::Exception(status.message(), SQLITE_ERROR);
  }

  // SecretBox::Open's "this value cannot be opened with this key", as
  // opposed to a failure of OpenSSL itself.
  static bool CannotOpen(const Status& opened) {
    return opened.code() == Status::Code::kInvalidArgument;
  }

  const std::string path_;
  ino_t inode_ = 0;  // of the file opened; 0 for :memory:
  bool full_check_at_open_ = false;
  // This open's kRunningSetting value; empty if it records none, or once
  // RecordCleanStop deleted it.
  std::string running_token_;
  const SecretBox secrets_;
  // Declared before writer_, which is destroyed first: the writer's WAL
  // hook points at the checkpointer. Both are null for ":memory:".
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<ReaderPool> readers_;
  std::unique_ptr<GroupCommit> writer_;
  // Declared last, so stopped first: its slices run on the writer. Null
  // without StoreOptions::background_retention, and after Checkpoint().
  std::unique_ptr<BackgroundLoop> pruner_;
};

}  // namespace

namespace {

// What the operating system says about `path`, for an error message: SQLite
// reports only "unable to open database file" for a directory or a folder
// that cannot be entered. Empty if nothing more is known.
std::string WhyUnopenable(const std::string& path) {
  if (path == kMemoryPath) return "";
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return " (" + std::string(std::strerror(errno)) + ")";
  }
  if (S_ISDIR(info.st_mode)) return " (it is a directory)";
  // access(), not open(): closing a descriptor of a database file drops
  // every SQLite lock this process holds on it.
  if (::access(path.c_str(), R_OK | W_OK) != 0) {
    return " (" + std::string(std::strerror(errno)) + ")";
  }
  return "";
}

}  // namespace

Status OpenSqliteStore(const std::string& path, const StoreOptions& options,
                       std::unique_ptr<Store>* store) {
  if (!options.secrets_key.empty() &&
      options.secrets_key.size() != SecretBox::kKeyBytes) {
    return Status::InvalidArgument("the secrets key must be 32 bytes");
  }
  try {
    *store = std::make_unique<SqliteStore>(path, options);
    return Status::Ok();
  } catch (const SQLite::Exception& e) {
    return Status::Unavailable("cannot open database '" + path +
                               "': " + e.what() + WhyUnopenable(path));
  }
}

Status BackupSqliteDatabase(const std::string& from, const std::string& to) {
  struct stat existing {};
  if (::stat(to.c_str(), &existing) == 0) {
    return Status::InvalidArgument("'" + to +
                                   "' exists; back up to a new file");
  }
  try {
    SQLite::Database source(from, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    CreateFilePrivately(to);
    SQLite::Database target(to, SQLite::OPEN_READWRITE, kBusyTimeoutMs);
    SQLite::Backup backup(target, source);
    // All pages in one step: the copy is one consistent snapshot.
    backup.executeStep(-1);
    target.exec("PRAGMA journal_mode = DELETE");
    return Status::Ok();
  } catch (const SQLite::Exception& e) {
    ::unlink(to.c_str());
    return Status::Internal("backup of '" + from + "' to '" + to +
                            "' failed: " + e.what());
  }
}

Status CheckSqliteDatabase(const std::string& path,
                           std::vector<std::string>* problems) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return Status::NotFound("'" + path + "' is not a database file");
  }
  try {
    SQLite::Database db(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    SQLite::Statement check(db, "PRAGMA integrity_check");
    problems->clear();
    while (check.executeStep()) {
      std::string line = check.getColumn(0).getString();
      if (line != "ok") problems->push_back(std::move(line));
    }
    return Status::Ok();
  } catch (const SQLite::Exception& e) {
    if (e.getErrorCode() == SQLITE_CORRUPT ||
        e.getErrorCode() == SQLITE_NOTADB) {
      problems->assign({std::string("not a sound database: ") + e.what()});
      return Status::Ok();
    }
    return Status::Unavailable("cannot check '" + path + "': " + e.what());
  }
}

}  // namespace webhooks
