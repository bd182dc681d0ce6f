// The conformance suites' backend in the PostgreSQL binary
// (store_fixture.h): a fresh schema per test on the test command's cluster
// (tests/pg_cluster.h).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/postgres_connection.h"
#include "store/postgres_store.h"
#include "tests/pg_cluster.h"
#include "tests/unit/store_fixture.h"

namespace webhooks::testing {
namespace {

using postgres_internal::Connection;
using postgres_internal::Result;

std::string FreshSchema(const TempDir&) {
  std::string uri = FreshSchemaUri("conformance");
  if (uri.empty()) {
    ADD_FAILURE() << "no PostgreSQL cluster: set WEBHOOKS_TEST_PG_DIR (CTest "
                     "starts one with scripts/pg-scratch) or "
                     "WEBHOOKS_TEST_PG_URI";
  }
  return uri;
}

Status OpenPostgres(const std::string& where, const StoreOptions& options,
                    std::unique_ptr<Store>* store) {
  return OpenPostgresStore(where, options, store);
}

std::optional<std::string> PostgresValue(const std::string& uri,
                                         const std::string& sql) {
  std::unique_ptr<Connection> connection;
  Status status = Connection::Open(uri, &connection);
  if (!status.ok()) {
    ADD_FAILURE() << status.message();
    return std::nullopt;
  }
  Result result;
  status = connection->Exec("test_sql", sql.c_str(), {}, &result);
  if (!status.ok()) {
    ADD_FAILURE() << status.message();
    return std::nullopt;
  }
  if (result.rows() == 0 || result.columns() == 0) return std::string();
  return std::string(result.Text(0, 0));
}

}  // namespace

const std::vector<Backend>& ConformanceBackends() {
  static const std::vector<Backend> kBackends = {
      {"Postgres", FreshSchema, OpenPostgres, PostgresValue},
  };
  return kBackends;
}

}  // namespace webhooks::testing
