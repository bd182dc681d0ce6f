// The conformance suite's fixture for any Store (tests/unit/store_test.cpp,
// store_keys_test.cpp, store_events_test.cpp, store_subscriptions_test.cpp,
// store_deliveries_test.cpp): StoreTest runs each test against every Backend
// of ConformanceBackends(), on a fresh database. The unit binary links the
// SQLite list (tests/unit/store_backends_sqlite.cpp: a file and :memory:);
// the PostgreSQL binary links the same suites with its own list
// (tests/pg/store_backends_postgres.cpp: a fresh schema per test on the
// cluster the test command started). Beside it, what the SQLite-only suites
// read from and write to a database file through a connection of their own.

#ifndef WEBHOOKS_TESTS_UNIT_STORE_FIXTURE_H_
#define WEBHOOKS_TESTS_UNIT_STORE_FIXTURE_H_

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"
#include "tests/test_util.h"

namespace webhooks::testing {

struct Backend {
  const char* name;
  // Makes a fresh, empty database and says where it is: a file in `dir`,
  // ":memory:" or a PostgreSQL URI.
  std::function<std::string(const TempDir& dir)> fresh;
  // Opens the store at `where` (a database `fresh` made).
  std::function<Status(const std::string& where, const StoreOptions& options,
                       std::unique_ptr<Store>* store)>
      open;
  // Runs `sql` on the database at `where` through a connection of the
  // test's own, behind the store's back, and returns the first column of
  // its first row ("" if none); unset if a failure was added. Null for a
  // database no second connection can reach (:memory:), which also does not
  // outlive its store.
  std::function<std::optional<std::string>(const std::string& where,
                                           const std::string& sql)>
      sql;
};

// How gtest names a Backend in test output: by its name, not its bytes.
inline void PrintTo(const Backend& backend, std::ostream* os) {
  *os << backend.name;
}

// The backends the conformance suites run on, in this test binary.
const std::vector<Backend>& ConformanceBackends();

inline std::string Digest(char fill) { return std::string(32, fill); }

// A subscription `id` of `project`, with every field set.
inline WebhookSubscription Subscription(const std::string& project,
                                        std::string id) {
  WebhookSubscription subscription;
  subscription.id = std::move(id);
  subscription.project_id = project;
  subscription.webhook_url = "https://app.test/hooks";
  subscription.version = "V3";
  subscription.enabled_events = {"composio.trigger.message",
                                 "composio.trigger.disabled"};
  subscription.secret = "secret-of-" + subscription.id;
  subscription.created_at_ms = 1'777'000'000'100;
  subscription.updated_at_ms = 1'777'000'000'100;
  return subscription;
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    where_ = GetParam().fresh(dir_);
    ASSERT_OK(GetParam().open(where_, StoreOptions{}, &store_));
  }

  // Whether the database outlives its store and a test may read it with
  // SQL of its own (not :memory:).
  bool Reopenable() const { return static_cast<bool>(GetParam().sql); }
  // Closes the store and opens the same database again with `options`.
  Status Reopen(const StoreOptions& options = {}) {
    store_.reset();
    return GetParam().open(where_, options, &store_);
  }
  // The first value `sql` returns, read behind the store's back (only where
  // Reopenable()); "" if none, and a failure if the statement fails. SQL
  // meant for every backend: standard SQL that SQLite and PostgreSQL both
  // run alike.
  std::string Sql(const std::string& sql) {
    std::optional<std::string> value = GetParam().sql(where_, sql);
    if (!value) ADD_FAILURE() << "SQL failed: " << sql;
    return value.value_or("");
  }

  // Registers a key (one byte repeated as its digest) and returns its
  // project.
  std::string Project(char key) {
    NewApiKey new_key;
    new_key.key_digest = Digest(key);
    new_key.key_id = std::string("key_") + key;
    new_key.project_id = std::string("proj_") + key;
    new_key.project_name = "test";
    new_key.created_at_ms = 1;
    std::string project_id;
    Status status = store_->RegisterKey(new_key, &project_id);
    EXPECT_TRUE(status.ok()) << status.message();
    return project_id;
  }

  static NewEndpoint Endpoint(const std::string& project, std::string id,
                              std::string client = "client-1") {
    NewEndpoint endpoint;
    endpoint.id = std::move(id);
    endpoint.project_id = project;
    endpoint.toolkit_slug = "slack";
    endpoint.client_id = std::move(client);
    endpoint.webhook_url = "http://hooks.test/" + endpoint.id;
    endpoint.created_at_ms = 1'777'000'000'123;
    return endpoint;
  }

  TempDir dir_;
  std::string where_;  // the database: a path, ":memory:" or a URI
  std::unique_ptr<Store> store_;
};

// --- SQLite files seen from outside ---------------------------------------

// The first column of the first row of `sql`, run read-only through a
// second, independent connection; empty if there is none.
inline std::string FirstValueOf(const std::string& path,
                                const std::string& sql) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return value;
}

// Runs `sql` through a read-write connection of its own, as another process
// would: what a store test writes behind the store's back. Adds a failure
// naming the statement and returns false if it fails.
inline bool ExecSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  bool ok = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE,
                            nullptr) == SQLITE_OK;
  if (ok) {
    sqlite3_busy_timeout(db, 5000);
    char* error = nullptr;
    ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK;
    if (!ok) ADD_FAILURE() << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }
  sqlite3_close(db);
  return ok;
}

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_UNIT_STORE_FIXTURE_H_
