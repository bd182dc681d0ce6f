// Black-box tests of the endpoints resource (webhook_endpoints in
// ../shared/spec/webhook-endpoints.md) against the real binary, through the
// fixture in http_fixture.h: create (the endpoint object, idempotency, JSON
// strings in and out, validation), retrieve, project isolation on every
// route, list (filter, order, limit/cursor paging) and delete. Setup data
// (PATCH, replace, masks) is in setup_data_test.cpp; the schema and catalog
// files in toolkits_test.cpp. Tests are grouped by spec section, one test
// suite per section.

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
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

}  // namespace
}  // namespace webhooks::testing
