// The SQLite database file (see sqlite_database.h): created with mode 0600,
// checked at open (cheaply, or page by page after an unclean stop), brought
// to the current schema, and copied or checked whole for the admin commands.

#include "store/sqlite_database.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite_connections.h"
#include "store/sqlite_store.h"

extern const char kSchemaSql[];

namespace webhooks {
namespace {

using sqlite_internal::kRunningSetting;

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

// Runs `steps`, which rebuild a table as
// https://sqlite.org/lang_altertable.html section 7 says (rename the old
// one away, create the new one, copy, drop the old one), in one IMMEDIATE
// transaction with foreign keys off, and commits only if no row is left
// dangling. legacy_alter_table keeps the rename from rewriting the other
// tables' REFERENCES to follow the renamed table (SQLite does since 3.26):
// they must name the new table once it takes the name.
void RebuildInOneTransaction(SQLite::Database& db, int version,
                             const std::function<void()>& steps) {
  db.exec("PRAGMA foreign_keys = OFF");  // a no-op inside a transaction
  db.exec("PRAGMA legacy_alter_table = ON");
  {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    steps();
    SQLite::Statement check(db, "PRAGMA foreign_key_check");
    if (check.executeStep()) {
      throw SQLite::Exception(
          "migration to version " + std::to_string(version) + ": dangling rows",
          SQLITE_CONSTRAINT);
    }
    check.reset();
    transaction.commit();
  }
  db.exec("PRAGMA legacy_alter_table = OFF");
  db.exec("PRAGMA foreign_keys = ON");
}

// Brings a version 1 database to version 2, in one transaction: a crash
// leaves it at version 1. SQLite cannot drop a foreign key in place, so
// webhook_events is rebuilt as https://sqlite.org/lang_altertable.html
// section 7 says (foreign keys off, new table, copy, drop the old one): the
// old table is renamed out of the way, schema.sql creates the new one with
// its indexes and triggers, and the copy fills endpoint_event_counts
// through the insert trigger. One pass over the events, once.
void MigrateToVersion2(SQLite::Database& db) {
  RebuildInOneTransaction(db, 2, [&db] {
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
  });
}

// Version 3 keys webhook_endpoints by (project_id, created_at, id), WITHOUT
// ROWID (schema.sql says why). SQLite cannot change a table's key in place:
// the rows move to a new table, as for version 2.
void MigrateToVersion3(SQLite::Database& db) {
  RebuildInOneTransaction(db, 3, [&db] {
    db.exec("ALTER TABLE webhook_endpoints RENAME TO webhook_endpoints_v2");
    db.exec("DROP INDEX IF EXISTS webhook_endpoints_by_project");
    db.exec(kSchemaSql);
    db.exec(
        "INSERT INTO webhook_endpoints (id, project_id, toolkit_slug, "
        "client_id, webhook_url, created_at, verified_at) SELECT id, "
        "project_id, toolkit_slug, client_id, webhook_url, created_at, "
        "verified_at FROM webhook_endpoints_v2");
    db.exec("DROP TABLE webhook_endpoints_v2");
  });
}

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

}  // namespace

namespace sqlite_internal {

// SQLite's process-wide settings, for many threads on one database:
// - No memory statistics: SQLite counts every allocation under one
//   process-wide mutex unless told not to. With 64 request threads that
//   mutex was the largest source of futex calls (40% of them, retrieve at 64
//   connections). Nothing here reads SQLite's memory statistics.
// - Savepoint journals in memory, in 1 KiB pieces (a negative spill). Each
//   write of a batch runs in a savepoint, and its journal came in 64 KiB
//   pieces (the default spill size). Freeing one at every RELEASE could make
//   glibc give the top of the writer's heap back to the kernel (madvise,
//   then a TLB shoot-down on every core) and take it again for the next:
//   once in that state, one madvise per create at 64 connections, and twice
//   the CPU per create. What such a journal holds is bounded by the pages
//   one write changes.
// Too late (SQLite already in use), SQLite's defaults stay: slower, not
// wrong.
bool ConfigureSqliteOnce() {
  static const bool took_effect =
      sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK &&
      sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1) == SQLITE_OK;
  return took_effect;
}

SQLite::Database OpenDatabase(const std::string& path, bool track_clean_stop,
                              bool* full_check, std::string* running_token) {
  ConfigureSqliteOnce();
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
  // A newer server's database: its schema may hold what we would break.
  if (version > kSchemaVersion) {
    throw SQLite::Exception(
        "the database's schema is at version " + std::to_string(version) +
            ", newer than this server's " + std::to_string(kSchemaVersion) +
            ": run a newer webhooks-server against it",
        SQLITE_ERROR);
  }
  // Also after an older server set the version back to 1: copying again is
  // correct, if slow.
  if (version == 1) MigrateToVersion2(db);
  if (version == 1 || version == 2) MigrateToVersion3(db);
  static_assert(kSchemaVersion == 3, "add the migration to the new version");
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

}  // namespace sqlite_internal

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
