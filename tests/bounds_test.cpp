// Tests of issue 12 ("every cost bounded"): what a client, a signal or a
// crash must not be able to make grow or break. Each runs the real binary
// over real HTTP on 127.0.0.1 with a real SQLite file:
// - ingress racing the delete of its endpoint: 404, never 500;

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <sys/wait.h>

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
constexpr char kEndpoints[] = "/api/v3.1/webhook_endpoints";
constexpr char kSecret[] = "bounds-signing-secret-0123456789";

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

httplib::Client ClientFor(const ServerProcess& server) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  return client;
}

// The string field `name` of the JSON object `body`; empty if none.
std::string StringField(const std::string& body, const char* name) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view value;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS ||
      doc[name].get_string().get(value) != simdjson::SUCCESS) {
    return "";
  }
  return std::string(value);
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
        kEndpoints, key, CreateBody("slack", "race-" + std::to_string(round)),
        "application/json");
    ASSERT_TRUE(created && created->status == 201);
    const std::string id = StringField(created->body, "id");
    const std::string url = StringField(created->body, "webhook_url");
    const std::string path = url.substr(url.find("/api/"));
    auto secret = client.Patch(std::string(kEndpoints) + "/" + id, key,
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
    auto deleted = client.Delete(std::string(kEndpoints) + "/" + id, key);
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

}  // namespace
}  // namespace webhooks::testing
