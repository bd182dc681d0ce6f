// Black-box tests of the webhook subscription routes ("Subscription routes"
// in ../shared/spec/subscriptions-and-delivery.md, issue 14) against the real
// binary, through HttpTest in http_fixture.h: every route under both
// prefixes, the object, one subscription per project (409), validation
// listing every problem, 404 for unknown and other projects' ids, PATCH,
// rotation, delete, the list's paging fields, event types, refused targets
// (link-local always, private ranges under --deny-private-targets) and a
// secret that never reaches the log.

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

constexpr const char* kPrefixes[] = {"/api/v3", "/api/v3.1"};
constexpr char kSubscriptionsV31[] = "/api/v3.1/webhook_subscriptions";
constexpr char kValidation[] = "WebhookSubscription_ValidationError";
constexpr char kNotFound[] = "WebhookSubscription_NotFound";

// The subscription object as a client sees it.
struct Subscription {
  std::string id;
  std::string webhook_url;
  std::string version;
  std::vector<std::string> enabled_events;
  std::string secret;
  std::string status;
  std::string created_at;
  std::string updated_at;
};

// Reads the subscription object `object`, asserting exactly its fields.
void ReadSubscription(simdjson::dom::object object, Subscription* out) {
  EXPECT_EQ(SortedKeys(object),
            (std::vector<std::string>{"created_at", "enabled_events", "id",
                                      "secret", "status", "updated_at",
                                      "version", "webhook_url"}));
  std::string_view text;
  Subscription got;
  ASSERT_EQ(object["id"].get_string().get(text), simdjson::SUCCESS);
  got.id = text;
  ASSERT_EQ(object["webhook_url"].get_string().get(text), simdjson::SUCCESS);
  got.webhook_url = text;
  ASSERT_EQ(object["version"].get_string().get(text), simdjson::SUCCESS);
  got.version = text;
  simdjson::dom::array events;
  ASSERT_EQ(object["enabled_events"].get_array().get(events),
            simdjson::SUCCESS);
  for (simdjson::dom::element event : events) {
    ASSERT_EQ(event.get_string().get(text), simdjson::SUCCESS);
    got.enabled_events.emplace_back(text);
  }
  ASSERT_EQ(object["secret"].get_string().get(text), simdjson::SUCCESS);
  got.secret = text;
  ASSERT_EQ(object["status"].get_string().get(text), simdjson::SUCCESS);
  got.status = text;
  ASSERT_EQ(object["created_at"].get_string().get(text), simdjson::SUCCESS);
  got.created_at = text;
  ASSERT_EQ(object["updated_at"].get_string().get(text), simdjson::SUCCESS);
  got.updated_at = text;
  *out = got;
}

// Asserts a subscription answer with `status`. Fills *out.
void ExpectSubscription(const httplib::Result& result, int status,
                        Subscription* out) {
  ASSERT_TRUE(result) << "no response: " << httplib::to_string(result.error());
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_NO_FATAL_FAILURE(
      ExpectJsonObject(ToReply(result), status, &parser, &object));
  ReadSubscription(object, out);
}

bool IsSubscriptionId(std::string_view id) {
  return id.size() == 16 && id.substr(0, 4) == "whs_" &&
         IsEndpointId("we_" + std::string(id.substr(4)));
}

std::string Body(const std::string& url,
                 const std::string& events = R"(["composio.trigger.message"])",
                 const std::string& extra = "") {
  return R"({"webhook_url":)" + JsonString(url) + R"(,"enabled_events":)" +
         events + extra + "}";
}

class HttpSubscriptionTest : public HttpTest {
 protected:
  static std::string Path(const std::string& prefix, const std::string& rest) {
    return prefix + "/webhook_subscriptions" + rest;
  }

  httplib::Result CreateAs(const std::string& key, const std::string& body,
                           const std::string& prefix = "/api/v3.1") {
    return Post(Path(prefix, ""), KeyHeaders(key), body);
  }
  httplib::Result GetAs(const std::string& key, const std::string& id,
                        const std::string& prefix = "/api/v3.1") {
    return NewClient().Get(Path(prefix, "/" + id), KeyHeaders(key));
  }
  httplib::Result PatchAs(const std::string& key, const std::string& id,
                          const std::string& body,
                          const std::string& prefix = "/api/v3.1") {
    return NewClient().Patch(Path(prefix, "/" + id), KeyHeaders(key), body,
                             "application/json");
  }
  httplib::Result DeleteAs(const std::string& key, const std::string& id,
                           const std::string& prefix = "/api/v3.1") {
    return NewClient().Delete(Path(prefix, "/" + id), KeyHeaders(key));
  }
  httplib::Result RotateAs(const std::string& key, const std::string& id,
                           const std::string& prefix = "/api/v3.1") {
    return NewClient().Post(Path(prefix, "/" + id + "/rotate_secret"),
                            KeyHeaders(key), "", "");
  }
  httplib::Result ListAs(const std::string& key, const std::string& query = "",
                         const std::string& prefix = "/api/v3.1") {
    return NewClient().Get(Path(prefix, query.empty() ? "" : "?" + query),
                           KeyHeaders(key));
  }

  void MustCreate(Subscription* out, const std::string& key = "",
                  const std::string& url = "https://app.test/hooks") {
    ASSERT_NO_FATAL_FAILURE(ExpectSubscription(
        CreateAs(key.empty() ? key_ : key, Body(url)), 201, out));
  }

  // The problems of a 400 validation answer to a create of `body`.
  std::vector<std::string> CreateProblems(const std::string& body) {
    ErrorBody error;
    ExpectErrorEnvelope(CreateAs(RandomKey(), body), 400, kValidation, &error);
    return error.errors;
  }
};

TEST_F(HttpSubscriptionTest, CreateAnswers201WithTheObjectUnderBothPrefixes) {
  for (const char* prefix : kPrefixes) {
    SCOPED_TRACE(prefix);
    Subscription created;
    ASSERT_NO_FATAL_FAILURE(ExpectSubscription(
        CreateAs(RandomKey(), Body("https://app.test/hooks"), prefix), 201,
        &created));
    EXPECT_TRUE(IsSubscriptionId(created.id)) << created.id;
    EXPECT_EQ(created.webhook_url, "https://app.test/hooks");
    EXPECT_EQ(created.version, "V3");  // the default
    EXPECT_EQ(created.enabled_events,
              std::vector<std::string>{"composio.trigger.message"});
    EXPECT_GE(created.secret.size(), 32u);
    EXPECT_EQ(created.status, "enabled");
    EXPECT_TRUE(HasShape(created.created_at, "9999-99-99T99:99:99.999Z"))
        << created.created_at;
    EXPECT_LE(std::abs(SecondsFromNow(created.created_at)), 60.0);
    EXPECT_EQ(created.updated_at, created.created_at);
  }
}

TEST_F(HttpSubscriptionTest, EveryRouteAnswersUnderBothPrefixes) {
  for (const char* prefix : kPrefixes) {
    SCOPED_TRACE(prefix);
    const std::string key = RandomKey();
    Subscription created, read, patched;
    ASSERT_NO_FATAL_FAILURE(ExpectSubscription(
        CreateAs(key,
                 Body("http://localhost:3000/x",
                      R"(["composio.trigger.message"])", R"(,"version":"V1")"),
                 prefix),
        201, &created));
    EXPECT_EQ(created.version, "V1");
    auto listed = ListAs(key, "", prefix);
    ASSERT_TRUE(listed);
    EXPECT_EQ(listed->status, 200) << listed->body;
    auto types = NewClient().Get(Path(prefix, "/event_types"), KeyHeaders(key));
    ASSERT_TRUE(types);
    EXPECT_EQ(types->status, 200) << types->body;
    ASSERT_NO_FATAL_FAILURE(
        ExpectSubscription(GetAs(key, created.id, prefix), 200, &read));
    EXPECT_EQ(read.secret, created.secret);
    ASSERT_NO_FATAL_FAILURE(ExpectSubscription(
        PatchAs(key, created.id, R"({"version":"V2"})", prefix), 200,
        &patched));
    EXPECT_EQ(patched.version, "V2");
    auto rotated = RotateAs(key, created.id, prefix);
    ASSERT_TRUE(rotated);
    EXPECT_EQ(rotated->status, 200) << rotated->body;
    ExpectDeleted(DeleteAs(key, created.id, prefix));
  }
}

TEST_F(HttpSubscriptionTest, NeedsAKey) {
  ExpectErrorEnvelope(Post(kSubscriptionsV31, {}, Body("https://a.test/")), 401,
                      "HTTP_Unauthorized");
  ExpectErrorEnvelope(NewClient().Get(kSubscriptionsV31), 401,
                      "HTTP_Unauthorized");
}

TEST_F(HttpSubscriptionTest, ASecondCreateIs409NamingTheExistingOne) {
  Subscription first;
  ASSERT_NO_FATAL_FAILURE(MustCreate(&first));
  ErrorBody error;
  auto again = CreateAs(key_, Body("https://other.test/"));
  ExpectErrorEnvelope(again, 409, "WebhookSubscription_AlreadyExists", &error);
  // The official client retries a 409 unless told not to.
  EXPECT_EQ(again->get_header_value("x-should-retry"), "false");
  EXPECT_TRUE(Contains(error.suggested_fix, first.id)) << error.suggested_fix;
  EXPECT_TRUE(Contains(error.suggested_fix, "PATCH")) << error.suggested_fix;
  EXPECT_TRUE(Contains(error.message, first.id)) << error.message;
  // Nothing changed.
  Subscription read;
  ASSERT_NO_FATAL_FAILURE(
      ExpectSubscription(GetAs(key_, first.id), 200, &read));
  EXPECT_EQ(read.webhook_url, first.webhook_url);
}

TEST_F(HttpSubscriptionTest, ValidationListsEveryProblem) {
  const std::vector<std::string> problems = CreateProblems(
      R"({"webhook_url":"ftp://x.test/","version":"V4",)"
      R"("enabled_events":["composio.trigger.message","nope",)"
      R"("composio.trigger.message",7],"colour":"red","secret":"s"})");
  EXPECT_EQ(problems.size(), 7u) << Join(problems);
  EXPECT_TRUE(SomeErrorSays(problems, {"webhook_url", "http"}));
  EXPECT_TRUE(SomeErrorSays(problems, {"version", "v1"}));
  EXPECT_TRUE(SomeErrorSays(problems, {"enabled_events[1]", "nope"}));
  EXPECT_TRUE(SomeErrorSays(problems, {"enabled_events[2]", "repeats"}));
  EXPECT_TRUE(SomeErrorSays(problems, {"enabled_events[3]", "string"}));
  EXPECT_TRUE(SomeErrorSays(problems, {"unknown field", "colour"}));
  EXPECT_TRUE(SomeErrorSays(problems, {"secret", "cannot be set"}));

  const std::vector<std::string> missing = CreateProblems("{}");
  EXPECT_EQ(missing.size(), 2u) << Join(missing);
  EXPECT_TRUE(SomeErrorSays(missing, {"webhook_url", "required"}));
  EXPECT_TRUE(SomeErrorSays(missing, {"enabled_events", "required"}));

  EXPECT_TRUE(SomeErrorSays(CreateProblems(Body("https://a.test/", "[]")),
                            {"enabled_events", "at least one"}));
  EXPECT_TRUE(SomeErrorSays(
      CreateProblems(Body("https://a.test/", R"("composio.trigger.message")")),
      {"enabled_events", "array"}));
  EXPECT_TRUE(SomeErrorSays(
      CreateProblems(Body("https://a.test/", "[]", R"(,"version":"v3")")),
      {"version"}));
  EXPECT_TRUE(SomeErrorSays(CreateProblems("{"), {"not valid json"}));
  EXPECT_TRUE(SomeErrorSays(CreateProblems("[]"), {"json object"}));
  ErrorBody error;
  ExpectErrorEnvelope(Post(kSubscriptionsV31, KeyHeaders(key_),
                           Body("https://a.test/"), "text/plain"),
                      400, kValidation, &error);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"content-type"}));
}

TEST_F(HttpSubscriptionTest, WebhookUrlRulesAreEnforced) {
  const std::string long_url =
      "https://a.test/" + std::string(2048 - 15, 'p');  // 2048 bytes
  ASSERT_EQ(long_url.size(), 2048u);
  struct Case {
    std::string url;
    std::vector<std::string> words;
  };
  const std::vector<Case> refused = {
      {"ftp://a.test/", {"http"}},
      {"/relative/path", {"http"}},
      {"a.test/hooks", {"http"}},
      {"https://user:pw@a.test/", {"user-info"}},
      {"https://a.test/#frag", {"fragment"}},
      {"https:///nohost", {"host"}},
      {"https://", {"host"}},
      {"https://a b.test/", {"spaces"}},
      {"https://a.test:0/", {"port"}},
      {"https://a.test:99999/", {"port"}},
      {"https://[not-ip]/", {"ipv6"}},
      {long_url + "p", {"2048"}},
  };
  for (const Case& c : refused) {
    SCOPED_TRACE(c.url);
    std::vector<std::string> words = c.words;
    words.insert(words.begin(), "webhook_url");
    EXPECT_TRUE(SomeErrorSays(CreateProblems(Body(c.url)), words));
  }
  for (const std::string& url :
       {long_url, std::string("HTTP://A.test:8080/p?q=\"x\"\\y"),
        std::string("http://[2001:db8::1]:8080/"),
        std::string("http://127.0.0.1:3000/hooks")}) {
    SCOPED_TRACE(url);
    Subscription created;
    ASSERT_NO_FATAL_FAILURE(
        ExpectSubscription(CreateAs(RandomKey(), Body(url)), 201, &created));
    EXPECT_EQ(created.webhook_url, url);  // kept exactly, escapes and all
  }
}

TEST_F(HttpSubscriptionTest, UnknownAndMalformedIdsAre404OnEveryRoute) {
  for (const std::string id : {"whs_000000000000", "nope", "we_000000000000"}) {
    SCOPED_TRACE(id);
    ExpectErrorEnvelope(GetAs(key_, id), 404, kNotFound);
    ExpectErrorEnvelope(PatchAs(key_, id, "{}"), 404, kNotFound);
    ExpectErrorEnvelope(DeleteAs(key_, id), 404, kNotFound);
    ExpectErrorEnvelope(RotateAs(key_, id), 404, kNotFound);
  }
  // A bad body to a missing id is still a 404.
  ExpectErrorEnvelope(PatchAs(key_, "whs_000000000000", R"({"version":7})"),
                      404, kNotFound);
}

TEST_F(HttpSubscriptionTest, AnotherProjectsIdIs404AndChangesNothing) {
  Subscription mine;
  ASSERT_NO_FATAL_FAILURE(MustCreate(&mine));
  const std::string stranger = RandomKey();
  ExpectErrorEnvelope(GetAs(stranger, mine.id), 404, kNotFound);
  ExpectErrorEnvelope(
      PatchAs(stranger, mine.id, R"({"webhook_url":"https://evil.test/"})"),
      404, kNotFound);
  ExpectErrorEnvelope(RotateAs(stranger, mine.id), 404, kNotFound);
  ExpectErrorEnvelope(DeleteAs(stranger, mine.id), 404, kNotFound);
  auto listed = ListAs(stranger);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(Contains(listed->body, R"("items":[])")) << listed->body;
  Subscription read;
  ASSERT_NO_FATAL_FAILURE(ExpectSubscription(GetAs(key_, mine.id), 200, &read));
  EXPECT_EQ(read.webhook_url, mine.webhook_url);
  EXPECT_EQ(read.secret, mine.secret);
}

TEST_F(HttpSubscriptionTest, RotationReplacesTheSecret) {
  Subscription created;
  ASSERT_NO_FATAL_FAILURE(MustCreate(&created));
  auto rotated = RotateAs(key_, created.id);
  ASSERT_TRUE(rotated);
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_NO_FATAL_FAILURE(
      ExpectJsonObject(ToReply(rotated), 200, &parser, &object));
  EXPECT_EQ(SortedKeys(object), (std::vector<std::string>{"id", "secret"}));
  std::string_view id, secret;
  ASSERT_EQ(object["id"].get_string().get(id), simdjson::SUCCESS);
  ASSERT_EQ(object["secret"].get_string().get(secret), simdjson::SUCCESS);
  EXPECT_EQ(id, created.id);
  EXPECT_NE(secret, created.secret);
  EXPECT_GE(secret.size(), 32u);
  Subscription read;
  ASSERT_NO_FATAL_FAILURE(
      ExpectSubscription(GetAs(key_, created.id), 200, &read));
  EXPECT_EQ(read.secret, secret);
}

TEST_F(HttpSubscriptionTest, PatchChangesWhatIsGivenAndReEnables) {
  Subscription created;
  ASSERT_NO_FATAL_FAILURE(MustCreate(&created));
  Subscription patched;
  ASSERT_NO_FATAL_FAILURE(ExpectSubscription(
      PatchAs(key_, created.id,
              R"({"webhook_url":"http://localhost:4000/new","version":"V2",)"
              R"("enabled_events":["composio.trigger.disabled",)"
              R"("composio.connected_account.expired"]})"),
      200, &patched));
  EXPECT_EQ(patched.id, created.id);
  EXPECT_EQ(patched.webhook_url, "http://localhost:4000/new");
  EXPECT_EQ(patched.version, "V2");
  EXPECT_EQ(patched.enabled_events,
            (std::vector<std::string>{"composio.trigger.disabled",
                                      "composio.connected_account.expired"}));
  EXPECT_EQ(patched.secret, created.secret);
  EXPECT_EQ(patched.created_at, created.created_at);

  // As after a receiver's 410 Gone (the delivery worker's doing).
  ASSERT_TRUE(ExecOnDatabase(
      db_path(), "UPDATE webhook_subscriptions SET enabled = false"));
  Subscription read;
  ASSERT_NO_FATAL_FAILURE(
      ExpectSubscription(GetAs(key_, created.id), 200, &read));
  EXPECT_EQ(read.status, "disabled");
  // An empty patch changes nothing but re-enables; so does status alone.
  ASSERT_NO_FATAL_FAILURE(
      ExpectSubscription(PatchAs(key_, created.id, "{}"), 200, &read));
  EXPECT_EQ(read.status, "enabled");
  EXPECT_EQ(read.webhook_url, patched.webhook_url);
  EXPECT_EQ(read.enabled_events, patched.enabled_events);
  ASSERT_NO_FATAL_FAILURE(ExpectSubscription(
      PatchAs(key_, created.id, R"({"status":"enabled"})"), 200, &read));

  ErrorBody error;
  ExpectErrorEnvelope(
      PatchAs(key_, created.id,
              R"({"status":"disabled","webhook_url":"x","enabled_events":[]})"),
      400, kValidation, &error);
  EXPECT_EQ(error.errors.size(), 3u) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"status", "enabled"}));
}

TEST_F(HttpSubscriptionTest, ListHasThePagingFieldsAndOnePage) {
  auto empty = ListAs(key_);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 200);
  EXPECT_EQ(empty->body, R"({"items":[],"next_cursor":null,"total_pages":1,)"
                         R"("current_page":1,"total_items":0})");
  Subscription created;
  ASSERT_NO_FATAL_FAILURE(MustCreate(&created));
  for (const std::string query : {"", "limit=1", "limit=50", "cursor="}) {
    SCOPED_TRACE(query);
    auto listed = ListAs(key_, query);
    ASSERT_TRUE(listed);
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    ASSERT_NO_FATAL_FAILURE(
        ExpectJsonObject(ToReply(listed), 200, &parser, &object));
    EXPECT_EQ(SortedKeys(object),
              (std::vector<std::string>{"current_page", "items", "next_cursor",
                                        "total_items", "total_pages"}));
    simdjson::dom::array items;
    ASSERT_EQ(object["items"].get_array().get(items), simdjson::SUCCESS);
    ASSERT_EQ(items.size(), 1u);
    simdjson::dom::object item;
    ASSERT_EQ(items.at(0).get_object().get(item), simdjson::SUCCESS);
    Subscription listed_item;
    ASSERT_NO_FATAL_FAILURE(ReadSubscription(item, &listed_item));
    EXPECT_EQ(listed_item.id, created.id);
    EXPECT_EQ(listed_item.secret, created.secret);
    int64_t total = 0;
    ASSERT_EQ(object["total_items"].get_int64().get(total), simdjson::SUCCESS);
    EXPECT_EQ(total, 1);
  }
  for (const std::string query :
       {"limit=0", "limit=51", "limit=x", "cursor=abc"}) {
    SCOPED_TRACE(query);
    ExpectErrorEnvelope(ListAs(key_, query), 400, kValidation);
  }
}

TEST_F(HttpSubscriptionTest, EventTypesListTheContractsThree) {
  auto types = NewClient().Get(std::string(kSubscriptionsV31) + "/event_types",
                               KeyHeaders(key_));
  ASSERT_TRUE(types);
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_NO_FATAL_FAILURE(
      ExpectJsonObject(ToReply(types), 200, &parser, &object));
  EXPECT_EQ(SortedKeys(object), std::vector<std::string>{"items"});
  simdjson::dom::array items;
  ASSERT_EQ(object["items"].get_array().get(items), simdjson::SUCCESS);
  std::vector<std::string> seen;
  for (simdjson::dom::element element : items) {
    simdjson::dom::object item;
    ASSERT_EQ(element.get_object().get(item), simdjson::SUCCESS);
    EXPECT_EQ(SortedKeys(item),
              (std::vector<std::string>{"description", "event_type",
                                        "supported_versions"}));
    std::string_view type;
    ASSERT_EQ(item["event_type"].get_string().get(type), simdjson::SUCCESS);
    std::string versions;
    simdjson::dom::array list;
    ASSERT_EQ(item["supported_versions"].get_array().get(list),
              simdjson::SUCCESS);
    for (simdjson::dom::element version : list) {
      std::string_view text;
      ASSERT_EQ(version.get_string().get(text), simdjson::SUCCESS);
      versions += std::string(versions.empty() ? "" : ",") + std::string(text);
    }
    seen.push_back(std::string(type) + ":" + versions);
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"composio.trigger.message:V1,V2,V3",
                                      "composio.connected_account.expired:V3",
                                      "composio.trigger.disabled:V3"}));
}

TEST_F(HttpSubscriptionTest, DeleteAnswersSuccessAndTheProjectMayCreateAgain) {
  Subscription created;
  ASSERT_NO_FATAL_FAILURE(MustCreate(&created));
  ExpectDeleted(DeleteAs(key_, created.id));
  ExpectErrorEnvelope(GetAs(key_, created.id), 404, kNotFound);
  ExpectErrorEnvelope(DeleteAs(key_, created.id), 404, kNotFound);
  Subscription again;
  ASSERT_NO_FATAL_FAILURE(MustCreate(&again));
  EXPECT_NE(again.id, created.id);
  EXPECT_NE(again.secret, created.secret);
}

// Link-local and cloud metadata addresses are refused in every mode, at
// create and at PATCH, when the URL names them as IP literals.
TEST_F(HttpSubscriptionTest, LinkLocalTargetsAreAlwaysRefused) {
  Subscription created;
  ASSERT_NO_FATAL_FAILURE(MustCreate(&created));
  for (const std::string url :
       {"http://169.254.169.254/latest/meta-data", "http://169.254.0.1:80/",
        "http://[fe80::1]/", "http://[FE80::abcd]:8080/",
        "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/"}) {
    SCOPED_TRACE(url);
    EXPECT_TRUE(SomeErrorSays(CreateProblems(Body(url)),
                              {"webhook_url", "never delivers"}));
    ErrorBody error;
    ExpectErrorEnvelope(
        PatchAs(key_, created.id, R"({"webhook_url":)" + JsonString(url) + "}"),
        400, kValidation, &error);
  }
  // Loopback and private addresses are fine without --deny-private-targets.
  for (const std::string url :
       {"http://127.0.0.1:3000/", "http://10.1.2.3/", "http://[::1]:3000/"}) {
    SCOPED_TRACE(url);
    Subscription patched;
    ASSERT_NO_FATAL_FAILURE(ExpectSubscription(
        PatchAs(key_, created.id, R"({"webhook_url":)" + JsonString(url) + "}"),
        200, &patched));
  }
}

TEST_F(HttpSubscriptionTest, DenyPrivateTargetsRefusesPrivateLiterals) {
  ASSERT_TRUE(StartServer({"--deny-private-targets"}));
  for (const std::string url :
       {"http://127.0.0.1:3000/", "http://10.0.0.1/", "http://172.16.0.1/",
        "http://192.168.1.1/", "http://100.64.0.1/", "http://0.0.0.0/",
        "http://[::1]/", "http://[::]/", "http://[fc00::1]/",
        "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/"}) {
    SCOPED_TRACE(url);
    EXPECT_TRUE(SomeErrorSays(CreateProblems(Body(url)),
                              {"webhook_url", "never delivers"}));
  }
  // Public literals pass; names are resolved and checked at delivery, not
  // here.
  for (const std::string url :
       {"http://8.8.8.8/", "http://172.32.0.1/", "http://localhost:3000/"}) {
    SCOPED_TRACE(url);
    Subscription created;
    ASSERT_NO_FATAL_FAILURE(
        ExpectSubscription(CreateAs(RandomKey(), Body(url)), 201, &created));
  }
}

TEST_F(HttpSubscriptionTest, TheSecretNeverReachesTheLog) {
  Subscription created;
  ASSERT_NO_FATAL_FAILURE(MustCreate(&created));
  auto rotated = RotateAs(key_, created.id);
  ASSERT_TRUE(rotated && rotated->status == 200);
  const std::string new_secret = rotated->body.substr(
      rotated->body.find(R"("secret":")") + 10, created.secret.size());
  Subscription read;
  ASSERT_NO_FATAL_FAILURE(
      ExpectSubscription(GetAs(key_, created.id), 200, &read));
  ASSERT_EQ(read.secret, new_secret);
  ASSERT_EQ(WEXITSTATUS(server_->Stop()), 0);
  const std::string log = server_->Stderr();
  EXPECT_TRUE(Contains(log, "webhook_subscriptions")) << log;
  EXPECT_FALSE(Contains(log, created.secret));
  EXPECT_FALSE(Contains(log, new_secret));
}

}  // namespace
}  // namespace webhooks::testing
