// The SQLite-specific facts of the store: durability settings and file
// mode, migration, what survives reopening and two connections on one file,
// refusing files it cannot trust, backup and check, reads on connections of
// their own and a WAL that stays bounded. What every backend must do is in
// the conformance suite (store_test.cpp); setup values encrypted at rest are
// in encrypted_store_test.cpp.

#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_database.h"
#include "store/store.h"
#include "tests/test_util.h"
#include "tests/unit/store_fixture.h"

namespace webhooks {
namespace {

using testing::Digest;
using testing::FirstValueOf;
using testing::ReadFile;
using testing::TempDir;

// --- SQLite specifics -------------------------------------------------------

std::string PragmaOf(const std::string& path, const std::string& pragma) {
  return FirstValueOf(path, "PRAGMA " + pragma);
}

TEST(SqliteStoreTest, FileIsPrivateAndInWalMode) {
  TempDir dir;
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenSqliteStore(dir.File("private.db"), &store));
  struct stat info {};
  ASSERT_EQ(::stat(dir.File("private.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(PragmaOf(dir.File("private.db"), "journal_mode"), "wal");
  EXPECT_EQ(PragmaOf(dir.File("private.db"), "user_version"), "3");
}

// Issue 12 (2026-12): a version 1 database (events deleted with their
// endpoint by a foreign key, no event counts) opens (now as version 3) with its
// events, their counts, and deletes that no longer cascade.
TEST(SqliteStoreTest, VersionOneDatabaseIsMigrated) {
  TempDir dir;
  const std::string path = dir.File("v1.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    // The version 1 tables that matter here, as schema.sql had them.
    const char* v1 =
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
        "CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "created_at INTEGER NOT NULL) STRICT;"
        "CREATE TABLE webhook_endpoints (id TEXT PRIMARY KEY, project_id "
        "TEXT NOT NULL REFERENCES projects (id), toolkit_slug TEXT NOT NULL, "
        "client_id TEXT NOT NULL, webhook_url TEXT NOT NULL, created_at "
        "INTEGER NOT NULL, verified_at INTEGER, UNIQUE (project_id, "
        "toolkit_slug, client_id)) STRICT;"
        "CREATE TABLE webhook_events (seq INTEGER PRIMARY KEY, id TEXT NOT "
        "NULL UNIQUE, endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints "
        "(id) ON DELETE CASCADE, provider_event_id TEXT NOT NULL, "
        "received_at INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT "
        "NULL, UNIQUE (endpoint_id, provider_event_id)) STRICT;"
        "CREATE INDEX webhook_events_by_endpoint ON webhook_events "
        "(endpoint_id, seq);"
        "INSERT INTO projects VALUES ('proj_a', 'test', 1);"
        "INSERT INTO webhook_endpoints VALUES ('we_1', 'proj_a', 'slack', "
        "'c1', 'http://x/we_1', 1, NULL), ('we_2', 'proj_a', 'slack', 'c2', "
        "'http://x/we_2', 2, NULL);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
        "WHERE i < 30) INSERT INTO webhook_events (id, endpoint_id, "
        "provider_event_id, received_at, headers, body) SELECT 'ev_' || i, "
        "CASE WHEN i <= 20 THEN 'we_1' ELSE 'we_2' END, 'p' || i, i, '{}', "
        "x'00' FROM n;"
        "PRAGMA user_version = 1;";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenSqliteStore(path, &store));
  EXPECT_EQ(PragmaOf(path, "user_version"), "3");
  EXPECT_EQ(FirstValueOf(path,
                         "SELECT group_concat(endpoint_id || '=' || events) "
                         "FROM endpoint_event_counts"),
            "we_1=20,we_2=10");
  // The counts drive count retention at once.
  NewEvent e;
  e.id = "ev_new";
  e.endpoint_id = "we_1";
  e.provider_event_id = "p_new";
  e.headers_json = "{}";
  EventRetention keep_twenty;
  keep_twenty.max_count_per_endpoint = 20;
  bool stored = false;
  ASSERT_OK(store->RecordEvent(e, keep_twenty, &stored));
  std::vector<StoredEvent> events;
  bool more = false;
  ASSERT_OK(store->ListEvents("proj_a", "we_1", 0, 0, &events, &more));
  ASSERT_EQ(events.size(), 20u);
  EXPECT_EQ(events.back().id, "ev_2");
  // A delete no longer takes the events with it; the pruner does.
  ASSERT_OK(store->DeleteEndpoint("proj_a", "we_2"));
  int64_t endpoints = 0, count = 0;
  ASSERT_OK(store->CountRows(&endpoints, &count));
  EXPECT_EQ(count, 30);
  do {
    ASSERT_OK(store->PruneEvents({}, 0, 1000, &more));
  } while (more);
  ASSERT_OK(store->CountRows(&endpoints, &count));
  EXPECT_EQ(count, 20);
  // And an event for the deleted endpoint is refused, as the foreign key
  // refused it before.
  e.id = "ev_late";
  e.endpoint_id = "we_2";
  EXPECT_FALSE(store->RecordEvent(e, {}, &stored).ok());
}

// Issue 18 (2026-12): a version 2 database (webhook_endpoints a rowid table
// with a list index) opens as version 3, WITHOUT ROWID and keyed for the
// list: every endpoint and setup field kept, lists in the same order, the
// foreign keys of the other tables still pointing at webhook_endpoints and
// still enforced, and the triple still unique.
TEST(SqliteStoreTest, VersionTwoDatabaseIsMigrated) {
  TempDir dir;
  const std::string path = dir.File("v2.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    // The version 2 tables that matter here, as schema.sql had them.
    const char* v2 =
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
        "CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "created_at INTEGER NOT NULL) STRICT;"
        "CREATE TABLE webhook_endpoints (id TEXT PRIMARY KEY, project_id "
        "TEXT NOT NULL REFERENCES projects (id), toolkit_slug TEXT NOT NULL, "
        "client_id TEXT NOT NULL, webhook_url TEXT NOT NULL, created_at "
        "INTEGER NOT NULL, verified_at INTEGER, UNIQUE (project_id, "
        "toolkit_slug, client_id)) STRICT;"
        "CREATE INDEX webhook_endpoints_by_project ON webhook_endpoints "
        "(project_id, created_at, id);"
        "CREATE TABLE endpoint_setup_fields (endpoint_id TEXT NOT NULL "
        "REFERENCES webhook_endpoints (id) ON DELETE CASCADE, name TEXT NOT "
        "NULL, value TEXT NOT NULL, PRIMARY KEY (endpoint_id, name)) STRICT, "
        "WITHOUT ROWID;"
        "INSERT INTO projects VALUES ('proj_a', 'test', 1);"
        // Created out of id order, one of them verified.
        "INSERT INTO webhook_endpoints VALUES ('we_3', 'proj_a', 'slack', "
        "'c1', 'http://x/we_3', 10, 15), ('we_1', 'proj_a', 'notion', 'c2', "
        "'http://x/we_1', 20, NULL), ('we_2', 'proj_a', 'slack', 'c3', "
        "'http://x/we_2', 20, NULL);"
        "INSERT INTO endpoint_setup_fields VALUES ('we_3', 'signing_secret', "
        "'s3'), ('we_1', 'signing_secret', 's1');"
        "PRAGMA user_version = 2;";
    ASSERT_EQ(sqlite3_exec(db, v2, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenSqliteStore(path, &store));
  EXPECT_EQ(PragmaOf(path, "user_version"), "3");
  EXPECT_EQ(FirstValueOf(path,
                         "SELECT count(*) FROM sqlite_master WHERE name = "
                         "'webhook_endpoints' AND sql LIKE '%WITHOUT ROWID'"),
            "1");
  EXPECT_EQ(FirstValueOf(path,
                         "SELECT group_concat(\"table\") FROM "
                         "pragma_foreign_key_list('endpoint_setup_fields')"),
            "webhook_endpoints");
  ListQuery query;
  query.project_id = "proj_a";
  std::vector<EndpointListItem> items;
  bool more = false;
  ASSERT_OK(store->ListEndpoints(query, &items, &more));
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].id, "we_3");  // (created_at, id) order
  EXPECT_EQ(items[1].id, "we_1");
  EXPECT_EQ(items[2].id, "we_2");
  WebhookEndpoint endpoint;
  ASSERT_OK(store->GetEndpoint("proj_a", "we_3", &endpoint));
  EXPECT_EQ(endpoint.client_id, "c1");
  ASSERT_TRUE(endpoint.verified_at_ms.has_value());
  EXPECT_EQ(*endpoint.verified_at_ms, 15);
  ASSERT_EQ(endpoint.setup_fields.size(), 1u);
  EXPECT_EQ(endpoint.setup_fields[0].value, "s3");
  // Idempotency still rests on the triple: the same one returns we_1.
  NewEndpoint again;
  again.id = "we_new";
  again.project_id = "proj_a";
  again.toolkit_slug = "notion";
  again.client_id = "c2";
  again.webhook_url = "http://x/we_new";
  again.created_at_ms = 30;
  WebhookEndpoint stored;
  bool created = true;
  ASSERT_OK(store->CreateEndpoint(again, &stored, &created));
  EXPECT_FALSE(created);
  EXPECT_EQ(stored.id, "we_1");
  // Deleting an endpoint still cascades to its setup fields.
  ASSERT_OK(store->DeleteEndpoint("proj_a", "we_1"));
  EXPECT_EQ(FirstValueOf(path,
                         "SELECT count(*) FROM endpoint_setup_fields WHERE "
                         "endpoint_id = 'we_1'"),
            "0");
}

TEST(SqliteStoreTest, EndpointsAndKeysSurviveReopening) {
  TempDir dir;
  const std::string path = dir.File("reopen.db");
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenSqliteStore(path, &store));
  NewApiKey key;
  key.key_digest = Digest('a');
  key.key_id = "key_a";
  key.project_id = "proj_a";
  key.project_name = "test";
  std::string project;
  ASSERT_OK(store->RegisterKey(key, &project));
  NewEndpoint endpoint;
  endpoint.id = "we_kept";
  endpoint.project_id = project;
  endpoint.toolkit_slug = "slack";
  endpoint.client_id = "c";
  endpoint.webhook_url = "u";
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store->CreateEndpoint(endpoint, &out, &created));
  store.reset();

  ASSERT_OK(OpenSqliteStore(path, &store));
  endpoint.id = "we_new";
  ASSERT_OK(store->CreateEndpoint(endpoint, &out, &created));
  EXPECT_FALSE(created);
  EXPECT_EQ(out.id, "we_kept");
  ApiKeyRecord record;
  ASSERT_OK(store->FindKey(Digest('a'), &record));
  EXPECT_EQ(record.project_id, "proj_a");
}

// Two stores on one file are two connections, as two processes would be:
// the UNIQUE constraint, not a mutex, keeps create idempotent between them.
TEST(SqliteStoreTest, TwoConnectionsOnOneFileCreateOnce) {
  TempDir dir;
  std::unique_ptr<Store> one, two;
  ASSERT_OK(OpenSqliteStore(dir.File("shared.db"), &one));
  ASSERT_OK(OpenSqliteStore(dir.File("shared.db"), &two));
  NewApiKey key;
  key.key_digest = Digest('s');
  key.key_id = "key_s";
  key.project_id = "proj_s";
  key.project_name = "shared";
  std::string project_one, project_two;
  ASSERT_OK(one->RegisterKey(key, &project_one));
  key.project_id = "proj_other";
  ASSERT_OK(two->RegisterKey(key, &project_two));
  EXPECT_EQ(project_one, project_two);

  std::atomic<int> created_count{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Store& store = i % 2 ? *one : *two;
      NewEndpoint endpoint;
      endpoint.id = "we_" + std::to_string(i);
      endpoint.project_id = project_one;
      endpoint.toolkit_slug = "slack";
      endpoint.client_id = "shared";
      endpoint.webhook_url = "u";
      WebhookEndpoint out;
      bool created = false;
      if (!store.CreateEndpoint(endpoint, &out, &created).ok()) ++failures;
      if (created) ++created_count;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(created_count.load(), 1);
}

TEST(SqliteStoreTest, RefusesAPathInAMissingFolder) {
  TempDir dir;
  std::unique_ptr<Store> store;
  Status status = OpenSqliteStore(dir.File("missing/x.db"), &store);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(store, nullptr);
  EXPECT_NE(status.message().find("missing/x.db"), std::string::npos)
      << status.message();
}

TEST(SqliteStoreTest, RefusesADirectory) {
  TempDir dir;
  std::unique_ptr<Store> store;
  Status status = OpenSqliteStore(dir.path(), &store);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(store, nullptr);
}

TEST(SqliteStoreTest, RefusesAFileThatIsNotADatabaseAndLeavesItAlone) {
  TempDir dir;
  const std::string path = dir.File("garbage.db");
  std::string garbage(8192, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) {
    garbage[i] = static_cast<char>('a' + i % 26);
  }
  {
    std::ofstream out(path, std::ios::binary);
    out << garbage;
  }
  std::unique_ptr<Store> store;
  Status status = OpenSqliteStore(path, &store);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(store, nullptr);
  EXPECT_EQ(ReadFile(path), garbage);
}

TEST(SqliteStoreTest, BackupIsACompleteCopyThatPassesTheCheck) {
  TempDir dir;
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenSqliteStore(dir.File("live.db"), &store));
  NewApiKey key;
  key.key_digest = Digest('b');
  key.key_id = "key_b";
  key.project_id = "proj_b";
  key.project_name = "b";
  std::string project;
  ASSERT_OK(store->RegisterKey(key, &project));
  // The store stays open: the backup reads a live database.
  ASSERT_OK(BackupSqliteDatabase(dir.File("live.db"), dir.File("copy.db")));
  struct stat info {};
  ASSERT_EQ(::stat(dir.File("copy.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::vector<std::string> problems = {"stale"};
  ASSERT_OK(CheckSqliteDatabase(dir.File("copy.db"), &problems));
  EXPECT_TRUE(problems.empty());
  std::unique_ptr<Store> copy;
  ASSERT_OK(OpenSqliteStore(dir.File("copy.db"), &copy));
  ApiKeyRecord record;
  ASSERT_OK(copy->FindKey(Digest('b'), &record));
  EXPECT_EQ(record.project_id, "proj_b");
  // Never over an existing file.
  EXPECT_FALSE(
      BackupSqliteDatabase(dir.File("live.db"), dir.File("copy.db")).ok());
}

TEST(SqliteStoreTest, CheckReportsAFileThatIsNotADatabaseAndLeavesItAlone) {
  TempDir dir;
  const std::string path = dir.File("bad.db");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(4096, 'x');
  }
  std::vector<std::string> problems;
  ASSERT_OK(CheckSqliteDatabase(path, &problems));
  EXPECT_FALSE(problems.empty());
  EXPECT_EQ(ReadFile(path), std::string(4096, 'x'));
  EXPECT_FALSE(CheckSqliteDatabase(dir.File("missing.db"), &problems).ok());
}

// Holds SQLite's write lock on `path` from a connection of its own, as
// another process would, until Release() or destruction.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) ==
        SQLITE_OK) {
      held_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) ==
              SQLITE_OK;
    }
  }
  WriteLockHolder(const WriteLockHolder&) = delete;
  WriteLockHolder& operator=(const WriteLockHolder&) = delete;
  ~WriteLockHolder() {
    Release();
    sqlite3_close(db_);
  }
  bool held() const { return held_; }
  void Release() {
    if (held_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    held_ = false;
  }

 private:
  sqlite3* db_ = nullptr;
  bool held_ = false;
};

NewApiKey TestKey(char fill) {
  NewApiKey key;
  key.key_digest = Digest(fill);
  key.key_id = std::string("key_") + fill;
  key.project_id = std::string("proj_") + fill;
  key.project_name = "test";
  return key;
}

NewEndpoint TestEndpoint(const std::string& project, const std::string& id) {
  NewEndpoint endpoint;
  endpoint.id = id;
  endpoint.project_id = project;
  endpoint.toolkit_slug = "slack";
  endpoint.client_id = "client-" + id;
  endpoint.webhook_url = "http://hooks.test/" + id;
  endpoint.created_at_ms = 1;
  return endpoint;
}

// Opens a fresh file store, dir/name, with one project (of key `fill`).
void OpenWithProject(const TempDir& dir, const std::string& name, char fill,
                     const StoreOptions& options, std::unique_ptr<Store>* store,
                     std::string* project) {
  ASSERT_OK(OpenSqliteStore(dir.File(name), options, store));
  ASSERT_OK((*store)->RegisterKey(TestKey(fill), project));
}

// Reads run on connections of their own: while a write waits for the write
// lock (held here by another connection, as another process could), reads
// of committed rows are still answered.
TEST(SqliteStoreTest, ReadsAreAnsweredWhileAWriteWaitsForTheLock) {
  TempDir dir;
  const std::string path = dir.File("readers.db");
  std::unique_ptr<Store> store;
  std::string project;
  ASSERT_NO_FATAL_FAILURE(
      OpenWithProject(dir, "readers.db", 'r', {}, &store, &project));
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store->CreateEndpoint(TestEndpoint(project, "we_before"), &out,
                                  &created));

  WriteLockHolder lock(path);
  ASSERT_TRUE(lock.held());
  std::atomic<bool> write_done{false};
  Status write_status = Status::Internal("not run");
  std::thread writer([&] {
    WebhookEndpoint written;
    bool was_created = false;
    write_status = store->CreateEndpoint(TestEndpoint(project, "we_during"),
                                         &written, &was_created);
    write_done = true;
  });
  // The write cannot finish while the lock is held (the busy timeout is
  // 5 s); these reads must not queue behind it.
  for (int i = 0; i < 20; ++i) {
    WebhookEndpoint read;
    ASSERT_OK(store->GetEndpoint(project, "we_before", &read));
    ApiKeyRecord record;
    ASSERT_OK(store->FindKey(Digest('r'), &record));
  }
  EXPECT_FALSE(write_done.load());
  lock.Release();
  writer.join();
  EXPECT_OK(write_status);
  ASSERT_OK(store->GetEndpoint(project, "we_during", &out));
}

// Checkpoints run off the request path once the WAL holds 1000 pages
// (4 MiB), and the WAL starts over even while writes go on, so the file
// stays within a few times that size however much is written. SQLite's own
// automatic checkpoint is off: without ours, or with only the background
// half of it, this WAL grows past 64 MiB (measured).
TEST(SqliteStoreTest, TheWalStaysBoundedUnderSustainedWrites) {
  TempDir dir;
  const std::string path = dir.File("wal.db");
  std::unique_ptr<Store> store;
  std::string project;
  ASSERT_NO_FATAL_FAILURE(
      OpenWithProject(dir, "wal.db", 'w', {}, &store, &project));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  // 2,400 writes of a 3,000-byte value: each dirties at least one page of
  // its own, so at least 2,400 pages (9.4 MiB) go through the WAL.
  const std::string value(3000, 'v');
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id =
            "we_" + std::to_string(t) + "_" + std::to_string(i);
        WebhookEndpoint out;
        bool created = false;
        if (!store->CreateEndpoint(TestEndpoint(project, id), &out, &created)
                 .ok() ||
            !store
                 ->UpdateSetupFields(project, id, {{"payload", value}},
                                     /*replace=*/false, &out)
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  struct stat wal {};
  ASSERT_EQ(::stat((path + "-wal").c_str(), &wal), 0);
  EXPECT_LT(wal.st_size, 16 * 1024 * 1024) << "the WAL was never checkpointed";
}

// Issue 18: SQLite's process-wide options (sqlite_database.cpp) are set
// before its first use: no memory statistics (a process-wide mutex around
// every allocation) and savepoint journals in memory, in small pieces. Then
// concurrent writes, which share transactions in savepoints, all land.
// ctest runs each test in a process of its own, where this store is SQLite's
// first user. Run in one process with the others, an earlier test may have
// used SQLite first; then the options cannot be set and there is nothing to
// check.
TEST(SqliteStoreTest, SqliteIsConfiguredBeforeItsFirstUse) {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::string project;
  ASSERT_NO_FATAL_FAILURE(
      OpenWithProject(dir, "configured.db", 'c', {}, &store, &project));
  if (!sqlite_internal::ConfigureSqliteOnce()) {
    GTEST_SKIP() << "SQLite was in use before the first store opened; run "
                    "this test alone (ctest does)";
  }
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        WebhookEndpoint out;
        bool created = false;
        const std::string id =
            "we_" + std::to_string(t) + "_" + std::to_string(i);
        if (!store->CreateEndpoint(TestEndpoint(project, id), &out, &created)
                 .ok() ||
            !created) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<EndpointListItem> listed;
  bool more = false;
  ListQuery query;
  query.project_id = project;
  ASSERT_OK(store->ListEndpoints(query, &listed, &more));
  EXPECT_EQ(listed.size(), size_t{kThreads * kPerThread});
  sqlite3_int64 used = -1;
  sqlite3_int64 highwater = -1;
  ASSERT_EQ(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &used, &highwater,
                             /*resetFlag=*/0),
            SQLITE_OK);
  EXPECT_EQ(used, 0) << "SQLite counts its memory under a process-wide mutex";
}

// Issue 18: after a run of new endpoints, creates skip the look-up on a
// reader and go straight to the writer, which finds a known triple itself;
// one known triple makes them look first again. Either way, a known triple
// answers its endpoint, created = false, and racing creates of one new
// triple make it once.
TEST(SqliteStoreTest, CreatesAnswerKnownTriplesWhetherOrNotTheyLookFirst) {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::string project;
  ASSERT_NO_FATAL_FAILURE(
      OpenWithProject(dir, "known.db", 'k', {}, &store, &project));
  // More new endpoints than the look-first score can count.
  for (int i = 0; i < 20; ++i) {
    WebhookEndpoint out;
    bool created = false;
    ASSERT_OK(store->CreateEndpoint(
        TestEndpoint(project, "we_new_" + std::to_string(i)), &out, &created));
    EXPECT_TRUE(created);
  }
  // Known triples, the first through the writer, the rest (looking first
  // again) through a reader. A new id for each: the triple decides.
  for (int i = 0; i < 3; ++i) {
    NewEndpoint again = TestEndpoint(project, "we_new_7");
    again.id = "we_other_" + std::to_string(i);
    WebhookEndpoint out;
    bool created = true;
    ASSERT_OK(store->CreateEndpoint(again, &out, &created));
    EXPECT_FALSE(created);
    EXPECT_EQ(out.id, "we_new_7");
    EXPECT_EQ(out.client_id, "client-we_new_7");
  }
  // Again after new ones, now racing: 8 threads create the same 10 new
  // triples (each with an id of its own), then the same 10 once more.
  constexpr int kThreads = 8;
  constexpr int kTriples = 10;
  std::atomic<int> created_count{0};
  std::atomic<int> failures{0};
  std::vector<std::string> winners(kTriples);
  std::mutex winners_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < kTriples; ++i) {
          NewEndpoint endpoint =
              TestEndpoint(project, "we_race_" + std::to_string(i));
          endpoint.id = "we_race_" + std::to_string(i) + "_" +
                        std::to_string(t) + "_" + std::to_string(round);
          WebhookEndpoint out;
          bool created = false;
          if (!store->CreateEndpoint(endpoint, &out, &created).ok()) {
            ++failures;
            continue;
          }
          if (created) ++created_count;
          std::lock_guard<std::mutex> lock(winners_mu);
          if (winners[i].empty()) winners[i] = out.id;
          if (winners[i] != out.id) ++failures;  // two endpoints, one triple
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(created_count.load(), kTriples);
  std::vector<EndpointListItem> listed;
  bool more = false;
  ListQuery query;
  query.project_id = project;
  ASSERT_OK(store->ListEndpoints(query, &listed, &more));
  EXPECT_EQ(listed.size(), size_t{20 + kTriples});
}

// One read connection serves any number of concurrent readers, in turn.
TEST(SqliteStoreTest, OneReadConnectionServesManyThreads) {
  TempDir dir;
  StoreOptions options;
  options.read_connections = 1;
  std::unique_ptr<Store> store;
  std::string project;
  ASSERT_NO_FATAL_FAILURE(
      OpenWithProject(dir, "one-reader.db", 'o', options, &store, &project));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string id =
            "we_" + std::to_string(t) + "_" + std::to_string(i);
        WebhookEndpoint out;
        bool created = false;
        if (!store->CreateEndpoint(TestEndpoint(project, id), &out, &created)
                 .ok() ||
            !store->GetEndpoint(project, id, &out).ok() || out.id != id) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace webhooks
