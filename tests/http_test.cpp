// Black-box HTTP tests of webhooks-server: every test starts the real binary
// (ServerProcess: --port 0, a fresh database, local mode, a random API key),
// sends requests over httplib::Client, or over raw sockets where the framing
// itself is under test, and checks status, headers and body against
// ../shared/spec/webhook-endpoints.md. Covered: create, errors,
// authentication, routing, request ids, framing limits and configuration;
// the management surface: schema, retrieve, PATCH (merge), replace (POST
// {id}), masking of secrets (and masks sent back), validation of setup data,
// list (filter, order, limit/cursor paging), delete, 405s with Allow,
// project isolation on every route, secrets kept out of responses and the
// log; the toolkit catalog file (--toolkits, WEBHOOKS_TOOLKITS); and the
// ingress (issue 4): the spec's check order step by step (404, not
// configured, bad signature, handshake, event), Slack's signature matrix
// and published example, Notion's token handshake, hmac_sha256 (GitHub's
// published example, a base64 + timestamp variant) and Ed25519 (Discord's
// model) from a catalog file, events stored durably and once (retries,
// concurrent copies), the events listing (order, paging, kept headers,
// base64 bodies, project scope), --event-retention, and send-test-event
// run against the server. Signatures are made here with OpenSSL directly,
// never with the server's own code. Tests are grouped by spec section, one
// test suite per section.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <simdjson.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/api/ingress_fixture.h"
#include "tests/raw_http.h"
#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// Create: the endpoint object
// ===========================================================================

class HttpCreateTest : public HttpTest {};

TEST_F(HttpCreateTest, CreateAnswers201WithTheEndpointUnderBothPrefixes) {
  for (const char* path : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(path);
    const std::string client_id = std::string("c1-") + path;
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
        Create(CreateBody("slack", client_id), path), 201, &endpoint));
    // The URL is the v3.1 ingress whatever prefix the create came in on.
    ExpectNewEndpoint(endpoint, "slack", client_id, DefaultPublicBase());
  }
}

TEST_F(HttpCreateTest, EveryToolkitOfTheBuiltInCatalogIsAccepted) {
  for (const char* toolkit : {"slack", "slackbot", "notion"}) {
    SCOPED_TRACE(toolkit);
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(Create(CreateBody(toolkit, "c1")), 201, &endpoint));
    ExpectNewEndpoint(endpoint, toolkit, "c1", DefaultPublicBase());
  }
}

TEST_F(HttpCreateTest, IdsAreDistinctAcrossEndpoints) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
        Create(CreateBody("slack", "c" + std::to_string(i))), 201, &endpoint));
    ids.push_back(endpoint.id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
}

TEST_F(HttpCreateTest, AcceptsJsonContentTypeWithParametersOrCapitals) {
  Endpoint endpoint;
  ExpectEndpoint(
      Post(kCreatePath, {{"x-api-key", key_}}, CreateBody("slack", "charset"),
           "application/json; charset=utf-8"),
      201, &endpoint);
  ExpectEndpoint(Post(kCreatePath, {{"x-api-key", key_}},
                      CreateBody("slack", "capitals"), "Application/JSON"),
                 201, &endpoint);
}

TEST_F(HttpCreateTest, ClientIdOf256BytesIsAccepted) {
  // 256 bytes, whether 256 characters or 128 two-byte ones.
  for (const std::string& client_id :
       {Repeat("a", 256), Repeat("\u00e9", 128)}) {
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(Create(CreateBody("slack", client_id)), 201, &endpoint));
    EXPECT_EQ(endpoint.client_id, client_id);
  }
}

TEST_F(HttpCreateTest, UnknownToolkitIs404NamingTheCatalog) {
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(Create(CreateBody("nosuch", "c")),
                                              404, "Toolkit_NotFound", &error));
  EXPECT_TRUE(Contains(Lower(error.suggested_fix), "catalog"))
      << error.suggested_fix;
  // A well-formed slug of the maximum length is a lookup miss, not a
  // validation error.
  ExpectErrorEnvelope(Create(CreateBody(std::string(64, 'a'), "c")), 404,
                      "Toolkit_NotFound");
}

// ===========================================================================
// Create: idempotency
// ===========================================================================

TEST_F(HttpCreateTest, RepeatedCreateAnswers200WithTheIdenticalBody) {
  Endpoint first;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &first));
  for (const char* path : {kCreatePath, kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(path);
    Endpoint again;
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(Create(CreateBody("slack", "c1"), path), 200, &again));
    EXPECT_EQ(again.raw_body, first.raw_body);
  }
}

TEST_F(HttpCreateTest, ToolkitSlugIsLowerCased) {
  Endpoint first;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &first));
  Endpoint upper;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("SLACK", "c1")), 200, &upper));
  EXPECT_EQ(upper.raw_body, first.raw_body);

  // A mixed-case slug on a new client is stored, and put in the URL,
  // lower-cased.
  Endpoint mixed;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("Slack", "c2")), 201, &mixed));
  ExpectNewEndpoint(mixed, "slack", "c2", DefaultPublicBase());
}

TEST_F(HttpCreateTest, ClientIdIsComparedByteForByte) {
  Endpoint lower, upper, spaced;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "abc")), 201, &lower));
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "ABC")), 201, &upper));
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "abc ")), 201, &spaced));
  EXPECT_NE(lower.id, upper.id);
  EXPECT_NE(lower.id, spaced.id);
  EXPECT_EQ(upper.client_id, "ABC");
  EXPECT_EQ(spaced.client_id, "abc ");
}

TEST_F(HttpCreateTest, ToolkitIsPartOfTheIdempotencyKey) {
  Endpoint slack, notion;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "same")), 201, &slack));
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("notion", "same")), 201, &notion));
  EXPECT_NE(slack.id, notion.id);
}

TEST_F(HttpCreateTest, AnotherProjectGetsItsOwnEndpoint) {
  Endpoint mine, theirs;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &mine));
  const std::string other_key = RandomKey();
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      CreateWithKey(other_key, CreateBody("slack", "c1")), 201, &theirs));
  EXPECT_NE(mine.id, theirs.id);
  // Each project still sees its own.
  Endpoint again;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      CreateWithKey(other_key, CreateBody("slack", "c1")), 200, &again));
  EXPECT_EQ(again.raw_body, theirs.raw_body);
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 200, &again));
  EXPECT_EQ(again.raw_body, mine.raw_body);
}

TEST_F(HttpCreateTest, ConcurrentCreatesOfOneTripleMakeOneEndpoint) {
  constexpr size_t kThreads = 48;
  const std::string body = CreateBody("slack", "race");
  std::vector<Reply> replies(kThreads);
  std::mutex mutex;
  std::condition_variable start;
  bool go = false;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client client = NewClient();  // one connection per thread
      {
        std::unique_lock<std::mutex> lock(mutex);
        start.wait(lock, [&] { return go; });
      }
      auto result = client.Post(kCreatePath, {{"x-api-key", key_}}, body,
                                "application/json");
      if (result) replies[i] = ToReply(result);
    });
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    go = true;
  }
  start.notify_all();
  for (std::thread& thread : threads) thread.join();

  auto count = [&](int status) {
    return std::count_if(replies.begin(), replies.end(),
                         [&](const Reply& r) { return r.status == status; });
  };
  EXPECT_EQ(count(201), 1);
  EXPECT_EQ(count(200), static_cast<long>(kThreads) - 1);
  std::string id;
  for (const Reply& reply : replies) {
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(reply, reply.status == 201 ? 201 : 200, &endpoint));
    if (id.empty()) id = endpoint.id;
    EXPECT_EQ(endpoint.id, id);
  }
}

// ===========================================================================
// Create: persistence
// ===========================================================================

class HttpPersistenceTest : public HttpTest {};

TEST_F(HttpPersistenceTest, EndpointSurvivesARestart) {
  Endpoint first;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &first));
  server_->Stop();
  ASSERT_TRUE(StartServer());
  // Same id, created_at and URL (which keeps the old port: the URL never
  // changes for the life of the endpoint).
  Endpoint again;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 200, &again));
  EXPECT_EQ(again.raw_body, first.raw_body);
}

TEST_F(HttpPersistenceTest, ConfiguredKeyKeepsItsProjectAcrossRestarts) {
  ASSERT_TRUE(StartServer({"--api-key", "k-one"}));
  Endpoint first;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      CreateWithKey("k-one", CreateBody("slack", "c1")), 201, &first));
  ASSERT_TRUE(StartServer({"--api-key", "k-one"}));
  Endpoint again;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      CreateWithKey("k-one", CreateBody("slack", "c1")), 200, &again));
  EXPECT_EQ(again.raw_body, first.raw_body);
}

TEST_F(HttpPersistenceTest, DatabaseFileIsPrivate) {
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
// Create: JSON strings in and out
// ===========================================================================

class HttpJsonTest : public HttpTest {};

TEST_F(HttpJsonTest, ClientIdRoundTripsExactly) {
  struct Case {
    const char* json;      // the client_id as written inside the JSON quotes
    std::string expected;  // the bytes it stands for
  };
  // Raw UTF-8 is written with C++ escapes, JSON escapes inside R"(...)".
  const Case cases[] = {
      {R"(a\"b)", "a\"b"},
      {R"(a\\b)", "a\\b"},
      {"a/b", "a/b"},
      {R"(a\/c)", "a/c"},
      {R"(\"\\\/)", "\"\\/"},
      {"caf\u00e9", "caf\u00e9"},
      {R"(caf\u00e9)", "caf\u00e9"},
      {R"(caf\u00E9)", "caf\u00e9"},
      {"\u6f22\u5b57", "\u6f22\u5b57"},
      {R"(\u6f22\u5b57)", "\u6f22\u5b57"},
      {"\U0001F600", "\U0001F600"},
      {R"(\ud83d\ude00)", "\U0001F600"},
  };

  // The first spelling of a value creates it; any other spelling of the same
  // string is the same client_id.
  std::map<std::string, std::string> ids;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    const std::string body =
        std::string(R"({"toolkit_slug":"slack","client_id":")") + c.json +
        "\"}";
    const bool seen = ids.count(c.expected) > 0;
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(Create(body), seen ? 200 : 201, &endpoint));
    EXPECT_EQ(endpoint.client_id, c.expected);
    if (seen) {
      EXPECT_EQ(endpoint.id, ids[c.expected]);
    } else {
      ids[c.expected] = endpoint.id;
    }
  }
}

// ===========================================================================
// Create: validation
// ===========================================================================

struct BadCreate {
  std::string name;
  std::string body;
  std::string content_type;           // empty: no Content-Type header
  size_t error_count;                 // 0: at least one
  std::vector<std::string> mentions;  // each in some entry of errors
};

BadCreate Bad(std::string name, size_t error_count,
              std::vector<std::string> mentions, std::string body,
              std::string content_type = "application/json") {
  return BadCreate{std::move(name), std::move(body), std::move(content_type),
                   error_count, std::move(mentions)};
}

std::vector<BadCreate> BadCreates() {
  const std::string slug = "toolkit_slug";
  const std::string client = "client_id";
  return {
      // Not a JSON object at all.
      Bad("EmptyBody", 0, {}, ""),
      Bad("Null", 0, {}, "null"),
      Bad("Array", 0, {}, "[]"),
      Bad("String", 0, {}, R"("str")"),
      Bad("Number", 0, {}, "42"),
      Bad("OpenBrace", 0, {}, "{"),
      Bad("Truncated", 0, {}, R"({"toolkit_slug":"slack","client_id":"c)"),
      Bad("TrailingGarbage", 0, {},
          R"({"toolkit_slug":"slack","client_id":"c"} x)"),
      Bad("TwoObjects", 0, {},
          CreateBody("slack", "c") + CreateBody("slack", "c")),
      Bad("DeepNesting", 0, {}, Repeat("[", 10000) + Repeat("]", 10000)),
      Bad("InvalidUtf8", 0, {},
          "{\"toolkit_slug\":\"slack\",\"client_id\":\"c\xff\"}"),
      Bad("RawControlCharInString", 0, {},
          "{\"toolkit_slug\":\"slack\",\"client_id\":\"c\x01\"}"),
      Bad("LoneHighSurrogate", 0, {},
          R"({"toolkit_slug":"slack","client_id":"c\ud800"})"),
      Bad("LoneLowSurrogate", 0, {},
          R"({"toolkit_slug":"slack","client_id":"c\udc00"})"),
      // Missing, empty or not strings.
      Bad("MissingToolkitSlug", 1, {slug}, R"({"client_id":"c"})"),
      Bad("MissingClientId", 1, {client}, R"({"toolkit_slug":"slack"})"),
      Bad("BothMissing", 2, {slug, client}, "{}"),
      Bad("EmptyToolkitSlug", 1, {slug}, CreateBody("", "c")),
      Bad("EmptyClientId", 1, {client}, CreateBody("slack", "")),
      Bad("BothEmpty", 2, {slug, client}, CreateBody("", "")),
      Bad("ToolkitSlugNumber", 1, {slug},
          R"({"toolkit_slug":1,"client_id":"c"})"),
      Bad("ToolkitSlugNull", 1, {slug},
          R"({"toolkit_slug":null,"client_id":"c"})"),
      Bad("ToolkitSlugObject", 1, {slug},
          R"({"toolkit_slug":{},"client_id":"c"})"),
      Bad("ToolkitSlugArray", 1, {slug},
          R"({"toolkit_slug":["slack"],"client_id":"c"})"),
      Bad("ClientIdNumber", 1, {client},
          R"({"toolkit_slug":"slack","client_id":7})"),
      Bad("ClientIdNull", 1, {client},
          R"({"toolkit_slug":"slack","client_id":null})"),
      Bad("ClientIdObject", 1, {client},
          R"({"toolkit_slug":"slack","client_id":{"a":"c"}})"),
      Bad("ClientIdArray", 1, {client},
          R"({"toolkit_slug":"slack","client_id":["c"]})"),
      Bad("ClientIdBoolean", 1, {client},
          R"({"toolkit_slug":"slack","client_id":true})"),
      Bad("BothNotStrings", 2, {slug, client},
          R"({"toolkit_slug":1,"client_id":2})"),
      // toolkit_slug: at most 64 bytes of [a-z0-9_-] (after lower-casing).
      Bad("ToolkitSlugOf65Chars", 1, {slug}, CreateBody(Repeat("a", 65), "c")),
      Bad("ToolkitSlugWithSpace", 1, {slug}, CreateBody("sl ack", "c")),
      Bad("ToolkitSlugWithBang", 1, {slug}, CreateBody("slack!", "c")),
      Bad("ToolkitSlugNonAscii", 1, {slug}, CreateBody("sl\u00e5ck", "c")),
      // client_id: at most 256 bytes of UTF-8 without control characters.
      Bad("ClientIdOf257Bytes", 1, {client},
          CreateBody("slack", Repeat("a", 257))),
      Bad("ClientIdOf258BytesIn129Chars", 1, {client},
          CreateBody("slack", Repeat("\u00e9", 129))),
      Bad("ClientIdWithU0001", 1, {client},
          R"({"toolkit_slug":"slack","client_id":"c\u0001"})"),
      Bad("ClientIdWithNewline", 1, {client},
          R"({"toolkit_slug":"slack","client_id":"c\n"})"),
      Bad("ClientIdWithTab", 1, {client},
          R"({"toolkit_slug":"slack","client_id":"c\t"})"),
      Bad("ClientIdWithNul", 1, {client},
          R"({"toolkit_slug":"slack","client_id":"c\u0000"})"),
      Bad("ClientIdWithEscapedDel", 1, {client},
          R"({"toolkit_slug":"slack","client_id":"c\u007f"})"),
      Bad("ClientIdWithRawDel", 1, {client},
          "{\"toolkit_slug\":\"slack\",\"client_id\":\"c\x7f\"}"),
      Bad("ClientIdWithC1Control", 1, {client},
          R"({"toolkit_slug":"slack","client_id":"c\u0085"})"),
      // Fields other than the two.
      Bad("UnknownField", 1, {"extra"},
          R"({"toolkit_slug":"slack","client_id":"c","extra":"x"})"),
      Bad("DuplicateKey", 1, {slug},
          R"({"toolkit_slug":"slack","toolkit_slug":"slack","client_id":"c"})"),
      // The content type, listed with the body's own problems.
      Bad("TextPlain", 1, {"content-type"}, CreateBody("slack", "c"),
          "text/plain"),
      Bad("TextPlainAndMissingClientId", 2, {"content-type", client},
          R"({"toolkit_slug":"slack"})", "text/plain"),
      Bad("FormContentType", 1, {"content-type"}, CreateBody("slack", "c"),
          "application/x-www-form-urlencoded"),
      Bad("JsonLookalikeContentType", 1, {"content-type"},
          CreateBody("slack", "c"), "application/jsonp"),
      Bad("MissingContentType", 1, {"content-type"}, CreateBody("slack", "c"),
          ""),
  };
}

void PrintTo(const BadCreate& bad, std::ostream* out) { *out << bad.name; }

class HttpValidationTest : public HttpTest,
                           public ::testing::WithParamInterface<BadCreate> {};

TEST_P(HttpValidationTest, Is400ListingEveryProblemAndCreatesNothing) {
  const BadCreate& bad = GetParam();
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      Post(kCreatePath, {{"x-api-key", key_}}, bad.body, bad.content_type), 400,
      "WebhookEndpoint_ValidationError", &error));
  if (bad.error_count == 0) {
    EXPECT_FALSE(error.errors.empty());
  } else {
    EXPECT_EQ(error.errors.size(), bad.error_count) << Join(error.errors);
  }
  for (const std::string& mention : bad.mentions) {
    EXPECT_TRUE(std::any_of(error.errors.begin(), error.errors.end(),
                            [&](const std::string& problem) {
                              return Contains(Lower(problem), mention);
                            }))
        << mention << " not in: " << Join(error.errors);
  }
  // Nothing was created: the triple most bad bodies name is still new.
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c")), 201, &endpoint);
}

INSTANTIATE_TEST_SUITE_P(Http, HttpValidationTest,
                         ::testing::ValuesIn(BadCreates()),
                         [](const ::testing::TestParamInfo<BadCreate>& param) {
                           return param.param.name;
                         });

// ===========================================================================
// Authentication and projects
// ===========================================================================

class HttpAuthTest : public HttpTest {};

TEST_F(HttpAuthTest, MissingOrMalformedKeyIs401) {
  const std::string body = CreateBody("slack", "c1");
  const std::vector<std::pair<std::string, httplib::Headers>> cases = {
      {"no key", {}},
      {"empty key", {{"x-api-key", ""}}},
      {"empty user key", {{"x-user-api-key", ""}}},
      {"key with a space", {{"x-api-key", "test key"}}},
      {"key twice", {{"x-api-key", key_}, {"x-api-key", key_}}},
  };
  std::vector<int64_t> codes;
  for (const auto& [name, headers] : cases) {
    SCOPED_TRACE(name);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Post(kCreatePath, headers, body), 401, "HTTP_Unauthorized", &error));
    codes.push_back(error.code);
  }
  // The code is a stable number per slug.
  EXPECT_EQ(std::count(codes.begin(), codes.end(), codes.front()),
            static_cast<long>(codes.size()));
  // None of them created anything.
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpAuthTest, BothKeyHeadersAre401SayingExactlyOneIsAllowed) {
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      Post(kCreatePath, {{"x-api-key", key_}, {"x-user-api-key", key_}},
           CreateBody("slack", "c1")),
      401, "HTTP_Unauthorized", &error));
  EXPECT_TRUE(Contains(Lower(error.message), "multiple authentication modes"))
      << error.message;
  EXPECT_TRUE(Contains(Lower(error.message), "exactly one")) << error.message;
}

TEST_F(HttpAuthTest, UserKeyAloneIsAccepted) {
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Post(kCreatePath, {{"x-user-api-key", RandomKey()}},
                          CreateBody("slack", "c1")),
                     201, &endpoint));
  ExpectNewEndpoint(endpoint, "slack", "c1", DefaultPublicBase());
}

TEST_F(HttpAuthTest, RequestKeysNeverReachTheLog) {
  const std::string body = CreateBody("slack", "c1");
  const std::string other = RandomKey();
  const std::string spaced_part = RandomKey();
  const std::string spaced = "spaced " + spaced_part;
  // Over raw connections with Connection: close: the server closes only
  // after its request hook and logger have run, so the log is complete when
  // we see the close.
  const std::vector<std::string> requests = {
      RawCreate(key_, body, "Connection: close\r\n"),
      RawCreate(key_, body,
                "x-user-api-key: " + other + "\r\n" + "Connection: close\r\n"),
      RawRequest("POST", kCreatePath,
                 "x-api-key: " + spaced +
                     "\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\n",
                 body),
      RawRequest("POST", "/api/v3.1/nope",
                 "x-api-key: " + other +
                     "\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\n",
                 body),
  };
  for (const std::string& request : requests) {
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    ASSERT_TRUE(connection.Send(request));
    Reply reply;
    ASSERT_TRUE(connection.ReadResponse(&reply));
    EXPECT_NE(connection.WaitForClose(), RawConnection::Outcome::kTimeout);
  }
  server_->Stop();  // the log is complete once the server has exited
  const std::string log = server_->Stderr();
  EXPECT_FALSE(log.empty());
  for (const std::string& key : {key_, other, spaced_part}) {
    EXPECT_FALSE(Contains(log, key)) << key << " in the log:\n" << log;
  }
}

// Configured mode: exactly the given keys, each its own project.
class HttpConfiguredAuthTest : public HttpTest {
 protected:
  // k-one and k-two are accepted as two projects, k-three is refused, and
  // none of the keys reaches the log.
  void ExpectKeysOneAndTwoOnly() {
    const std::string body = CreateBody("slack", "c1");
    Endpoint one, two, again;
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(CreateWithKey("k-one", body), 201, &one));
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(CreateWithKey("k-two", body), 201, &two));
    EXPECT_NE(one.id, two.id);
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(CreateWithKey("k-one", body), 200, &again));
    EXPECT_EQ(again.raw_body, one.raw_body);
    ExpectErrorEnvelope(CreateWithKey("k-three", body), 401,
                        "HTTP_Unauthorized");
    ExpectErrorEnvelope(
        Post(kCreatePath, {{"x-user-api-key", "k-three"}}, body), 401,
        "HTTP_Unauthorized");
    ExpectErrorEnvelope(CreateWithKey(key_, body), 401, "HTTP_Unauthorized");
    ExpectNoKeysInLog();
  }

  // Stops the server, then reads its whole log.
  void ExpectNoKeysInLog() {
    server_->Stop();
    const std::string log = server_->Stderr();
    for (const std::string& key : {std::string("k-one"), std::string("k-two"),
                                   std::string("k-three"), key_}) {
      EXPECT_FALSE(Contains(log, key)) << key << " in the log:\n" << log;
    }
  }
};

TEST_F(HttpConfiguredAuthTest, KeysFromFlagsAreTheOnlyOnesAccepted) {
  ASSERT_TRUE(StartServer({"--api-key", "k-one", "--api-key", "k-two"}));
  ExpectKeysOneAndTwoOnly();
}

TEST_F(HttpConfiguredAuthTest, KeysFromTheEnvironmentAreTheOnlyOnesAccepted) {
  ASSERT_TRUE(StartServer({}, {"WEBHOOKS_API_KEYS=k-one,k-two"}));
  ExpectKeysOneAndTwoOnly();
}

TEST_F(HttpConfiguredAuthTest, FlagKeysReplaceEnvironmentKeys) {
  ASSERT_TRUE(
      StartServer({"--api-key", "k-three"}, {"WEBHOOKS_API_KEYS=k-one,k-two"}));
  Endpoint endpoint;
  ExpectEndpoint(CreateWithKey("k-three", CreateBody("slack", "c1")), 201,
                 &endpoint);
  for (const char* key : {"k-one", "k-two"}) {
    SCOPED_TRACE(key);
    ExpectErrorEnvelope(CreateWithKey(key, CreateBody("slack", "c1")), 401,
                        "HTTP_Unauthorized");
  }
}

// ===========================================================================
// Prefixes and routes
// ===========================================================================

class HttpRoutingTest : public HttpTest {};

TEST_F(HttpRoutingTest, UnknownPathIs404) {
  const httplib::Headers with_key = {{"x-api-key", key_}};
  ExpectErrorEnvelope(NewClient().Get("/nope"), 404, "HTTP_NotFound");
  ExpectErrorEnvelope(NewClient().Get("/api/v3.1/nope", with_key), 404,
                      "HTTP_NotFound");
  ExpectErrorEnvelope(NewClient().Get("/api/v2/webhook_endpoints", with_key),
                      404, "HTTP_NotFound");
  ExpectErrorEnvelope(
      Post("/api/v3.1/webhook_endpoint", with_key, CreateBody("slack", "c")),
      404, "HTTP_NotFound");
  ExpectErrorEnvelope(
      Post("/api/v3.1/webhook_endpointsx", with_key, CreateBody("slack", "c")),
      404, "HTTP_NotFound");
}

TEST_F(HttpRoutingTest, PutAndDeleteOnTheCollectionAre405WithAllow) {
  const httplib::Headers with_key = {{"x-api-key", key_}};
  for (const char* path : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(path);
    auto put = NewClient().Put(path, with_key, CreateBody("slack", "c"),
                               "application/json");
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(put, 405, "HTTP_MethodNotAllowed"));
    EXPECT_TRUE(Contains(put->get_header_value("Allow"), "POST"))
        << put->get_header_value("Allow");
    auto del = NewClient().Delete(path, with_key);
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(del, 405, "HTTP_MethodNotAllowed"));
    EXPECT_TRUE(Contains(del->get_header_value("Allow"), "POST"))
        << del->get_header_value("Allow");
  }
  // Neither created anything.
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c")), 201, &endpoint);
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
// Framing and hardening
// ===========================================================================

class HttpFramingTest : public HttpTest {};

TEST_F(HttpFramingTest, BodyOverTheLimitIs413AndTheConnectionCloses) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  // The server may answer and close before reading the body, so the send
  // may fail part-way; the answer is what counts.
  connection.Send(RawCreate(key_, std::string(65537, ' ')));
  Reply reply;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ExpectErrorEnvelope(reply, 413, "HTTP_PayloadTooLarge");
  // The body was never read: the connection cannot carry another request.
  EXPECT_EQ(Lower(reply.Header("Connection")), "close");
  const RawConnection::Outcome next = connection.WaitForClose();
  EXPECT_EQ(next, RawConnection::Outcome::kClosed) << OutcomeName(next);
}

TEST_F(HttpFramingTest, BodyAtTheLimitIsRead) {
  std::string body = CreateBody("slack", "c1");
  body.append(65536 - body.size(), ' ');  // JSON allows trailing spaces
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpFramingTest, MaxBodyFlagSetsTheLimit) {
  ASSERT_TRUE(StartServer({"--max-body", "2048"}));
  std::string body = CreateBody("slack", "c1");
  body.append(3000 - body.size(), ' ');
  ExpectErrorEnvelope(Create(body), 413, "HTTP_PayloadTooLarge");
  body.resize(2048);
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpFramingTest, ChunkedBodyIs411) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  const std::string body = CreateBody("slack", "c1");
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", body.size());
  ASSERT_TRUE(connection.Send(
      std::string("POST ") + kCreatePath +
      " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + key_ +
      "\r\nContent-Type: application/json\r\nTransfer-Encoding: "
      "chunked\r\n\r\n" +
      size + "\r\n" + body + "\r\n0\r\n\r\n"));
  Reply reply;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ExpectErrorEnvelope(reply, 411, "HTTP_LengthRequired");
  EXPECT_EQ(Lower(reply.Header("Connection")), "close");
  const RawConnection::Outcome next = connection.WaitForClose();
  EXPECT_TRUE(next == RawConnection::Outcome::kClosed ||
              next == RawConnection::Outcome::kReset)
      << OutcomeName(next);
  // The chunked body was not acted on.
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpFramingTest, PostWithoutContentLengthIs411) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  const std::string body = CreateBody("slack", "c1");
  ASSERT_TRUE(
      connection.Send(std::string("POST ") + kCreatePath +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + key_ +
                      "\r\nContent-Type: application/json\r\n\r\n" + body));
  Reply reply;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ExpectErrorEnvelope(reply, 411, "HTTP_LengthRequired");
  EXPECT_EQ(Lower(reply.Header("Connection")), "close");
  const RawConnection::Outcome next = connection.WaitForClose();
  EXPECT_TRUE(next == RawConnection::Outcome::kClosed ||
              next == RawConnection::Outcome::kReset)
      << OutcomeName(next);
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpFramingTest, InvalidOrRepeatedContentLengthIs400) {
  const std::string body = CreateBody("slack", "c");
  const std::string length = std::to_string(body.size());
  for (const std::string& lengths :
       {std::string("Content-Length: abc\r\n"),
        std::string("Content-Length: -1\r\n"),
        "Content-Length: " + length + ", " + length + "\r\n",
        "Content-Length: " + length + "\r\nContent-Length: " + length +
            "\r\n"}) {
    SCOPED_TRACE(lengths);
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    ASSERT_TRUE(connection.Send(
        std::string("POST ") + kCreatePath +
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + key_ +
        "\r\nContent-Type: application/json\r\n" + lengths + "\r\n" + body));
    Reply reply;
    ASSERT_TRUE(connection.ReadResponse(&reply));
    ExpectErrorEnvelope(reply, 400, "HTTP_BadRequest");
  }
  // None was acted on.
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpFramingTest, ContentEncodingIs415) {
  ExpectErrorEnvelope(
      Post(kCreatePath, {{"x-api-key", key_}, {"Content-Encoding", "gzip"}},
           CreateBody("slack", "c1")),
      415, "HTTP_UnsupportedMediaType");
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

// The refusal must come whole: the Range it refuses must not be applied to
// the error body itself.
TEST_F(HttpFramingTest, RangeHeaderIs416) {
  for (const char* range : {"bytes=0-1", "bytes=5-", "bytes=0-1,3-4"}) {
    SCOPED_TRACE(range);
    ExpectErrorEnvelope(
        Post(kCreatePath, {{"x-api-key", key_}, {"Range", range}},
             CreateBody("slack", "c1")),
        416, "HTTP_RangeNotSatisfiable");
  }
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpFramingTest, ClientSentAddressHeadersAre400) {
  for (const char* name : {"REMOTE_ADDR", "remote_addr", "REMOTE_PORT",
                           "LOCAL_ADDR", "LOCAL_PORT"}) {
    SCOPED_TRACE(name);
    ExpectErrorEnvelope(
        Post(kCreatePath, {{"x-api-key", key_}, {name, "6.6.6.6"}},
             CreateBody("slack", "c1")),
        400, "HTTP_BadRequest");
  }
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpFramingTest, TooManyHeadersIs431) {
  httplib::Headers headers = {{"x-api-key", key_}};
  for (int i = 0; i < 150; ++i) {
    headers.emplace("X-Filler-" + std::to_string(i), "x");
  }
  ExpectErrorEnvelope(Post(kCreatePath, headers, CreateBody("slack", "c1")),
                      431, "HTTP_RequestHeaderFieldsTooLarge");
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpFramingTest, HugeHeaderLineIsRefusedAndTheServerKeepsServing) {
  {
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    connection.Send(
        RawCreate(key_, CreateBody("slack", "c1"),
                  "X-Big: " + std::string(100 * 1024, 'a') + "\r\n"));
    Reply reply;
    if (connection.ReadResponse(&reply)) {
      // 400 (the library's answer to a header line it cannot read) or 431.
      EXPECT_TRUE(reply.status == 400 || reply.status == 431) << reply.status;
      ExpectErrorEnvelope(reply, reply.status,
                          reply.status == 400
                              ? "HTTP_BadRequest"
                              : "HTTP_RequestHeaderFieldsTooLarge");
      EXPECT_NE(connection.WaitForClose(), RawConnection::Outcome::kTimeout);
    }
  }
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpFramingTest, LongRequestLineIs414AndTheServerKeepsServing) {
  {
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    connection.Send("GET /api/v3.1/" + std::string(9000, 'a') +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + key_ +
                    "\r\n\r\n");
    Reply reply;
    ASSERT_TRUE(connection.ReadResponse(&reply));
    EXPECT_TRUE(reply.status == 414 || reply.status == 400) << reply.status;
    ExpectErrorEnvelope(
        reply, reply.status,
        reply.status == 414 ? "HTTP_URITooLong" : "HTTP_BadRequest");
  }
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpFramingTest, KeepAliveConnectionServesSequentialRequests) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  Endpoint first, second;
  Reply reply;
  ASSERT_TRUE(connection.Send(RawCreate(key_, CreateBody("slack", "c1"))));
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(reply, 201, &first));
  ASSERT_TRUE(connection.Send(RawCreate(key_, CreateBody("slack", "c1"))));
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(reply, 200, &second));
  EXPECT_EQ(second.raw_body, first.raw_body);
}

// A request refused before its body is read (here: no key) leaves the body
// on the connection. The next request on it must get its own answer, or the
// connection must close: never an answer to bytes of the old body. The old
// body carries a whole create request, to catch the server parsing it.
TEST_F(HttpFramingTest, EarlyRejectionNeverMisanswersTheNextRequest) {
  const std::string smuggled = RawCreate(key_, CreateBody("slack", "smuggled"),
                                         "x-request-id: smuggled\r\n");
  const std::string refused_body = std::string(20000, ' ') + smuggled;
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  connection.Send(RawRequest(
      "POST", kCreatePath, "Content-Type: application/json\r\n", refused_body));
  Reply reply;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ExpectErrorEnvelope(reply, 401, "HTTP_Unauthorized");

  const bool sent = connection.Send(RawCreate(key_, CreateBody("slack", "next"),
                                              "x-request-id: next-req\r\n"));
  if (sent && connection.ReadResponse(&reply)) {
    Endpoint endpoint;
    EXPECT_EQ(reply.Header("x-request-id"), "next-req");
    ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(reply, 201, &endpoint));
    EXPECT_EQ(endpoint.client_id, "next");
  }
  // The smuggled create never ran.
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "smuggled")), 201, &endpoint);
}

TEST_F(HttpFramingTest, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  const std::string body = CreateBody("slack", "piped");
  ASSERT_TRUE(
      connection.Send(RawCreate(key_, body, "x-request-id: pipe-1\r\n") +
                      RawCreate(key_, body, "x-request-id: pipe-2\r\n")));
  Reply reply;
  Endpoint first, second;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  EXPECT_EQ(reply.Header("x-request-id"), "pipe-1");
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(reply, 201, &first));
  ASSERT_TRUE(connection.ReadResponse(&reply));
  EXPECT_EQ(reply.Header("x-request-id"), "pipe-2");
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(reply, 200, &second));
  EXPECT_EQ(second.raw_body, first.raw_body);
}

// ===========================================================================
// Configuration
// ===========================================================================

class HttpConfigTest : public HttpTest {};

TEST_F(HttpConfigTest, FirstLineIsTheListeningAddress) {
  EXPECT_GT(port(), 0);
  EXPECT_EQ(server_->first_line(),
            "listening on http://127.0.0.1:" + std::to_string(port()));
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpConfigTest, HelpExits0AndNamesEveryFlag) {
  const Finished help = RunToExit({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--host", "--port", "--db", "--public-url",
                           "--api-key", "--threads", "--max-body"}) {
    EXPECT_TRUE(Contains(help.out, flag)) << flag << " not in:\n" << help.out;
  }
}

TEST_F(HttpConfigTest, PublicUrlWithTrailingSlashMakesNoDoubleSlash) {
  ASSERT_TRUE(StartServer({"--public-url", "https://hooks.example.com/"}));
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint));
  ExpectNewEndpoint(endpoint, "slack", "c1", "https://hooks.example.com");
  EXPECT_EQ(endpoint.webhook_url.rfind(
                "https://hooks.example.com/api/v3.1/webhook_ingress/", 0),
            0u)
      << endpoint.webhook_url;
}

TEST_F(HttpConfigTest, PublicUrlMayHaveAPath) {
  ASSERT_TRUE(StartServer({"--public-url", "https://example.com/hooks/"}));
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint));
  ExpectNewEndpoint(endpoint, "slack", "c1", "https://example.com/hooks");
}

TEST_F(HttpConfigTest, PublicUrlFromTheEnvironment) {
  ASSERT_TRUE(StartServer({}, {"WEBHOOKS_PUBLIC_URL=https://env.example.com"}));
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint));
  ExpectNewEndpoint(endpoint, "slack", "c1", "https://env.example.com");
}

TEST_F(HttpConfigTest, PublicUrlFlagWinsOverTheEnvironment) {
  ASSERT_TRUE(StartServer({"--public-url", "https://flag.example.com"},
                          {"WEBHOOKS_PUBLIC_URL=https://env.example.com"}));
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint));
  ExpectNewEndpoint(endpoint, "slack", "c1", "https://flag.example.com");
}

TEST_F(HttpConfigTest, SecondServerOnABusyPortFailsAndTheFirstKeepsServing) {
  ServerProcess second;
  EXPECT_FALSE(second.Start(
      {"--port", std::to_string(port()), "--db", dir_.File("second.db")}));
  second.Wait();
  EXPECT_GT(second.ExitCode(), 0);
  EXPECT_TRUE(Contains(Lower(second.Stderr()), "in use")) << second.Stderr();
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

struct BadConfig {
  std::string name;
  std::string mentions;           // in the one line on standard error
  std::vector<std::string> args;  // after --db <tempdir>/test.db
  std::vector<std::string> env;
};

void PrintTo(const BadConfig& bad, std::ostream* out) { *out << bad.name; }

class HttpBadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(HttpBadConfigTest, Exits2WithOneLineNamingTheProblem) {
  const BadConfig& bad = GetParam();
  TempDir dir;
  std::vector<std::string> args = {"--db", dir.File("test.db")};
  args.insert(args.end(), bad.args.begin(), bad.args.end());
  ServerProcess server;
  EXPECT_FALSE(server.Start(args, bad.env));
  server.Wait();
  EXPECT_EQ(server.ExitCode(), 2);
  const std::string log = server.Stderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_TRUE(Contains(log, bad.mentions)) << log;
}

BadConfig BadFlags(std::string name, std::string mentions,
                   std::vector<std::string> args) {
  return BadConfig{std::move(name), std::move(mentions), std::move(args), {}};
}

INSTANTIATE_TEST_SUITE_P(
    Http, HttpBadConfigTest,
    ::testing::Values(
        BadFlags("PortNotANumber", "--port", {"--port", "abc"}),
        BadFlags("PortOutOfRange", "--port", {"--port", "70000"}),
        BadFlags("PortWithoutValue", "--port", {"--port"}),
        BadFlags("ZeroThreads", "--threads", {"--port", "0", "--threads", "0"}),
        BadFlags("TinyMaxBody", "--max-body",
                 {"--port", "0", "--max-body", "5"}),
        BadFlags("FtpPublicUrl", "--public-url",
                 {"--port", "0", "--public-url", "ftp://x"}),
        BadFlags("UnknownFlag", "--nope", {"--port", "0", "--nope", "1"}),
        // Reachable from other machines, where anyone could use it.
        BadFlags("PublicHostWithoutKeys", "--api-key",
                 {"--port", "0", "--host", "0.0.0.0"}),
        BadConfig{"PortFromTheEnvironment",
                  "WEBHOOKS_PORT",
                  {},
                  {"WEBHOOKS_PORT=abc"}},
        // A count (3) or an age (30m, 24h, 7d); nothing else.
        BadFlags("EventRetentionUnknownUnit", "--event-retention",
                 {"--port", "0", "--event-retention", "5x"}),
        BadFlags("EventRetentionZero", "--event-retention",
                 {"--port", "0", "--event-retention", "0"}),
        BadFlags("EventRetentionNegative", "--event-retention",
                 {"--port", "0", "--event-retention", "-3"}),
        BadFlags("EventRetentionFractionalAge", "--event-retention",
                 {"--port", "0", "--event-retention", "1.5h"}),
        // Both bounds at most once each: "24h,5000" or "5000,24h".
        BadFlags("EventRetentionTwoAges", "--event-retention",
                 {"--port", "0", "--event-retention", "1h,2h"}),
        BadFlags("EventRetentionTwoCounts", "--event-retention",
                 {"--port", "0", "--event-retention", "3,4"}),
        BadFlags("EventRetentionEmptyPart", "--event-retention",
                 {"--port", "0", "--event-retention", "1h,"}),
        BadFlags("EventRetentionAgeTooLong", "--event-retention",
                 {"--port", "0", "--event-retention", "3651d"}),
        BadConfig{"EventRetentionFromTheEnvironment",
                  "WEBHOOKS_EVENT_RETENTION",
                  {"--port", "0"},
                  {"WEBHOOKS_EVENT_RETENTION=5x"}}),
    [](const ::testing::TestParamInfo<BadConfig>& param) {
      return param.param.name;
    });

// ===========================================================================
// Toolkit catalog and schema
// ===========================================================================

struct FieldSchema {
  std::string display_name;
  std::string description;
  bool is_required = false;
  bool is_secret = false;
};

class HttpSchemaTest : public HttpManageTest {
 protected:
  // Asserts a schema answer for `toolkit`: exactly {"toolkit_slug",
  // "setup_fields"}, each field exactly its four typed members. Fills
  // *fields, keyed by field name.
  static void ExpectSchema(const httplib::Result& result,
                           const std::string& toolkit,
                           std::map<std::string, FieldSchema>* fields) {
    ASSERT_TRUE(result) << "no response: "
                        << httplib::to_string(result.error());
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    ASSERT_NO_FATAL_FAILURE(
        ExpectJsonObject(ToReply(result), 200, &parser, &object));
    EXPECT_EQ(SortedKeys(object),
              (std::vector<std::string>{"setup_fields", "toolkit_slug"}))
        << result->body;
    std::string_view text;
    ASSERT_EQ(object["toolkit_slug"].get_string().get(text), simdjson::SUCCESS);
    EXPECT_EQ(text, toolkit);
    simdjson::dom::object setup;
    ASSERT_EQ(object["setup_fields"].get_object().get(setup), simdjson::SUCCESS)
        << result->body;
    fields->clear();
    for (auto member : setup) {
      simdjson::dom::object spec;
      ASSERT_EQ(member.value.get_object().get(spec), simdjson::SUCCESS);
      EXPECT_EQ(SortedKeys(spec),
                (std::vector<std::string>{"description", "display_name",
                                          "is_required", "is_secret"}))
          << result->body;
      FieldSchema field;
      ASSERT_EQ(spec["display_name"].get_string().get(text), simdjson::SUCCESS);
      field.display_name = text;
      ASSERT_EQ(spec["description"].get_string().get(text), simdjson::SUCCESS);
      field.description = text;
      ASSERT_EQ(spec["is_required"].get_bool().get(field.is_required),
                simdjson::SUCCESS);
      ASSERT_EQ(spec["is_secret"].get_bool().get(field.is_secret),
                simdjson::SUCCESS);
      fields->emplace(std::string(member.key), field);
    }
  }

  // Slack's and slackbot's two required secrets.
  static void ExpectSlackFields(
      const std::map<std::string, FieldSchema>& fields) {
    std::vector<std::string> names;
    for (const auto& [name, field] : fields) names.push_back(name);
    ASSERT_EQ(names, (std::vector<std::string>{kAppToken, kSigning}));
    EXPECT_EQ(fields.at(kSigning).display_name, "Signing Secret");
    EXPECT_EQ(fields.at(kAppToken).display_name, "App-Level Token");
    for (const auto& [name, field] : fields) {
      SCOPED_TRACE(name);
      EXPECT_FALSE(field.description.empty());
      EXPECT_TRUE(field.is_required);
      EXPECT_TRUE(field.is_secret);
    }
  }
};

TEST_F(HttpSchemaTest, SlackSchemaUnderBothPrefixes) {
  for (const char* path : {kSchemaPathV3, kSchemaPath}) {
    SCOPED_TRACE(path);
    for (const char* toolkit : {"slack", "slackbot"}) {
      SCOPED_TRACE(toolkit);
      std::map<std::string, FieldSchema> fields;
      ASSERT_NO_FATAL_FAILURE(
          ExpectSchema(Schema(std::string("toolkit_slug=") + toolkit, path),
                       toolkit, &fields));
      ExpectSlackFields(fields);
    }
  }
}

TEST_F(HttpSchemaTest, NotionHasAnEmptySetupFieldsObject) {
  std::map<std::string, FieldSchema> fields;
  ASSERT_NO_FATAL_FAILURE(
      ExpectSchema(Schema("toolkit_slug=notion"), "notion", &fields));
  EXPECT_TRUE(fields.empty());
}

TEST_F(HttpSchemaTest, ToolkitSlugIsLowerCased) {
  auto lower = Schema("toolkit_slug=slack");
  auto upper = Schema("toolkit_slug=SLACK");
  std::map<std::string, FieldSchema> fields;
  ASSERT_NO_FATAL_FAILURE(ExpectSchema(upper, "slack", &fields));
  ExpectSlackFields(fields);
  ASSERT_TRUE(lower);
  EXPECT_EQ(upper->body, lower->body);
}

TEST_F(HttpSchemaTest, MissingToolkitSlugIs400) {
  for (const char* query : {"", "toolkit_slug=", "toolkit=slack"}) {
    SCOPED_TRACE(query);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(Schema(query), 400, kValidation, &error));
    EXPECT_TRUE(SomeErrorSays(error.errors, {"toolkit_slug"}))
        << Join(error.errors);
  }
}

TEST_F(HttpSchemaTest, UnknownToolkitIs404NamingTheCatalog) {
  for (const char* query : {"toolkit_slug=nosuch", "toolkit_slug=%00%ff%22",
                            "toolkit_slug=slack%20"}) {
    SCOPED_TRACE(query);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(Schema(query), 404, "Toolkit_NotFound", &error));
    for (const char* word : {"catalog", "slack", "slackbot", "notion"}) {
      EXPECT_TRUE(Contains(Lower(error.suggested_fix), word))
          << word << " not in: " << error.suggested_fix;
    }
  }
}

TEST_F(HttpSchemaTest, NeedsAKey) {
  ExpectErrorEnvelope(
      NewClient().Get(std::string(kSchemaPath) + "?toolkit_slug=slack"), 401,
      "HTTP_Unauthorized");
  ExpectErrorEnvelope(
      NewClient().Get(std::string(kSchemaPath) + "?toolkit_slug=slack",
                      {{"x-api-key", key_}, {"x-user-api-key", key_}}),
      401, "HTTP_Unauthorized");
}

// ===========================================================================
// Retrieve
// ===========================================================================

class HttpRetrieveTest : public HttpManageTest {};

TEST_F(HttpRetrieveTest, AnswersTheEndpointAsCreateDidUnderBothPrefixes) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    Endpoint read;
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(RetrieveAs(key_, created.id, collection), 200, &read));
    EXPECT_EQ(read.raw_body, created.raw_body);
    EXPECT_TRUE(read.verified_at_is_null);
    EXPECT_TRUE(read.data_is_null);
  }
  // The user-key header reaches the same project when it is the same key.
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      NewClient().Get(ItemPath(created.id), {{"x-user-api-key", key_}}), 200,
      &read));
  EXPECT_EQ(read.raw_body, created.raw_body);
}

TEST_F(HttpRetrieveTest, NeedsAKey) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ExpectErrorEnvelope(NewClient().Get(ItemPath(created.id)), 401,
                      "HTTP_Unauthorized");
}

// Ids that cannot exist (wrong shape, odd bytes) and a well-formed one that
// does not: 404 WebhookEndpoint_NotFound with a valid JSON body on every
// route, never a 500.
TEST_F(HttpRetrieveTest, UnknownAndMalformedIdsAre404OnEveryRoute) {
  Endpoint mine;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &mine));
  const std::string ids[] = {
      RandomEndpointId(),
      "nope",
      "we_short",
      "we_" + std::string(297, 'a'),
      "we_%00%ff%fe%01abcdefgh",
      "we_%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9",
      "we_%22%5c%0d%0aabcdef",
      mine.id + "x",
      mine.id.substr(0, 14),
      "WE_" + mine.id.substr(3),
      "we_aaaaaaaaaaa!",
      "we_aaaaaaaa%20aaa",
      "schema2",
  };
  const std::string body = DataBody(
      {{kSigning, "abcdefghijklmnop"}, {kAppToken, "xapp-0123456789"}});
  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    ExpectErrorEnvelope(Retrieve(id), 404, kNotFound);
    ExpectErrorEnvelope(Patch(id, body), 404, kNotFound);
    ExpectErrorEnvelope(Replace(id, body), 404, kNotFound);
    ExpectErrorEnvelope(Delete(id), 404, kNotFound);
  }
  // Mine was not touched by any of them.
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(mine.id, &read));
  EXPECT_EQ(read.raw_body, mine.raw_body);
}

// ===========================================================================
// Project isolation
// ===========================================================================

class HttpIsolationTest : public HttpManageTest {};

// Every route answers another project's id exactly as it answers a missing
// id of the same format: the same status, headers and body, once the id in
// the message is swapped (the request id is the same: we send it).
TEST_F(HttpIsolationTest, AnotherProjectsIdAnswersExactlyLikeAMissingOne) {
  const std::string owner = RandomKey();
  Endpoint theirs, before;
  ASSERT_NO_FATAL_FAILURE(MustCreateAs(owner, "slack", "c1", &theirs));
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(PatchAs(owner, theirs.id,
                             DataBody({{kSigning, "ownersigning-0123"},
                                       {kAppToken, "ownertoken-0123"}})),
                     200, &before));
  std::string missing = RandomEndpointId();
  while (missing == theirs.id) missing = RandomEndpointId();
  // My own endpoint with the same toolkit and client id.
  Endpoint mine;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &mine));
  EXPECT_NE(mine.id, theirs.id);

  const httplib::Headers headers = {{"x-api-key", key_},
                                    {"x-request-id", "isolation-check"}};
  const std::string good = DataBody(
      {{kSigning, "intruder-secret-1"}, {kAppToken, "intruder-token-1"}});
  const std::string bad = R"({"data":{"nope":1},"id":"x"})";
  using Send = std::function<httplib::Result(const std::string& path)>;
  const std::vector<std::pair<std::string, Send>> sends = {
      {"GET",
       [&](const std::string& p) { return NewClient().Get(p, headers); }},
      {"PATCH",
       [&](const std::string& p) {
         return NewClient().Patch(p, headers, good, "application/json");
       }},
      {"PATCH bad body",
       [&](const std::string& p) {
         return NewClient().Patch(p, headers, bad, "application/json");
       }},
      {"PATCH empty",
       [&](const std::string& p) {
         return NewClient().Patch(p, headers, R"({"data":{}})",
                                  "application/json");
       }},
      {"POST",
       [&](const std::string& p) {
         return NewClient().Post(p, headers, good, "application/json");
       }},
      {"POST bad body",
       [&](const std::string& p) {
         return NewClient().Post(p, headers, bad, "text/plain");
       }},
      {"DELETE",
       [&](const std::string& p) { return NewClient().Delete(p, headers); }},
  };
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    for (const auto& [name, send] : sends) {
      SCOPED_TRACE(std::string(collection) + " " + name);
      auto other = send(ItemPath(theirs.id, collection));
      auto absent = send(ItemPath(missing, collection));
      ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(other, 404, kNotFound));
      ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(absent, 404, kNotFound));
      EXPECT_EQ(ReplaceAll(other->body, theirs.id, missing), absent->body);
      httplib::Headers other_headers = other->headers;
      httplib::Headers absent_headers = absent->headers;
      other_headers.erase("Date");
      absent_headers.erase("Date");
      EXPECT_EQ(other_headers, absent_headers);
    }
  }

  // The owner's endpoint is unchanged and still there; mine too.
  Endpoint after;
  ASSERT_NO_FATAL_FAILURE(MustReadAs(owner, theirs.id, &after));
  EXPECT_EQ(after.raw_body, before.raw_body);
  ASSERT_NO_FATAL_FAILURE(MustRead(mine.id, &after));
  EXPECT_EQ(after.raw_body, mine.raw_body);
  std::vector<ListItem> items;
  ASSERT_NO_FATAL_FAILURE(MustListAs(owner, "", &items));
  EXPECT_EQ(Ids(items), std::vector<std::string>{theirs.id});
  ASSERT_NO_FATAL_FAILURE(MustList("", &items));
  EXPECT_EQ(Ids(items), std::vector<std::string>{mine.id});
}

TEST_F(HttpIsolationTest, ListsNeverShowAnotherProjectsRows) {
  const std::string other = RandomKey();
  std::vector<Endpoint> mine(3), theirs(3);
  for (int i = 0; i < 3; ++i) {
    const std::string client = "c" + std::to_string(i);
    ASSERT_NO_FATAL_FAILURE(MustCreate(i == 1 ? "notion" : "slack", client,
                                       &mine[static_cast<size_t>(i)]));
    ASSERT_NO_FATAL_FAILURE(MustCreateAs(other, i == 1 ? "notion" : "slack",
                                         client,
                                         &theirs[static_cast<size_t>(i)]));
  }
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    std::vector<ListItem> items;
    ASSERT_NO_FATAL_FAILURE(MustListAs(key_, "", &items, collection));
    EXPECT_EQ(Ids(items), InListOrder(mine));
    ASSERT_NO_FATAL_FAILURE(MustListAs(other, "", &items, collection));
    EXPECT_EQ(Ids(items), InListOrder(theirs));
    ASSERT_NO_FATAL_FAILURE(
        MustListAs(key_, "toolkit_slug=slack", &items, collection));
    EXPECT_EQ(Ids(items), InListOrder({mine[0], mine[2]}));
  }
  // Paging one at a time reaches only my rows, and a cursor from the other
  // project's list does not open it to me.
  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    ListPage got;
    ASSERT_NO_FATAL_FAILURE(ExpectListPage(
        List("limit=1" +
             (cursor.empty() ? "" : "&cursor=" + QueryValue(cursor))),
        &got));
    for (const ListItem& item : got.items) paged.push_back(item.id);
    if (got.next_is_null) break;
    cursor = got.next_cursor;
  }
  EXPECT_EQ(paged, InListOrder(mine));
  ListPage theirs_first;
  ASSERT_NO_FATAL_FAILURE(
      ExpectListPage(ListAs(other, "limit=1"), &theirs_first));
  ASSERT_FALSE(theirs_first.next_is_null);
  ListPage crossed;
  ASSERT_NO_FATAL_FAILURE(ExpectListPage(
      List("cursor=" + QueryValue(theirs_first.next_cursor)), &crossed));
  for (const ListItem& item : crossed.items) {
    EXPECT_TRUE(std::any_of(mine.begin(), mine.end(), [&](const Endpoint& e) {
      return e.id == item.id;
    })) << item.id;
  }
}

// ===========================================================================
// PATCH: merge
// ===========================================================================

class HttpPatchTest : public HttpManageTest {};

TEST_F(HttpPatchTest, MergesOneFieldAtATime) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "abcd..."}}));

  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kAppToken, "xapp-1-A0123456789"}}), &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "abcd..."}, {kAppToken, "xapp..."}}));

  // Rotating the signing secret: a new mask, the token kept.
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      PatchAs(key_, created.id, DataBody({{kSigning, "wxyz0123456789"}}),
              kCreatePathV3),
      200, &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "wxyz..."}, {kAppToken, "xapp..."}}));

  // Retrieve shows what the last PATCH answered.
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.raw_body, got.raw_body);
}

TEST_F(HttpPatchTest, SetsBothFieldsAtOnce) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slackbot", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(PatchAs(key_, created.id,
                             DataBody({{kAppToken, "tok1-0123456789"},
                                       {kSigning, "sig1-0123456789"}}),
                             kCreatePathV3),
                     200, &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "sig1..."}, {kAppToken, "tok1..."}}));
  // And both again, rotated together.
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "sig2-0123456789"}, {kAppToken, "tok2-0123456789"}}),
      &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "sig2..."}, {kAppToken, "tok2..."}}));
}

TEST_F(HttpPatchTest, EmptyPatchChangesNothing) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  // With nothing stored: data stays null.
  ASSERT_NO_FATAL_FAILURE(MustPatch(created.id, R"({"data":{}})", &got));
  EXPECT_EQ(got.raw_body, created.raw_body);
  // With a secret stored: kept as it was.
  Endpoint set;
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &set));
  ASSERT_NO_FATAL_FAILURE(MustPatch(created.id, R"({"data":{}})", &got));
  EXPECT_EQ(got.raw_body, set.raw_body);
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.raw_body, set.raw_body);
}

// 12 characters or more: the first 4 and "..."; fewer: REDACTED.
// Characters, not bytes.
TEST_F(HttpPatchTest, MaskCountsCharactersNotBytes) {
  const std::string e_acute = "\u00e9";
  const std::string kanji = "\u6f22";
  const std::string smile = "\U0001F600";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"abcdefghijk", "REDACTED"},
      {"abcdefghijkl", "abcd..."},
      {"a", "REDACTED"},
      {Repeat(e_acute, 11), "REDACTED"},  // 22 bytes, 11 characters
      {Repeat(e_acute, 11) + "1", Repeat(e_acute, 4) + "..."},
      {"ab" + Repeat(e_acute, 10), "ab" + Repeat(e_acute, 2) + "..."},
      {Repeat(kanji, 11), "REDACTED"},  // 33 bytes
      {Repeat(kanji, 12), Repeat(kanji, 4) + "..."},
      {Repeat(smile, 11), "REDACTED"},  // 44 bytes
      {Repeat(smile, 12), Repeat(smile, 4) + "..."},
      {"abc" + smile + "defghijk", "abc" + smile + "..."},
  };
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  for (const auto& [value, mask] : cases) {
    SCOPED_TRACE(value);
    Endpoint got, read;
    ASSERT_NO_FATAL_FAILURE(
        MustPatch(created.id, DataBody({{kSigning, value}}), &got));
    EXPECT_EQ(got.data, (Data{{kSigning, mask}}));
    ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
    EXPECT_EQ(read.raw_body, got.raw_body);
  }
}

TEST_F(HttpPatchTest, ValuesUpTo4096BytesAreAccepted) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id,
                DataBody({{kSigning, "sgnx" + std::string(4092, 'a')},
                          {kAppToken, Repeat("\u00e9", 2048)}}),
                &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "sgnx..."},
                            {kAppToken, Repeat("\u00e9", 4) + "..."}}));
}

TEST_F(HttpPatchTest, NotionAcceptsOnlyEmptyData) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(created.id, R"({"data":{}})", &got));
  EXPECT_EQ(got.raw_body, created.raw_body);
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      Patch(created.id, DataBody({{"verification_token", "abc"}})), 400,
      kValidation, &error));
  EXPECT_EQ(error.errors.size(), 1u) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"verification_token"}))
      << Join(error.errors);
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &got));
  EXPECT_EQ(got.raw_body, created.raw_body);
}

// No secret value, stored or refused, comes back in any response (the
// create repeat, retrieve, PATCH, replace, list, errors) or reaches the log.
TEST_F(HttpPatchTest, SecretsNeverAppearInResponsesOrTheLog) {
  const std::string signing1 = "sig1-" + RandomKey();
  const std::string token1 = "tok1-" + RandomKey();
  const std::string signing2 = "sig2-" + RandomKey();
  const std::string token2 = "tok2-" + RandomKey();
  const std::string refused = "refu-" + RandomKey();
  const std::string short_token = "s" + RandomKey().substr(5, 9);  // 10 chars
  const std::vector<std::string> secrets = {signing1, token1,  signing2,
                                            token2,   refused, short_token};
  std::vector<Reply> replies;
  auto keep = [&](const httplib::Result& result) {
    if (result) {
      replies.push_back(ToReply(result));
    } else {
      ADD_FAILURE() << "no response: " << httplib::to_string(result.error());
    }
  };
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &endpoint));
  const std::string& id = endpoint.id;
  keep(Patch(id, DataBody({{kSigning, signing1}})));
  keep(Patch(id, DataBody({{kAppToken, token1}})));
  keep(Retrieve(id));
  keep(RetrieveAs(key_, id, kCreatePathV3));
  keep(Create(CreateBody("slack", "c1")));
  keep(List());
  keep(List("toolkit_slug=slack&limit=1"));
  keep(Replace(id, DataBody({{kSigning, signing2}, {kAppToken, token2}})));
  keep(Patch(id, DataBody({{kAppToken, short_token}})));
  // Refused requests carrying a secret.
  keep(Patch(id, DataBody({{kSigning, refused}, {"nope", refused}})));
  keep(Replace(id, DataBody({{kAppToken, refused}})));
  keep(PatchAs(key_, id, DataBody({{kSigning, refused}}), kCreatePath,
               "text/plain"));
  keep(Patch(id, "{\"data\":{\"app_token\":\"" + refused + "\\u0001\"}}"));
  keep(PatchAs(RandomKey(), id, DataBody({{kSigning, refused}})));
  keep(Patch(RandomEndpointId(), DataBody({{kSigning, refused}})));
  keep(Retrieve(id));

  // The calls did what they should: the last read shows the masks.
  ASSERT_FALSE(replies.empty());
  Endpoint last;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(replies.back(), 200, &last));
  EXPECT_EQ(last.data, (Data{{kSigning, "sig2..."}, {kAppToken, "REDACTED"}}));
  for (const Reply& reply : replies) {
    for (const std::string& secret : secrets) {
      EXPECT_FALSE(Contains(reply.body, secret))
          << secret << " in: " << reply.body;
      for (const auto& [name, value] : reply.headers) {
        EXPECT_FALSE(Contains(value, secret)) << name << ": " << value;
      }
    }
  }
  server_->Stop();  // the log is complete once the server has exited
  const std::string log = server_->Stderr();
  EXPECT_FALSE(log.empty());
  for (const std::string& secret : secrets) {
    EXPECT_FALSE(Contains(log, secret)) << secret << " in the log:\n" << log;
  }
}

// ===========================================================================
// Replace (POST webhook_endpoints/{id})
// ===========================================================================

class HttpReplaceTest : public HttpManageTest {};

TEST_F(HttpReplaceTest, NeedsEveryRequiredFieldAndKeepsTheRowOnFailure) {
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "sig1-0123456789"}, {kAppToken, "tok1-0123456789"}}),
      &before));
  struct Case {
    std::string body;
    std::vector<std::string> missing;
  };
  const Case cases[] = {
      {DataBody({{kAppToken, "tok2-0123456789"}}), {kSigning}},
      {DataBody({{kSigning, "sig2-0123456789"}}), {kAppToken}},
      {R"({"data":{}})", {kSigning, kAppToken}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(Replace(created.id, c.body),
                                                400, kValidation, &error));
    EXPECT_EQ(error.errors.size(), c.missing.size()) << Join(error.errors);
    for (const std::string& field : c.missing) {
      EXPECT_TRUE(SomeErrorSays(error.errors, {field, "required"}))
          << field << " not in: " << Join(error.errors);
    }
    Endpoint after;
    ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
    EXPECT_EQ(after.raw_body, before.raw_body);
  }
}

TEST_F(HttpReplaceTest, ReplacesEveryValueUnderBothPrefixes) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  // From nothing stored.
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id,
      DataBody({{kSigning, "sig1-0123456789"}, {kAppToken, "tok1-0123456789"}}),
      &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "sig1..."}, {kAppToken, "tok1..."}}));
  // Both changed.
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(ReplaceAs(key_, created.id,
                               DataBody({{kAppToken, "tok2-0123456789"},
                                         {kSigning, "sig2-0123456789"}}),
                               kCreatePathV3),
                     200, &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "sig2..."}, {kAppToken, "tok2..."}}));
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.raw_body, got.raw_body);
}

TEST_F(HttpReplaceTest, NotionReplacedWithNothingHasNullData) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustReplace(created.id, R"({"data":{}})", &got));
  EXPECT_TRUE(got.data_is_null);
  EXPECT_EQ(got.raw_body, created.raw_body);
}

// "Every problem in errors": a replace body is checked whole, so an unknown
// field does not hide the missing required ones, and an unknown field does
// not hide a refused mask.
TEST_F(HttpReplaceTest, ProblemsOfDifferentKindsAreListedTogether) {
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "sig1-0123456789"}}), &before));
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(Replace(created.id, DataBody({{"nope", "x"}})), 400,
                          kValidation, &error));
  EXPECT_EQ(error.errors.size(), 3u) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"nope"})) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {kSigning, "required"}))
      << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {kAppToken, "required"}))
      << Join(error.errors);

  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      Patch(created.id, DataBody({{"nope", "x"}, {kSigning, "zzzz..."}})), 400,
      kValidation, &error));
  EXPECT_EQ(error.errors.size(), 2u) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"nope"})) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"data." + std::string(kSigning)}))
      << Join(error.errors);
  Endpoint after;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
  EXPECT_EQ(after.raw_body, before.raw_body);
}

// ===========================================================================
// Masked values sent back
// ===========================================================================

class HttpMaskedValueTest : public HttpManageTest {};

// Our choice (README): a secret sent back as exactly the mask of its stored
// value keeps the stored value. Proof that the secret, not the text
// "abcd...", is kept: the mask of "abcd..." would be REDACTED, and sending
// "abcd..." again is accepted only while it is the stored value's mask.
TEST_F(HttpMaskedValueTest, ExactMaskKeepsTheStoredSecret) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "abcdefghijklmnop"}, {kAppToken, "xapp-1-0123456"}}),
      &got));
  const Data stored = {{kSigning, "abcd..."}, {kAppToken, "xapp..."}};
  EXPECT_EQ(got.data, stored);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    ASSERT_NO_FATAL_FAILURE(
        MustPatch(created.id, DataBody({{kSigning, "abcd..."}}), &got));
    EXPECT_EQ(got.data, stored);
  }
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.data, stored);

  // A PATCH of the other field leaves it alone.
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kAppToken, "xoxb-9876543210"}}), &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "abcd..."}, {kAppToken, "xoxb..."}}));
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kSigning, "abcd..."}}), &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "abcd..."}, {kAppToken, "xoxb..."}}));

  // A real new secret changes the mask, and the old mask is then foreign.
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kSigning, "qrstuvwxyz0123"}}), &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "qrst..."}, {kAppToken, "xoxb..."}}));
  ExpectErrorEnvelope(Patch(created.id, DataBody({{kSigning, "abcd..."}})), 400,
                      kValidation);
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.raw_body, got.raw_body);
}

TEST_F(HttpMaskedValueTest, MaskOfAMultiByteSecretIsRecognised) {
  const std::string e_acute = "\u00e9";
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kSigning, Repeat(e_acute, 12)}}), &got));
  const Data stored = {{kSigning, Repeat(e_acute, 4) + "..."}};
  EXPECT_EQ(got.data, stored);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    ASSERT_NO_FATAL_FAILURE(MustPatch(
        created.id, DataBody({{kSigning, Repeat(e_acute, 4) + "..."}}), &got));
    EXPECT_EQ(got.data, stored);
  }
}

TEST_F(HttpMaskedValueTest, ReplaceWithBothMasksKeepsBothSecrets) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "abcdefghijklmnop"}, {kAppToken, "xapp-1-0123456"}}),
      &got));
  const Data stored = {{kSigning, "abcd..."}, {kAppToken, "xapp..."}};
  // Twice: the second is accepted only if the first kept the secrets.
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    ASSERT_NO_FATAL_FAILURE(MustReplace(
        created.id, DataBody({{kSigning, "abcd..."}, {kAppToken, "xapp..."}}),
        &got));
    EXPECT_EQ(got.data, stored);
  }
  // One mask and one new secret: the masked one kept, the other changed.
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id,
      DataBody({{kSigning, "abcd..."}, {kAppToken, "newtoken-0123456"}}),
      &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "abcd..."}, {kAppToken, "newt..."}}));
  // Two new secrets: both masks change.
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id,
      DataBody({{kSigning, "sig9-0123456789"}, {kAppToken, "tok9-0123456789"}}),
      &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "sig9..."}, {kAppToken, "tok9..."}}));
}

// A short secret shows REDACTED; sending REDACTED back keeps it.
TEST_F(HttpMaskedValueTest, RedactedSentBackForAShortSecretKeepsIt) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "abcdefghijklmnop"}, {kAppToken, "short1"}}), &got));
  const Data stored = {{kSigning, "abcd..."}, {kAppToken, "REDACTED"}};
  EXPECT_EQ(got.data, stored);
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kAppToken, "REDACTED"}}), &got));
  EXPECT_EQ(got.data, stored);
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id, DataBody({{kSigning, "abcd..."}, {kAppToken, "REDACTED"}}),
      &got));
  EXPECT_EQ(got.data, stored);
}

// A mask-shaped value that is not the stored value's mask is refused, and
// nothing changes.
TEST_F(HttpMaskedValueTest, ForeignMaskIs400AndChangesNothing) {
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &before));
  struct Case {
    bool replace;
    std::string body;
    std::vector<std::string> fields;  // each named in its own error
  };
  const Case cases[] = {
      {false, DataBody({{kSigning, "zzzz..."}}), {kSigning}},
      {false, DataBody({{kSigning, "ABCD..."}}), {kSigning}},
      {false, DataBody({{kSigning, "REDACTED"}}), {kSigning}},
      {false, DataBody({{kSigning, "\u00e9bcd..."}}), {kSigning}},
      {false, DataBody({{kAppToken, "REDACTED"}}), {kAppToken}},  // none
      {false, DataBody({{kAppToken, "xapp..."}}), {kAppToken}},   // stored
      {false,
       DataBody({{kSigning, "abcd..."}, {kAppToken, "REDACTED"}}),
       {kAppToken}},
      {false,
       DataBody({{kSigning, "new-secret-0123"}, {kAppToken, "REDACTED"}}),
       {kAppToken}},
      {true,
       DataBody({{kSigning, "zzzz..."}, {kAppToken, "REDACTED"}}),
       {kSigning, kAppToken}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        c.replace ? Replace(created.id, c.body) : Patch(created.id, c.body),
        400, kValidation, &error));
    EXPECT_EQ(error.errors.size(), c.fields.size()) << Join(error.errors);
    for (const std::string& field : c.fields) {
      EXPECT_TRUE(SomeErrorSays(error.errors, {"data." + field}))
          << field << " not in: " << Join(error.errors);
    }
    Endpoint after;
    ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
    EXPECT_EQ(after.raw_body, before.raw_body);
  }
}

// ===========================================================================
// PATCH and replace: validation
// ===========================================================================

struct BadSetup {
  std::string name;
  std::string body;
  std::string content_type;           // empty: no Content-Type header
  size_t error_count;                 // for PATCH; 0: at least one
  std::vector<std::string> mentions;  // each in some entry of errors
};

BadSetup BadData(std::string name, size_t error_count,
                 std::vector<std::string> mentions, std::string body,
                 std::string content_type = "application/json") {
  return BadSetup{std::move(name), std::move(body), std::move(content_type),
                  error_count, std::move(mentions)};
}

std::vector<BadSetup> BadSetups() {
  const std::string good = DataBody({{kAppToken, "tok2-0123456789"}});
  const std::string fixed = "cannot be changed";
  return {
      // Unknown field names: the error names the allowed ones.
      BadData("UnknownSetupField", 1, {"signing_secret", kSigning, kAppToken},
              DataBody({{"signing_secret", "abcdefghijklmnop"}})),
      BadData("UnknownTopLevelField", 1, {"extra"},
              R"({"data":{},"extra":"x"})"),
      // Values that are not strings.
      BadData("NumberValue", 1, {kAppToken}, R"({"data":{"app_token":12}})"),
      BadData("NullValue", 1, {kAppToken}, R"({"data":{"app_token":null}})"),
      BadData("ObjectValue", 1, {kAppToken},
              R"({"data":{"app_token":{"v":"x"}}})"),
      BadData("ArrayValue", 1, {kAppToken}, R"({"data":{"app_token":["x"]}})"),
      BadData("BoolValue", 1, {kAppToken}, R"({"data":{"app_token":true}})"),
      // data missing or not an object.
      BadData("DataMissing", 1, {"data"}, "{}"),
      BadData("DataArray", 1, {"data"}, R"({"data":[]})"),
      BadData("DataString", 1, {"data"}, R"({"data":"x"})"),
      BadData("DataNull", 1, {"data"}, R"({"data":null})"),
      BadData("DataNumber", 1, {"data"}, R"({"data":1})"),
      // Endpoint fields that cannot be set.
      BadData("SetsId", 1, {"id", fixed},
              R"({"data":{},"id":"we_aaaaaaaaaaaa"})"),
      BadData("SetsWebhookUrl", 1, {"webhook_url", fixed},
              R"({"data":{},"webhook_url":"https://evil.example.com/"})"),
      BadData("SetsToolkitSlug", 1, {"toolkit_slug", fixed},
              R"({"data":{},"toolkit_slug":"notion"})"),
      BadData("SetsClientId", 1, {"client_id", fixed},
              R"({"data":{},"client_id":"other"})"),
      BadData("SetsCreatedAt", 1, {"created_at", fixed},
              R"({"data":{},"created_at":"2020-01-01T00:00:00.000Z"})"),
      BadData("SetsVerifiedAt", 1, {"verified_at", fixed},
              R"({"data":{},"verified_at":"2020-01-01T00:00:00.000Z"})"),
      BadData("SetsIdWithoutData", 2, {"id", "data"}, R"({"id":"we_x"})"),
      // Several problems at once, all listed.
      BadData("SeveralProblems", 5,
              {"id", "client_id", "nope", kAppToken, kSigning},
              R"({"id":"we_x","client_id":"c","data":{"nope":"x",)"
              R"("app_token":5,"webhook_signing_secret":null}})"),
      BadData("SeveralProblemsAndTextPlain", 3,
              {"content-type", "webhook_url", kAppToken},
              R"({"webhook_url":"x","data":{"app_token":[]}})", "text/plain"),
      // Duplicate keys.
      BadData("DuplicateSetupField", 1, {kAppToken},
              R"({"data":{"app_token":"aaaaaaaaaaaaaaaa",)"
              R"("app_token":"bbbbbbbbbbbbbbbb"}})"),
      BadData("DuplicateData", 1, {"data"},
              R"({"data":{},"data":{"app_token":"tok2-0123456789"}})"),
      // Not a JSON object.
      BadData("MalformedJson", 0, {}, R"({"data":{"app_token":"x")"),
      BadData("EmptyBody", 0, {}, ""),
      BadData("ArrayBody", 0, {}, "[]"),
      BadData("TrailingGarbage", 0, {}, good + " x"),
      BadData("InvalidUtf8", 0, {},
              "{\"data\":{\"app_token\":\"tok2-0123456789\xff\"}}"),
      BadData("RawControlCharacter", 0, {},
              "{\"data\":{\"app_token\":\"tok2-0123456789\x01\"}}"),
      // The content type.
      BadData("TextPlain", 1, {"content-type"}, good, "text/plain"),
      BadData("MissingContentType", 1, {"content-type"}, good, ""),
      // Values: at most 4096 bytes, UTF-8 without control characters.
      BadData("ValueOf4097Bytes", 1, {kAppToken, "4096"},
              DataBody({{kAppToken, std::string(4097, 'a')}})),
      BadData("ValueOf2049TwoByteCharacters", 1, {kAppToken, "4096"},
              DataBody({{kAppToken, Repeat("\u00e9", 2049)}})),
      BadData("EscapedControlCharacter", 1, {kAppToken},
              R"({"data":{"app_token":"tok2-0123456789\u0001"}})"),
      BadData("Newline", 1, {kAppToken},
              R"({"data":{"app_token":"tok2-0123456789\n"}})"),
      BadData("Nul", 1, {kAppToken},
              R"({"data":{"app_token":"tok2-0123456789\u0000"}})"),
      BadData("Del", 1, {kAppToken},
              R"({"data":{"app_token":"tok2-0123456789\u007f"}})"),
      BadData("C1Control", 1, {kAppToken},
              R"({"data":{"app_token":"tok2-0123456789\u0085"}})"),
      BadData("LoneSurrogate", 0, {},
              R"({"data":{"app_token":"tok2-0123456789\ud800"}})"),
      // Issue 11, item 11 (2026-04): an empty required value was stored and
      // read back as REDACTED, so the endpoint looked configured.
      BadData("EmptyRequiredSecret", 1, {kSigning, "must not be empty"},
              DataBody({{kSigning, ""}})),
      BadData("EmptyBesideAGoodValue", 1, {kAppToken, "must not be empty"},
              DataBody({{kSigning, "sig2-0123456789"}, {kAppToken, ""}})),
  };
}

void PrintTo(const BadSetup& bad, std::ostream* out) { *out << bad.name; }

class HttpSetupValidationTest
    : public HttpManageTest,
      public ::testing::WithParamInterface<std::tuple<BadSetup, bool>> {};

// The row holds a signing secret before and must hold exactly it after.
TEST_P(HttpSetupValidationTest, Is400ListingEveryProblemAndChangesNothing) {
  const auto& [bad, replace] = GetParam();
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "sig1-0123456789"}}), &before));
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      replace
          ? ReplaceAs(key_, created.id, bad.body, kCreatePath, bad.content_type)
          : PatchAs(key_, created.id, bad.body, kCreatePath, bad.content_type),
      400, kValidation, &error));
  if (bad.error_count == 0) {
    EXPECT_FALSE(error.errors.empty());
  } else if (replace) {
    // A replace may add the required fields it lacks.
    EXPECT_GE(error.errors.size(), bad.error_count) << Join(error.errors);
  } else {
    EXPECT_EQ(error.errors.size(), bad.error_count) << Join(error.errors);
  }
  for (const std::string& mention : bad.mentions) {
    EXPECT_TRUE(SomeErrorSays(error.errors, {mention}))
        << mention << " not in: " << Join(error.errors);
  }
  Endpoint after;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
  EXPECT_EQ(after.raw_body, before.raw_body);
}

INSTANTIATE_TEST_SUITE_P(
    Http, HttpSetupValidationTest,
    ::testing::Combine(::testing::ValuesIn(BadSetups()), ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<BadSetup, bool>>& param) {
      return std::get<0>(param.param).name +
             (std::get<1>(param.param) ? "Replace" : "Patch");
    });

// ===========================================================================
// List
// ===========================================================================

class HttpListTest : public HttpManageTest {};

TEST_F(HttpListTest, NewProjectHasAnEmptyList) {
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    ListPage page;
    ASSERT_NO_FATAL_FAILURE(
        ExpectListPage(ListAs(key_, "", collection), &page));
    EXPECT_TRUE(page.items.empty());
    EXPECT_TRUE(page.next_is_null);
  }
}

// Items carry only id, toolkit_slug and client_id (no data, even with
// secrets stored), ordered by created_at then id.
TEST_F(HttpListTest, ItemsCarryOnlyThreeFieldsInCreationOrder) {
  const std::vector<std::pair<std::string, std::string>> made = {
      {"slack", "c-one"},  {"notion", "c-two"},  {"slackbot", "c-three"},
      {"slack", "c-four"}, {"notion", "c-five"}, {"slack", "\u00e9\"x"},
  };
  std::vector<Endpoint> created;
  for (const auto& [toolkit, client] : made) {
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(MustCreate(toolkit, client, &endpoint));
    created.push_back(endpoint);
  }
  // Creation order is created_at order (the clock does not go back here).
  for (size_t i = 1; i < created.size(); ++i) {
    EXPECT_LE(created[i - 1].created_at, created[i].created_at);
  }
  Endpoint patched;
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created[0].id, DataBody({{kSigning, "abcdefghijklmnop"}}), &patched));
  const std::vector<std::string> expected = InListOrder(created);
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    std::vector<ListItem> items;
    ASSERT_NO_FATAL_FAILURE(MustListAs(key_, "", &items, collection));
    ASSERT_EQ(Ids(items), expected);
    for (const ListItem& item : items) {
      auto it =
          std::find_if(created.begin(), created.end(),
                       [&](const Endpoint& e) { return e.id == item.id; });
      ASSERT_NE(it, created.end());
      EXPECT_EQ(item.toolkit_slug, it->toolkit_slug);
      EXPECT_EQ(item.client_id, it->client_id);
    }
  }
}

TEST_F(HttpListTest, FiltersByToolkit) {
  std::vector<Endpoint> slack, notion;
  for (int i = 0; i < 3; ++i) {
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(
        MustCreate("slack", "s" + std::to_string(i), &endpoint));
    slack.push_back(endpoint);
    ASSERT_NO_FATAL_FAILURE(
        MustCreate("notion", "n" + std::to_string(i), &endpoint));
    notion.push_back(endpoint);
  }
  std::vector<ListItem> items;
  for (const char* query : {"toolkit_slug=slack", "toolkit_slug=SLACK",
                            "toolkit_slug=Slack&limit=1000"}) {
    SCOPED_TRACE(query);
    ASSERT_NO_FATAL_FAILURE(MustList(query, &items));
    EXPECT_EQ(Ids(items), InListOrder(slack));
  }
  ASSERT_NO_FATAL_FAILURE(MustList("toolkit_slug=notion", &items));
  EXPECT_EQ(Ids(items), InListOrder(notion));
  for (const char* query : {"toolkit_slug=slackbot", "toolkit_slug=nosuch"}) {
    SCOPED_TRACE(query);
    ASSERT_NO_FATAL_FAILURE(MustList(query, &items));
    EXPECT_TRUE(items.empty());
  }
}

TEST_F(HttpListTest, SmallPagesFollowTheCursor) {
  std::vector<Endpoint> created;
  for (int i = 0; i < 3; ++i) {
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(
        MustCreate("slack", "c" + std::to_string(i), &endpoint));
    created.push_back(endpoint);
  }
  const std::vector<std::string> expected = InListOrder(created);
  struct Case {
    int limit;
    std::vector<size_t> sizes;
  };
  for (const Case& c :
       {Case{1, {1, 1, 1}}, Case{2, {2, 1}}, Case{3, {3}}, Case{1000, {3}}}) {
    SCOPED_TRACE(c.limit);
    std::vector<std::string> ids;
    std::vector<size_t> sizes;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
      ListPage got;
      ASSERT_NO_FATAL_FAILURE(ExpectListPage(
          List("limit=" + std::to_string(c.limit) +
               (cursor.empty() ? "" : "&cursor=" + QueryValue(cursor))),
          &got));
      sizes.push_back(got.items.size());
      for (const ListItem& item : got.items) ids.push_back(item.id);
      if (got.next_is_null) break;
      cursor = got.next_cursor;
    }
    EXPECT_EQ(sizes, c.sizes);
    EXPECT_EQ(ids, expected);
  }
}

// 2,500 endpoints, created over four keep-alive connections at once: the
// whole list, and pages of 1,000 (all of them and slack's only), give every
// id exactly once, in order.
TEST_F(HttpListTest, PagesThroughThousandsOfEndpoints) {
  constexpr size_t kEndpoints = 2500;
  constexpr size_t kThreads = 4;
  std::vector<std::vector<Endpoint>> made(kThreads);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client = NewClient();
      client.set_keep_alive(true);
      // The client writes headers and body separately: without this, Nagle
      // and delayed ACKs cost ~40 ms a request.
      client.set_tcp_nodelay(true);
      for (size_t i = t; i < kEndpoints; i += kThreads) {
        auto result = client.Post(kCreatePath, {{"x-api-key", key_}},
                                  CreateBody(i % 2 == 0 ? "slack" : "notion",
                                             "bulk-" + std::to_string(i)),
                                  "application/json");
        if (!result) {
          ADD_FAILURE() << "no response: "
                        << httplib::to_string(result.error());
          return;
        }
        Endpoint endpoint;
        ExpectEndpoint(result, 201, &endpoint);
        if (endpoint.id.empty()) return;
        made[t].push_back(endpoint);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<Endpoint> all, slack;
  for (const std::vector<Endpoint>& part : made) {
    all.insert(all.end(), part.begin(), part.end());
    for (const Endpoint& endpoint : part) {
      if (endpoint.toolkit_slug == "slack") slack.push_back(endpoint);
    }
  }
  ASSERT_EQ(all.size(), kEndpoints);
  const std::vector<std::string> expected = InListOrder(all);

  // Unpaged, both are sent as read, in pages of 256 (issue 12).
  std::vector<ListItem> items;
  ASSERT_NO_FATAL_FAILURE(MustList("", &items));
  EXPECT_EQ(Ids(items), expected);
  ASSERT_NO_FATAL_FAILURE(MustList("toolkit_slug=slack", &items));
  EXPECT_EQ(Ids(items), InListOrder(slack));

  auto page_through = [&](const std::string& filter,
                          std::vector<std::string>* ids,
                          std::vector<size_t>* sizes) {
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
      ListPage got;
      ASSERT_NO_FATAL_FAILURE(ExpectListPage(
          List(filter + "limit=1000" +
               (cursor.empty() ? "" : "&cursor=" + QueryValue(cursor))),
          &got));
      sizes->push_back(got.items.size());
      for (const ListItem& item : got.items) ids->push_back(item.id);
      if (got.next_is_null) return;
      cursor = got.next_cursor;
    }
    ADD_FAILURE() << "more than 10 pages";
  };
  std::vector<std::string> ids;
  std::vector<size_t> sizes;
  ASSERT_NO_FATAL_FAILURE(page_through("", &ids, &sizes));
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1000, 500}));
  EXPECT_EQ(ids, expected);

  ids.clear();
  sizes.clear();
  ASSERT_NO_FATAL_FAILURE(page_through("toolkit_slug=slack&", &ids, &sizes));
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 250}));
  EXPECT_EQ(ids, InListOrder(slack));
}

TEST_F(HttpListTest, BadLimitOrCursorIs400) {
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &endpoint));
  struct Case {
    std::string query;
    std::vector<std::string> mentions;  // one error each
  };
  const Case cases[] = {
      {"limit=0", {"limit"}},
      {"limit=1001", {"limit"}},
      {"limit=abc", {"limit"}},
      {"limit=-1", {"limit"}},
      {"limit=", {"limit"}},
      {"limit=2.5", {"limit"}},
      {"limit=10x", {"limit"}},
      {"limit=99999999999999999999999", {"limit"}},
      {"cursor=garbage", {"cursor"}},
      {"cursor=", {"cursor"}},
      {"cursor=%00%ff.we_", {"cursor"}},
      {"limit=0&cursor=garbage", {"limit", "cursor"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(List(c.query), 400, kValidation, &error));
    EXPECT_EQ(error.errors.size(), c.mentions.size()) << Join(error.errors);
    for (const std::string& mention : c.mentions) {
      EXPECT_TRUE(SomeErrorSays(error.errors, {mention}))
          << mention << " not in: " << Join(error.errors);
    }
  }
}

TEST_F(HttpListTest, NeedsAKey) {
  ExpectErrorEnvelope(NewClient().Get(kCreatePath), 401, "HTTP_Unauthorized");
  ExpectErrorEnvelope(NewClient().Get(kCreatePathV3, {{"x-api-key", ""}}), 401,
                      "HTTP_Unauthorized");
}

// ===========================================================================
// Delete
// ===========================================================================

class HttpDeleteTest : public HttpManageTest {};

TEST_F(HttpDeleteTest, AnswersSuccessAndTheIdIsGoneEverywhere) {
  Endpoint gone, kept, ignored;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &gone));
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c2", &kept));
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(gone.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &ignored));
  ASSERT_NO_FATAL_FAILURE(ExpectDeleted(Delete(gone.id)));
  const std::string body =
      DataBody({{kSigning, "sig2-0123456789"}, {kAppToken, "tok2-0123456789"}});
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    ExpectErrorEnvelope(RetrieveAs(key_, gone.id, collection), 404, kNotFound);
    ExpectErrorEnvelope(PatchAs(key_, gone.id, body, collection), 404,
                        kNotFound);
    ExpectErrorEnvelope(ReplaceAs(key_, gone.id, body, collection), 404,
                        kNotFound);
    ExpectErrorEnvelope(DeleteAs(key_, gone.id, collection), 404, kNotFound);
  }
  std::vector<ListItem> items;
  ASSERT_NO_FATAL_FAILURE(MustList("", &items));
  EXPECT_EQ(Ids(items), std::vector<std::string>{kept.id});
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(kept.id, &read));
  EXPECT_EQ(read.raw_body, kept.raw_body);
}

TEST_F(HttpDeleteTest, CreatingTheSameTripleAgainGivesANewEndpoint) {
  Endpoint first, ignored;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &first));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      first.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &ignored));
  ASSERT_NO_FATAL_FAILURE(
      ExpectDeleted(DeleteAs(key_, first.id, kCreatePathV3)));
  Endpoint second;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &second));
  ExpectNewEndpoint(second, "slack", "c1", DefaultPublicBase());
  EXPECT_NE(second.id, first.id);
  EXPECT_NE(second.webhook_url, first.webhook_url);
  ExpectErrorEnvelope(Retrieve(first.id), 404, kNotFound);
  std::vector<ListItem> items;
  ASSERT_NO_FATAL_FAILURE(MustList("", &items));
  EXPECT_EQ(Ids(items), std::vector<std::string>{second.id});
}

TEST_F(HttpDeleteTest, NeedsAKey) {
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &endpoint));
  ExpectErrorEnvelope(NewClient().Delete(ItemPath(endpoint.id)), 401,
                      "HTTP_Unauthorized");
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(endpoint.id, &read));
  EXPECT_EQ(read.raw_body, endpoint.raw_body);
}

// ===========================================================================
// Wrong methods on the management paths
// ===========================================================================

class HttpMethodTest : public HttpManageTest {};

TEST_F(HttpMethodTest, WrongMethodOnAKnownPathIs405WithTheExactAllowList) {
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &endpoint));
  const std::vector<std::string> item_methods = {"DELETE", "GET", "PATCH",
                                                 "POST"};
  const std::vector<std::string> collection_methods = {"GET", "POST"};
  const httplib::Headers with_key = KeyHeaders(key_);
  const std::string body = DataBody({{kSigning, "abcdefghijklmnop"}});
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    for (const std::string& id : {endpoint.id, RandomEndpointId()}) {
      SCOPED_TRACE(ItemPath(id, collection));
      auto put = NewClient().Put(ItemPath(id, collection), with_key, body,
                                 "application/json");
      ASSERT_NO_FATAL_FAILURE(
          ExpectErrorEnvelope(put, 405, "HTTP_MethodNotAllowed"));
      EXPECT_EQ(AllowList(put->get_header_value("Allow")), item_methods)
          << put->get_header_value("Allow");
    }
    SCOPED_TRACE(collection);
    std::vector<std::pair<std::string, httplib::Result>> wrong;
    wrong.emplace_back(
        "PUT", NewClient().Put(collection, with_key, body, "application/json"));
    wrong.emplace_back("PATCH", NewClient().Patch(collection, with_key, body,
                                                  "application/json"));
    wrong.emplace_back("DELETE", NewClient().Delete(collection, with_key));
    for (const auto& [method, result] : wrong) {
      SCOPED_TRACE(method);
      ASSERT_NO_FATAL_FAILURE(
          ExpectErrorEnvelope(result, 405, "HTTP_MethodNotAllowed"));
      EXPECT_EQ(AllowList(result->get_header_value("Allow")),
                collection_methods)
          << result->get_header_value("Allow");
    }
  }
  // None of them changed or removed anything.
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(endpoint.id, &read));
  EXPECT_EQ(read.raw_body, endpoint.raw_body);
}

// ===========================================================================
// Toolkit catalog file (--toolkits, WEBHOOKS_TOOLKITS)
// ===========================================================================

// Adds github: a required secret and an optional clear field.
std::string GithubToolkits() {
  return std::string(R"json({"toolkits":{"github":{"setup_fields":{
    "webhook_secret":{"display_name":"Webhook Secret","is_required":true,
                      "is_secret":true},
    "label":{"display_name":"Label","is_secret":false}},
  "verification":)json") +
         kGithubVerification + "}}}";
}

// github alone, the built-in toolkits dropped.
std::string GithubOnlyToolkits() {
  return std::string(R"json({"replace":true,"toolkits":{"github":{
  "setup_fields":{"webhook_secret":{"display_name":"Webhook Secret",
                                    "is_required":true,"is_secret":true}},
  "verification":)json") +
         kGithubVerification + "}}}";
}

class HttpToolkitsTest : public HttpSchemaTest {
 protected:
  // github from GithubToolkits() is served, and the built-in toolkits still
  // are.
  void ExpectGithubAndTheBuiltIns() {
    Endpoint github;
    ASSERT_NO_FATAL_FAILURE(MustCreate("github", "c1", &github));
    ExpectNewEndpoint(github, "github", "c1", DefaultPublicBase());
    std::map<std::string, FieldSchema> fields;
    ASSERT_NO_FATAL_FAILURE(
        ExpectSchema(Schema("toolkit_slug=github"), "github", &fields));
    ASSERT_EQ(fields.size(), 2u);
    ASSERT_EQ(fields.count("webhook_secret"), 1u);
    ASSERT_EQ(fields.count("label"), 1u);
    EXPECT_EQ(fields["webhook_secret"].display_name, "Webhook Secret");
    EXPECT_TRUE(fields["webhook_secret"].is_required);
    EXPECT_TRUE(fields["webhook_secret"].is_secret);
    EXPECT_EQ(fields["label"].display_name, "Label");
    EXPECT_FALSE(fields["label"].is_required);
    EXPECT_FALSE(fields["label"].is_secret);
    for (const char* toolkit : {"slack", "slackbot", "notion"}) {
      SCOPED_TRACE(toolkit);
      Endpoint endpoint;
      ASSERT_NO_FATAL_FAILURE(MustCreate(toolkit, "c1", &endpoint));
      ASSERT_NO_FATAL_FAILURE(ExpectSchema(
          Schema(std::string("toolkit_slug=") + toolkit), toolkit, &fields));
    }
    ASSERT_NO_FATAL_FAILURE(
        ExpectSchema(Schema("toolkit_slug=slack"), "slack", &fields));
    ExpectSlackFields(fields);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Create(CreateBody("nosuch", "c1")), 404, "Toolkit_NotFound", &error));
    for (const char* slug : {"github", "slack", "notion"}) {
      EXPECT_TRUE(Contains(error.suggested_fix, slug))
          << slug << " not in: " << error.suggested_fix;
    }
  }
};

TEST_F(HttpToolkitsTest, FileAddsAToolkit) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubToolkits())}));
  ExpectGithubAndTheBuiltIns();
}

TEST_F(HttpToolkitsTest, FileFromTheEnvironment) {
  ASSERT_TRUE(
      StartServer({}, {"WEBHOOKS_TOOLKITS=" + ToolkitsFile(GithubToolkits())}));
  ExpectGithubAndTheBuiltIns();
}

TEST_F(HttpToolkitsTest, FlagWinsOverTheEnvironment) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubToolkits())},
                          {"WEBHOOKS_TOOLKITS=" + dir_.File("missing.json")}));
  ExpectGithubAndTheBuiltIns();
}

// Non-secret fields come back verbatim, mask-shaped or short; replace
// clears the unlisted optional field and needs the required one.
TEST_F(HttpToolkitsTest, NonSecretFieldsComeBackVerbatim) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubToolkits())}));
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("github", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{"webhook_secret", "ghsecret-012345"}, {"label", "abcd..."}}),
      &got));
  EXPECT_EQ(got.data,
            (Data{{"webhook_secret", "ghse..."}, {"label", "abcd..."}}));
  for (const std::string& label :
       {std::string("short"), std::string("a label of some length, \u00e9"),
        std::string("REDACTED")}) {
    SCOPED_TRACE(label);
    ASSERT_NO_FATAL_FAILURE(
        MustPatch(created.id, DataBody({{"label", label}}), &got));
    EXPECT_EQ(got.data,
              (Data{{"webhook_secret", "ghse..."}, {"label", label}}));
  }
  const Endpoint before = got;

  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(Replace(created.id, DataBody({{"label", "x"}})), 400,
                          kValidation, &error));
  EXPECT_EQ(error.errors.size(), 1u) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"webhook_secret", "required"}))
      << Join(error.errors);
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &got));
  EXPECT_EQ(got.raw_body, before.raw_body);

  // The mask keeps the secret; the label, not listed, is cleared.
  ASSERT_NO_FATAL_FAILURE(
      MustReplace(created.id, DataBody({{"webhook_secret", "ghse..."}}), &got));
  EXPECT_EQ(got.data, (Data{{"webhook_secret", "ghse..."}}));
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id, DataBody({{"webhook_secret", "another-secret-0"}}), &got));
  EXPECT_EQ(got.data, (Data{{"webhook_secret", "anot..."}}));
}

// Issue 11, item 11 (2026-04): an empty optional value is refused too (our
// choice: "" never means "clear"); a replace that leaves it out clears it.
TEST_F(HttpToolkitsTest, EmptyOptionalValueIsRefusedAndReplaceClearsIt) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubToolkits())}));
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("github", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{"webhook_secret", "ghsecret-012345"}, {"label", "mine"}}),
      &before));
  const std::string empty_label =
      DataBody({{"webhook_secret", "ghsecret-012345"}, {"label", ""}});
  for (bool replace : {false, true}) {
    SCOPED_TRACE(replace ? "replace" : "patch");
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(replace ? Replace(created.id, empty_label)
                                    : Patch(created.id, empty_label),
                            400, kValidation, &error));
    EXPECT_EQ(error.errors.size(), 1u) << Join(error.errors);
    EXPECT_TRUE(SomeErrorSays(
        error.errors, {"data.label", "must not be empty", "without it"}))
        << Join(error.errors);
    Endpoint after;
    ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
    EXPECT_EQ(after.raw_body, before.raw_body);
  }
  Endpoint cleared;
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id, DataBody({{"webhook_secret", "ghsecret-012345"}}), &cleared));
  EXPECT_EQ(cleared.data, (Data{{"webhook_secret", "ghse..."}}));
}

TEST_F(HttpToolkitsTest, ReplaceTrueDropsTheBuiltInToolkits) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubOnlyToolkits())}));
  Endpoint github;
  ASSERT_NO_FATAL_FAILURE(MustCreate("github", "c1", &github));
  std::map<std::string, FieldSchema> fields;
  ASSERT_NO_FATAL_FAILURE(
      ExpectSchema(Schema("toolkit_slug=github"), "github", &fields));
  for (const char* toolkit : {"slack", "slackbot", "notion"}) {
    SCOPED_TRACE(toolkit);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Create(CreateBody(toolkit, "c1")), 404, "Toolkit_NotFound", &error));
    EXPECT_TRUE(Contains(error.suggested_fix, "github")) << error.suggested_fix;
    EXPECT_FALSE(Contains(error.suggested_fix, "slack")) << error.suggested_fix;
    ExpectErrorEnvelope(Schema(std::string("toolkit_slug=") + toolkit), 404,
                        "Toolkit_NotFound");
  }
}

// An endpoint whose toolkit a later catalog drops is still served, and its
// stored values stay masked.
TEST_F(HttpToolkitsTest, EndpointOfADroppedToolkitStillHidesItsSecrets) {
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "abcdefghijklmnop"}, {kAppToken, "short1"}}),
      &before));
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubOnlyToolkits())}));
  Endpoint after;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
  EXPECT_EQ(after.raw_body, before.raw_body);
  EXPECT_EQ(after.data, (Data{{kSigning, "abcd..."}, {kAppToken, "REDACTED"}}));
  std::vector<ListItem> items;
  ASSERT_NO_FATAL_FAILURE(MustList("", &items));
  EXPECT_EQ(Ids(items), std::vector<std::string>{created.id});
}

struct BadToolkits {
  std::string name;
  std::optional<std::string> file;    // nullopt: nothing at the path
  std::vector<std::string> mentions;  // lower-case, in the one stderr line
};

void PrintTo(const BadToolkits& bad, std::ostream* out) { *out << bad.name; }

// A catalog with github's webhook_secret field spec and verification
// replaced.
std::string Github(const std::string& field,
                   const std::string& verification = kGithubVerification) {
  return R"({"toolkits":{"github":{"setup_fields":{"webhook_secret":)" + field +
         R"(},"verification":)" + verification + "}}}";
}

std::vector<BadToolkits> BadToolkitFiles() {
  const std::string field =
      R"({"display_name":"Webhook Secret","is_required":true})";
  return {
      {"InvalidJson", R"({"toolkits":{"github":)", {"json"}},
      {"EmptyFile", "", {"json"}},
      {"NotAnObject", "[]", {}},
      {"ToolkitsMissing", "{}", {"toolkits"}},
      {"ToolkitsNotAnObject", R"({"toolkits":[]})", {"toolkits"}},
      {"UnknownTopLevelKey", R"({"toolkits":{},"extra":true})", {"extra"}},
      {"ReplaceNotABool", R"({"replace":"yes","toolkits":{}})", {"replace"}},
      {"FieldWithoutDisplayName",
       Github(R"({"is_required":true,"is_secret":true})"),
       {"github", "webhook_secret", "display_name"}},
      {"IsRequiredNotABool",
       Github(R"({"display_name":"W","is_required":"yes"})"),
       {"github", "webhook_secret", "is_required"}},
      {"IsSecretNotABool",
       Github(R"({"display_name":"W","is_secret":1})"),
       {"github", "webhook_secret", "is_secret"}},
      {"UnknownKeyInAField",
       Github(R"({"display_name":"W","colour":"red"})"),
       {"github", "webhook_secret", "colour"}},
      {"UnknownKeyInAToolkit",
       R"({"toolkits":{"github":{"setup_fields":{},"hooks":{}}}})",
       {"github", "hooks"}},
      {"BadScheme",
       Github(field, R"({"scheme":"md5","secret_field":"webhook_secret"})"),
       {"github", "md5"}},
      {"MissingScheme",
       Github(field, R"({"secret_field":"webhook_secret"})"),
       {"github", "scheme"}},
      {"SecretFieldNamesNoField",
       Github(field, R"({"scheme":"hmac_sha256","secret_field":"nope",)"
                     R"("signature_header":"X-Sig"})"),
       {"github", "nope"}},
      {"BadToolkitSlug", R"({"toolkits":{"Git Hub":{}}})", {"git hub"}},
      {"BadFieldName",
       R"({"toolkits":{"github":{"setup_fields":{"Web-Hook":)" + field + "}}}}",
       {"github", "web-hook"}},
      {"DuplicateToolkit",
       R"({"toolkits":{"github":{},"github":{}}})",
       {"github"}},
      {"MissingFile", std::nullopt, {}},
  };
}

class HttpBadToolkitsTest : public ::testing::TestWithParam<BadToolkits> {};

// Exit 2 with one line on standard error naming the file, the toolkit and
// the problem.
TEST_P(HttpBadToolkitsTest, StopsStartUpWithOneLineNamingTheProblem) {
  const BadToolkits& bad = GetParam();
  TempDir dir;
  const std::string path = dir.File("toolkits.json");
  if (bad.file) {
    ASSERT_TRUE(WriteTextFile(path, *bad.file));
  }
  ServerProcess server;
  EXPECT_FALSE(server.Start(
      {"--port", "0", "--db", dir.File("test.db"), "--toolkits", path}));
  server.Stop();  // reaps it if it exited; bounded if it did not
  EXPECT_EQ(server.ExitCode(), 2);
  const std::string log = server.Stderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_TRUE(Contains(log, path)) << log;
  for (const std::string& mention : bad.mentions) {
    EXPECT_TRUE(Contains(Lower(log), mention)) << mention << " not in: " << log;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Http, HttpBadToolkitsTest, ::testing::ValuesIn(BadToolkitFiles()),
    [](const ::testing::TestParamInfo<BadToolkits>& param) {
      return param.param.name;
    });

TEST(HttpBadToolkitsEnvTest, MalformedFileFromTheEnvironmentStopsStartUp) {
  TempDir dir;
  const std::string path = dir.File("toolkits.json");
  ASSERT_TRUE(WriteTextFile(path, Github(R"({"is_required":true})")));
  ServerProcess server;
  EXPECT_FALSE(server.Start({"--port", "0", "--db", dir.File("test.db")},
                            {"WEBHOOKS_TOOLKITS=" + path}));
  server.Stop();  // reaps it if it exited; bounded if it did not
  EXPECT_EQ(server.ExitCode(), 2);
  const std::string log = server.Stderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_TRUE(Contains(log, path)) << log;
  EXPECT_TRUE(Contains(log, "github")) << log;
  EXPECT_TRUE(Contains(log, "display_name")) << log;
}

// ===========================================================================
// Ingress: the spec's check order, step by step
// ===========================================================================

class HttpIngressOrderTest : public HttpIngressTest {};

// Step 1: an unknown id (valid format or not), a deleted one, or a toolkit
// in the path that is not the endpoint's: 404, even for a request correctly
// signed for the endpoint; nothing stored.
TEST_F(HttpIngressOrderTest, UnknownMalformedOrForeignToolkitIdsAre404) {
  Endpoint slack;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &slack));
  std::string missing = RandomEndpointId();
  while (missing == slack.id) missing = RandomEndpointId();
  const std::string body = SlackEvent("Ev404000001");
  for (const char* prefix : {"/api/v3/", "/api/v3.1/"}) {
    const std::string paths[] = {
        IngressPathFor("slack", missing, prefix),
        IngressPathFor("slack", "nope", prefix),
        IngressPathFor("slack", "we_short", prefix),
        IngressPathFor("slack", slack.id + "x", prefix),
        IngressPathFor("slack", slack.id.substr(0, 14), prefix),
        IngressPathFor("slack", "WE_" + slack.id.substr(3), prefix),
        IngressPathFor("slack", "we_%00%ff%fe%01abcdefgh", prefix),
        IngressPathFor("slack", "we_%22%5c%0d%0aabcdef", prefix),
        IngressPathFor("notion", slack.id, prefix),
        IngressPathFor("slackbot", slack.id, prefix),
        IngressPathFor("nosuch", slack.id, prefix),
    };
    for (const std::string& path : paths) {
      SCOPED_TRACE(path);
      ExpectErrorEnvelope(SendSlack(path, kSlackSecret, body), 404, kNotFound);
    }
  }

  // A toolkit that is not the endpoint's answers exactly like a missing id:
  // nothing tells a prober that the id exists.
  httplib::Headers headers = SlackHeadersAt(kSlackSecret, UnixNow(), body);
  headers.emplace("x-request-id", "ingress-404-check");
  auto foreign = Ingress(IngressPathFor("notion", slack.id), headers, body);
  auto absent = Ingress(IngressPathFor("notion", missing), headers, body);
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(foreign, 404, kNotFound));
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(absent, 404, kNotFound));
  EXPECT_EQ(ReplaceAll(foreign->body, slack.id, missing), absent->body);

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(slack.id, &events));
  EXPECT_TRUE(events.empty());
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(slack.id, &read));
  EXPECT_TRUE(read.verified_at_is_null);

  // Once deleted, its URL is a 404 too.
  ExpectDeleted(Delete(slack.id));
  ExpectErrorEnvelope(SendSlack(IngressPath(slack), kSlackSecret, body), 404,
                      kNotFound);
}

TEST_F(HttpIngressOrderTest, WrongMethodOnTheIngressIs405WithAllowPost) {
  Endpoint slack;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &slack));
  const std::string path = IngressPath(slack);
  httplib::Client client = NewClient();
  auto get = client.Get(path);
  auto put = client.Put(path, "{}", "application/json");
  auto patch = client.Patch(path, "{}", "application/json");
  auto del = client.Delete(path);
  for (const httplib::Result* result : {&get, &put, &patch, &del}) {
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(*result, 405, "HTTP_MethodNotAllowed"));
    EXPECT_EQ(AllowList((*result)->get_header_value("Allow")),
              std::vector<std::string>{"POST"});
  }
}

// Step 2: no verification secret stored yet is 400 NotConfigured for every
// request, signed (as Slack would, with the secret the endpoint will get)
// or not, event or handshake.
TEST_F(HttpIngressOrderTest, NoSecretStoredYetIs400NotConfigured) {
  Endpoint slack;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &slack));
  const std::string bodies[] = {SlackEvent("EvNoSecret01"),
                                UrlVerification(kSlackChallenge)};
  for (const std::string& body : bodies) {
    for (const char* prefix : {"/api/v3/", "/api/v3.1/"}) {
      SCOPED_TRACE(std::string(prefix) + " " + body);
      ErrorBody error;
      ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
          SendSlack(IngressPath(slack, prefix), kSlackSecret, body), 400,
          kNotConfigured, &error));
      EXPECT_TRUE(Contains(error.message, kSigning)) << error.message;
      ExpectErrorEnvelope(Ingress(IngressPath(slack, prefix), {}, body), 400,
                          kNotConfigured);
    }
  }
  // The app token is not the signing secret.
  Endpoint patched;
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      slack.id, DataBody({{kAppToken, "xapp-1-A0123456789-tok"}}), &patched));
  ExpectErrorEnvelope(
      SendSlack(IngressPath(slack), kSlackSecret, SlackEvent("EvNoSecret02")),
      400, kNotConfigured);

  // Notion: before its verification_token handshake, an event (even one
  // that looks signed) is refused the same way.
  Endpoint notion;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &notion));
  const std::string event = NotionEvent("evt-before-handshake");
  ExpectErrorEnvelope(
      Ingress(IngressPath(notion),
              {{kNotionSignatureHeader,
                "sha256=" + Hex(HmacSha256("secret_guess", event))}},
              event),
      400, kNotConfigured);
  // A verification_token that cannot be a token is no handshake.
  ExpectErrorEnvelope(
      Ingress(IngressPath(notion), {}, R"({"verification_token":""})"), 400,
      kNotConfigured);

  for (const Endpoint* endpoint : {&slack, &notion}) {
    std::vector<EventItem> events;
    ASSERT_NO_FATAL_FAILURE(MustListEvents(endpoint->id, &events));
    EXPECT_TRUE(events.empty());
    Endpoint read;
    ASSERT_NO_FATAL_FAILURE(MustRead(endpoint->id, &read));
    EXPECT_TRUE(read.verified_at_is_null);
  }
}

// Step 3: a signature made with another secret is 400 InvalidSignature,
// with errors[0] naming the header (and never echoing a secret), for
// events and handshakes alike; nothing is stored or verified.
TEST_F(HttpIngressOrderTest, BadSignatureIs400WithAUsefulError) {
  Endpoint slack;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &slack));
  const std::string bodies[] = {SlackEvent("EvBadSig0001"),
                                UrlVerification(kSlackChallenge)};
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    const httplib::Headers headers =
        SlackHeadersAt(kOtherSecret, UnixNow(), body);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(Ingress(IngressPath(slack), headers, body), 400,
                            kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u) << Join(error.errors);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), "x-slack-signature"))
        << error.errors[0];
    const std::string sent = headers.find(kSlackSignatureHeader)->second;
    for (const std::string& secret :
         {std::string(kSlackSecret), std::string(kOtherSecret), sent,
          sent.substr(3)}) {
      EXPECT_FALSE(Contains(error.message + Join(error.errors), secret));
    }
  }
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(slack.id, &events));
  EXPECT_TRUE(events.empty());
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(slack.id, &read));
  EXPECT_TRUE(read.verified_at_is_null);
}

// Step 4: Slack's url_verification, signed, answers the challenge and sets
// verified_at once; a repeat is 400 AlreadyVerified and changes nothing.
TEST_F(HttpIngressOrderTest, SlackHandshakeAnswersTheChallengeAndVerifiesOnce) {
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &before));
  EXPECT_TRUE(before.verified_at_is_null);

  ExpectChallenge(SendSlack(IngressPath(created), kSlackSecret,
                            UrlVerification(kSlackChallenge)),
                  kSlackChallenge);
  Endpoint verified;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &verified));
  ASSERT_FALSE(verified.verified_at_is_null) << verified.raw_body;
  const std::string verified_at = VerifiedAt(verified);
  EXPECT_TRUE(HasShape(verified_at, "9999-99-99T99:99:99.999Z")) << verified_at;
  EXPECT_LE(std::abs(SecondsFromNow(verified_at)), 60.0) << verified_at;
  EXPECT_GE(verified_at, created.created_at);
  // Nothing else about the endpoint changed.
  EXPECT_EQ(ReplaceAll(verified.raw_body, JsonString(verified_at), "null"),
            before.raw_body);

  // A repeat, under the v3 twin, with another challenge.
  for (const char* prefix : {"/api/v3/", "/api/v3.1/"}) {
    SCOPED_TRACE(prefix);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        SendSlack(IngressPath(created, prefix), kSlackSecret,
                  UrlVerification("another-challenge-0123")),
        400, kAlreadyVerified, &error));
    EXPECT_FALSE(
        Contains(error.message + Join(error.errors), "another-challenge-0123"));
    Endpoint again;
    ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &again));
    EXPECT_EQ(again.raw_body, verified.raw_body);
  }

  // Handshakes are not events; events are accepted after one.
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_TRUE(events.empty());
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret,
                      SlackEvent("EvAfterHandshake")));
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_EQ(ProviderIds(events), std::vector<std::string>{"EvAfterHandshake"});
}

// Step 5: a signed event is answered 200 {} under both prefixes and stored
// with what the provider sent.
TEST_F(HttpIngressOrderTest,
       SignedEventIsAcknowledgedWithEmptyObjectAndStored) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string first = SlackEvent("EvFirst00001", "caf\u00e9 \u6f22");
  const std::string second = SlackEvent("EvSecond0002");
  const int64_t now = UnixNow();
  ExpectAck(Ingress(IngressPath(created, "/api/v3.1/"),
                    SlackHeadersAt(kSlackSecret, now, first), first));
  ExpectAck(Ingress(IngressPath(created, "/api/v3/"),
                    SlackHeadersAt(kSlackSecret, now, second), second));

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  ASSERT_EQ(ProviderIds(events),
            (std::vector<std::string>{"EvSecond0002", "EvFirst00001"}));
  EXPECT_NE(events[0].id, events[1].id);
  EXPECT_EQ(events[0].bytes, second);
  EXPECT_EQ(events[1].bytes, first);
  for (const EventItem& event : events) {
    SCOPED_TRACE(event.provider_event_id);
    EXPECT_EQ(event.body_encoding, "utf-8");
    EXPECT_LE(std::abs(SecondsFromNow(event.received_at)), 60.0)
        << event.received_at;
    EXPECT_EQ(event.Header("x-slack-request-timestamp"), std::to_string(now));
    EXPECT_EQ(MediaType(event.Header("content-type")), "application/json");
    ExpectNoSecretHeaders(event);
  }
}

// The ingress is authenticated by the signature alone: no key is needed,
// and a key sent (any key, both key headers) neither stands in for a
// signature nor gets the request refused.
TEST_F(HttpIngressOrderTest, NeedsNoApiKeyAndIgnoresOneSent) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const httplib::Headers keys[] = {
      {},
      {{"x-api-key", key_}},
      {{"x-api-key", RandomKey()}},
      {{"x-api-key", key_}, {"x-user-api-key", RandomKey()}},
  };
  std::vector<std::string> stored;
  for (size_t i = 0; i < std::size(keys); ++i) {
    SCOPED_TRACE(i);
    const std::string good = SlackEvent("EvKey" + std::to_string(i));
    ExpectAck(SendSlack(IngressPath(created), kSlackSecret, good, 0, keys[i]));
    stored.insert(stored.begin(), "EvKey" + std::to_string(i));
    const std::string bad = SlackEvent("EvKeyBad" + std::to_string(i));
    ExpectErrorEnvelope(
        SendSlack(IngressPath(created), kOtherSecret, bad, 0, keys[i]), 400,
        kInvalidSignature);
  }
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_EQ(ProviderIds(events), stored);
}

// With configured keys, the ingress still needs none (a provider has no
// key), while the events listing needs a configured one.
TEST_F(HttpIngressOrderTest, ConfiguredKeysAreNotNeededByTheIngress) {
  ASSERT_TRUE(StartServer({"--api-key", "k-one"}));
  Endpoint created, patched;
  ASSERT_NO_FATAL_FAILURE(MustCreateAs("k-one", "slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      PatchAs("k-one", created.id, DataBody({{kSigning, kSlackSecret}})), 200,
      &patched));
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret, SlackEvent("EvC1")));
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret, SlackEvent("EvC2"), 0,
                      {{"x-api-key", "not-a-configured-key"}}));
  EventPage page;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEventPage(EventsAs("k-one", created.id), &page));
  EXPECT_EQ(ProviderIds(page.items),
            (std::vector<std::string>{"EvC2", "EvC1"}));
  ExpectErrorEnvelope(EventsAs("not-a-configured-key", created.id), 401,
                      "HTTP_Unauthorized");
}

// ===========================================================================
// Ingress: the Slack signature matrix over HTTP
// ===========================================================================

class HttpIngressSlackTest : public HttpIngressTest {};

// test-vectors.md: Slack's "Verifying requests from Slack" example. The
// test's signer reproduces it; over HTTP the real clock refuses its 2018
// timestamp, and the same body signed now passes.
TEST_F(HttpIngressSlackTest, SlacksPublishedExampleIsStaleOnTheRealClock) {
  const std::string secret = "8f742231b10e8888abcd99yyyzzz85a5";
  const std::string timestamp = "1531420618";
  const std::string body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain="
      "testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id="
      "U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
      "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
      "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015."
      "47445629121.803a0bc887a14d10d2c447fce8b6703c";
  const std::string signature =
      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
  ASSERT_EQ(SlackSignatureOf(secret, timestamp, body), signature);

  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created, secret));
  const std::string form = "application/x-www-form-urlencoded";
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(Ingress(IngressPath(created),
                                  {{kSlackTimestampHeader, timestamp},
                                   {kSlackSignatureHeader, signature}},
                                  body, form),
                          400, kInvalidSignature, &error));
  ASSERT_EQ(error.errors.size(), 1u) << Join(error.errors);
  EXPECT_TRUE(Contains(Lower(error.errors[0]), "x-slack-request-timestamp"))
      << error.errors[0];

  ExpectAck(SendSlack(IngressPath(created), secret, body, 0, {}, form));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].bytes, body);
  EXPECT_EQ(MediaType(events[0].Header("content-type")), form);
}

// Every way a Slack request can fail its check is 400 InvalidSignature
// (never 5xx) naming the header at fault; only the timestamps within 300 s
// pass; and exactly the requests answered 200 are stored.
TEST_F(HttpIngressSlackTest, SlackSignatureMatrix) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string path = IngressPath(created);
  int counter = 0;
  auto next_event = [&counter] {
    return SlackEvent("EvMatrix" + std::to_string(++counter));
  };
  std::vector<std::string> answered_200;

  struct Rejected {
    std::string name;
    httplib::Headers headers;
    std::string body;
    std::string mentions;  // lower-case, in errors[0]
  };
  std::vector<Rejected> cases;
  auto add = [&](std::string name, const std::string& header,
                 std::optional<std::string> value) {
    const std::string body = next_event();
    httplib::Headers headers = SlackHeadersAt(kSlackSecret, UnixNow(), body);
    cases.push_back({std::move(name), WithHeader(headers, header, value), body,
                     Lower(header)});
  };
  {
    const std::string body = next_event();
    std::string changed = body;
    changed[changed.find("hello")] = 'j';
    cases.push_back({"OneBodyByteChanged",
                     SlackHeadersAt(kSlackSecret, UnixNow(), body), changed,
                     "x-slack-signature"});
  }
  {
    const std::string body = next_event();
    cases.push_back({"AnotherSecret",
                     SlackHeadersAt(kOtherSecret, UnixNow(), body), body,
                     "x-slack-signature"});
  }
  {
    // Signed for one second, sent as another.
    const std::string body = next_event();
    const int64_t now = UnixNow();
    cases.push_back({"TimestampChangedAfterSigning",
                     WithHeader(SlackHeadersAt(kSlackSecret, now, body),
                                kSlackTimestampHeader, std::to_string(now - 1)),
                     body, "x-slack-signature"});
  }
  add("MissingSignature", kSlackSignatureHeader, std::nullopt);
  add("MissingTimestamp", kSlackTimestampHeader, std::nullopt);
  add("EmptySignature", kSlackSignatureHeader, "");
  add("EmptyTimestamp", kSlackTimestampHeader, "");
  add("NonHexSignature", kSlackSignatureHeader, "v0=" + std::string(64, 'g'));
  add("ShortSignature", kSlackSignatureHeader, "v0=" + std::string(62, 'a'));
  add("SignatureWithoutPrefix", kSlackSignatureHeader, std::string(64, 'a'));
  add("SignatureWithV1Prefix", kSlackSignatureHeader,
      "v1=" + std::string(64, 'a'));
  add("OverLongSignature", kSlackSignatureHeader,
      "v0=" + std::string(1997, 'a'));
  add("OverLongTimestamp", kSlackTimestampHeader, std::string(2000, '1'));
  add("NonNumericTimestamp", kSlackTimestampHeader, "yesterday");
  add("NegativeTimestamp", kSlackTimestampHeader, "-1531420618");
  add("HugeTimestamp", kSlackTimestampHeader, "99999999999999999999999");
  add("FractionalTimestamp", kSlackTimestampHeader,
      std::to_string(UnixNow()) + ".5");

  for (const Rejected& c : cases) {
    SCOPED_TRACE(c.name);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(path, c.headers, c.body), 400, kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u) << Join(error.errors);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), c.mentions))
        << error.errors[0];
  }

  // The ±300 s window. The server reads its clock while the request is in
  // flight, so an attempt decides only if the second did not change
  // meanwhile (else it is repeated, at most five times).
  for (const int64_t offset :
       {int64_t{-301}, int64_t{-299}, int64_t{0}, int64_t{299}, int64_t{301}}) {
    SCOPED_TRACE(offset);
    bool decided = false;
    for (int attempt = 0; attempt < 5 && !decided; ++attempt) {
      const std::string body = next_event();
      const int64_t before = UnixNow();
      auto result = Ingress(
          path, SlackHeadersAt(kSlackSecret, before + offset, body), body);
      const int64_t after = UnixNow();
      ASSERT_TRUE(result) << httplib::to_string(result.error());
      if (result->status == 200) {
        answered_200.push_back("EvMatrix" + std::to_string(counter));
      }
      if (before != after) continue;
      decided = true;
      if (offset > -300 && offset < 300) {
        ExpectAck(result);
      } else {
        ErrorBody error;
        ASSERT_NO_FATAL_FAILURE(
            ExpectErrorEnvelope(result, 400, kInvalidSignature, &error));
        ASSERT_EQ(error.errors.size(), 1u) << Join(error.errors);
        EXPECT_TRUE(
            Contains(Lower(error.errors[0]), "x-slack-request-timestamp"))
            << error.errors[0];
      }
    }
    EXPECT_TRUE(decided);
  }

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  std::vector<std::string> stored = ProviderIds(events);
  std::sort(stored.begin(), stored.end());
  std::sort(answered_200.begin(), answered_200.end());
  EXPECT_EQ(stored, answered_200);
  EXPECT_GE(answered_200.size(), 3u);
}

// Odd bytes and sizes in the signature headers, sent raw: 400 (or 431 for
// a header line past the server's limit), never 5xx, and the server keeps
// serving.
TEST_F(HttpIngressSlackTest, MalformedOrOversizedSignatureHeadersNeverCrashIt) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string path = IngressPath(created);
  const std::string body = SlackEvent("EvRawHeaders");
  const std::string stamp = std::to_string(UnixNow());
  const std::string good = SlackSignatureOf(kSlackSecret, stamp, body);
  const std::string signatures[] = {
      "v0=\xff\xfe" + std::string(62, 'a'),
      "v0=" + good.substr(3, 32) + " " + good.substr(35),
      "v0=" + good.substr(3, 32) + "\t" + good.substr(35),
      "v0=" + Repeat("%00", 64),
      "v0=" + Repeat("%41", 64),
      "v0=" + good.substr(3) + "00",
      good + "," + good,
      std::string(20000, 'a'),
  };
  for (const std::string& signature : signatures) {
    SCOPED_TRACE(signature.substr(0, 80));
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    connection.Send(
        RawRequest("POST", path,
                   "Content-Type: application/json\r\n"
                   "X-Slack-Request-Timestamp: " +
                       stamp + "\r\nX-Slack-Signature: " + signature + "\r\n",
                   body));
    Reply reply;
    ASSERT_TRUE(connection.ReadResponse(&reply));
    EXPECT_TRUE(reply.status == 400 || reply.status == 431) << reply.status;
    if (reply.status == 400) {
      ErrorBody error;
      ExpectErrorEnvelope(
          reply, 400,
          reply.body.find(kInvalidSignature) == std::string::npos
              ? "HTTP_BadRequest"
              : kInvalidSignature,
          &error);
    }
  }
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_TRUE(events.empty());
  ExpectAck(SendSlack(path, kSlackSecret, body));
}

// A body over the limit is 413 before anything is verified or stored; one
// at the limit is stored whole; the server keeps serving.
TEST_F(HttpIngressSlackTest, BodyOverTheLimitIs413AndOneAtTheLimitIsStored) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string path = IngressPath(created);
  auto padded_event = [](const std::string& event_id, size_t size) {
    std::string body = SlackEvent(event_id);
    body.insert(body.size() - 1, ",\"pad\":\"\"");
    body.insert(body.size() - 2, size - body.size(), 'p');
    return body;
  };
  const std::string over = padded_event("EvTooBig0001", 65537);
  ASSERT_EQ(over.size(), 65537u);
  {
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    const std::string stamp = std::to_string(UnixNow());
    // The server may answer and close before reading the body.
    connection.Send(RawRequest(
        "POST", path,
        "Content-Type: application/json\r\nX-Slack-Request-Timestamp: " +
            stamp + "\r\nX-Slack-Signature: " +
            SlackSignatureOf(kSlackSecret, stamp, over) + "\r\n",
        over));
    Reply reply;
    ASSERT_TRUE(connection.ReadResponse(&reply));
    ExpectErrorEnvelope(reply, 413, "HTTP_PayloadTooLarge");
  }
  const std::string at_limit = padded_event("EvAtLimit001", 65536);
  ASSERT_EQ(at_limit.size(), 65536u);
  ExpectAck(SendSlack(path, kSlackSecret, at_limit));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  ASSERT_EQ(ProviderIds(events), std::vector<std::string>{"EvAtLimit001"});
  EXPECT_EQ(events[0].bytes, at_limit);
}

// ===========================================================================
// Ingress: handshakes (Notion's token, concurrent handshakes)
// ===========================================================================

class HttpIngressHandshakeTest : public HttpIngressTest {};

// The first request carries the verification token, unsigned; it becomes
// the endpoint's secret (masked whenever read), and later events are signed
// with it. A second handshake is refused and changes nothing.
TEST_F(HttpIngressHandshakeTest, NotionHandshakeThenEventsSignedWithTheToken) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  const std::string path = IngressPath(created);
  const std::string token = "secret_tok_" + RandomKey().substr(5);
  auto sign = [](const std::string& key, const std::string& body) {
    return httplib::Headers{
        {kNotionSignatureHeader, "sha256=" + Hex(HmacSha256(key, body))}};
  };

  auto handshake =
      Ingress(path, {}, R"({"verification_token":)" + JsonString(token) + "}");
  ASSERT_TRUE(handshake) << httplib::to_string(handshake.error());
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_NO_FATAL_FAILURE(
      ExpectJsonObject(ToReply(handshake), 200, &parser, &object));
  EXPECT_FALSE(Contains(handshake->body, token));

  Endpoint verified;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &verified));
  ASSERT_FALSE(verified.verified_at_is_null) << verified.raw_body;
  EXPECT_LE(std::abs(SecondsFromNow(VerifiedAt(verified))), 60.0);
  // The token is the handshake's, not a setup field: data does not show it.
  EXPECT_TRUE(verified.data_is_null) << verified.raw_body;
  EXPECT_FALSE(Contains(verified.raw_body, token));

  const std::string first = NotionEvent("evt-notion-0001");
  ExpectAck(Ingress(path, sign(token, first), first));
  // Wrong key, no header, no prefix, upper-case prefix: 400.
  const std::string second = NotionEvent("evt-notion-0002");
  const std::string hex = Hex(HmacSha256(token, second));
  const httplib::Headers bad[] = {
      sign("secret_not_the_token_0123", second),
      {},
      {{kNotionSignatureHeader, hex}},
      {{kNotionSignatureHeader, "sha256=" + hex.substr(2)}},
      {{kNotionSignatureHeader, "sha1=" + hex}},
  };
  for (const httplib::Headers& headers : bad) {
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(path, headers, second), 400, kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), "x-notion-signature"))
        << error.errors[0];
  }

  // A second handshake, signed with the token it already has, carrying a
  // new one: AlreadyVerified. Unsigned, it fails the signature check,
  // which the spec puts before handshakes. Either way nothing changes: the
  // old token still signs, the new one does not.
  const std::string again =
      R"({"verification_token":"secret_tok_the_second_one_0123"})";
  ExpectErrorEnvelope(Ingress(path, sign(token, again), again), 400,
                      kAlreadyVerified);
  ExpectErrorEnvelope(Ingress(path, {}, again), 400, kInvalidSignature);
  Endpoint after;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
  EXPECT_EQ(after.raw_body, verified.raw_body);
  ExpectErrorEnvelope(
      Ingress(path, sign("secret_tok_the_second_one_0123", second), second),
      400, kInvalidSignature);
  ExpectAck(Ingress(path, sign(token, second), second));

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_EQ(ProviderIds(events),
            (std::vector<std::string>{"evt-notion-0002", "evt-notion-0001"}));
  EXPECT_EQ(events[0].bytes, second);
  EXPECT_EQ(events[1].bytes, first);
  for (const EventItem& event : events) ExpectNoSecretHeaders(event);
  server_->Stop();  // the log is complete once the server has exited
  EXPECT_FALSE(Contains(server_->Stderr(), token));
}

// Ten url_verification handshakes at once: exactly one verifies and
// answers its challenge; the others are AlreadyVerified.
TEST_F(HttpIngressHandshakeTest, ConcurrentSlackHandshakesVerifyOnce) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string path = IngressPath(created);
  const std::vector<Reply> replies =
      SendConcurrently(10, [&](size_t i, httplib::Client& client) {
        const std::string body =
            UrlVerification("challenge-" + std::to_string(i));
        return client.Post(path, SlackHeadersAt(kSlackSecret, UnixNow(), body),
                           body, "application/json");
      });
  int verified = 0;
  for (size_t i = 0; i < replies.size(); ++i) {
    SCOPED_TRACE(i);
    if (replies[i].status == 200) {
      ++verified;
      EXPECT_EQ(replies[i].body,
                R"({"challenge":"challenge-)" + std::to_string(i) + "\"}");
    } else {
      ExpectErrorEnvelope(replies[i], 400, kAlreadyVerified);
    }
  }
  EXPECT_EQ(verified, 1);
}

// Ten Notion handshakes at once, each with its own token: exactly one is
// accepted, and its token, alone, signs events afterwards. A loser that
// finds the winner's token stored is an unsigned request to a configured
// endpoint, which the spec's order refuses as a bad signature; one that
// raced the winner to the store is AlreadyVerified. Either way, 400.
TEST_F(HttpIngressHandshakeTest, ConcurrentNotionHandshakesKeepOneToken) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  const std::string path = IngressPath(created);
  auto token = [](size_t i) {
    return "secret_concurrent_token_" + std::to_string(i);
  };
  const std::vector<Reply> replies =
      SendConcurrently(10, [&](size_t i, httplib::Client& client) {
        return client.Post(
            path, R"({"verification_token":)" + JsonString(token(i)) + "}",
            "application/json");
      });
  std::vector<size_t> accepted;
  for (size_t i = 0; i < replies.size(); ++i) {
    SCOPED_TRACE(i);
    if (replies[i].status == 200) {
      accepted.push_back(i);
    } else {
      const bool raced = Contains(replies[i].body, kAlreadyVerified);
      ExpectErrorEnvelope(replies[i], 400,
                          raced ? kAlreadyVerified : kInvalidSignature);
    }
  }
  ASSERT_EQ(accepted.size(), 1u);
  const std::string event = NotionEvent("evt-after-race");
  for (size_t i = 0; i < replies.size(); ++i) {
    SCOPED_TRACE(i);
    auto result = Ingress(path,
                          {{kNotionSignatureHeader,
                            "sha256=" + Hex(HmacSha256(token(i), event))}},
                          event);
    if (i == accepted[0]) {
      ExpectAck(result);
    } else {
      ExpectErrorEnvelope(result, 400, kInvalidSignature);
    }
  }
}

// A replace with no data on a verified Notion endpoint must not leave it
// unable to receive anything: the token came from the handshake, not from
// setup data (Notion has no setup fields), so either it is kept, or the
// endpoint can be verified again.
TEST_F(HttpIngressHandshakeTest,
       NotionEndpointStaysUsableAfterAReplaceWithNoData) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  const std::string path = IngressPath(created);
  const std::string token = "secret_tok_replace_0123456789";
  ASSERT_NO_FATAL_FAILURE(ExpectAck(Ingress(
      path, {}, R"({"verification_token":)" + JsonString(token) + "}")));
  Endpoint replaced;
  ASSERT_NO_FATAL_FAILURE(MustReplace(created.id, R"({"data":{}})", &replaced));

  const std::string event = NotionEvent("evt-after-replace");
  auto signed_event = Ingress(
      path,
      {{kNotionSignatureHeader, "sha256=" + Hex(HmacSha256(token, event))}},
      event);
  ASSERT_TRUE(signed_event);
  if (signed_event->status == 200) {
    ExpectAck(signed_event);  // the token was kept
    return;
  }
  // Else the token is gone, and a new handshake must be possible.
  const std::string fresh = "secret_tok_second_0123456789";
  auto handshake =
      Ingress(path, {}, R"({"verification_token":)" + JsonString(fresh) + "}");
  ASSERT_TRUE(handshake);
  EXPECT_EQ(handshake->status, 200)
      << "after the replace, events signed with the handshake token got "
      << signed_event->status << " " << signed_event->body
      << "\nand a new handshake got " << handshake->status << " "
      << handshake->body;
  ExpectAck(Ingress(
      path,
      {{kNotionSignatureHeader, "sha256=" + Hex(HmacSha256(fresh, event))}},
      event));
}

// ===========================================================================
// Ingress: schemes from a --toolkits file (hmac_sha256, ed25519)
// ===========================================================================

// github: GitHub's X-Hub-Signature-256 (hex, "sha256=" prefix, delivery id
// header). stamped: the same scheme in base64 over "{timestamp}.{body}".
// discord: Ed25519 over timestamp + body, Discord's interactions model.
std::string IngressToolkits() {
  return R"json({"toolkits":{
  "github":{
    "setup_fields":{"webhook_secret":{"display_name":"Webhook Secret",
                                      "is_required":true,"is_secret":true}},
    "verification":{"scheme":"hmac_sha256","secret_field":"webhook_secret",
                    "signature_header":"X-Hub-Signature-256",
                    "signature_prefix":"sha256=","encoding":"hex",
                    "event_id_header":"X-GitHub-Delivery"}},
  "stamped":{
    "setup_fields":{"webhook_secret":{"display_name":"Webhook Secret",
                                      "is_required":true,"is_secret":true}},
    "verification":{"scheme":"hmac_sha256","secret_field":"webhook_secret",
                    "signature_header":"X-Signature","encoding":"base64",
                    "timestamp_header":"X-Timestamp",
                    "signed_payload":"{timestamp}.{body}"}},
  "discord":{
    "setup_fields":{"public_key":{"display_name":"Public Key",
                                  "is_required":true,"is_secret":false}},
    "verification":{"scheme":"ed25519","secret_field":"public_key",
                    "signature_header":"X-Signature-Ed25519",
                    "timestamp_header":"X-Signature-Timestamp"}}}})json";
}

class HttpIngressCatalogTest : public HttpIngressTest {
 protected:
  void SetUp() override {
    HttpIngressTest::SetUp();
    ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(IngressToolkits())}));
  }

  // An endpoint of `toolkit` with `field` stored.
  void MustCreateWith(const std::string& toolkit, const std::string& field,
                      const std::string& value, Endpoint* out) {
    ASSERT_NO_FATAL_FAILURE(MustCreate(toolkit, "c1", out));
    Endpoint patched;
    ASSERT_NO_FATAL_FAILURE(
        MustPatch(out->id, DataBody({{field, value}}), &patched));
  }
};

// test-vectors.md: GitHub's "Validating webhook deliveries" example,
// accepted over HTTP exactly as published; any change to it is refused.
TEST_F(HttpIngressCatalogTest, GitHubsPublishedExampleIsAccepted) {
  const std::string secret = "It's a Secret to Everybody";
  const std::string body = "Hello, World!";
  const std::string signature =
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  ASSERT_EQ("sha256=" + Hex(HmacSha256(secret, body)), signature);
  Endpoint github;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("github", "webhook_secret", secret, &github));
  const std::string delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
  ExpectAck(Ingress(IngressPath(github),
                    {{"X-Hub-Signature-256", signature},
                     {"X-GitHub-Delivery", delivery},
                     {"X-GitHub-Event", "ping"}},
                    body));

  const httplib::Headers bad[] = {
      {{"X-Hub-Signature-256", signature.substr(7)}},
      {{"X-Hub-Signature-256", "sha1=" + signature.substr(7)}},
      {{"X-Hub-Signature-256",
        "sha256=" + Hex(HmacSha256("It's a Secret to Nobody", body))}},
      {{"X-Hub-Signature-256", "sha256=" + std::string(64, '0')}},
      {},
  };
  for (const httplib::Headers& headers : bad) {
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(IngressPath(github, "/api/v3/"), headers, body), 400,
        kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), "x-hub-signature-256"))
        << error.errors[0];
  }
  // One byte changed.
  ExpectErrorEnvelope(
      Ingress(IngressPath(github), {{"X-Hub-Signature-256", signature}},
              "Hello, World?"),
      400, kInvalidSignature);

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(github.id, &events));
  ASSERT_EQ(ProviderIds(events), std::vector<std::string>{delivery});
  EXPECT_EQ(events[0].bytes, body);
  EXPECT_EQ(events[0].Header("x-github-delivery"), delivery);
  ExpectNoSecretHeaders(events[0]);
  auto listing = Events(github.id);
  ASSERT_TRUE(listing);
  EXPECT_FALSE(Contains(listing->body, signature.substr(7)));
}

// X-GitHub-Delivery is the event's id: a redelivery (even of other bytes)
// is acknowledged and not stored again; another delivery of the same bytes
// is a new event.
TEST_F(HttpIngressCatalogTest, GitHubDeliveryHeaderDeduplicates) {
  const std::string secret = "github-webhook-secret-0123";
  Endpoint github;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("github", "webhook_secret", secret, &github));
  auto send = [&](const std::string& delivery, const std::string& body) {
    return Ingress(
        IngressPath(github),
        {{"X-Hub-Signature-256", "sha256=" + Hex(HmacSha256(secret, body))},
         {"X-GitHub-Delivery", delivery}},
        body);
  };
  const std::string body = R"({"zen":"Design for failure.","hook_id":1})";
  ExpectAck(send("delivery-a", body));
  ExpectAck(send("delivery-a", body));
  ExpectAck(send("delivery-a", R"({"zen":"Other bytes.","hook_id":1})"));
  ExpectAck(send("delivery-b", body));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(github.id, &events));
  EXPECT_EQ(ProviderIds(events),
            (std::vector<std::string>{"delivery-b", "delivery-a"}));
  for (const EventItem& event : events) EXPECT_EQ(event.bytes, body);
}

// hmac_sha256 in base64 over "{timestamp}.{body}" with a timestamp header:
// a fresh request passes; a stale or future one, or one signed over other
// bytes or in the other encoding, does not.
TEST_F(HttpIngressCatalogTest, Base64TimestampedVariantRejectsStaleRequests) {
  const std::string secret = "stamped-webhook-secret-0123";
  Endpoint stamped;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("stamped", "webhook_secret", secret, &stamped));
  const std::string path = IngressPath(stamped);
  const std::string body = R"({"id":"stamped-1","kind":"created"})";
  auto mac = [&](const std::string& signed_text) {
    return HmacSha256(secret, signed_text);
  };
  auto headers = [](int64_t at, const std::string& signature) {
    return httplib::Headers{{"X-Timestamp", std::to_string(at)},
                            {"X-Signature", signature}};
  };
  const int64_t now = UnixNow();
  auto payload = [&](int64_t at) { return std::to_string(at) + "." + body; };

  struct Case {
    const char* name;
    httplib::Headers headers;
    const char* mentions;
  };
  const Case rejected[] = {
      {"Stale", headers(now - 301, Base64Encode(mac(payload(now - 301)))),
       "x-timestamp"},
      {"AnHourOld", headers(now - 3600, Base64Encode(mac(payload(now - 3600)))),
       "x-timestamp"},
      {"TenMinutesAhead",
       headers(now + 600, Base64Encode(mac(payload(now + 600)))),
       "x-timestamp"},
      {"HexInsteadOfBase64", headers(now, Hex(mac(payload(now)))),
       "x-signature"},
      {"BodyOnlySigned", headers(now, Base64Encode(mac(body))), "x-signature"},
      {"TimestampChanged", headers(now - 1, Base64Encode(mac(payload(now)))),
       "x-signature"},
      {"NoTimestamp",
       {{"X-Signature", Base64Encode(mac(payload(now)))}},
       "x-timestamp"},
      {"UnpaddedBase64",
       headers(now, Base64Encode(mac(payload(now))).substr(0, 43)),
       "x-signature"},
  };
  for (const Case& c : rejected) {
    SCOPED_TRACE(c.name);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(path, c.headers, body), 400, kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), c.mentions))
        << error.errors[0];
  }
  const int64_t fresh = UnixNow();
  ExpectAck(
      Ingress(path, headers(fresh, Base64Encode(mac(payload(fresh)))), body));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(stamped.id, &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].bytes, body);
  EXPECT_EQ(events[0].Header("x-timestamp"), std::to_string(fresh));
  ExpectNoSecretHeaders(events[0]);
}

// Ed25519 with the public key in a setup field (Discord's model: hex
// signature of timestamp + body): valid passes; a tampered body, another
// key, a signature without the timestamp, or a stale one, do not.
TEST_F(HttpIngressCatalogTest, Ed25519ValidPassesAndTamperedIsRejected) {
  const Ed25519Key key = NewEd25519Key();
  const Ed25519Key other = NewEd25519Key();
  ASSERT_NE(key.key, nullptr);
  ASSERT_NE(other.key, nullptr);
  Endpoint discord;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("discord", "public_key", Hex(key.public_key), &discord));
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(discord.id, &read));
  EXPECT_EQ(read.data, (Data{{"public_key", Hex(key.public_key)}}));

  const std::string path = IngressPath(discord);
  const std::string body =
      R"({"id":"1191174393539346432","application_id":"1191174393539346433",)"
      R"("type":2,"data":{"name":"ping"},"token":"aW50ZXJhY3Rpb24"})";
  auto headers = [](int64_t at, const std::string& signature) {
    return httplib::Headers{{"X-Signature-Timestamp", std::to_string(at)},
                            {"X-Signature-Ed25519", Hex(signature)}};
  };
  const int64_t now = UnixNow();
  const std::string stamp = std::to_string(now);
  std::string tampered = body;
  tampered[tampered.find("ping")] = 'q';

  struct Case {
    const char* name;
    httplib::Headers headers;
    std::string body;
    const char* mentions;
  };
  const Case rejected[] = {
      {"TamperedBody", headers(now, Ed25519Sign(key, stamp + body)), tampered,
       "x-signature-ed25519"},
      {"AnotherKey", headers(now, Ed25519Sign(other, stamp + body)), body,
       "x-signature-ed25519"},
      {"BodyOnlySigned", headers(now, Ed25519Sign(key, body)), body,
       "x-signature-ed25519"},
      {"TimestampChanged", headers(now - 1, Ed25519Sign(key, stamp + body)),
       body, "x-signature-ed25519"},
      {"Stale",
       headers(now - 301, Ed25519Sign(key, std::to_string(now - 301) + body)),
       body, "x-signature-timestamp"},
      {"NoSignature",
       {{"X-Signature-Timestamp", stamp}},
       body,
       "x-signature-ed25519"},
      {"TruncatedSignature",
       {{"X-Signature-Timestamp", stamp},
        {"X-Signature-Ed25519",
         Hex(Ed25519Sign(key, stamp + body)).substr(0, 126)}},
       body,
       "x-signature-ed25519"},
  };
  for (const Case& c : rejected) {
    SCOPED_TRACE(c.name);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(path, c.headers, c.body), 400, kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), c.mentions))
        << error.errors[0];
  }
  ExpectAck(Ingress(path, headers(now, Ed25519Sign(key, stamp + body)), body));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(discord.id, &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].bytes, body);
  EXPECT_EQ(events[0].Header("x-signature-timestamp"), stamp);
  ExpectNoSecretHeaders(events[0]);
}

// ===========================================================================
// Ingress: stored events and their listing
// ===========================================================================

class HttpIngressEventsTest : public HttpIngressTest {};

TEST_F(HttpIngressEventsTest,
       EventsSurviveAKillAndARestartAndStayDeduplicated) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string body = SlackEvent("EvDurable001");
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret, body));
  EventPage before;
  ASSERT_NO_FATAL_FAILURE(ExpectEventPage(Events(created.id), &before));
  ASSERT_EQ(before.items.size(), 1u);

  // Stored before the 200: it survives the process being killed outright.
  ASSERT_EQ(::kill(server_->pid(), SIGKILL), 0);
  server_->Wait();
  ASSERT_TRUE(StartServer());  // the same database file
  EventPage after;
  ASSERT_NO_FATAL_FAILURE(ExpectEventPage(Events(created.id), &after));
  EXPECT_EQ(after.raw_body, before.raw_body);
  // A retry after the restart is still the same event.
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret, body));
  ASSERT_NO_FATAL_FAILURE(ExpectEventPage(Events(created.id), &after));
  EXPECT_EQ(after.raw_body, before.raw_body);

  // And an orderly stop and start keeps both.
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret,
                      SlackEvent("EvDurable002")));
  server_->Stop();
  ASSERT_TRUE(StartServer());
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_EQ(ProviderIds(events),
            (std::vector<std::string>{"EvDurable002", "EvDurable001"}));
}

// Slack retries with the same event_id (a new timestamp and signature, a
// retry header): acknowledged, stored once, the first copy kept.
TEST_F(HttpIngressEventsTest, RetriedSlackEventIdIsStoredOnce) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string path = IngressPath(created);
  const std::string body = SlackEvent("EvRetry00001");
  ExpectAck(SendSlack(path, kSlackSecret, body));
  ExpectAck(SendSlack(
      path, kSlackSecret, body, -2,
      {{"X-Slack-Retry-Num", "1"}, {"X-Slack-Retry-Reason", "http_timeout"}}));
  ExpectAck(SendSlack(path, kSlackSecret, SlackEvent("EvRetry00001", "edit"), 0,
                      {{"X-Slack-Retry-Num", "2"}}));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  ASSERT_EQ(ProviderIds(events), std::vector<std::string>{"EvRetry00001"});
  EXPECT_EQ(events[0].bytes, body);
  EXPECT_EQ(events[0].headers.count("x-slack-retry-num"), 0u);
}

// Ten copies of one event at once, each on its own connection: all 200,
// one stored.
TEST_F(HttpIngressEventsTest, TenConcurrentCopiesAreStoredOnce) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string path = IngressPath(created);
  const std::string body = SlackEvent("EvConcurrent");
  const httplib::Headers headers =
      SlackHeadersAt(kSlackSecret, UnixNow(), body);
  const std::vector<Reply> replies =
      SendConcurrently(10, [&](size_t, httplib::Client& client) {
        return client.Post(path, headers, body, "application/json");
      });
  for (const Reply& reply : replies) ExpectAck(reply);
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_EQ(ProviderIds(events), std::vector<std::string>{"EvConcurrent"});
}

// Newest first, under both prefixes; limit/cursor pages cover the list
// exactly, the last page's next_cursor null.
TEST_F(HttpIngressEventsTest, ListingIsNewestFirstAndPages) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  std::vector<std::string> newest_first;
  for (int i = 1; i <= 5; ++i) {
    const std::string id = "EvPage" + std::to_string(i);
    ExpectAck(SendSlack(IngressPath(created), kSlackSecret, SlackEvent(id)));
    newest_first.insert(newest_first.begin(), id);
  }
  EventPage all;
  ASSERT_NO_FATAL_FAILURE(ExpectEventPage(Events(created.id), &all));
  EXPECT_TRUE(all.next_is_null);
  EXPECT_EQ(ProviderIds(all.items), newest_first);
  for (size_t i = 1; i < all.items.size(); ++i) {
    EXPECT_GE(all.items[i - 1].received_at, all.items[i].received_at);
  }
  EventPage v3;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEventPage(EventsAs(key_, created.id, "", kCreatePathV3), &v3));
  EXPECT_EQ(v3.raw_body, all.raw_body);

  for (const int limit : {1, 2, 4, 5, 1000}) {
    SCOPED_TRACE(limit);
    std::vector<std::string> ids;
    std::vector<size_t> sizes;
    std::string cursor;
    for (int pages = 0; pages < 10; ++pages) {
      std::string query = "limit=" + std::to_string(limit);
      if (!cursor.empty()) query += "&cursor=" + QueryValue(cursor);
      EventPage page;
      ASSERT_NO_FATAL_FAILURE(
          ExpectEventPage(Events(created.id, query), &page));
      sizes.push_back(page.items.size());
      for (const EventItem& item : page.items) {
        ids.push_back(item.provider_event_id);
      }
      if (page.next_is_null) break;
      cursor = page.next_cursor;
    }
    EXPECT_EQ(ids, newest_first);
    const size_t per_page = static_cast<size_t>(std::min(limit, 5));
    std::vector<size_t> expected(5 / per_page, per_page);
    if (5 % per_page != 0) expected.push_back(5 % per_page);
    EXPECT_EQ(sizes, expected);
  }
}

// Pages through an events listing, `get` fetching one page for a query:
// `query` (may be empty) and the cursor. The provider ids in order, and
// each page's item count and size.
void PageThroughEvents(
    const std::function<httplib::Result(const std::string&)>& get,
    const std::string& query, std::vector<std::string>* ids,
    std::vector<size_t>* sizes, std::vector<size_t>* bytes) {
  std::string cursor;
  for (int pages = 0; pages < 100; ++pages) {
    std::string full = query;
    if (!cursor.empty()) {
      full += (full.empty() ? "" : "&") + ("cursor=" + QueryValue(cursor));
    }
    EventPage page;
    ASSERT_NO_FATAL_FAILURE(ExpectEventPage(get(full), &page));
    sizes->push_back(page.items.size());
    bytes->push_back(page.raw_body.size());
    for (const EventItem& item : page.items) {
      ids->push_back(item.provider_event_id);
    }
    if (page.next_is_null) return;
    cursor = page.next_cursor;
  }
  ADD_FAILURE() << "more than 100 pages";
}

// Issue 12, 2026: without limit, every stored event came back in one
// answer (60 MB for the default retention of 1,000 events of 60 KB). Now
// the default page is 100 events and limit goes up to 1,000; next_cursor
// continues either.
TEST_F(HttpIngressEventsTest, ListingWithoutLimitIsAPageOfAHundred) {
  ASSERT_TRUE(StartServer({"--event-retention", "2000"}));
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  constexpr int kEvents = 1001;
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client = NewClient();
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      for (int i = t; i < kEvents; i += kThreads) {
        const std::string body = SlackEvent("EvMany" + std::to_string(i));
        auto result = client.Post(IngressPath(created),
                                  SlackHeadersAt(kSlackSecret, UnixNow(), body),
                                  body, "application/json");
        if (!result || result->status != 200) {
          ADD_FAILURE() << "event " << i << " not stored";
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  auto get = [&](const std::string& query) {
    return Events(created.id, query);
  };
  std::vector<std::string> ids;
  std::vector<size_t> sizes, bytes;
  ASSERT_NO_FATAL_FAILURE(PageThroughEvents(get, "", &ids, &sizes, &bytes));
  EXPECT_EQ(sizes, (std::vector<size_t>{100, 100, 100, 100, 100, 100, 100, 100,
                                        100, 100, 1}));
  std::vector<std::string> all = ids;
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::unique(all.begin(), all.end()), all.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kEvents));

  std::vector<std::string> in_thousands;
  sizes.clear();
  ASSERT_NO_FATAL_FAILURE(
      PageThroughEvents(get, "limit=1000", &in_thousands, &sizes, &bytes));
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1}));
  EXPECT_EQ(in_thousands, ids);
}

// Issue 12, 2026: a page also stops before its items pass 1 MiB, with
// next_cursor continuing it; an event larger than that comes alone.
TEST_F(HttpIngressEventsTest, ListingPagesStopAtAMebibyteAndContinue) {
  ASSERT_TRUE(StartServer({"--max-body", "2000000"}));
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  std::vector<std::string> newest_first;
  for (int i = 0; i < 31; ++i) {
    const std::string id = "EvBig" + std::to_string(i);
    // 100 kB bodies, but the eleventh is 1.5 MB.
    ExpectAck(SendSlack(
        IngressPath(created), kSlackSecret,
        SlackEvent(id, std::string(i == 10 ? 1500000 : 100000, 'x'))));
    newest_first.insert(newest_first.begin(), id);
  }
  auto get = [&](const std::string& query) {
    return Events(created.id, query);
  };
  for (const std::string query : {"", "limit=1000"}) {
    SCOPED_TRACE(query);
    std::vector<std::string> ids;
    std::vector<size_t> sizes, bytes;
    ASSERT_NO_FATAL_FAILURE(
        PageThroughEvents(get, query, &ids, &sizes, &bytes));
    EXPECT_EQ(ids, newest_first);
    EXPECT_EQ(sizes, (std::vector<size_t>{10, 10, 1, 10}));
    for (size_t page = 0; page < sizes.size(); ++page) {
      if (sizes[page] > 1) {
        EXPECT_LE(bytes[page], 1024u * 1024u + 100u);
      }
    }
    EXPECT_GT(bytes[2], 1500000u);
  }
}

// Only the headers that matter are kept: never a signature, a key, a
// bearer token or a cookie, in the headers or anywhere in the listing.
TEST_F(HttpIngressEventsTest, ListingNeverShowsSignaturesOrCredentials) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string body = SlackEvent("EvHeaders001");
  const int64_t now = UnixNow();
  httplib::Headers headers = SlackHeadersAt(kSlackSecret, now, body);
  const std::string signature = headers.find(kSlackSignatureHeader)->second;
  headers.emplace("x-api-key", key_);
  headers.emplace("Authorization", "Bearer bearer-token-0123456789");
  headers.emplace("Cookie", "session=cookie-value-0123456789");
  headers.emplace("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)");
  ExpectAck(Ingress(IngressPath(created), headers, body));
  EventPage page;
  ASSERT_NO_FATAL_FAILURE(ExpectEventPage(Events(created.id), &page));
  ASSERT_EQ(page.items.size(), 1u);
  ExpectNoSecretHeaders(page.items[0]);
  EXPECT_EQ(page.items[0].Header("x-slack-request-timestamp"),
            std::to_string(now));
  for (const std::string& secret :
       {signature.substr(3), key_, std::string(kSlackSecret),
        std::string("bearer-token-0123456789"),
        std::string("cookie-value-0123456789")}) {
    EXPECT_FALSE(Contains(page.raw_body, secret)) << secret;
  }
}

// A body that is not UTF-8 is listed in base64 and decodes to the exact
// bytes; a UTF-8 one is listed as it came.
TEST_F(HttpIngressEventsTest, NonUtf8BodyIsListedAsBase64) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string binary("\xff\xfe\x00\x01 not utf-8 \x80\xc3(\xed\xa0\x80",
                           22);
  const std::string text = SlackEvent("EvUtf8Body01", "\u00e9\U0001F600");
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret, binary, 0, {},
                      "application/octet-stream"));
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret, text));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].body_encoding, "utf-8");
  EXPECT_EQ(events[0].body, text);
  EXPECT_EQ(events[1].body_encoding, "base64");
  EXPECT_EQ(events[1].bytes, binary);
  EXPECT_EQ(events[1].body, Base64Encode(binary));
}

// Another project's endpoint answers exactly like a missing id; no key is
// 401; a malformed id is 404.
TEST_F(HttpIngressEventsTest, ListingIsProjectScoped) {
  Endpoint mine;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &mine));
  ExpectAck(
      SendSlack(IngressPath(mine), kSlackSecret, SlackEvent("EvScoped001")));
  const std::string other = RandomKey();
  Endpoint theirs;
  ASSERT_NO_FATAL_FAILURE(MustCreateAs(other, "slack", "c1", &theirs));
  std::string missing = RandomEndpointId();
  while (missing == mine.id || missing == theirs.id) {
    missing = RandomEndpointId();
  }
  const httplib::Headers headers = {{"x-api-key", other},
                                    {"x-request-id", "events-isolation"}};
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    auto foreign = NewClient().Get(
        ItemPath(mine.id, collection) + "/events?limit=10", headers);
    auto absent = NewClient().Get(
        ItemPath(missing, collection) + "/events?limit=10", headers);
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(foreign, 404, kNotFound));
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(absent, 404, kNotFound));
    EXPECT_EQ(ReplaceAll(foreign->body, mine.id, missing), absent->body);
    EXPECT_FALSE(Contains(foreign->body, "EvScoped001"));
    httplib::Headers foreign_headers = foreign->headers;
    httplib::Headers absent_headers = absent->headers;
    foreign_headers.erase("Date");
    absent_headers.erase("Date");
    EXPECT_EQ(foreign_headers, absent_headers);
    ExpectErrorEnvelope(
        NewClient().Get(ItemPath(mine.id, collection) + "/events"), 401,
        "HTTP_Unauthorized");
    for (const std::string id : {"nope", "we_%00%ff%fe%01abcdefgh"}) {
      ExpectErrorEnvelope(EventsAs(key_, id, "", collection), 404, kNotFound);
    }
  }
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(mine.id, &events));
  EXPECT_EQ(ProviderIds(events), std::vector<std::string>{"EvScoped001"});
  EventPage page;
  ASSERT_NO_FATAL_FAILURE(ExpectEventPage(EventsAs(other, theirs.id), &page));
  EXPECT_TRUE(page.items.empty());
}

TEST_F(HttpIngressEventsTest, ListingBadLimitOrCursorIs400) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  struct Case {
    std::string query;
    std::vector<std::string> mentions;  // one error each
  };
  const Case cases[] = {
      {"limit=0", {"limit"}},
      {"limit=1001", {"limit"}},
      {"limit=abc", {"limit"}},
      {"limit=-1", {"limit"}},
      {"limit=", {"limit"}},
      {"limit=2.5", {"limit"}},
      {"limit=99999999999999999999999", {"limit"}},
      {"cursor=garbage", {"cursor"}},
      {"cursor=", {"cursor"}},
      {"cursor=0", {"cursor"}},
      {"cursor=-5", {"cursor"}},
      {"cursor=%00%ff", {"cursor"}},
      {"limit=0&cursor=garbage", {"limit", "cursor"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(Events(created.id, c.query),
                                                400, kValidation, &error));
    EXPECT_EQ(error.errors.size(), c.mentions.size()) << Join(error.errors);
    for (const std::string& mention : c.mentions) {
      EXPECT_TRUE(SomeErrorSays(error.errors, {mention}))
          << mention << " not in: " << Join(error.errors);
    }
  }
}

// --event-retention 3 keeps the newest three events of each endpoint.
TEST_F(HttpIngressEventsTest, RetentionCountKeepsTheNewestEvents) {
  ASSERT_TRUE(StartServer({"--event-retention", "3"}));
  Endpoint busy, quiet;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("busy", &busy));
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("quiet", &quiet));
  ExpectAck(SendSlack(IngressPath(quiet), kSlackSecret, SlackEvent("EvQ1")));
  for (int i = 1; i <= 5; ++i) {
    ExpectAck(SendSlack(IngressPath(busy), kSlackSecret,
                        SlackEvent("EvB" + std::to_string(i))));
  }
  ExpectAck(SendSlack(IngressPath(quiet), kSlackSecret, SlackEvent("EvQ2")));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(busy.id, &events));
  EXPECT_EQ(ProviderIds(events),
            (std::vector<std::string>{"EvB5", "EvB4", "EvB3"}));
  ASSERT_NO_FATAL_FAILURE(MustListEvents(quiet.id, &events));
  EXPECT_EQ(ProviderIds(events), (std::vector<std::string>{"EvQ2", "EvQ1"}));
}

// An age is accepted (flag or environment) and keeps recent events; with a
// count as well (issue 12, 2026-12; either order), at most that many.
TEST_F(HttpIngressEventsTest, RetentionAgeIsAcceptedAndKeepsACount) {
  struct Case {
    const char* name;
    std::vector<std::string> args, env, kept;
  };
  const std::vector<std::string> all = {"EvAge3", "EvAge2", "EvAge1"};
  const Case cases[] = {
      {"flag", {"--event-retention", "1h"}, {}, all},
      {"environment", {}, {"WEBHOOKS_EVENT_RETENTION=1h"}, all},
      {"age-count", {"--event-retention", "1h,2"}, {}, {"EvAge3", "EvAge2"}},
      {"count-age", {"--event-retention", "2,1h"}, {}, {"EvAge3", "EvAge2"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(StartServer(c.args, c.env));
    Endpoint created;
    ASSERT_NO_FATAL_FAILURE(MustCreateSlack(c.name, &created));
    for (int i = 1; i <= 3; ++i) {
      ExpectAck(SendSlack(IngressPath(created), kSlackSecret,
                          SlackEvent("EvAge" + std::to_string(i))));
    }
    std::vector<EventItem> events;
    ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
    EXPECT_EQ(ProviderIds(events), c.kept);
  }
}

// Issue 12 (2026-12): with an age bound, events age out of an endpoint that
// receives nothing more (pruning used to run only when the same endpoint
// stored a new event). The wait is for two seconds to pass; the test polls
// the listing, at most 30 s.
TEST_F(HttpIngressEventsTest, RetentionAgePrunesAQuietEndpoint) {
  ASSERT_TRUE(StartServer({"--event-retention", "2s"}));
  Endpoint quiet;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("quiet", &quiet));
  for (int i = 1; i <= 3; ++i) {
    ExpectAck(SendSlack(IngressPath(quiet), kSlackSecret,
                        SlackEvent("EvQuiet" + std::to_string(i))));
  }
  const auto stored = std::chrono::steady_clock::now();
  std::vector<EventItem> events;
  const auto deadline = stored + std::chrono::seconds(30);
  for (;;) {
    ASSERT_NO_FATAL_FAILURE(MustListEvents(quiet.id, &events));
    if (events.empty() || std::chrono::steady_clock::now() > deadline) break;
    pollfd none{-1, 0, 0};
    ::poll(&none, 1, 100);
  }
  EXPECT_TRUE(events.empty()) << events.size() << " events left after 30 s";
  std::cout << "[ measured ] events of a quiet endpoint gone "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - stored)
                   .count()
            << " ms after they were stored (retention 2 s)\n";
}

// `count` events of `endpoint_id`, written straight into the (stopped)
// server's database in one transaction: 50,000 over HTTP would take a minute.
void SeedEvents(const std::string& db, const std::string& endpoint_id,
                int count) {
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  sqlite3_stmt* insert = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(
          handle,
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
          "WHERE i < ?2) INSERT INTO webhook_events (id, endpoint_id, "
          "provider_event_id, received_at, headers, body) SELECT 'ev_seed' || "
          "i, ?1, 'EvSeed' || i, CAST((julianday('now') - 2440587.5) * "
          "86400000 AS INTEGER), "
          "'{}', randomblob(600) FROM n",
          -1, &insert, nullptr),
      SQLITE_OK)
      << sqlite3_errmsg(handle);
  sqlite3_bind_text(insert, 1, endpoint_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(insert, 2, count);
  EXPECT_EQ(sqlite3_step(insert), SQLITE_DONE) << sqlite3_errmsg(handle);
  sqlite3_finalize(insert);
  sqlite3_close(handle);
}

// How many events the database file holds, read beside the running server.
int64_t StoredEventCount(const std::string& db) {
  sqlite3* handle = nullptr;
  int64_t count = -1;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_busy_timeout(handle, 5000);
    sqlite3_stmt* select = nullptr;
    if (sqlite3_prepare_v2(handle, "SELECT count(*) FROM webhook_events", -1,
                           &select, nullptr) == SQLITE_OK &&
        sqlite3_step(select) == SQLITE_ROW) {
      count = sqlite3_column_int64(select, 0);
    }
    sqlite3_finalize(select);
  }
  sqlite3_close(handle);
  return count;
}

// Issue 12 (2026-12): deleting an endpoint with 50,000 events deleted them
// all in the deleting transaction, holding the one writer (320 ms) while
// every other project's writes waited. Now the endpoint is gone at once and
// its events go in bounded slices: another project's creates, timed all
// along, stay fast.
TEST_F(HttpIngressEventsTest, DeletingABigEndpointKeepsOtherWritesFast) {
  constexpr int kEvents = 50'000;
  // Generous for a busy 2-core machine; the old code took 300+ ms here.
  constexpr auto kMaxCreate = std::chrono::milliseconds(150);
  Endpoint big;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("big", &big));
  server_->Stop();
  ASSERT_NO_FATAL_FAILURE(SeedEvents(db_path(), big.id, kEvents));
  ASSERT_EQ(StoredEventCount(db_path()), kEvents);
  ASSERT_TRUE(StartServer());

  const std::string other = RandomKey();
  std::atomic<bool> stop{false};
  std::atomic<int> creates{0};
  int failures = 0;
  std::chrono::steady_clock::duration slowest{};
  std::thread creator([&] {
    for (int i = 0; !stop; ++i) {
      const auto start = std::chrono::steady_clock::now();
      auto res = CreateWithKey(
          other, CreateBody("slack", "other-" + std::to_string(i)));
      slowest = std::max(slowest, std::chrono::steady_clock::now() - start);
      if (!res || res->status != 201) ++failures;
      ++creates;
    }
  });
  // The creates are under way before the delete starts.
  while (creates < 5) {
    pollfd none{-1, 0, 0};
    ::poll(&none, 1, 1);
  }
  const auto delete_start = std::chrono::steady_clock::now();
  ExpectDeleted(Delete(big.id));
  const auto delete_took = std::chrono::steady_clock::now() - delete_start;
  ExpectErrorEnvelope(Retrieve(big.id), 404, kNotFound);
  const auto deadline = delete_start + std::chrono::seconds(60);
  int64_t left = 0;
  while ((left = StoredEventCount(db_path())) != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    pollfd none{-1, 0, 0};
    ::poll(&none, 1, 20);
  }
  const auto purge_took = std::chrono::steady_clock::now() - delete_start;
  stop = true;
  creator.join();
  EXPECT_EQ(left, 0) << "events still stored 60 s after the delete";
  EXPECT_EQ(failures, 0);
  auto ms = [](std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::cout << "[ measured ] delete of an endpoint with " << kEvents
            << " events: " << ms(delete_took) << " ms; its events gone after "
            << ms(purge_took) << " ms; another project's slowest of "
            << creates.load() << " creates meanwhile: " << ms(slowest)
            << " ms\n";
  EXPECT_LT(slowest, kMaxCreate);
}

// ===========================================================================
// send-test-event against the running binary
// ===========================================================================

class HttpSendTestEventTest : public HttpIngressTest {
 protected:
  // The endpoint's ingress URL on 127.0.0.1 (webhook_url names localhost).
  std::string UrlOf(const Endpoint& endpoint) {
    return server_->BaseUrl() + IngressPath(endpoint);
  }
  static Finished SendTestEvent(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"send-test-event"};
    all.insert(all.end(), args.begin(), args.end());
    return RunToExit(all);
  }
  static std::string FirstLine(const std::string& text) {
    return text.substr(0, text.find('\n'));
  }
};

TEST_F(HttpSendTestEventTest, SignsASlackEventThatShowsUpInTheListing) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  const std::string url = UrlOf(created);

  // No secret stored yet: the server refuses it, and the tool says so.
  Finished refused = SendTestEvent({"--url", url, "--secret", kSlackSecret});
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_EQ(FirstLine(refused.out), "HTTP 400") << refused.out;
  EXPECT_TRUE(Contains(refused.out, kNotConfigured)) << refused.out;

  Endpoint patched;
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, kSlackSecret}, {kAppToken, "xapp-1-A0-token"}}),
      &patched));
  Finished sent = SendTestEvent({"--url", url, "--secret", kSlackSecret});
  EXPECT_EQ(sent.exit_code, 0) << sent.out;
  EXPECT_EQ(FirstLine(sent.out), "HTTP 200") << sent.out;

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  ASSERT_EQ(events.size(), 1u);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(events[0].bytes);
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(padded).get(root), simdjson::SUCCESS)
      << events[0].bytes;
  std::string_view type, event_id;
  ASSERT_EQ(root["type"].get_string().get(type), simdjson::SUCCESS);
  EXPECT_EQ(type, "event_callback");
  ASSERT_EQ(root["event_id"].get_string().get(event_id), simdjson::SUCCESS);
  EXPECT_EQ(event_id.substr(0, 2), "Ev") << event_id;
  EXPECT_GT(event_id.size(), 2u);
  EXPECT_EQ(events[0].provider_event_id, event_id);
  const std::string stamp = events[0].Header("x-slack-request-timestamp");
  EXPECT_LE(
      std::abs(static_cast<double>(std::atoll(stamp.c_str()) - UnixNow())),
      60.0)
      << stamp;

  // A wrong secret is refused and stores nothing.
  Finished wrong = SendTestEvent({"--url", url, "--secret", kOtherSecret});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_EQ(FirstLine(wrong.out), "HTTP 400") << wrong.out;
  EXPECT_TRUE(Contains(wrong.out, kInvalidSignature)) << wrong.out;

  // Each run is a new event.
  Finished again = SendTestEvent({"--url", url, "--secret", kSlackSecret});
  EXPECT_EQ(again.exit_code, 0) << again.out;
  std::vector<EventItem> after;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &after));
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1].provider_event_id, events[0].provider_event_id);
  EXPECT_NE(after[0].provider_event_id, after[1].provider_event_id);
}

TEST_F(HttpSendTestEventTest, FileIsSentAsIsAndPrintsTheChallenge) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string file = dir_.File("url_verification.json");
  ASSERT_TRUE(WriteTextFile(file, UrlVerification("challenge-from-a-file")));
  Finished sent = SendTestEvent(
      {"--url", UrlOf(created), "--secret", kSlackSecret, "--file", file});
  EXPECT_EQ(sent.exit_code, 0) << sent.out;
  EXPECT_EQ(FirstLine(sent.out), "HTTP 200") << sent.out;
  EXPECT_TRUE(Contains(sent.out, R"("challenge":"challenge-from-a-file")"))
      << sent.out;
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_FALSE(read.verified_at_is_null);
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_TRUE(events.empty());
}

TEST_F(HttpSendTestEventTest, UsageErrorsExit2AndSendNothing) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string url = UrlOf(created);
  const std::vector<std::string> cases[] = {
      {"--secret", kSlackSecret},
      {"--url", url},
      {"--url", url, "--secret", ""},
      {"--url", "not-a-url", "--secret", kSlackSecret},
      {"--url", url, "--secret", kSlackSecret, "--bogus", "1"},
      {"--url", url, "--secret"},
      {"--url", url, "--secret", kSlackSecret, "--file",
       dir_.File("missing.json")},
  };
  for (const std::vector<std::string>& args : cases) {
    SCOPED_TRACE(Join(args));
    EXPECT_EQ(SendTestEvent(args).exit_code, 2);
  }
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_TRUE(events.empty());
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

TEST_F(HttpOperationsTest, ReadinessFailsWhileTheDatabaseFileIsUnreadable) {
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
  RawConnection slow(port());
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(
      slow.Send("POST /api/v3.1/webhook_endpoints HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\nx-api-key: " +
                key_ +
                "\r\nContent-Type: application/json\r\n"
                "Content-Length: 100\r\n\r\n{"));
  // Prove the server holds the request: a probe on another connection is
  // answered while the slow one is open.
  auto probe = NewClient().Get("/healthz");
  ASSERT_TRUE(probe && probe->status == 200);
  ASSERT_EQ(::kill(server_->pid(), SIGTERM), 0);
  // Wait for the first signal to be taken (its log line), not for a time.
  ASSERT_TRUE(server_->WaitForStderr("finishing in-flight"));
  // The rule is about time, so only time can take the next signal out of
  // the window: it opened when the server took the first signal, before the
  // line above was written, so waiting its length (the README's 1 s) plus a
  // margin after seeing the line puts the second signal past it. The slow
  // request keeps the server stopping meanwhile (its deadline is 5 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  ASSERT_EQ(::kill(server_->pid(), SIGTERM), 0);
  const int status = server_->Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << server_->Stderr();
  EXPECT_TRUE(Contains(server_->Stderr(), "second signal"));
}

// ===========================================================================
// Operations: the secrets key checked against the database
// ===========================================================================

class HttpSecretsKeyTest : public HttpManageTest {
 protected:
  // A key file holding `hex`.
  std::string KeyFile(const std::string& name, const std::string& hex) {
    const std::string path = dir_.File(name);
    EXPECT_TRUE(WriteTextFile(path, hex + "\n")) << path;
    ::chmod(path.c_str(), 0600);
    return path;
  }

  // Starts a server on db_path() with `extra_args`, which must refuse to
  // start with exit code 2 and exactly one line; returns that line.
  std::string RefusalOf(const std::vector<std::string>& extra_args) {
    std::vector<std::string> args = {"--port", "0", "--db", db_path()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    ServerProcess refused;
    if (refused.Start(args)) {  // stopped, not waited for: it would serve on
      ADD_FAILURE() << "started: " << refused.Stderr();
      return "";
    }
    refused.Wait();
    EXPECT_EQ(refused.ExitCode(), 2);
    const std::string log = refused.Stderr();
    EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
    return log;
  }

  const std::string right_hex_ = Repeat("0123456789abcdef", 4);
  const std::string wrong_hex_ = Repeat("fedcba9876543210", 4);
};

// Issue 11, item 10 (2026-04): with a wrong --secrets-key-file the server
// started, /readyz said ready, and every read of a setup value was a 500.
TEST_F(HttpSecretsKeyTest, WrongOrMissingKeyRefusesToStartAndTheRightOneReads) {
  const std::string right = KeyFile("right.key", right_hex_);
  const std::string wrong = KeyFile("wrong.key", wrong_hex_);
  ASSERT_TRUE(StartServer({"--secrets-key-file", right}));
  Endpoint created, stored;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "sig-0123456789abcdef"}}), &stored));
  ASSERT_EQ(server_->Stop(), 0);

  const std::string wrong_line = RefusalOf({"--secrets-key-file", wrong});
  EXPECT_TRUE(Contains(wrong_line, "does not decrypt")) << wrong_line;
  EXPECT_TRUE(Contains(wrong_line, "'" + wrong + "'")) << wrong_line;
  const std::string missing_line = RefusalOf({});
  EXPECT_TRUE(Contains(missing_line, "no secrets key was given"))
      << missing_line;
  EXPECT_TRUE(Contains(missing_line, "--secrets-key-file")) << missing_line;
  for (const std::string& line : {wrong_line, missing_line}) {
    EXPECT_FALSE(Contains(line, right_hex_)) << line;
    EXPECT_FALSE(Contains(line, wrong_hex_)) << line;
  }

  ASSERT_TRUE(StartServer({"--secrets-key-file", right}));
  Endpoint got;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "sig-..."}}));
  auto ready = NewClient().Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
}

// /readyz runs the same check: a server whose values another server sealed
// with a key (one database file, two configurations) is not ready.
TEST_F(HttpSecretsKeyTest, ReadinessFailsOnceTheValuesNeedAKeyItLacks) {
  Endpoint created, stored;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "sig-0123456789abcdef"}}), &stored));
  auto before = NewClient().Get("/readyz");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200);

  // A key given for values stored in clear seals them (our choice).
  ServerProcess keyed;
  ASSERT_TRUE(
      keyed.Start({"--port", "0", "--db", db_path(), "--secrets-key-file",
                   KeyFile("right.key", right_hex_)}))
      << keyed.Stderr();
  auto not_ready = NewClient().Get("/readyz");
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(not_ready, 503, "Storage_Unavailable"));
  EXPECT_TRUE(Contains(not_ready->body, "secrets key")) << not_ready->body;
  httplib::Client keyed_client("127.0.0.1", keyed.port());
  auto read = keyed_client.Get(ItemPath(created.id), KeyHeaders(key_));
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  EXPECT_TRUE(Contains(read->body, "sig-...")) << read->body;
}

// ===========================================================================
// Operations: keys, backup and check commands on a serving database
// ===========================================================================

class HttpAdminCommandTest : public HttpOperationsTest {
 protected:
  int StatusFor(const std::string& key) {
    auto result = Create(key, "admin-test");
    return result ? result->status : -1;
  }
  httplib::Result Create(const std::string& key, const std::string& client) {
    return CreateWithKey(key, CreateBody("slack", client));
  }
  // The id of the last key of `origin` ("admin", "config") that `keys list`
  // shows for this test's database; empty if none.
  std::string KeyIdOf(const std::string& origin) {
    Finished listed = RunToExit({"keys", "list", "--db", db_path()});
    EXPECT_EQ(listed.exit_code, 0);
    std::string key_id;
    for (size_t at = 0; at < listed.out.size();) {
      size_t end = listed.out.find('\n', at);
      std::string line = listed.out.substr(at, end - at);
      if (Contains(line, " " + origin + " ")) {
        key_id = line.substr(0, line.find(' '));
      }
      at = end == std::string::npos ? listed.out.size() : end + 1;
    }
    return key_id;
  }
};

TEST_F(HttpAdminCommandTest, KeysCreatedListedAndRevokedWhileServing) {
  EXPECT_EQ(StatusFor(key_), 201);  // local mode: any key

  Finished created =
      RunToExit({"keys", "create", "--project", "acme", "--db", db_path()});
  ASSERT_EQ(created.exit_code, 0);
  ASSERT_FALSE(created.out.empty());
  const std::string admin_key = created.out.substr(0, created.out.find('\n'));
  EXPECT_EQ(admin_key.rfind("whk_", 0), 0u) << created.out;
  EXPECT_EQ(created.out, admin_key + "\n");  // the key alone on stdout

  // From the next request on, only the admin key is accepted.
  EXPECT_EQ(StatusFor(admin_key), 201);
  EXPECT_EQ(StatusFor(key_), 401);
  EXPECT_EQ(StatusFor(RandomKey()), 401);

  Finished listed = RunToExit({"keys", "list", "--db", db_path()});
  ASSERT_EQ(listed.exit_code, 0);
  EXPECT_TRUE(Contains(listed.out, "acme"));
  EXPECT_TRUE(Contains(listed.out, "admin"));
  EXPECT_FALSE(Contains(listed.out, admin_key));
  EXPECT_FALSE(Contains(listed.out, key_));
  const std::string key_id = KeyIdOf("admin");
  ASSERT_EQ(key_id.rfind("key_", 0), 0u) << listed.out;

  EXPECT_EQ(RunToExit({"keys", "revoke", key_id, "--db", db_path()}).exit_code,
            0);
  auto revoked = Create(admin_key, "after-revoke");
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(revoked, 401, "HTTP_Unauthorized"));
  // Revoking every admin key does not reopen the server to any key.
  EXPECT_EQ(StatusFor(RandomKey()), 401);
  EXPECT_EQ(RunToExit({"keys", "revoke", key_id, "--db", db_path()}).exit_code,
            1);
  EXPECT_EQ(RunToExit({"keys", "frobnicate", "--db", db_path()}).exit_code, 2);
  EXPECT_EQ(RunToExit({"keys", "create", "--db", db_path()}).exit_code, 2);
  server_->Stop();  // the log is complete once the server has exited
  EXPECT_FALSE(Contains(server_->Stderr(), admin_key));
}

// Issue 11, item 9 (2026-04): `keys revoke` of a key given at start-up
// printed "revoked" but the key went on working, because configured keys
// were accepted from memory before the database was asked.
TEST_F(HttpAdminCommandTest, RevokedStartUpKeyIsRefusedNowAndAfterARestart) {
  const std::string start_key = RandomKey();
  ASSERT_TRUE(StartServer({"--api-key", start_key}));
  EXPECT_EQ(StatusFor(start_key), 201);
  const std::string key_id = KeyIdOf("config");
  ASSERT_EQ(key_id.rfind("key_", 0), 0u);

  Finished revoked = RunToExit({"keys", "revoke", key_id, "--db", db_path()});
  ASSERT_EQ(revoked.exit_code, 0);
  EXPECT_EQ(revoked.out, "revoked " + key_id + "\n");
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(Create(start_key, "after"), 401,
                                              "HTTP_Unauthorized"));

  // Restarted with the revoked key still configured: it starts, says which
  // key to remove, refuses it, and is still in configured mode (no other
  // key works either).
  ASSERT_TRUE(StartServer({"--api-key", start_key}));
  const std::string log = server_->Stderr();
  EXPECT_TRUE(Contains(log, "warning: API key " + key_id)) << log;
  EXPECT_TRUE(Contains(log, "remove it")) << log;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(Create(start_key, "restarted"),
                                              401, "HTTP_Unauthorized"));
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(Create(RandomKey(), "other"), 401,
                                              "HTTP_Unauthorized"));
  EXPECT_EQ(StatusFor(key_), 401);
  server_->Stop();
  EXPECT_FALSE(Contains(server_->Stderr(), start_key));
}

TEST_F(HttpAdminCommandTest, BackupDuringWritesPassesCheckAndHoldsEveryAck) {
  constexpr int kThreads = 4;
  std::mutex mu;
  std::condition_variable enough;
  std::vector<std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      httplib::Client client = NewClient();
      for (int i = 0; i < 5000 && !stop; ++i) {
        auto result =
            client.Post(kCreatePath, {{"x-api-key", key_}},
                        CreateBody("slack", "b-" + std::to_string(t) + "-" +
                                                std::to_string(i)),
                        "application/json");
        if (!result || result->status != 201) continue;
        size_t at = result->body.find("\"id\":\"");
        std::lock_guard<std::mutex> lock(mu);
        acked.push_back(result->body.substr(at + 6, 15));
        enough.notify_all();
      }
    });
  }
  std::vector<std::string> before_backup;
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(enough.wait_for(lock, std::chrono::seconds(20),
                                [&] { return acked.size() >= 100; }));
    before_backup = acked;  // acknowledged before the backup began
  }
  const std::string copy = dir_.File("copy.db");
  Finished backup = RunToExit({"backup", "--db", db_path(), "--to", copy});
  stop = true;
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(backup.exit_code, 0) << backup.out;
  Finished check = RunToExit({"check", "--db", copy});
  EXPECT_EQ(check.exit_code, 0);
  EXPECT_TRUE(Contains(check.out, "ok"));

  // Serve the copy and find every endpoint acknowledged before the backup.
  ASSERT_TRUE(StartServerWithArgs({"--port", "0", "--db", copy}));
  std::vector<std::string> listed = ListedIds();
  std::sort(listed.begin(), listed.end());
  for (const std::string& id : before_backup) {
    EXPECT_TRUE(std::binary_search(listed.begin(), listed.end(), id)) << id;
  }
  EXPECT_GE(listed.size(), before_backup.size());
}

TEST_F(HttpAdminCommandTest, CheckFailsOnADamagedFileAndChangesNothing) {
  const std::string bad = dir_.File("bad.db");
  ASSERT_TRUE(WriteTextFile(bad, std::string(8192, 'x')));
  Finished check = RunToExit({"check", "--db", bad});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_TRUE(Contains(check.out, "damaged"));
  EXPECT_EQ(ReadFile(bad), std::string(8192, 'x'));
  EXPECT_EQ(RunToExit({"check", "--db", dir_.File("none.db")}).exit_code, 1);
  EXPECT_EQ(RunToExit({"backup", "--db", db_path()}).exit_code, 2);
}

}  // namespace
}  // namespace webhooks::testing
