// Tests of issue 12 ("every cost bounded"): what a client, a signal or a
// crash must not be able to make grow or break. Each runs the real binary
// over real HTTP on 127.0.0.1 with a real SQLite file, which some tests also
// read with the sqlite3 API, as another process would:
// - /metrics: any number of odd methods adds one series, and requests
//   refused before a handler ran are counted under their route template;
// - ingress racing the delete of its endpoint: 404, never 500;
// - SIGHUP: logged, and the server carries on and later stops cleanly;
// - start-up: the full integrity check runs after an unclean stop only;
// - workers: more busy keep-alive clients than --threads are all served.
// How requests scale with the number of projects is a scripts/bench row
// (growth).

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/raw_http.h"
#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

constexpr char kKey[] = "bounds-test-key";
constexpr char kSecret[] = "bounds-signing-secret-0123456789";

httplib::Client ClientFor(const ServerProcess& server) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  return client;
}

// The rows of `sql` on the database file at `path` (one string a row: the
// first column), read as another process would.
std::vector<std::string> Rows(const std::string& path, const char* sql) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) ==
      SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK) {
      while (sqlite3_step(statement) == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(statement, 0);
        rows.emplace_back(
            text == nullptr ? "" : reinterpret_cast<const char*>(text));
      }
    } else {
      rows.push_back(std::string("error: ") + sqlite3_errmsg(db));
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return rows;
}

// A server on a database file of its own, started for each test.
class ServedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start({"--port", "0", "--db", db_}))
        << server_.Stderr();
  }

  TempDir dir_;
  const std::string db_ = dir_.File("test.db");
  ServerProcess server_;
};

// ===========================================================================
// Metrics: labels from a closed set
// ===========================================================================

// The webhooks_http_requests_total lines of a /metrics body.
std::vector<std::string> RequestSeries(const std::string& metrics) {
  std::vector<std::string> series;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("webhooks_http_requests_total{", 0) == 0) {
      series.push_back(line);
    }
  }
  return series;
}

class MetricsBounds : public ServedTest {};

// 5,000 requests, each with a method of its own that the parser accepts
// (a token; 100 of them 4 KB long), once made 5,001 series and a 567 KB
// /metrics that nothing ever shrank. Each is answered 501, and all of them
// are one series.
TEST_F(MetricsBounds, OddMethodsShareOneSeries) {
  constexpr int kThreads = 4, kPerThread = 1250;
  std::atomic<int> not_501{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int n = t * kPerThread + i;
        std::string method = "ODD" + std::to_string(n);
        if (n % 50 == 0) method += std::string(4000, 'X');
        RawConnection connection(server_.port());
        Reply reply;
        if (!connection.Send(method + " " + kCreatePath +
                             " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") ||
            !connection.ReadResponse(&reply) || reply.status != 501) {
          ++not_501;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(not_501.load(), 0);

  auto metrics = ClientFor(server_).Get("/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  std::printf("[ metrics  ] %zu bytes, %zu request series\n",
              metrics->body.size(), RequestSeries(metrics->body).size());
  EXPECT_LT(metrics->body.size(), 8u * 1024) << metrics->body.substr(0, 2000);
  EXPECT_LE(RequestSeries(metrics->body).size(), 3u);
  EXPECT_TRUE(Contains(metrics->body,
                       "webhooks_http_requests_total{route=\"unmatched\","
                       "method=\"other\",status=\"501\"} 5000\n"))
      << metrics->body.substr(0, 2000);
}

// A 401 or a 405 is decided before any handler runs (in pre-routing or in
// the error hook); they were all counted as route "unmatched". Now only a
// path no route serves is.
TEST_F(MetricsBounds, RefusedRequestsAreCountedUnderTheirRoute) {
  httplib::Client client = ClientFor(server_);
  auto no_key = client.Get(kCreatePath);
  ASSERT_TRUE(no_key && no_key->status == 401);
  auto bad_method = client.Delete(kCreatePath, {{"x-api-key", kKey}});
  ASSERT_TRUE(bad_method && bad_method->status == 405);
  auto health_post = client.Post("/healthz", "", "application/json");
  ASSERT_TRUE(health_post && health_post->status == 405);
  RawConnection trace(server_.port());
  Reply traced;
  ASSERT_TRUE(trace.Send("TRACE /api/v3/webhook_endpoints/we_abc HTTP/1.1\r\n"
                         "Host: 127.0.0.1\r\n\r\n") &&
              trace.ReadResponse(&traced));
  ASSERT_EQ(traced.status, 405);
  auto nowhere = client.Get("/nowhere", {{"x-api-key", kKey}});
  ASSERT_TRUE(nowhere && nowhere->status == 404);

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  for (const char* series : {
           "{route=\"/api/v3.1/webhook_endpoints\",method=\"GET\","
           "status=\"401\"} 1\n",
           "{route=\"/api/v3.1/webhook_endpoints\",method=\"DELETE\","
           "status=\"405\"} 1\n",
           "{route=\"/healthz\",method=\"POST\",status=\"405\"} 1\n",
           "{route=\"/api/v3/webhook_endpoints/{id}\",method=\"TRACE\","
           "status=\"405\"} 1\n",
           "{route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n",
       }) {
    EXPECT_TRUE(Contains(metrics->body,
                         std::string("webhooks_http_requests_total") + series))
        << series << "\n"
        << metrics->body;
  }
}

// ===========================================================================
// Ingress racing a delete
// ===========================================================================

class IngressRace : public ServedTest {};

// Rounds of: an endpoint with a signing secret takes signed events from 8
// threads; once 100 are stored it is deleted while they go on, until each
// thread has been told 404. An event whose endpoint went between the
// ingress's look-up and its insert failed the foreign key and answered 500;
// every answer must be 200 or 404.
TEST_F(IngressRace, DeletedEndpointAnswers404NeverAFailure) {
  constexpr int kRounds = 10, kThreads = 8;
  std::map<int, int> statuses;  // guarded by mu
  std::mutex mu;
  for (int round = 0; round < kRounds; ++round) {
    httplib::Client client = ClientFor(server_);
    const httplib::Headers key = {{"x-api-key", kKey}};
    auto created = client.Post(
        kCreatePath, key, CreateBody("slack", "race-" + std::to_string(round)),
        "application/json");
    ASSERT_TRUE(created && created->status == 201);
    const std::string id = StringField(created->body, "id").value_or("");
    const std::string url =
        StringField(created->body, "webhook_url").value_or("");
    const std::string path = url.substr(url.find("/api/"));
    auto secret = client.Patch(std::string(kCreatePath) + "/" + id, key,
                               DataBody({{"webhook_signing_secret", kSecret}}),
                               "application/json");
    ASSERT_TRUE(secret && secret->status == 200);

    std::condition_variable changed;
    int stored = 0;  // guarded by mu
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        httplib::Client sender = ClientFor(server_);
        for (int i = 0;; ++i) {
          const std::string body =
              R"({"type":"event_callback","event_id":"Ev)" +
              std::to_string(round) + "-" + std::to_string(t) + "-" +
              std::to_string(i) + R"("})";
          auto result = sender.Post(path, SlackHeaders(kSecret, body), body,
                                    "application/json");
          const int status = result ? result->status : 0;
          std::lock_guard<std::mutex> lock(mu);
          ++statuses[status];
          if (status == 200) ++stored;
          changed.notify_all();
          if (status != 200) return;  // 404 once deleted; else a failure
        }
      });
    }
    bool enough = false;
    {
      std::unique_lock<std::mutex> lock(mu);
      enough = changed.wait_for(lock, std::chrono::seconds(20),
                                [&] { return stored >= 100; });
    }
    // Deleted whatever happened: the threads end only once told 404.
    auto deleted = client.Delete(std::string(kCreatePath) + "/" + id, key);
    for (auto& thread : threads) thread.join();
    ASSERT_TRUE(enough) << "fewer than 100 events stored in 20 s";
    ASSERT_TRUE(deleted && deleted->status / 100 == 2);
  }
  std::string summary;
  for (const auto& [status, count] : statuses) {
    summary += std::to_string(status) + "x" + std::to_string(count) + " ";
  }
  std::printf("[ answers  ] %s\n", summary.c_str());
  for (const auto& [status, count] : statuses) {
    EXPECT_TRUE(status == 200 || status == 404)
        << count << " answers of status " << status << ": " << summary;
  }
  EXPECT_EQ(statuses[404], kRounds * kThreads);
  EXPECT_FALSE(Contains(server_.Stderr(), "FOREIGN KEY"));
}

// ===========================================================================
// SIGHUP
// ===========================================================================

class SignalBounds : public ServedTest {};

// SIGHUP's default action ended the process: no log line, the request being
// read never answered, the WAL left beside the file.
TEST_F(SignalBounds, SighupIsLoggedAndTheServerCarriesOn) {
  // A create whose body is still on its way when the signal comes.
  const std::string body = CreateBody("slack", "after-hup");
  RawConnection slow(server_.port());
  ASSERT_TRUE(slow.Send(std::string("POST ") + kCreatePath +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + kKey +
                        "\r\nContent-Type: application/json\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" +
                        body.substr(0, 5)));
  ASSERT_EQ(::kill(server_.pid(), SIGHUP), 0);
  ASSERT_TRUE(server_.WaitForStderr("SIGHUP")) << server_.Stderr();
  ASSERT_EQ(::kill(server_.pid(), SIGHUP), 0);  // a second one as well
  ASSERT_TRUE(slow.Send(body.substr(5)));
  Reply created;
  ASSERT_TRUE(slow.ReadResponse(&created));
  EXPECT_EQ(created.status, 201) << created.body;
  auto health = ClientFor(server_).Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  const int status = server_.Stop();
  ASSERT_TRUE(WIFEXITED(status)) << server_.Stderr();
  EXPECT_EQ(WEXITSTATUS(status), 0) << server_.Stderr();
  const std::string log = server_.Stderr();
  EXPECT_TRUE(Contains(log, "SIGHUP: nothing to reload")) << log;
  EXPECT_TRUE(Contains(log, "stopped cleanly")) << log;
  EXPECT_TRUE(!std::filesystem::exists(db_ + "-wal") ||
              std::filesystem::file_size(db_ + "-wal") == 0);
  EXPECT_EQ(Rows(db_, "SELECT client_id FROM webhook_endpoints"),
            std::vector<std::string>{"after-hup"});
}

// ===========================================================================
// Start-up: the full check only after an unclean stop
// ===========================================================================

// What the server logs when it opened a database with the full check.
constexpr char kFullCheckLine[] = "did not stop cleanly";
constexpr char kRunningRecord[] =
    "SELECT value FROM store_settings WHERE name = 'server_running'";

class StartUpCheck : public ::testing::Test {
 protected:
  // Starts a server on the database; returns whether it ran the full check.
  bool Start(ServerProcess* server) {
    EXPECT_TRUE(server->Start({"--port", "0", "--db", db_}))
        << server->Stderr();
    return Contains(server->Stderr(), kFullCheckLine);
  }

  // Ends the server as a crash or kill -9 would.
  static void KillNine(ServerProcess* server) {
    ASSERT_EQ(::kill(server->pid(), SIGKILL), 0);
    const int status = server->Wait();
    ASSERT_TRUE(WIFSIGNALED(status));
  }

  TempDir dir_;
  const std::string db_ = dir_.File("start.db");
};

TEST_F(StartUpCheck, CleanStopSkipsItAndKillNineBringsItBack) {
  {
    ServerProcess first;
    EXPECT_FALSE(Start(&first)) << "a new database has nothing to check";
    EXPECT_EQ(Rows(db_, kRunningRecord).size(), 1u);
    ASSERT_EQ(first.Stop(), 0) << first.Stderr();
    EXPECT_TRUE(Rows(db_, kRunningRecord).empty());
  }
  {
    ServerProcess after_clean_stop;
    EXPECT_FALSE(Start(&after_clean_stop)) << after_clean_stop.Stderr();
    ASSERT_NO_FATAL_FAILURE(KillNine(&after_clean_stop));
    EXPECT_EQ(Rows(db_, kRunningRecord).size(), 1u);
  }
  {
    ServerProcess after_kill;
    EXPECT_TRUE(Start(&after_kill)) << after_kill.Stderr();
    ASSERT_EQ(after_kill.Stop(), 0) << after_kill.Stderr();
  }
  ServerProcess again;
  EXPECT_FALSE(Start(&again)) << again.Stderr();
}

// The admin commands open the same file while the server runs: they must
// neither clear the server's record (its kill -9 would then go unchecked)
// nor run the full check themselves.
TEST_F(StartUpCheck, AnAdminCommandBesideTheServerLeavesTheRecordAlone) {
  ServerProcess server;
  EXPECT_FALSE(Start(&server));
  ServerProcess command;
  EXPECT_FALSE(command.Start(
      {"keys", "create", "--project", "acme", "--db", db_}));  // no banner
  EXPECT_EQ(command.Wait(), 0) << command.Stderr();
  EXPECT_EQ(command.first_line().rfind("whk_", 0), 0u) << command.first_line();
  EXPECT_FALSE(Contains(command.Stderr(), kFullCheckLine));
  ASSERT_NO_FATAL_FAILURE(KillNine(&server));
  ServerProcess after_kill;
  EXPECT_TRUE(Start(&after_kill)) << after_kill.Stderr();
}

// A database written before the record existed has an unknown past.
TEST_F(StartUpCheck, ADatabaseFromBeforeTheRecordGetsItOnce) {
  {
    ServerProcess first;
    Start(&first);
    ASSERT_EQ(first.Stop(), 0);
  }
  EXPECT_TRUE(Rows(db_, "DROP TABLE store_settings").empty());
  {
    ServerProcess upgraded;
    EXPECT_TRUE(Start(&upgraded)) << upgraded.Stderr();
    ASSERT_EQ(upgraded.Stop(), 0);
  }
  ServerProcess again;
  EXPECT_FALSE(Start(&again)) << again.Stderr();
}

// ===========================================================================
// Workers: more keep-alive clients than --threads
// ===========================================================================

// A busy keep-alive connection used to keep its worker for as long as it
// kept sending (up to 1,000 requests): with --threads 2, two clients
// sending without pause left a third unanswered until one of their
// connections reached its 1,000th request. Now a worker that finishes a
// request while another connection waits for a worker lets its connection
// go to the back of the line. The third client's 20 requests are answered
// while the two others are still far from their 1,000th.
TEST(WorkerFairness, AThirdClientIsServedBesideTwoBusyOnesWithTwoWorkers) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.Start(
      {"--port", "0", "--db", dir.File("fair.db"), "--threads", "2"}))
      << server.Stderr();
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> sent[2] = {0, 0};
  std::vector<std::thread> busy;
  for (int b = 0; b < 2; ++b) {
    busy.emplace_back([&, b] {
      httplib::Client client = ClientFor(server);
      client.set_keep_alive(true);
      while (!stop.load()) {
        auto res = client.Get("/healthz");
        if (!res || res->status != 200) ++failures;
        ++sent[b];
      }
    });
  }
  // Both busy clients are on their connections (a bounded wait, not a
  // sleep: it ends as soon as they are).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((sent[0].load() < 20 || sent[1].load() < 20) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GE(sent[0].load(), 20);
  ASSERT_GE(sent[1].load(), 20);
  httplib::Client third = ClientFor(server);
  third.set_keep_alive(true);
  int answered = 0;
  for (int i = 0; i < 20; ++i) {
    auto res = third.Get("/healthz");
    if (res && res->status == 200) ++answered;
  }
  const int busy_sent = std::max(sent[0].load(), sent[1].load());
  stop = true;
  for (auto& thread : busy) thread.join();
  EXPECT_EQ(answered, 20);
  EXPECT_EQ(failures.load(), 0);
  // Far from 1,000: the third client did not wait for a busy connection
  // to end.
  EXPECT_LT(busy_sent, 900) << "the third client waited for a busy "
                               "connection to reach its last request";
}

}  // namespace
}  // namespace webhooks::testing
