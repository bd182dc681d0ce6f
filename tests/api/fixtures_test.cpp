// Issue 17, the server as a test suite's fixture: POST _local/reset, the
// --seed file and --id-seed, against the real binary (README "As a test
// fixture").

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/test_util.h"

namespace webhooks {
namespace {

using testing::DataBody;
using testing::ExpectErrorEnvelope;
using testing::HttpTest;
using testing::ItemIds;
using testing::KeyHeaders;
using testing::Ran;
using testing::RandomKey;
using testing::RunBinary;
using testing::ServerProcess;
using testing::StringField;
using testing::TempDir;
using testing::WriteTextFile;

constexpr char kSigningSecret[] = "8f742231b10e8888abcd99yyyzzz85a5";

// A project's data as a test would make it through the API: an endpoint
// with its secret, a subscription, an event and so a delivery.
struct ProjectData {
  std::string endpoint_id;
  std::string webhook_url;
  std::string subscription_id;
  std::string event_id;
};

// Makes ProjectData for `key` on the server at `client`.
void MakeData(httplib::Client& client, const std::string& key,
              ProjectData* out) {
  auto created = client.Post("/api/v3.1/webhook_endpoints", KeyHeaders(key),
                             R"({"toolkit_slug":"slack","client_id":"app"})",
                             "application/json");
  ASSERT_TRUE(created && created->status == 201);
  out->endpoint_id = StringField(created->body, "id").value_or("");
  out->webhook_url = StringField(created->body, "webhook_url").value_or("");
  auto patched = client.Patch(
      "/api/v3.1/webhook_endpoints/" + out->endpoint_id, KeyHeaders(key),
      DataBody({{"webhook_signing_secret", kSigningSecret}}),
      "application/json");
  ASSERT_TRUE(patched && patched->status == 200);
  // Port 9 (discard) on loopback: the attempts fail, the rows stay.
  auto subscribed = client.Post(
      "/api/v3.1/webhook_subscriptions", KeyHeaders(key),
      R"({"webhook_url":"http://127.0.0.1:9/hook","enabled_events":["composio.trigger.message"]})",
      "application/json");
  ASSERT_TRUE(subscribed && subscribed->status == 201)
      << (subscribed ? subscribed->body : "");
  out->subscription_id = StringField(subscribed->body, "id").value_or("");
  auto sent = client.Post(
      "/api/v3.1/webhook_endpoints/" + out->endpoint_id + "/test_event",
      KeyHeaders(key), "{}", "application/json");
  ASSERT_TRUE(sent && sent->status == 200) << (sent ? sent->body : "");
  out->event_id = StringField(sent->body, "event_id").value_or("");
}

class FixtureTest : public HttpTest {
 protected:
  httplib::Result Get(const std::string& key, const std::string& path) {
    return NewClient().Get(path, KeyHeaders(key));
  }

  httplib::Result Reset(const std::string& key,
                        const std::string& prefix = "/api/v3.1") {
    return Post(prefix + "/_local/reset", KeyHeaders(key), "");
  }

  // The ids of the deliveries of `data`'s subscription.
  std::vector<std::string> DeliveryIds(const std::string& key,
                                       const ProjectData& data) {
    auto listed = Get(key, "/api/v3.1/webhook_subscriptions/" +
                               data.subscription_id + "/deliveries");
    EXPECT_TRUE(listed && listed->status == 200);
    return listed ? ItemIds(listed->body) : std::vector<std::string>{};
  }
};

TEST_F(FixtureTest, ResetEmptiesTheCallersProjectAndNoOther) {
  const std::string other = RandomKey();
  ProjectData mine;
  ProjectData theirs;
  httplib::Client client = NewClient();
  ASSERT_NO_FATAL_FAILURE(MakeData(client, key_, &mine));
  ASSERT_NO_FATAL_FAILURE(MakeData(client, other, &theirs));
  ASSERT_EQ(DeliveryIds(key_, mine).size(), 1u);

  // Both prefixes serve it.
  for (const char* prefix : {"/api/v3", "/api/v3.1"}) {
    auto reset = Reset(key_, prefix);
    ASSERT_TRUE(reset) << prefix;
    EXPECT_EQ(reset->status, 200) << prefix;
    EXPECT_EQ(reset->body, R"({"success":true})") << prefix;
  }

  auto listed = Get(key_, "/api/v3.1/webhook_endpoints");
  ASSERT_TRUE(listed && listed->status == 200);
  EXPECT_TRUE(ItemIds(listed->body).empty()) << listed->body;
  ExpectErrorEnvelope(
      Get(key_, "/api/v3.1/webhook_endpoints/" + mine.endpoint_id), 404,
      "WebhookEndpoint_NotFound");
  ExpectErrorEnvelope(
      Get(key_, "/api/v3.1/webhook_endpoints/" + mine.endpoint_id + "/events"),
      404, "WebhookEndpoint_NotFound");
  auto subscriptions = Get(key_, "/api/v3.1/webhook_subscriptions");
  ASSERT_TRUE(subscriptions && subscriptions->status == 200);
  EXPECT_TRUE(ItemIds(subscriptions->body).empty()) << subscriptions->body;
  ExpectErrorEnvelope(Get(key_, "/api/v3.1/webhook_subscriptions/" +
                                    mine.subscription_id + "/deliveries"),
                      404, "WebhookSubscription_NotFound");
  // A provider's next event to the old URL finds no endpoint.
  const std::string path =
      mine.webhook_url.substr(mine.webhook_url.find("/api/"));
  auto ingress = Post(path, {}, R"({"type":"event_callback"})");
  ASSERT_TRUE(ingress);
  EXPECT_EQ(ingress->status, 404);

  // The other project keeps everything.
  auto kept = Get(
      other, "/api/v3.1/webhook_endpoints/" + theirs.endpoint_id + "/events");
  ASSERT_TRUE(kept && kept->status == 200);
  EXPECT_EQ(ItemIds(kept->body), std::vector<std::string>{theirs.event_id});
  EXPECT_EQ(DeliveryIds(other, theirs).size(), 1u);

  // The project starts over as new.
  ProjectData again;
  ASSERT_NO_FATAL_FAILURE(MakeData(client, key_, &again));
  EXPECT_NE(again.endpoint_id, mine.endpoint_id);
}

TEST_F(FixtureTest, ResetIsRefusedInConfiguredMode) {
  const std::string key = RandomKey();
  ASSERT_TRUE(StartServer({"--api-key", key}));
  auto created =
      CreateWithKey(key, R"({"toolkit_slug":"slack","client_id":"kept"})");
  ASSERT_TRUE(created && created->status == 201);

  ExpectErrorEnvelope(Reset(key), 403, "Fixture_LocalModeOnly");
  ExpectErrorEnvelope(Reset("not-a-key"), 401, "HTTP_Unauthorized");
  auto listed = Get(key, "/api/v3.1/webhook_endpoints");
  ASSERT_TRUE(listed && listed->status == 200);
  EXPECT_EQ(ItemIds(listed->body).size(), 1u);
}

// ---- --seed ----------------------------------------------------------------

TEST_F(FixtureTest, SeedIsAppliedAtStartAndNotDuplicatedByARestart) {
  const std::string other = RandomKey();
  const std::string seed = dir_.File("seed.json");
  ASSERT_TRUE(WriteTextFile(seed, R"({"projects": [
    {"api_key": ")" + key_ + R"(",
     "endpoints": [
       {"toolkit_slug": "slack", "client_id": "app-1",
        "data": {"webhook_signing_secret": "8f742231b10e8888abcd99yyyzzz85a5"}},
       {"toolkit_slug": "notion", "client_id": "app-2"}],
     "subscription": {"webhook_url": "http://localhost:3000/hooks",
                      "enabled_events": ["composio.trigger.message"],
                      "secret": "known-secret-for-tests"}},
    {"api_key": ")" + other + R"(", "endpoints": [
       {"toolkit_slug": "slack", "client_id": "app-1"}]}]})"));

  std::vector<std::string> first_ids;
  std::string subscription;
  for (int start = 0; start < 2; ++start) {
    ASSERT_TRUE(StartServer({"--seed", seed})) << "start " << start;
    auto listed = Get(key_, "/api/v3.1/webhook_endpoints");
    ASSERT_TRUE(listed && listed->status == 200);
    const std::vector<std::string> ids = ItemIds(listed->body);
    ASSERT_EQ(ids.size(), 2u) << listed->body;
    if (start == 0) first_ids = ids;
    EXPECT_EQ(ids, first_ids) << "start " << start;

    auto endpoint = Get(key_, "/api/v3.1/webhook_endpoints/" + ids[0]);
    ASSERT_TRUE(endpoint && endpoint->status == 200);
    EXPECT_TRUE(testing::Contains(endpoint->body,
                                  R"("webhook_signing_secret":"8f74...")"))
        << endpoint->body;

    auto subscriptions = Get(key_, "/api/v3.1/webhook_subscriptions");
    ASSERT_TRUE(subscriptions && subscriptions->status == 200);
    const std::vector<std::string> subscription_ids =
        ItemIds(subscriptions->body);
    ASSERT_EQ(subscription_ids.size(), 1u) << subscriptions->body;
    if (start == 0) subscription = subscription_ids[0];
    EXPECT_EQ(subscription_ids[0], subscription);
    EXPECT_TRUE(testing::Contains(subscriptions->body,
                                  R"("secret":"known-secret-for-tests")"))
        << subscriptions->body;
    EXPECT_TRUE(testing::Contains(
        subscriptions->body, R"("webhook_url":"http://localhost:3000/hooks")"))
        << subscriptions->body;

    auto theirs = Get(other, "/api/v3.1/webhook_endpoints");
    ASSERT_TRUE(theirs && theirs->status == 200);
    EXPECT_EQ(ItemIds(theirs->body).size(), 1u) << theirs->body;
  }
  EXPECT_TRUE(testing::Contains(server_->Stderr(), "seed=" + seed));
}

TEST(SeedFileTest, ABadFileStopsStartUpWithOneLineNamingIt) {
  TempDir dir;
  struct Case {
    std::string text;  // empty: no file at all
    std::string says;
  };
  const std::vector<Case> cases = {
      {"", "cannot be read"},
      {"{\"projects\": [", "not valid JSON"},
      {R"({"project": []})", "unknown key 'project'"},
      {R"({"projects": [{"endpoints": []}]})",
       "projects[0]: api_key is required"},
      {R"({"projects": [{"api_key": "k", "endpoints": [{"toolkit_slug": "nope", "client_id": "a"}]}]})",
       "projects[0].endpoints[0]: "},
      {R"({"projects": [{"api_key": "k", "endpoints": [{"toolkit_slug": "slack", "client_id": "a", "data": {"bogus": "x"}}]}]})",
       "bogus"},
      {R"({"projects": [{"api_key": "k", "subscription": {"webhook_url": "ftp://x"}}]})",
       "projects[0].subscription: "},
  };
  int n = 0;
  for (const Case& each : cases) {
    const std::string path = dir.File("seed" + std::to_string(n++) + ".json");
    if (!each.text.empty()) {
      ASSERT_TRUE(WriteTextFile(path, each.text));
    }
    const Ran ran =
        RunBinary({"--port", "0", "--db", ":memory:", "--seed", path});
    EXPECT_EQ(ran.exit_code, 2) << each.text << "\n" << ran.err;
    EXPECT_EQ(ran.out, "") << each.text;
    const std::string expected = "webhooks-server: seed file '" + path + "': ";
    EXPECT_EQ(ran.err.rfind(expected, 0), 0u) << ran.err;
    EXPECT_TRUE(testing::Contains(ran.err, each.says)) << ran.err;
    EXPECT_EQ(std::count(ran.err.begin(), ran.err.end(), '\n'), 1) << ran.err;
  }
  // The variable works as the flag does.
  const Ran ran = RunBinary({"--port", "0", "--db", ":memory:"},
                            {"WEBHOOKS_SEED=" + dir.File("missing.json")});
  EXPECT_EQ(ran.exit_code, 2) << ran.err;
  EXPECT_TRUE(testing::Contains(ran.err, "missing.json': cannot be read"));
}

// ---- --id-seed -------------------------------------------------------------

// The ids one run of the same requests gives on a fresh server.
std::vector<std::string> IdsOfARun(const std::vector<std::string>& args,
                                   const std::vector<std::string>& env = {}) {
  ServerProcess server;
  std::vector<std::string> all = {"--port", "0", "--db", ":memory:"};
  all.insert(all.end(), args.begin(), args.end());
  EXPECT_TRUE(server.Start(all, env)) << server.Stderr();
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(5, 0);
  ProjectData data;
  MakeData(client, "snapshot-key", &data);
  auto deliveries = client.Get(
      "/api/v3.1/webhook_subscriptions/" + data.subscription_id + "/deliveries",
      KeyHeaders("snapshot-key"));
  EXPECT_TRUE(deliveries && deliveries->status == 200);
  auto subscription =
      client.Get("/api/v3.1/webhook_subscriptions/" + data.subscription_id,
                 KeyHeaders("snapshot-key"));
  EXPECT_TRUE(subscription && subscription->status == 200);
  std::vector<std::string> ids = {data.endpoint_id, data.subscription_id,
                                  data.event_id};
  for (const std::string& id :
       deliveries ? ItemIds(deliveries->body) : std::vector<std::string>{}) {
    ids.push_back(id);
  }
  ids.push_back(subscription
                    ? StringField(subscription->body, "secret").value_or("")
                    : "");
  return ids;
}

TEST(IdSeedTest, TheSameSeedAndRequestsGiveTheSameIds) {
  const std::vector<std::string> first = IdsOfARun({"--id-seed", "42"});
  ASSERT_EQ(first.size(), 5u);
  for (const std::string& id : first) EXPECT_FALSE(id.empty());
  EXPECT_EQ(first[0].rfind("we_", 0), 0u);
  EXPECT_EQ(first[1].rfind("whs_", 0), 0u);
  EXPECT_EQ(first[2].rfind("ev_", 0), 0u);
  EXPECT_EQ(first[3].rfind("dlv_", 0), 0u);
  // Another server, the same seed (from the variable this time).
  EXPECT_EQ(IdsOfARun({}, {"WEBHOOKS_ID_SEED=42"}), first);
  // Another seed, and no seed: none of the ids repeat.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--id-seed", "43"},
        std::vector<std::string>{}}) {
    const std::vector<std::string> other = IdsOfARun(args);
    ASSERT_EQ(other.size(), first.size());
    for (size_t i = 0; i < first.size(); ++i) EXPECT_NE(other[i], first[i]);
  }
}

TEST(IdSeedTest, IsRefusedWhereKeysAreConfigured) {
  TempDir dir;
  const std::vector<std::vector<std::string>> refused = {
      {"--id-seed", "1", "--api-key", "secret-key-1"},
      {"--id-seed", "1", "--require-keys"},
  };
  for (const std::vector<std::string>& extra : refused) {
    std::vector<std::string> args = {"--port", "0", "--db", ":memory:"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Ran ran = RunBinary(args);
    EXPECT_EQ(ran.exit_code, 2) << ran.err;
    EXPECT_EQ(ran.out, "");
    EXPECT_EQ(ran.err.rfind("webhooks-server: --id-seed", 0), 0u) << ran.err;
    EXPECT_EQ(std::count(ran.err.begin(), ran.err.end(), '\n'), 1) << ran.err;
    EXPECT_FALSE(testing::Contains(ran.err, "secret-key-1"));
  }
  const Ran ran =
      RunBinary({"--port", "0", "--db", ":memory:", "--id-seed", "1"},
                {"WEBHOOKS_API_KEYS=secret-key-1"});
  EXPECT_EQ(ran.exit_code, 2) << ran.err;
  EXPECT_EQ(ran.err.rfind("webhooks-server: --id-seed", 0), 0u) << ran.err;
  const Ran bad =
      RunBinary({"--port", "0", "--db", ":memory:", "--id-seed", "-1"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_TRUE(testing::Contains(bad.err, "--id-seed must be a number"));
}

}  // namespace
}  // namespace webhooks
