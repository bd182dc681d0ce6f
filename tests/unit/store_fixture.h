// The conformance suite's fixture for any Store (tests/unit/store_test.cpp,
// store_keys_test.cpp, store_events_test.cpp): StoreTest runs each test
// against every Backend listed in store_test.cpp, on a fresh database.
// Beside it, what the SQLite suites (sqlite_store_test.cpp,
// encrypted_store_test.cpp, store_subscriptions_test.cpp,
// store_deliveries_test.cpp) read from and write to a database file through
// a connection of their own.

#ifndef WEBHOOKS_TESTS_UNIT_STORE_FIXTURE_H_
#define WEBHOOKS_TESTS_UNIT_STORE_FIXTURE_H_

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "store/store.h"
#include "tests/test_util.h"

namespace webhooks::testing {

struct Backend {
  const char* name;
  // Opens a fresh database (in `dir` where the backend uses files).
  std::function<Status(const TempDir& dir, std::unique_ptr<Store>*)> open;
};

inline std::string Digest(char fill) { return std::string(32, fill); }

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { ASSERT_OK(GetParam().open(dir_, &store_)); }

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
