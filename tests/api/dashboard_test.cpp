// Black-box tests of the dashboard's server side (issue 15) against the real
// binary: the page's files and their security headers, the toolkit catalog,
// test events through the ingress, the per-minute activity counts, and the
// live stream (project scoped, resumable, bounded in number and lifetime,
// ended by a stop). The page itself is tested in a real browser
// (tests/web/dashboard_test.mjs).

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/delivery/receiver.h"
#include "tests/raw_http.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

constexpr char kStreamPath[] = "/api/v3.1/webhook_activity/stream";

// A live stream read on a thread of its own, its text collected so that the
// test can wait for what it expects (never a sleep).
class StreamReader {
 public:
  StreamReader(int port, const std::string& key,
               const std::string& last_event_id = "",
               const std::string& path = kStreamPath) {
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port);
    client_->set_read_timeout(30, 0);
    thread_ = std::thread([this, key, last_event_id, path] {
      httplib::Client& client = *client_;
      httplib::Headers headers = {{"x-api-key", key},
                                  {"Accept-Encoding", "gzip"}};
      if (!last_event_id.empty()) {
        headers.emplace("Last-Event-ID", last_event_id);
      }
      auto result = client.Get(
          path, headers,
          [this](const httplib::Response& response) {
            std::lock_guard<std::mutex> lock(mu_);
            status_ = response.status;
            content_type_ = response.get_header_value("Content-Type");
            content_encoding_ = response.get_header_value("Content-Encoding");
            return true;
          },
          [this](const char* data, size_t size) {
            std::lock_guard<std::mutex> lock(mu_);
            text_.append(data, size);
            changed_.notify_all();
            return !stop_;
          });
      std::lock_guard<std::mutex> lock(mu_);
      if (result && status_ == 0) status_ = result->status;
      ended_ = true;
      changed_.notify_all();
    });
  }
  // Closes the connection (as a closed page does) and waits for the reader.
  ~StreamReader() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    client_->stop();
    thread_.join();
  }

  // Waits until the text holds `needle` (or the stream ended); returns
  // whether it does.
  bool WaitFor(const std::string& needle,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, timeout, [&] {
      return ended_ || text_.find(needle) != std::string::npos;
    });
    return text_.find(needle) != std::string::npos;
  }
  // Waits until the stream ends; returns whether it did.
  bool WaitForEnd(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return ended_; });
  }
  std::string Text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }
  int Status() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  std::string ContentType() {
    std::lock_guard<std::mutex> lock(mu_);
    return content_type_;
  }
  std::string ContentEncoding() {
    std::lock_guard<std::mutex> lock(mu_);
    return content_encoding_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::string text_;
  int status_ = 0;
  std::string content_type_;
  std::string content_encoding_;
  bool ended_ = false;
  bool stop_ = false;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
};

// The "id:" of the message whose data holds `needle`.
std::string MessageIdOf(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  if (at == std::string::npos) return "";
  const size_t start = text.rfind("id: ", at);
  if (start == std::string::npos) return "";
  return text.substr(start + 4, text.find('\n', start) - start - 4);
}

class DashboardTest : public HttpTest {
 protected:
  // Creates a Slack endpoint with `key`, with a signing secret if given.
  std::string NewSlackEndpoint(const std::string& key,
                               const std::string& secret) {
    auto created = CreateWithKey(key, CreateBody("slack", RandomKey()));
    EXPECT_TRUE(created && created->status == 201);
    const std::string id = StringField(created->body, "id").value_or("");
    if (!secret.empty()) {
      auto patched = NewClient().Patch(
          "/api/v3.1/webhook_endpoints/" + id, KeyHeaders(key),
          DataBody({{"webhook_signing_secret", secret}}), "application/json");
      EXPECT_TRUE(patched && patched->status == 200);
    }
    return id;
  }
  httplib::Result SendTestEvent(const std::string& key, const std::string& id,
                                const std::string& prefix = "/api/v3.1") {
    return Post(prefix + "/webhook_endpoints/" + id + "/test_event",
                KeyHeaders(key), "{}");
  }
};

TEST_F(DashboardTest, TheBareAddressRedirectsToThePage) {
  for (const char* path : {"/", "/ui"}) {
    auto root = NewClient().Get(path);
    ASSERT_TRUE(root) << path;
    EXPECT_EQ(root->status, 302) << path;
    EXPECT_EQ(root->get_header_value("Location"), "/ui/") << path;
  }
}

TEST_F(DashboardTest, ThePageAndItsFilesComeWithAStrictPolicyAndNoKey) {
  auto page = NewClient().Get("/ui/");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200);
  EXPECT_EQ(MediaType(page->get_header_value("Content-Type")), "text/html");
  const std::string policy = page->get_header_value("Content-Security-Policy");
  EXPECT_NE(policy.find("default-src 'self'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe-eval"), std::string::npos) << policy;
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(page->get_header_value("Referrer-Policy"), "no-referrer");
  auto same = NewClient().Get("/ui/index.html");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->body, page->body);
  // Every script and style sheet the page names is served, with the same
  // policy and its own media type.
  for (const auto& [attribute, media] :
       std::vector<std::pair<std::string, std::string>>{
           {"src=\"", "text/javascript"}, {"href=\"", "text/css"}}) {
    for (size_t at = page->body.find(attribute); at != std::string::npos;
         at = page->body.find(attribute, at + 1)) {
      const size_t start = at + attribute.size();
      const std::string name =
          page->body.substr(start, page->body.find('"', start) - start);
      if (name.find(media == "text/css" ? ".css" : ".js") ==
          std::string::npos) {
        continue;
      }
      auto file = NewClient().Get("/ui/" + name);
      ASSERT_TRUE(file) << name;
      EXPECT_EQ(file->status, 200) << name;
      EXPECT_EQ(MediaType(file->get_header_value("Content-Type")), media)
          << name;
      EXPECT_EQ(file->get_header_value("Content-Security-Policy"), policy);
    }
  }
  ExpectErrorEnvelope(NewClient().Get("/ui/no-such-file.js"), 404,
                      "HTTP_NotFound");
  ExpectErrorEnvelope(NewClient().Get("/ui/../openapi.json"), 404,
                      "HTTP_NotFound");
}

TEST_F(DashboardTest, TheCatalogListsEveryToolkitAndWhetherItCanBeTested) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(R"({"toolkits": {
    "discordish": {"setup_fields": {"public_key": {"display_name": "Key",
      "is_required": true}}, "verification": {"scheme": "ed25519",
      "secret_field": "public_key", "signature_header": "X-Sig"}}}})")}));
  ExpectErrorEnvelope(NewClient().Get("/api/v3.1/webhook_toolkits"), 401,
                      "HTTP_Unauthorized");
  auto listed = NewClient().Get("/api/v3/webhook_toolkits", KeyHeaders(key_));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  simdjson::dom::parser parser;
  simdjson::padded_string json(listed->body);
  simdjson::dom::array items;
  ASSERT_EQ(parser.parse(json)["items"].get_array().get(items),
            simdjson::SUCCESS);
  std::vector<std::string> slugs;
  for (simdjson::dom::element item : items) {
    std::string_view slug;
    bool testable = false;
    ASSERT_EQ(item["slug"].get_string().get(slug), simdjson::SUCCESS);
    ASSERT_EQ(item["test_event"].get_bool().get(testable), simdjson::SUCCESS);
    slugs.emplace_back(slug);
    // Ed25519 toolkits: only the provider holds the private key.
    EXPECT_EQ(testable, slug != "discordish" && slug != "discord") << slug;
    simdjson::dom::object fields;
    ASSERT_EQ(item["setup_fields"].get_object().get(fields), simdjson::SUCCESS);
    if (slug == "slack") {
      bool secret = false;
      ASSERT_EQ(
          fields["webhook_signing_secret"]["is_secret"].get_bool().get(secret),
          simdjson::SUCCESS);
      EXPECT_TRUE(secret);
    }
  }
  EXPECT_EQ(slugs, (std::vector<std::string>{"discord", "discordish", "github",
                                             "notion", "slack", "slackbot",
                                             "stripe"}));
}

TEST_F(DashboardTest, ATestEventIsSignedWithTheStoredSecretAndStored) {
  const std::string id = NewSlackEndpoint(key_, "");
  // Nothing to sign with yet: 409, and nothing stored.
  ErrorBody error;
  ExpectErrorEnvelope(SendTestEvent(key_, id), 409, "TestEvent_Unavailable",
                      &error);
  EXPECT_NE(error.message.find("webhook_signing_secret"), std::string::npos);
  auto patched = NewClient().Patch(
      "/api/v3.1/webhook_endpoints/" + id, KeyHeaders(key_),
      DataBody(
          {{"webhook_signing_secret", "8f742231b10e8888abcd99yyyzzz85a5"}}),
      "application/json");
  ASSERT_TRUE(patched && patched->status == 200);
  for (const char* prefix : {"/api/v3", "/api/v3.1"}) {
    auto sent = SendTestEvent(key_, id, prefix);
    ASSERT_TRUE(sent);
    ASSERT_EQ(sent->status, 200) << sent->body;
    const auto event_id = StringField(sent->body, "event_id");
    ASSERT_TRUE(event_id && event_id->rfind("ev_", 0) == 0) << sent->body;
    auto events =
        NewClient().Get("/api/v3.1/webhook_endpoints/" + id + "/events?limit=1",
                        KeyHeaders(key_));
    ASSERT_TRUE(events && events->status == 200);
    EXPECT_EQ(ParseItemIds(events->body), std::vector<std::string>{*event_id});
    // The provider's sample, as Slack would send it, through the ingress.
    EXPECT_NE(events->body.find("app_mention"), std::string::npos);
    EXPECT_NE(events->body.find("X-Slack-Request-Timestamp"),
              std::string::npos);
  }
  // Another project's endpoint answers as a missing one.
  ExpectErrorEnvelope(SendTestEvent(RandomKey(), id), 404,
                      "WebhookEndpoint_NotFound");
  ExpectErrorEnvelope(SendTestEvent(key_, "we_doesnotexist"), 404,
                      "WebhookEndpoint_NotFound");
}

TEST_F(DashboardTest, ATestEventOfACustomHmacToolkitPassesItsOwnScheme) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(R"({"toolkits": {
    "acme": {"setup_fields": {"secret": {"display_name": "Secret",
      "is_required": true, "is_secret": true}}, "verification": {
      "scheme": "hmac_sha256", "secret_field": "secret",
      "signature_header": "X-Acme-Signature", "signature_prefix": "v1,",
      "encoding": "base64", "timestamp_header": "X-Acme-Time",
      "signed_payload": "{timestamp}.{body}", "event_id_field": "event"}},
    "edkit": {"setup_fields": {"key": {"display_name": "Key",
      "is_required": true}}, "verification": {"scheme": "ed25519",
      "secret_field": "key", "signature_header": "X-Sig"}}}})")}));
  auto created = Create(CreateBody("acme", "c1"));
  ASSERT_TRUE(created && created->status == 201);
  const std::string id = StringField(created->body, "id").value_or("");
  ASSERT_TRUE(NewClient()
                  .Patch("/api/v3.1/webhook_endpoints/" + id, KeyHeaders(key_),
                         DataBody({{"secret", "acme-secret"}}),
                         "application/json")
                  ->status == 200);
  auto sent = SendTestEvent(key_, id);
  ASSERT_TRUE(sent);
  ASSERT_EQ(sent->status, 200) << sent->body;
  // The id sits where the catalog looks for one.
  EXPECT_EQ(StringField(sent->body, "provider_event_id")
                .value_or("")
                .rfind("evt_test_", 0),
            0u)
      << sent->body;

  // The provider signs with a private key the server never has.
  auto ed = Create(CreateBody("edkit", "c1"));
  ASSERT_TRUE(ed && ed->status == 201);
  const std::string ed_id = StringField(ed->body, "id").value_or("");
  ASSERT_TRUE(
      NewClient()
          .Patch("/api/v3.1/webhook_endpoints/" + ed_id, KeyHeaders(key_),
                 DataBody({{"key", std::string(64, 'a')}}), "application/json")
          ->status == 200);
  ErrorBody error;
  ExpectErrorEnvelope(SendTestEvent(key_, ed_id), 409, "TestEvent_Unavailable",
                      &error);
  EXPECT_NE(error.message.find("private key"), std::string::npos);
}

TEST_F(DashboardTest, ActivityCountsThisMinutesEventsForTheProjectOnly) {
  const std::string id = NewSlackEndpoint(key_, "s3cret");
  for (int i = 0; i < 3; ++i) {
    auto sent = SendTestEvent(key_, id);
    ASSERT_TRUE(sent && sent->status == 200);
  }
  auto count_events = [this](const std::string& key) {
    auto activity = NewClient().Get("/api/v3.1/webhook_activity?minutes=2",
                                    KeyHeaders(key));
    EXPECT_TRUE(activity && activity->status == 200);
    simdjson::dom::parser parser;
    simdjson::padded_string json(activity->body);
    simdjson::dom::array items;
    EXPECT_EQ(parser.parse(json)["items"].get_array().get(items),
              simdjson::SUCCESS);
    EXPECT_EQ(items.size(), 2u);
    int64_t events = 0;
    for (simdjson::dom::element item : items) {
      int64_t count = 0;
      EXPECT_EQ(item["events"].get_int64().get(count), simdjson::SUCCESS);
      events += count;
    }
    return events;
  };
  EXPECT_EQ(count_events(key_), 3);
  EXPECT_EQ(count_events(RandomKey()), 0);
  for (const char* bad : {"0", "1441", "x", ""}) {
    ExpectErrorEnvelope(
        NewClient().Get(
            std::string("/api/v3.1/webhook_activity?minutes=") + bad,
            KeyHeaders(key_)),
        400, "HTTP_BadRequest");
  }
}

TEST_F(DashboardTest, TheStreamCarriesTheProjectsChangesAsTheyHappen) {
  StreamReader mine(port(), key_);
  StreamReader theirs(port(), RandomKey());
  ASSERT_TRUE(mine.WaitFor("event: hello"));
  ASSERT_TRUE(theirs.WaitFor("event: hello"));
  EXPECT_EQ(MediaType(mine.ContentType()), "text/event-stream");
  // Asked for gzip, sent plain: a compressor would hold every message.
  EXPECT_EQ(mine.ContentEncoding(), "");
  const std::string id = NewSlackEndpoint(key_, "s3cret");
  ASSERT_TRUE(mine.WaitFor("\"change\":\"created\""));
  auto sent = SendTestEvent(key_, id);
  ASSERT_TRUE(sent && sent->status == 200);
  const std::string event_id = StringField(sent->body, "event_id").value();
  ASSERT_TRUE(mine.WaitFor("\"id\":\"" + event_id + "\"")) << mine.Text();
  EXPECT_NE(mine.Text().find("event: event\n"), std::string::npos);
  auto deleted =
      NewClient().Delete("/api/v3.1/webhook_endpoints/" + id, KeyHeaders(key_));
  ASSERT_TRUE(deleted && deleted->status == 200);
  ASSERT_TRUE(mine.WaitFor("\"change\":\"deleted\""));
  // The other project's stream saw none of it.
  const std::string other = theirs.Text();
  EXPECT_EQ(other.find(id), std::string::npos) << other;
  EXPECT_EQ(other.find("event: event"), std::string::npos) << other;
}

TEST_F(DashboardTest, AReconnectionResumesAfterTheLastIdOrIsToldToReload) {
  const std::string id = NewSlackEndpoint(key_, "s3cret");
  std::string last_id;
  {
    StreamReader first(port(), key_);
    ASSERT_TRUE(first.WaitFor("event: hello"));
    auto sent = SendTestEvent(key_, id);
    ASSERT_TRUE(sent && sent->status == 200);
    const std::string event_id = StringField(sent->body, "event_id").value();
    ASSERT_TRUE(first.WaitFor(event_id));
    last_id = MessageIdOf(first.Text(), event_id);
    ASSERT_FALSE(last_id.empty()) << first.Text();
  }
  // Missed while disconnected: replayed on resume, without a reset.
  auto missed = SendTestEvent(key_, id);
  ASSERT_TRUE(missed && missed->status == 200);
  const std::string missed_id = StringField(missed->body, "event_id").value();
  StreamReader resumed(port(), key_, last_id);
  ASSERT_TRUE(resumed.WaitFor(missed_id)) << resumed.Text();
  EXPECT_EQ(resumed.Text().find("event: reset"), std::string::npos);
  // An id of another run (or none we know): reload.
  StreamReader stale(port(), key_, "someotherboot.1");
  ASSERT_TRUE(stale.WaitFor("event: reset")) << stale.Text();
}

TEST_F(DashboardTest, StreamsAreBoundedInNumberAndLifetime) {
  ASSERT_TRUE(StartServer({"--max-streams", "2", "--stream-lifetime", "2"}));
  StreamReader first(port(), key_);
  StreamReader second(port(), RandomKey());
  ASSERT_TRUE(first.WaitFor("event: hello"));
  ASSERT_TRUE(second.WaitFor("event: hello"));
  {
    StreamReader third(port(), key_);
    ASSERT_TRUE(third.WaitForEnd(std::chrono::seconds(10)));
    EXPECT_EQ(third.Status(), 503);
    EXPECT_EQ(ErrorField(third.Text(), "slug"), "Stream_LimitReached");
  }
  // The API stays available meanwhile.
  auto created = Create(CreateBody("slack", "c1"));
  ASSERT_TRUE(created && created->status == 201);
  // A heartbeat keeps a quiet stream alive, and the stream ends itself.
  EXPECT_TRUE(first.WaitFor(": heartbeat"));
  EXPECT_TRUE(first.WaitForEnd(std::chrono::seconds(10)));
  EXPECT_EQ(first.Status(), 200);
  // Its slot is free again.
  StreamReader again(port(), key_);
  EXPECT_TRUE(again.WaitFor("event: hello")) << again.Text();
}

TEST_F(DashboardTest, AClosedPageFreesItsStreamSlotWithinSeconds) {
  ASSERT_TRUE(StartServer({"--max-streams", "1"}));
  {
    RawConnection page(port());
    ASSERT_TRUE(
        page.Send("GET /api/v3.1/webhook_activity/stream HTTP/1.1\r\n"
                  "Host: localhost\r\nx-api-key: " +
                  key_ + "\r\n\r\n"));
    ASSERT_EQ(page.WaitForClose(), RawConnection::Outcome::kData);
  }  // closed, with nothing for the stream to write for 15 s
  const auto closed = std::chrono::steady_clock::now();
  int status = 0;
  while (status != 200 &&
         std::chrono::steady_clock::now() - closed < std::chrono::seconds(10)) {
    StreamReader next(port(), key_);
    next.WaitFor("event: hello", std::chrono::seconds(2));
    status = next.Status();
  }
  EXPECT_EQ(status, 200);
  // Long before the next heartbeat would have found the client gone.
  EXPECT_LT(std::chrono::steady_clock::now() - closed, std::chrono::seconds(5));
}

TEST_F(DashboardTest, AStopEndsOpenStreamsAtOnce) {
  StreamReader open(port(), key_);
  ASSERT_TRUE(open.WaitFor("event: hello"));
  const auto stopping = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->Stop(), 0);
  // Well within the 15 s heartbeat and the 300 s lifetime.
  EXPECT_LT(std::chrono::steady_clock::now() - stopping,
            std::chrono::seconds(5));
  EXPECT_TRUE(open.WaitForEnd(std::chrono::seconds(5)));
}

TEST_F(DashboardTest, TheStreamTellsOfEachRecordedDeliveryAttempt) {
  Receiver receiver([](const httplib::Request&, httplib::Response& res, int n) {
    res.status = n == 0 ? 500 : 200;
    res.set_content("{}", "application/json");
  });
  ASSERT_TRUE(StartServer({"--retry-schedule", "50ms,50ms"}));
  auto subscribed =
      Post("/api/v3.1/webhook_subscriptions", KeyHeaders(key_),
           R"({"webhook_url":")" + receiver.Url() +
               R"(","enabled_events":["composio.trigger.message"]})");
  ASSERT_TRUE(subscribed && subscribed->status == 201) << subscribed->body;
  StreamReader stream(port(), key_);
  ASSERT_TRUE(stream.WaitFor("event: hello"));
  const std::string id = NewSlackEndpoint(key_, "s3cret");
  auto sent = SendTestEvent(key_, id);
  ASSERT_TRUE(sent && sent->status == 200);
  ASSERT_TRUE(stream.WaitFor("\"status\":\"retrying\"")) << stream.Text();
  EXPECT_NE(stream.Text().find("\"status_code\":500"), std::string::npos);
  ASSERT_TRUE(stream.WaitFor("\"status\":\"succeeded\"")) << stream.Text();
  EXPECT_NE(stream.Text().find("\"attempt\":2"), std::string::npos);
}

}  // namespace
}  // namespace webhooks::testing
