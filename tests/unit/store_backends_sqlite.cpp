// The conformance suites' backends in the unit binary (store_fixture.h): a
// SQLite file and SQLite :memory:.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite_store.h"
#include "tests/unit/store_fixture.h"

namespace webhooks::testing {
namespace {

Status OpenSqlite(const std::string& where, const StoreOptions& options,
                  std::unique_ptr<Store>* store) {
  return OpenSqliteStore(where, options, store);
}

// The first value of `sql` on the file at `path`, through a connection of
// our own; unset if the statement fails.
std::optional<std::string> SqliteValue(const std::string& path,
                                       const std::string& sql) {
  sqlite3* db = nullptr;
  std::optional<std::string> value;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) ==
      SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) ==
        SQLITE_OK) {
      const int step = sqlite3_step(statement);
      if (step == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(statement, 0);
        value = text ? reinterpret_cast<const char*>(text) : "";
      } else if (step == SQLITE_DONE) {
        value = "";
      }
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return value;
}

}  // namespace

const std::vector<Backend>& ConformanceBackends() {
  static const std::vector<Backend> kBackends = {
      {"SqliteFile", [](const TempDir& dir) { return dir.File("store.db"); },
       OpenSqlite, SqliteValue},
      {"SqliteMemory", [](const TempDir&) { return std::string(":memory:"); },
       OpenSqlite, nullptr},
  };
  return kBackends;
}

}  // namespace webhooks::testing
