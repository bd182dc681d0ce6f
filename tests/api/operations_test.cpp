// Black-box tests of running the server (issue 5) against the real binary:
// persistence across restarts and the database file, request ids, health
// and readiness, SIGTERM (the WAL checkpointed, a burst answered) and a
// second signal, the OpenAPI document against the route table, the logs,
// /metrics, rate limiting, and --require-keys.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/raw_http.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// Persistence
// ===========================================================================

class HttpPersistenceTest : public HttpTest {};

TEST_F(HttpPersistenceTest, EndpointSurvivesARestart) {
  Endpoint first;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &first));
  const std::string old_base = DefaultPublicBase();
  server_->Stop();
  ASSERT_TRUE(StartServer());
  // Same id, created_at and path; the URL's base is the new server's.
  Endpoint again;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 200, &again));
  EXPECT_EQ(again.raw_body,
            AsRestarted(first.raw_body, old_base, DefaultPublicBase()));
}

TEST_F(HttpPersistenceTest, ConfiguredKeyKeepsItsProjectAcrossRestarts) {
  ASSERT_TRUE(StartServer({"--api-key", "k-one"}));
  Endpoint first;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      CreateWithKey("k-one", CreateBody("slack", "c1")), 201, &first));
  const std::string old_base = DefaultPublicBase();
  ASSERT_TRUE(StartServer({"--api-key", "k-one"}));
  Endpoint again;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      CreateWithKey("k-one", CreateBody("slack", "c1")), 200, &again));
  EXPECT_EQ(again.raw_body,
            AsRestarted(first.raw_body, old_base, DefaultPublicBase()));
}

TEST_F(HttpPersistenceTest, DatabaseFileIsPrivate) {
  SQLITE_FILE_ONLY();
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint));
  struct stat info {};
  ASSERT_EQ(::stat(db_path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(HttpPersistenceTest, DatabaseInAMissingFolderIsCreated) {
  const std::string db = dir_.File("sub/x.db");
  ASSERT_TRUE(StartServerWithArgs({"--port", "0", "--db", db}));
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint));
  EXPECT_TRUE(std::filesystem::is_regular_file(db));
}

// ===========================================================================
// Errors: request ids
// ===========================================================================

class HttpRequestIdTest : public HttpTest {};

TEST_F(HttpRequestIdTest, CallerRequestIdIsEchoed) {
  // On an error: in the header and the body.
  ErrorBody error;
  auto denied = Post(kCreatePath, {{"x-request-id", "my-req-123"}},
                     CreateBody("slack", "c1"));
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(denied, 401, "HTTP_Unauthorized", &error));
  EXPECT_EQ(denied->get_header_value("x-request-id"), "my-req-123");
  EXPECT_EQ(error.request_id, "my-req-123");
  // On a success: in the header.
  auto created =
      Post(kCreatePath, {{"x-api-key", key_}, {"x-request-id", "my-req-456"}},
           CreateBody("slack", "c1"));
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(created, 201, &endpoint));
  EXPECT_EQ(created->get_header_value("x-request-id"), "my-req-456");
}

TEST_F(HttpRequestIdTest, MalformedRequestIdIsReplaced) {
  for (const std::string& sent :
       {std::string("has space"), std::string(200, 'r')}) {
    SCOPED_TRACE(sent);
    auto denied =
        Post(kCreatePath, {{"x-request-id", sent}}, CreateBody("slack", "c1"));
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(denied, 401, "HTTP_Unauthorized", &error));
    const std::string id = denied->get_header_value("x-request-id");
    EXPECT_FALSE(id.empty());
    EXPECT_NE(id, sent);
    EXPECT_FALSE(Contains(id, " "));
  }
}

// Header values reach the server percent-decoded (platform notes, CVE-2026-
// 45372): an encoded CR LF must not be echoed into the response headers.
TEST_F(HttpRequestIdTest, EncodedLineBreakInRequestIdIsNotEchoed) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send(
      RawCreate(key_, CreateBody("slack", "c1"),
                "x-request-id: evil%0d%0aX-Injected:%20yes\r\n")));
  Reply reply;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  Endpoint endpoint;
  ExpectEndpoint(reply, 201, &endpoint);
  EXPECT_EQ(reply.headers.count("X-Injected"), 0u);
  // Header values are taken as sent, never percent-decoded (issue 11): the
  // escapes are echoed as the plain text they are, no line break in sight.
  EXPECT_EQ(reply.Header("x-request-id"), "evil%0d%0aX-Injected:%20yes");
}

TEST_F(HttpRequestIdTest, FreshIdsDiffer) {
  auto first = Post(kCreatePath, {}, CreateBody("slack", "c1"));
  auto second = Post(kCreatePath, {}, CreateBody("slack", "c1"));
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(first, 401, "HTTP_Unauthorized"));
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(second, 401, "HTTP_Unauthorized"));
  EXPECT_NE(first->get_header_value("x-request-id"),
            second->get_header_value("x-request-id"));
  auto created = Create(CreateBody("slack", "c1"));
  auto again = Create(CreateBody("slack", "c1"));
  ASSERT_TRUE(created && again);
  EXPECT_NE(created->get_header_value("x-request-id"),
            again->get_header_value("x-request-id"));
}

// ===========================================================================
// Operations: health, readiness, shutdown (issue 5, first part)
// ===========================================================================

TEST_F(HttpOperationsTest, HealthAndReadinessAnswerWithoutAKey) {
  for (const char* path : {"/healthz", "/readyz"}) {
    SCOPED_TRACE(path);
    auto result = NewClient().Get(path);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(MediaType(result->get_header_value("Content-Type")),
              "application/json");
    ExpectCommonHeaders(ToReply(result));
    EXPECT_TRUE(Contains(result->body, "\"status\""));
  }
  auto post = Post("/healthz", {}, "{}");
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(post, 405, "HTTP_MethodNotAllowed"));
  EXPECT_EQ(post->get_header_value("Allow"), "GET");
}

TEST_F(HttpOperationsTest, SigtermExitsZeroWithTheWalCheckpointed) {
  SQLITE_FILE_ONLY();
  for (int i = 0; i < 20; ++i) {
    auto created = Create(CreateBody("slack", "c" + std::to_string(i)));
    ASSERT_TRUE(created && created->status == 201);
  }
  const int status = server_->Stop();
  ASSERT_TRUE(WIFEXITED(status)) << server_->Stderr();
  EXPECT_EQ(WEXITSTATUS(status), 0) << server_->Stderr();
  EXPECT_TRUE(Contains(server_->Stderr(), "stopped cleanly"));
  // Everything is in the database file itself: no WAL left with content.
  EXPECT_TRUE(!std::filesystem::exists(db_path() + "-wal") ||
              std::filesystem::file_size(db_path() + "-wal") == 0);
  ASSERT_TRUE(StartServer());
  EXPECT_EQ(ListedIds().size(), 20u);
}

// SIGTERM right after the listening line may arrive before the accept loop
// runs; the library's stop() then did nothing, and the server ran on until
// the shutdown timeout (seen once in CI). Each of these stops at once.
TEST_F(HttpOperationsTest, SigtermRightAfterStartStopsAtOnce) {
  for (int i = 0; i < 20; ++i) {
    testing::ServerProcess server;
    ASSERT_TRUE(server.Start({"--port", "0", "--db", ":memory:"}))
        << server.Stderr();
    const auto sent = std::chrono::steady_clock::now();
    const int status = server.Stop();  // SIGTERM, then waits
    const auto took = std::chrono::steady_clock::now() - sent;
    ASSERT_TRUE(WIFEXITED(status)) << server.Stderr();
    EXPECT_EQ(WEXITSTATUS(status), 0) << server.Stderr();
    // The shutdown timeout is 10 s; a stop that was lost waits for it.
    EXPECT_LT(took, std::chrono::seconds(5)) << "run " << i;
  }
}

// Creates run on several connections while SIGTERM arrives: every request
// that got an answer got a whole, correct one, every 201 is on disk, and the
// process exits 0.
TEST_F(HttpOperationsTest, SigtermDuringABurstAnswersEveryAcceptedRequest) {
  constexpr int kThreads = 8;
  std::mutex mu;
  std::condition_variable enough;
  int answered = 0;
  std::vector<std::string> created_ids;
  int wrong_answers = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client = NewClient();
      for (int i = 0; i < 2000; ++i) {
        auto result =
            client.Post(kCreatePath, {{"x-api-key", key_}},
                        CreateBody("slack", "burst-" + std::to_string(t) + "-" +
                                                std::to_string(i)),
                        "application/json");
        if (!result) return;  // the server stopped accepting: done
        std::lock_guard<std::mutex> lock(mu);
        if (result->status == 201) {
          std::string_view body = result->body;
          size_t at = body.find("\"id\":\"");
          if (at != std::string_view::npos) {
            created_ids.emplace_back(body.substr(at + 6, 15));
          }
        } else {
          ++wrong_answers;
        }
        ++answered;
        enough.notify_all();
      }
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(enough.wait_for(lock, std::chrono::seconds(10),
                                [&] { return answered >= 100; }));
  }
  ASSERT_EQ(::kill(server_->pid(), SIGTERM), 0);
  for (auto& thread : threads) thread.join();
  const int status = server_->Wait();
  ASSERT_TRUE(WIFEXITED(status)) << server_->Stderr();
  EXPECT_EQ(WEXITSTATUS(status), 0) << server_->Stderr();
  EXPECT_EQ(wrong_answers, 0);

  ASSERT_TRUE(StartServer());
  std::vector<std::string> listed = ListedIds();
  std::sort(listed.begin(), listed.end());
  for (const std::string& id : created_ids) {
    EXPECT_TRUE(std::binary_search(listed.begin(), listed.end(), id))
        << id << " was acknowledged but is not stored";
  }
  EXPECT_EQ(listed.size(), created_ids.size());
}

// Every route in the route table is in /openapi.json, and the other way
// round (issue 5: the contract document).
TEST_F(HttpOperationsTest, OpenApiDocumentListsExactlyTheRouteTable) {
  Finished routes = RunToExit({"routes"});
  ASSERT_EQ(routes.exit_code, 0);
  std::set<std::string> table;
  for (size_t at = 0; at < routes.out.size();) {
    size_t end = routes.out.find('\n', at);
    if (end == std::string::npos) end = routes.out.size();
    if (end > at) table.insert(routes.out.substr(at, end - at));
    at = end + 1;
  }
  ASSERT_GE(table.size(), 20u) << routes.out;

  auto document = NewClient().Get("/openapi.json");
  ASSERT_TRUE(document);
  ASSERT_EQ(document->status, 200);
  EXPECT_EQ(MediaType(document->get_header_value("Content-Type")),
            "application/json");
  simdjson::dom::parser parser;
  simdjson::padded_string json(document->body);
  simdjson::dom::element root;
  simdjson::dom::object paths;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS);
  std::string_view version;
  ASSERT_EQ(root["openapi"].get_string().get(version), simdjson::SUCCESS);
  EXPECT_EQ(version.substr(0, 4), "3.1.");
  ASSERT_EQ(root["paths"].get_object().get(paths), simdjson::SUCCESS);
  std::set<std::string> documented;
  for (auto [path, item] : paths) {
    simdjson::dom::object operations;
    ASSERT_EQ(item.get_object().get(operations), simdjson::SUCCESS);
    for (auto [method, operation] : operations) {
      if (method == "parameters" || method == "summary" ||
          method == "description" || method == "servers") {
        continue;
      }
      std::string upper(method);
      for (char& c : upper) c = static_cast<char>(std::toupper(c));
      documented.insert(upper + " " + std::string(path));
    }
  }
  EXPECT_EQ(documented, table);
}

TEST_F(HttpOperationsTest, LogLinesAreJsonAndHoldNoKeySecretOrSignature) {
  auto created = Create(CreateBody("slack", "logged"));
  ASSERT_TRUE(created && created->status == 201);
  const std::string id = created->body.substr(created->body.find("we_"), 15);
  const std::string secret = "log-test-signing-secret-0123456789";
  auto patched = NewClient().Patch(
      std::string(kCreatePath) + "/" + id, {{"x-api-key", key_}},
      R"({"data":{"webhook_signing_secret":")" + secret + R"("}})",
      "application/json");
  ASSERT_TRUE(patched && patched->status == 200);
  const std::string signature = "v0=" + std::string(64, 'a');
  NewClient().Post(
      "/api/v3.1/webhook_ingress/slack/" + id + "/trigger_event",
      {{"X-Slack-Signature", signature}, {"X-Slack-Request-Timestamp", "1"}},
      R"({"type":"event_callback"})", "application/json");
  NewClient().Get("/nope%0a%22forged", {{"x-api-key", key_}});
  ASSERT_EQ(WEXITSTATUS(server_->Stop()), 0);

  const std::string log = server_->Stderr();
  EXPECT_FALSE(Contains(log, key_));
  EXPECT_FALSE(Contains(log, secret));
  EXPECT_FALSE(Contains(log, std::string(64, 'a')));
  int requests = 0;
  bool saw_create = false;
  for (size_t at = 0; at < log.size();) {
    size_t end = log.find('\n', at);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(at, end - at);
    at = end + 1;
    if (line.empty() || line[0] != '{') continue;
    simdjson::dom::parser parser;
    simdjson::padded_string json(line);
    simdjson::dom::element entry;
    ASSERT_EQ(parser.parse(json).get(entry), simdjson::SUCCESS) << line;
    std::string_view msg, route, project;
    ASSERT_EQ(entry["msg"].get_string().get(msg), simdjson::SUCCESS) << line;
    if (msg != "request") continue;
    ++requests;
    int64_t status = 0;
    double duration = -1;
    ASSERT_EQ(entry["status"].get_int64().get(status), simdjson::SUCCESS);
    ASSERT_EQ(entry["duration_ms"].get_double().get(duration),
              simdjson::SUCCESS);
    EXPECT_GE(duration, 0.0);
    ASSERT_EQ(entry["route"].get_string().get(route), simdjson::SUCCESS);
    ASSERT_EQ(entry["project_id"].get_string().get(project), simdjson::SUCCESS);
    EXPECT_FALSE(Contains(route, "we_")) << "a raw path was logged: " << line;
    if (status == 201) {
      saw_create = true;
      EXPECT_EQ(route, "/api/v3.1/webhook_endpoints");
      EXPECT_EQ(project.rfind("proj_", 0), 0u) << line;
    }
  }
  EXPECT_EQ(requests, 4);
  EXPECT_TRUE(saw_create);
}

TEST_F(HttpOperationsTest, TextLogsAndLevelsAreChosenByFlags) {
  ASSERT_TRUE(StartServer({"--log-format", "text"}));
  ASSERT_TRUE(Create(CreateBody("slack", "text-log")));
  server_->Stop();
  EXPECT_TRUE(Contains(server_->Stderr(), "msg=\"request\""));
  EXPECT_TRUE(
      Contains(server_->Stderr(), "route=\"/api/v3.1/webhook_endpoints\""));

  ASSERT_TRUE(StartServer({"--log-level", "warn"}));
  ASSERT_TRUE(Create(CreateBody("slack", "quiet")));
  server_->Stop();
  EXPECT_FALSE(Contains(server_->Stderr(), "\"request\""));
}

// Parses Prometheus' text format: sample name with labels -> value. Fails
// the test on a line that is not a comment or a sample, or a sample whose
// family has no # TYPE line before it.
std::map<std::string, double> ParseMetrics(const std::string& text) {
  std::map<std::string, double> samples;
  std::set<std::string> typed;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos || line[0] == '#') {
      ADD_FAILURE() << "not a sample: " << line;
      continue;
    }
    const std::string name = line.substr(0, space);
    std::string family = name.substr(0, name.find('{'));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string tail = suffix;
      if (family.size() > tail.size() &&
          family.compare(family.size() - tail.size(), tail.size(), tail) == 0 &&
          typed.count(family.substr(0, family.size() - tail.size()))) {
        family = family.substr(0, family.size() - tail.size());
      }
    }
    EXPECT_TRUE(typed.count(family)) << "no # TYPE before " << line;
    char* parsed_end = nullptr;
    const std::string value = line.substr(space + 1);
    samples[name] = std::strtod(value.c_str(), &parsed_end);
    EXPECT_EQ(*parsed_end, '\0') << line;
  }
  return samples;
}

TEST_F(HttpOperationsTest, MetricsCountKnownTrafficInPrometheusFormat) {
  ASSERT_EQ(Create(CreateBody("slack", "m"))->status, 201);
  ASSERT_EQ(Create(CreateBody("slack", "m"))->status, 200);
  ASSERT_EQ(Post(kCreatePath, {}, CreateBody("slack", "m"))->status, 401);
  ASSERT_EQ(NewClient().Get("/nope")->status, 404);

  auto scraped = NewClient().Get("/metrics");
  ASSERT_TRUE(scraped);
  ASSERT_EQ(scraped->status, 200);
  EXPECT_EQ(MediaType(scraped->get_header_value("Content-Type")), "text/plain");
  EXPECT_FALSE(Contains(scraped->body, "we_")) << "a raw path in a label";
  std::map<std::string, double> m = ParseMetrics(scraped->body);
  const std::string requests = "webhooks_http_requests_total";
  EXPECT_EQ(
      m[requests +
        R"({route="/api/v3.1/webhook_endpoints",method="POST",status="201"})"],
      1);
  EXPECT_EQ(
      m[requests +
        R"({route="/api/v3.1/webhook_endpoints",method="POST",status="200"})"],
      1);
  // Refused before the handler, and still counted under its route.
  EXPECT_EQ(
      m[requests +
        R"({route="/api/v3.1/webhook_endpoints",method="POST",status="401"})"],
      1);
  EXPECT_EQ(m[requests + R"({route="unmatched",method="GET",status="404"})"],
            1);
  // The scrape itself is counted after it is answered: four so far.
  const std::string latency = "webhooks_http_request_duration_seconds";
  EXPECT_EQ(m[latency + "_count"], 4);
  EXPECT_EQ(m[latency + R"(_bucket{le="+Inf"})"], 4);
  // Cumulative buckets never decrease as their bound grows.
  std::vector<std::pair<double, double>> buckets;
  for (const auto& [name, value] : m) {
    const std::string prefix = latency + R"(_bucket{le=")";
    if (name.rfind(prefix, 0) != 0 || Contains(name, "+Inf")) continue;
    buckets.emplace_back(std::strtod(name.c_str() + prefix.size(), nullptr),
                         value);
  }
  ASSERT_GE(buckets.size(), 5u);
  std::sort(buckets.begin(), buckets.end());
  for (size_t i = 1; i < buckets.size(); ++i) {
    EXPECT_LE(buckets[i - 1].second, buckets[i].second);
  }
  EXPECT_LE(buckets.back().second, 4);
  EXPECT_GT(m[latency + "_sum"], 0);
  EXPECT_EQ(m["webhooks_endpoints"], 1);
  EXPECT_EQ(m["webhooks_events"], 0);
  EXPECT_EQ(m[R"(webhooks_store_errors_total{kind="unavailable"})"], 0);
  ASSERT_EQ(m.count("webhooks_log_lines_dropped_total"), 1u);
  EXPECT_EQ(m["webhooks_log_lines_dropped_total"], 0);  // a file keeps up
  EXPECT_LE(std::abs(m["process_start_time_seconds"] -
                     static_cast<double>(std::time(nullptr))),
            120);
}

// Issue 17: /metrics can be restricted to a bearer key. The key is
// compared whole (a prefix, another scheme or a second header fail) and
// never logged.
TEST_F(HttpOperationsTest, MetricsKeyRestrictsMetricsAndIsNeverLogged) {
  const std::string metrics_key = RandomKey("metrics_");
  ASSERT_TRUE(StartServer({}, {"WEBHOOKS_METRICS_KEY=" + metrics_key}));
  const std::vector<httplib::Headers> refused = {
      {},
      {{"Authorization", "Bearer " + metrics_key.substr(0, 10)}},
      {{"Authorization", "Bearer " + metrics_key + "x"}},
      {{"Authorization", "Basic " + metrics_key}},
      {{"Authorization", metrics_key}},
      {{"x-api-key", metrics_key}},
      {{"Authorization", "Bearer " + metrics_key},
       {"Authorization", "Bearer wrong"}},
  };
  for (const httplib::Headers& headers : refused) {
    auto scraped = NewClient().Get("/metrics", headers);
    ErrorBody body;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(scraped, 401, "HTTP_Unauthorized", &body));
    EXPECT_TRUE(Contains(body.message, "Authorization: Bearer"))
        << body.message;
    EXPECT_TRUE(Contains(body.suggested_fix, "--metrics-key"));
    EXPECT_EQ(scraped->get_header_value("WWW-Authenticate"),
              "Bearer realm=\"metrics\"");
    EXPECT_FALSE(Contains(scraped->body, "webhooks_http_requests_total"));
  }
  for (const std::string scheme : {"Bearer ", "bearer "}) {
    auto scraped =
        NewClient().Get("/metrics", {{"Authorization", scheme + metrics_key}});
    ASSERT_TRUE(scraped);
    EXPECT_EQ(scraped->status, 200) << scraped->body;
    EXPECT_TRUE(Contains(scraped->body, "webhooks_http_requests_total"));
  }
  // The other operator routes stay open.
  EXPECT_EQ(NewClient().Get("/healthz")->status, 200);
  EXPECT_EQ(NewClient().Get("/readyz")->status, 200);
  ASSERT_EQ(WEXITSTATUS(server_->Stop()), 0);
  EXPECT_FALSE(Contains(server_->Stderr(), metrics_key));
  EXPECT_TRUE(Contains(server_->Stderr(), "metrics=key"));
}

// The "remote" of the request log line whose request_id is `id`; empty if
// there is none.
std::string RemoteLoggedFor(const std::string& log, const std::string& id) {
  for (size_t at = 0; at < log.size();) {
    size_t end = log.find('\n', at);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(at, end - at);
    at = end + 1;
    if (!Contains(line, "\"request_id\":\"" + id + "\"")) continue;
    simdjson::dom::parser parser;
    simdjson::padded_string json(line);
    std::string_view remote;
    if (parser.parse(json)["remote"].get_string().get(remote) ==
        simdjson::SUCCESS) {
      return std::string(remote);
    }
  }
  return "";
}

// Issue 17: behind a trusted proxy the client's address is taken from
// X-Forwarded-For (the right-most entry not itself trusted); from any other
// peer the header is ignored, so a client cannot choose its logged address.
TEST_F(HttpOperationsTest, ForwardedForCountsOnlyFromATrustedProxy) {
  struct Case {
    std::vector<std::string> flags;
    httplib::Headers headers;
    std::string logged;
  };
  const std::vector<Case> cases = {
      // No proxy trusted: the header is a spoof.
      {{}, {{"X-Forwarded-For", "203.0.113.9"}}, "127.0.0.1"},
      // A proxy trusted, but the test's peer (127.0.0.1) is not it.
      {{"--trusted-proxy", "10.0.0.0/8,fd00::/8"},
       {{"X-Forwarded-For", "203.0.113.9"}},
       "127.0.0.1"},
      // The peer is trusted: the right-most untrusted hop, not the
      // client's own claim on the left, nor a trusted hop.
      {{"--trusted-proxy", "127.0.0.0/8", "--trusted-proxy", "::1"},
       {{"X-Forwarded-For", "6.6.6.6, 198.51.100.7, 127.0.0.5"}},
       "198.51.100.7"},
      {{"--trusted-proxy", "127.0.0.1"},
       {{"X-Forwarded-For", "2001:db8::7"}},
       "2001:db8::7"},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(Join(test.flags));
    ASSERT_TRUE(StartServer(test.flags));
    const std::string id = "xff-" + RandomKey("");
    httplib::Headers headers = test.headers;
    headers.emplace("x-request-id", id);
    headers.emplace("x-api-key", key_);
    auto answered = NewClient().Get(kCreatePath, headers);
    ASSERT_TRUE(answered);
    EXPECT_EQ(answered->status, 200);
    ASSERT_EQ(WEXITSTATUS(server_->Stop()), 0);
    EXPECT_EQ(RemoteLoggedFor(server_->Stderr(), id), test.logged)
        << server_->Stderr();
  }
  for (const char* bad : {"10.0.0.1/8", "10.0.0.0/33", "proxy.local", ""}) {
    SCOPED_TRACE(bad);
    Ran refused =
        RunBinary({"--port", "0", "--db", db_path(), "--trusted-proxy", bad});
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1)
        << refused.err;
    EXPECT_TRUE(Contains(refused.err, "--trusted-proxy")) << refused.err;
  }
}

TEST_F(HttpOperationsTest, ReadinessFailsWhileTheDatabaseFileIsUnreadable) {
  SQLITE_FILE_ONLY();
  ASSERT_EQ(NewClient().Get("/readyz")->status, 200);
  ASSERT_EQ(::chmod(db_path().c_str(), 0), 0);
  auto unready = NewClient().Get("/readyz");
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(unready, 503, "Storage_Unavailable"));
  EXPECT_FALSE(unready->get_header_value("Retry-After").empty());
  EXPECT_FALSE(Contains(unready->body, db_path())) << "a path leaked";
  EXPECT_EQ(NewClient().Get("/healthz")->status, 200);  // still alive
  ASSERT_EQ(::chmod(db_path().c_str(), 0600), 0);
  EXPECT_EQ(NewClient().Get("/readyz")->status, 200);
}

TEST_F(HttpOperationsTest, RateLimitAnswers429AsComposioDoes) {
  ASSERT_TRUE(StartServer({"--rate-limit", "3"}));
  for (int i = 0; i < 3; ++i) {
    auto allowed = Create(CreateBody("slack", "r" + std::to_string(i)));
    ASSERT_TRUE(allowed);
    EXPECT_EQ(allowed->status, 201);
    EXPECT_EQ(allowed->get_header_value("X-RateLimit-Limit"), "3");
    EXPECT_EQ(allowed->get_header_value("X-RateLimit-Remaining"),
              std::to_string(2 - i));
  }
  auto limited = Create(CreateBody("slack", "r3"));
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(MediaType(limited->get_header_value("Content-Type")),
            "application/json");
  const int retry_after =
      std::atoi(limited->get_header_value("Retry-After").c_str());
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
  EXPECT_EQ(limited->get_header_value("X-RateLimit-Remaining"), "0");
  simdjson::dom::parser parser;
  simdjson::padded_string json(limited->body);
  simdjson::dom::object body;
  ASSERT_EQ(parser.parse(json).get_object().get(body), simdjson::SUCCESS);
  std::string_view message;
  ASSERT_EQ(body["message"].get_string().get(message), simdjson::SUCCESS);
  EXPECT_FALSE(message.empty());
  EXPECT_EQ(body.size(), 1u);  // {"message": "..."} only, as Composio's
  // The limited request changed nothing, and other projects are not limited.
  EXPECT_EQ(CreateWithKey(RandomKey(), CreateBody("slack", "r3"))->status, 201);
  ASSERT_TRUE(StartServer());  // no limit: the throttled create stored nothing
  EXPECT_EQ(ListedIds().size(), 3u);
}

TEST_F(HttpOperationsTest, RequireKeysRefusesToStartWithoutKeys) {
  ServerProcess bare;
  EXPECT_FALSE(bare.Start(
      {"--port", "0", "--db", dir_.File("bare.db"), "--require-keys"}));
  bare.Wait();
  EXPECT_EQ(bare.ExitCode(), 2);
  EXPECT_TRUE(Contains(bare.Stderr(), "keys create")) << bare.Stderr();
  // With a key made by `keys create`, it starts and accepts only that key.
  Finished created = RunToExit(
      {"keys", "create", "--project", "p", "--db", dir_.File("bare.db")});
  ASSERT_EQ(created.exit_code, 0);
  const std::string key = created.out.substr(0, created.out.find('\n'));
  ASSERT_TRUE(StartServerWithArgs(
      {"--port", "0", "--db", dir_.File("bare.db"), "--require-keys"}));
  EXPECT_EQ(CreateWithKey(key, CreateBody("slack", "c"))->status, 201);
  EXPECT_EQ(CreateWithKey(RandomKey(), CreateBody("slack", "c"))->status, 401);
}

// A request still being read holds the shutdown back (up to its deadline);
// a second signal ends the process at once, with a failure status, if it
// comes over a second after the first (sooner, it is the same request to
// stop: FaultStopSignals in tests/fault/fault_test.cpp).
TEST_F(HttpOperationsTest, SecondSignalExitsAtOnce) {
  // The slow request holds the stop for its deadline (5 s from its first
  // byte). On a machine loaded enough that the steps below take longer than
  // that, the server has finished cleanly before the second signal: the case
  // could not be made, and it is tried again on a new server (at most three
  // times; each failure message says which run and shows the log).
  using Clock = std::chrono::steady_clock;
  constexpr auto kRequestDeadline = std::chrono::seconds(5);
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) {
      ASSERT_TRUE(StartServer());
    }
    RawConnection slow(port());
    ASSERT_TRUE(slow.connected());
    const auto sent = Clock::now();
    ASSERT_TRUE(
        slow.Send("POST /api/v3.1/webhook_endpoints HTTP/1.1\r\n"
                  "Host: 127.0.0.1\r\nx-api-key: " +
                  key_ +
                  "\r\nContent-Type: application/json\r\n"
                  "Content-Length: 100\r\n\r\n{"));
    // Prove the server holds the request: a probe on another connection is
    // answered while the slow one is open.
    auto probe = NewClient().Get("/healthz");
    ASSERT_TRUE(probe && probe->status == 200) << server_->Stderr();
    ASSERT_EQ(::kill(server_->pid(), SIGTERM), 0);
    // Wait for the first signal to be taken (its log line), not for a time.
    ASSERT_TRUE(server_->WaitForStderr("finishing in-flight"))
        << server_->Stderr();
    // The rule is about time, so only time can take the next signal out of
    // the window: it opened when the server took the first signal, before
    // the line above was written, so waiting its length (the README's 1 s)
    // plus a margin after seeing the line puts the second signal past it.
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    ASSERT_EQ(::kill(server_->pid(), SIGTERM), 0);
    const auto second = Clock::now();
    const int status = server_->Wait();
    const std::string log = server_->Stderr();
    ASSERT_TRUE(WIFEXITED(status)) << "run " << attempt << ": " << log;
    if (WEXITSTATUS(status) == 0 && second - sent >= kRequestDeadline &&
        attempt < 3) {
      continue;  // the deadline came first: the machine was too slow
    }
    EXPECT_EQ(WEXITSTATUS(status), 1)
        << "run " << attempt << ", second signal "
        << std::chrono::duration_cast<std::chrono::milliseconds>(second - sent)
               .count()
        << " ms after the slow request: " << log;
    EXPECT_TRUE(Contains(log, "second signal")) << log;
    break;
  }
}

}  // namespace
}  // namespace webhooks::testing
