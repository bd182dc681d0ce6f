// The PostgreSQL backend's connections (store/postgres_connection.h) against
// a real PostgreSQL 15: the throw-away cluster CTest starts with
// scripts/pg-scratch (fixture "postgres"). Its URI is $WEBHOOKS_TEST_PG_URI
// or else the contents of $WEBHOOKS_TEST_PG_DIR/uri; without either every
// test that needs the server fails, since a skipped suite would hide a
// backend that no longer builds a connection. The first tests need no
// server: URI redaction and the SQLSTATE mapping.

#include "store/postgres_connection.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/pg_cluster.h"

namespace webhooks::postgres_internal {
namespace {

using testing::ClusterDir;
using testing::ClusterUri;
using testing::RestartCluster;
using testing::WithPassword;

// ---- Without a server ----

TEST(PostgresUri, RecognisesBothSchemes) {
  EXPECT_TRUE(IsPostgresUri("postgresql://h/db"));
  EXPECT_TRUE(IsPostgresUri("postgres://h/db"));
  EXPECT_FALSE(IsPostgresUri("data/webhooks.db"));
  EXPECT_FALSE(IsPostgresUri(":memory:"));
  EXPECT_FALSE(IsPostgresUri("postgresql:/h"));
  EXPECT_FALSE(IsPostgresUri("file:postgresql://x"));
}

TEST(PostgresUri, RedactsEveryFormOfPassword) {
  EXPECT_EQ(RedactUri("postgresql://user:s3cret@db.example:5432/app"),
            "postgresql://user:***@db.example:5432/app");
  EXPECT_EQ(RedactUri("postgres://user:s3cret@host"),
            "postgres://user:***@host");
  EXPECT_EQ(RedactUri("postgresql://user@host/app"),
            "postgresql://user@host/app");
  EXPECT_EQ(RedactUri("postgresql://host/app?sslmode=require"),
            "postgresql://host/app?sslmode=require");
  EXPECT_EQ(RedactUri("postgresql://user@/app?host=/run/pg&password=s3cret"),
            "postgresql://user@/app?host=/run/pg&password=***");
  EXPECT_EQ(RedactUri("postgresql:///app?pass%77ord=s3cret&port=5"),
            "postgresql:///app?pass%77ord=***&port=5");
  // An '@' inside the password: everything up to the last one is hidden.
  EXPECT_EQ(RedactUri("postgresql://u:a@b@host/app"),
            "postgresql://u:***@host/app");
  EXPECT_EQ(RedactUri("postgresql://u:s3cret@host?password=other"),
            "postgresql://u:***@host?password=***");
  EXPECT_EQ(RedactUri("host=/run/pg password=s3cret dbname=app"),
            "host=/run/pg password=*** dbname=app");
  EXPECT_EQ(RedactUri("password = 'a b\\' c' user=x"), "password = *** user=x");
  EXPECT_EQ(RedactUri("passwordless=1 user=x"), "passwordless=1 user=x");
}

TEST(PostgresStatus, MapsSqlStates) {
  using Code = Status::Code;
  EXPECT_EQ(StatusFromSqlState("08006", false, "m").code(), Code::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("57P01", false, "m").code(), Code::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("57P02", false, "m").code(), Code::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("57P03", false, "m").code(), Code::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("53300", false, "m").code(), Code::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("40001", false, "m").code(), Code::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("40P01", false, "m").code(), Code::kUnavailable);
  EXPECT_EQ(StatusFromSqlState(nullptr, true, "m").code(), Code::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("23505", false, "m").code(), Code::kConflict);
  EXPECT_EQ(StatusFromSqlState("23503", false, "m").code(), Code::kInternal);
  EXPECT_EQ(StatusFromSqlState("42601", false, "m").code(), Code::kInternal);
  EXPECT_EQ(StatusFromSqlState("57014", false, "m").code(), Code::kInternal);
  EXPECT_EQ(StatusFromSqlState(nullptr, false, "m").code(), Code::kInternal);
  EXPECT_EQ(StatusFromSqlState("23505", false, "the text").message(),
            "the text");
  EXPECT_TRUE(EndsConnection("08003"));
  EXPECT_FALSE(EndsConnection("53300"));
  EXPECT_FALSE(EndsConnection(nullptr));
}

// ---- Against the cluster ----

class PostgresConnection : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = ClusterUri();
    ASSERT_FALSE(uri_.empty())
        << "no PostgreSQL cluster: set WEBHOOKS_TEST_PG_DIR (CTest starts "
           "one with scripts/pg-scratch) or WEBHOOKS_TEST_PG_URI";
    Status status = Connection::Open(uri_, &conn_);
    ASSERT_TRUE(status.ok())
        << status.message() << " (cluster " << RedactUri(uri_) << ")";
  }

  // The first column of the first row of a query without parameters.
  std::string Scalar(const char* name, const char* sql) {
    Result result;
    Status status = conn_->Exec(name, sql, {}, &result);
    EXPECT_TRUE(status.ok()) << status.message();
    if (!status.ok() || result.rows() == 0) return "<none>";
    return std::string(result.Text(0, 0));
  }

  std::string uri_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(PostgresConnection, RoundTripsAValue) {
  Result result;
  Status status =
      conn_->Exec("add_one", "SELECT $1::int + 1, current_setting($2)",
                  {Text("41"), Text("synchronous_commit")}, &result);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(result.rows(), 1);
  ASSERT_EQ(result.columns(), 2);
  EXPECT_EQ(result.Text(0, 0), "42");
  int64_t n = 0;
  EXPECT_TRUE(result.Int64(0, 0, &n));
  EXPECT_EQ(n, 42);
  EXPECT_EQ(result.Text(0, 1), "on");
  EXPECT_EQ(Scalar("version", "SHOW server_version_num").substr(0, 2), "15");
}

TEST_F(PostgresConnection, PreparesOnceAndReuses) {
  const char* kSql = "SELECT $1::text || '!'";
  const char* kInspect =
      "SELECT count(*), max(prepare_time)::text, "
      "max(generic_plans + custom_plans) FROM pg_prepared_statements "
      "WHERE name = 'echo'";
  Result result;
  ASSERT_TRUE(conn_->Exec("echo", kSql, {Text("a")}, &result).ok());
  EXPECT_EQ(result.Text(0, 0), "a!");
  ASSERT_TRUE(conn_->Exec("inspect", kInspect, {}, &result).ok());
  EXPECT_EQ(result.Text(0, 0), "1");
  std::string prepared_at(result.Text(0, 1));
  EXPECT_EQ(result.Text(0, 2), "1");

  ASSERT_TRUE(conn_->Exec("echo", kSql, {Text("b")}, &result).ok());
  EXPECT_EQ(result.Text(0, 0), "b!");
  ASSERT_TRUE(conn_->Exec("inspect", kInspect, {}, &result).ok());
  EXPECT_EQ(result.Text(0, 0), "1");
  EXPECT_EQ(result.Text(0, 1), prepared_at);  // not prepared again
  EXPECT_EQ(result.Text(0, 2), "2");          // but run twice
  EXPECT_EQ(conn_->prepared_count(), 2u);

  // What one prepared round trip costs here, over a unix socket.
  constexpr int kRuns = 2000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_TRUE(conn_->Exec("echo", kSql, {Text("x")}, &result).ok());
  }
  auto elapsed = std::chrono::duration<double, std::micro>(
      std::chrono::steady_clock::now() - start);
  std::printf("prepared round trip: %.1f us\n", elapsed.count() / kRuns);
}

TEST_F(PostgresConnection, NullAndBinaryParametersRoundTrip) {
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  const std::string edges = std::string("\0a\0", 3) + "\xff\x80\xc3(";

  ASSERT_TRUE(conn_
                  ->Run("CREATE TEMP TABLE blobs (k int PRIMARY KEY, "
                        "b bytea, t text)")
                  .ok());
  const char* kInsert = "INSERT INTO blobs (k, b, t) VALUES ($1, $2, $3)";
  ASSERT_TRUE(conn_
                  ->Exec("ins", kInsert,
                         {Text("1"), Binary(every_byte), Null()}, nullptr)
                  .ok());
  ASSERT_TRUE(
      conn_
          ->Exec("ins", kInsert, {Text("2"), Binary(edges), Text("t")}, nullptr)
          .ok());
  ASSERT_TRUE(
      conn_->Exec("ins", kInsert, {Text("3"), Binary(""), Text("")}, nullptr)
          .ok());
  ASSERT_TRUE(
      conn_->Exec("ins", kInsert, {Text("4"), Null(), Null()}, nullptr).ok());

  Result result;
  ASSERT_TRUE(conn_
                  ->Exec("sel", "SELECT b, t, length(b) FROM blobs ORDER BY k",
                         {}, &result)
                  .ok());
  ASSERT_EQ(result.rows(), 4);
  EXPECT_EQ(result.Bytes(0, 0), every_byte);
  EXPECT_EQ(result.Text(0, 2), "256");  // the server saw every byte
  EXPECT_TRUE(result.IsNull(0, 1));
  EXPECT_EQ(result.Bytes(1, 0), edges);
  EXPECT_EQ(result.Text(1, 2), "7");
  EXPECT_FALSE(result.IsNull(1, 1));
  EXPECT_EQ(result.Bytes(1, 1), "t");  // not bytea: the text as is
  EXPECT_FALSE(result.IsNull(2, 0));
  EXPECT_EQ(result.Bytes(2, 0), "");
  EXPECT_FALSE(result.IsNull(2, 1));  // "" is not NULL
  EXPECT_TRUE(result.IsNull(3, 0));
  EXPECT_TRUE(result.IsNull(3, 1));
  int64_t n = 0;
  EXPECT_FALSE(result.Int64(3, 2, &n));

  // A NUL cannot travel in the text format: refused, not cut short.
  Status status =
      conn_->Exec("ins", kInsert,
                  {Text("5"), Null(), Text(std::string("a\0b", 3))}, nullptr);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << status.message();
}

TEST_F(PostgresConnection, UniqueViolationIsConflict) {
  ASSERT_TRUE(conn_->Run("CREATE TEMP TABLE u (k text PRIMARY KEY)").ok());
  const char* kInsert = "INSERT INTO u (k) VALUES ($1)";
  ASSERT_TRUE(conn_->Exec("ins_u", kInsert, {Text("a")}, nullptr).ok());
  Result result;
  Status status = conn_->Exec("ins_u", kInsert, {Text("a")}, &result);
  EXPECT_EQ(status.code(), Status::Code::kConflict) << status.message();
  EXPECT_NE(status.message().find("23505"), std::string::npos)
      << status.message();
  EXPECT_EQ(result.get(), nullptr);
  EXPECT_TRUE(conn_->Reusable());
  EXPECT_TRUE(conn_->Exec("ins_u", kInsert, {Text("b")}, nullptr).ok());
}

TEST_F(PostgresConnection, SyntaxErrorIsInternalAndLeaksNoUri) {
  const std::string uri = WithPassword(uri_, "hunter2");
  std::unique_ptr<Connection> conn;
  Status status = Connection::Open(uri, &conn);
  ASSERT_TRUE(status.ok()) << status.message();
  for (int attempt = 0; attempt < 2; ++attempt) {  // not prepared on failure
    status = conn->Exec("bad", "SELEC 1", {}, nullptr);
    EXPECT_EQ(status.code(), Status::Code::kInternal) << status.message();
    EXPECT_NE(status.message().find("42601"), std::string::npos)
        << status.message();
    EXPECT_EQ(status.message().find("hunter2"), std::string::npos);
    EXPECT_EQ(status.message().find("postgresql://"), std::string::npos);
    EXPECT_EQ(status.message().find(uri_), std::string::npos);
  }
  EXPECT_EQ(conn->prepared_count(), 0u);
  EXPECT_TRUE(conn->Reusable());
  // An error inside a transaction leaves it aborted: not to be lent again.
  ASSERT_TRUE(conn->Run("BEGIN").ok());
  EXPECT_FALSE(conn->Exec("bad", "SELEC 1", {}, nullptr).ok());
  EXPECT_FALSE(conn->Reusable());
  ASSERT_TRUE(conn->Run("ROLLBACK").ok());
  EXPECT_TRUE(conn->Reusable());
}

TEST_F(PostgresConnection, PoolOfTwoServesEightThreads) {
  Pool pool(uri_, 2);
  constexpr int kThreads = 8;
  constexpr int kCalls = 50;
  std::atomic<int> lent{0};
  std::atomic<int> most_lent{0};
  std::atomic<int> failures{0};
  std::mutex mu;
  std::set<std::string> backends;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        Pool::Lease lease;
        Status status = pool.Acquire(&lease);
        if (!status.ok()) {
          ++failures;
          continue;
        }
        int now = ++lent;
        int seen = most_lent.load();
        while (now > seen && !most_lent.compare_exchange_weak(seen, now)) {
        }
        Result result;
        status = lease->Exec("who", "SELECT pg_backend_pid(), $1::int",
                             {Text(std::to_string(t * kCalls + i))}, &result);
        if (!status.ok() ||
            result.Text(0, 1) != std::to_string(t * kCalls + i)) {
          ++failures;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          backends.insert(std::string(result.Text(0, 0)));
        }
        --lent;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(most_lent.load(), 2);
  EXPECT_GE(backends.size(), 1u);
  EXPECT_LE(backends.size(), 2u);  // connections were reused, not reopened
  EXPECT_LE(pool.open_count(), 2u);
}

TEST_F(PostgresConnection, RecoversAfterServerRestart) {
  Pool pool(uri_, 1);
  std::string before;
  {
    Pool::Lease lease;
    ASSERT_TRUE(pool.Acquire(&lease).ok());
    Result result;
    ASSERT_TRUE(
        lease->Exec("pid", "SELECT pg_backend_pid()", {}, &result).ok());
    before = std::string(result.Text(0, 0));
  }
  ASSERT_EQ(pool.open_count(), 1u);

  ASSERT_TRUE(RestartCluster());

  // A connection opened before the restart is gone: Unavailable, and never
  // lent again.
  Result result;
  Status status = conn_->Exec("one", "SELECT 1", {}, &result);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable) << status.message();
  EXPECT_FALSE(conn_->Reusable());

  // The pooled one: the first call may fail (Unavailable) or, if the pool
  // already reopened, succeed; either way the next one succeeds on a new
  // session, with the same Pool.
  {
    Pool::Lease lease;
    status = pool.Acquire(&lease);
    if (status.ok()) {
      status = lease->Exec("pid", "SELECT pg_backend_pid()", {}, &result);
    }
    EXPECT_TRUE(status.ok() || status.code() == Status::Code::kUnavailable)
        << status.message();
  }
  Pool::Lease lease;
  status = pool.Acquire(&lease);
  ASSERT_TRUE(status.ok()) << status.message();
  status = lease->Exec("pid", "SELECT pg_backend_pid()", {}, &result);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_NE(std::string(result.Text(0, 0)), before);
  EXPECT_EQ(pool.open_count(), 1u);
}

TEST(PostgresUnreachable, IsUnavailableAndLeaksNoPassword) {
  std::string dir = "/tmp/webhooks-pg-none-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string uri =
      "postgresql://postgres:hunter2@/webhooks?host=" + dir + "&port=5999";
  std::unique_ptr<Connection> conn;
  Status status = Connection::Open(uri, &conn);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable) << status.message();
  EXPECT_EQ(conn, nullptr);
  EXPECT_EQ(status.message().find("hunter2"), std::string::npos)
      << status.message();
  EXPECT_EQ(status.message().find("postgresql://"), std::string::npos)
      << status.message();

  Pool pool(uri, 2);
  Pool::Lease lease;
  status = pool.Acquire(&lease);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable) << status.message();
  EXPECT_FALSE(lease);
  EXPECT_EQ(pool.open_count(), 0u);  // the slot was given back

  // A URI libpq cannot parse: its error (which may quote the URI) is not
  // passed on.
  status = Connection::Open("postgresql://u:hunter2@h/db?%zz=1", &conn);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(status.message().find("hunter2"), std::string::npos);
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace webhooks::postgres_internal
