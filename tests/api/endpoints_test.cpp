// Black-box tests of creating an endpoint (webhook_endpoints in
// ../shared/spec/webhook-endpoints.md) against the real binary, through the
// fixture in http_fixture.h: the endpoint object, idempotency, JSON strings
// in and out, and validation. Retrieve, project isolation, list and delete
// are in endpoints_manage_test.cpp; setup data (PATCH, replace, masks) in
// setup_data_test.cpp; the schema and catalog files in toolkits_test.cpp.
// Tests are grouped by spec section, one test suite per section.

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/api/http_fixture.h"
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

}  // namespace
}  // namespace webhooks::testing
