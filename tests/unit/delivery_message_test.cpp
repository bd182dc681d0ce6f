// Unit tests for what the delivery worker sends and decides, without a
// network: the trigger message in each version, the outbound signature
// against the known answer in ../shared/spec/test-vectors.md (checked there
// with @composio/core 0.19.0), the retry schedule's verdicts and bounds,
// Retry-After, the catalog's trigger slugs, and ParseTime.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <string>

#include "delivery/message.h"
#include "delivery/schedule.h"
#include "toolkits/catalog.h"
#include "toolkits/trigger.h"
#include "util/time.h"

namespace webhooks {
namespace {

// The vector's delivery: Slack's message event, V3.
ClaimedDelivery VectorDelivery() {
  ClaimedDelivery d;
  d.id = "dlv_test";
  d.attempt = 1;
  d.webhook_id = "msg_3vJ7pQkX2mZa";
  d.event_id = "ev_test";
  d.endpoint_id = "we_abcdefABCDEF";
  d.toolkit_slug = "slack";
  d.trigger_slug = "SLACK_RECEIVE_MESSAGE";
  d.user_id = "U123";
  d.content_type = "application/json";
  ParseTime("2026-01-01T00:00:00.000Z", &d.event_received_at_ms);
  d.body = R"({"type":"event_callback"})";
  d.secret = "whsec_local_test_secret_0123456789";
  d.version = "V3";
  return d;
}

simdjson::dom::element Parse(simdjson::dom::parser& parser,
                             const std::string& json) {
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  return root;
}

std::string StringAt(simdjson::dom::element root, const char* pointer) {
  std::string_view value;
  EXPECT_EQ(root.at_pointer(pointer).get_string().get(value), simdjson::SUCCESS)
      << pointer;
  return std::string(value);
}

TEST(OutboundSignatureTest, MatchesThePublishedVector) {
  const std::string body =
      R"({"id":"msg_3vJ7pQkX2mZa","timestamp":"2026-01-01T00:00:00.000Z","type":"composio.trigger.message","metadata":{"log_id":"ev_test","trigger_slug":"SLACK_RECEIVE_MESSAGE","trigger_id":"we_abcdefABCDEF","connected_account_id":"","auth_config_id":"","user_id":"U123"},"data":{"type":"event_callback"}})";
  EXPECT_EQ(WebhookSignature("whsec_local_test_secret_0123456789",
                             "msg_3vJ7pQkX2mZa", 1767225600, body),
            "v1,aHyohRQlpQy8b4Q26baA5bveeYAN049jzEDG+9n/1Gk=");
}

TEST(OutboundSignatureTest, HeadersSignTheBodyAtTheAttemptsTime) {
  ClaimedDelivery d = VectorDelivery();
  d.attempt = 3;
  const std::string body = TriggerMessageBody(d);
  HeaderList headers = DeliveryHeaders(d, body, 1767225999, "ua/1");
  auto value = [&](const std::string& name) {
    for (const auto& [key, v] : headers) {
      if (key == name) return v;
    }
    return std::string("<absent>");
  };
  EXPECT_EQ(value("webhook-id"), "msg_3vJ7pQkX2mZa");
  EXPECT_EQ(value("webhook-timestamp"), "1767225999");
  EXPECT_EQ(value("webhook-signature"),
            WebhookSignature(d.secret, d.webhook_id, 1767225999, body));
  EXPECT_EQ(value("x-composio-delivery-attempt"), "3");
  EXPECT_EQ(value("x-composio-webhook-version"), "V3");
  EXPECT_EQ(value("content-type"), "application/json");
  EXPECT_EQ(value("user-agent"), "ua/1");
  // Another second, another signature: each attempt is signed afresh.
  EXPECT_NE(WebhookSignature(d.secret, d.webhook_id, 1767226000, body),
            value("webhook-signature"));
}

TEST(TriggerMessageTest, V3EmbedsTheProviderBodyAndMetadata) {
  simdjson::dom::parser parser;
  const std::string body = TriggerMessageBody(VectorDelivery());
  auto root = Parse(parser, body);
  EXPECT_EQ(StringAt(root, "/id"), "msg_3vJ7pQkX2mZa");
  EXPECT_EQ(StringAt(root, "/timestamp"), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(StringAt(root, "/type"), "composio.trigger.message");
  EXPECT_EQ(StringAt(root, "/metadata/log_id"), "ev_test");
  EXPECT_EQ(StringAt(root, "/metadata/trigger_slug"), "SLACK_RECEIVE_MESSAGE");
  EXPECT_EQ(StringAt(root, "/metadata/trigger_id"), "we_abcdefABCDEF");
  EXPECT_EQ(StringAt(root, "/metadata/connected_account_id"), "");
  EXPECT_EQ(StringAt(root, "/metadata/user_id"), "U123");
  EXPECT_EQ(StringAt(root, "/metadata/toolkit_slug"), "slack");
  EXPECT_EQ(StringAt(root, "/metadata/webhook_endpoint_id"), "we_abcdefABCDEF");
  EXPECT_EQ(StringAt(root, "/data/type"), "event_callback");
  // The same bytes every time: only the headers change between attempts.
  EXPECT_EQ(TriggerMessageBody(VectorDelivery()), body);
}

TEST(TriggerMessageTest, V2MergesOurFieldsIntoTheProviderBody) {
  simdjson::dom::parser parser;
  ClaimedDelivery d = VectorDelivery();
  d.version = "V2";
  auto root = Parse(parser, TriggerMessageBody(d));
  EXPECT_EQ(StringAt(root, "/type"), "composio.trigger.message");
  EXPECT_EQ(StringAt(root, "/log_id"), "ev_test");
  EXPECT_EQ(StringAt(root, "/data/type"), "event_callback");
  EXPECT_EQ(StringAt(root, "/data/trigger_nano_id"), "we_abcdefABCDEF");
  EXPECT_EQ(StringAt(root, "/data/trigger_id"), "we_abcdefABCDEF");
  EXPECT_EQ(StringAt(root, "/data/connection_id"), "");
  EXPECT_EQ(StringAt(root, "/data/user_id"), "U123");
  d.body = " { } ";  // an empty object: no stray comma
  auto empty = Parse(parser, TriggerMessageBody(d));
  EXPECT_EQ(StringAt(empty, "/data/trigger_id"), "we_abcdefABCDEF");
}

TEST(TriggerMessageTest, V1NamesTheTriggerAndCarriesThePayload) {
  simdjson::dom::parser parser;
  ClaimedDelivery d = VectorDelivery();
  d.version = "V1";
  auto root = Parse(parser, TriggerMessageBody(d));
  EXPECT_EQ(StringAt(root, "/trigger_name"), "SLACK_RECEIVE_MESSAGE");
  EXPECT_EQ(StringAt(root, "/trigger_id"), "we_abcdefABCDEF");
  EXPECT_EQ(StringAt(root, "/payload/type"), "event_callback");
  EXPECT_EQ(StringAt(root, "/log_id"), "ev_test");
}

TEST(TriggerMessageTest, ABodyThatIsNotAnObjectIsDeliveredAsText) {
  simdjson::dom::parser parser;
  ClaimedDelivery d = VectorDelivery();
  d.content_type = "application/x-www-form-urlencoded";
  d.body = "command=%2Fweather&text=94070";
  auto root = Parse(parser, TriggerMessageBody(d));
  EXPECT_EQ(StringAt(root, "/data/content_type"),
            "application/x-www-form-urlencoded");
  EXPECT_EQ(StringAt(root, "/data/raw"), "command=%2Fweather&text=94070");
  d.body = "[1,2]";  // JSON, but not an object
  EXPECT_EQ(StringAt(Parse(parser, TriggerMessageBody(d)), "/data/raw"),
            "[1,2]");
  d.body = std::string("\xff\xfe", 2);  // not UTF-8: base64, said so
  auto binary = Parse(parser, TriggerMessageBody(d));
  EXPECT_EQ(StringAt(binary, "/data/raw"), "//4=");
  EXPECT_EQ(StringAt(binary, "/data/encoding"), "base64");
}

// ---------------------------------------------------------------------------
// The schedule

ClaimedDelivery Automatic(int made_before) {
  ClaimedDelivery d;
  d.automatic_attempts = made_before;
  return d;
}

TEST(RetryScheduleTest, TwoHundredsSucceedAndGoneIsGone) {
  RetrySchedule schedule({1000}, 1);
  int64_t next = 0;
  for (int status : {200, 201, 204, 299}) {
    EXPECT_EQ(schedule.Decide(Automatic(0), {status, {}}, 0, &next),
              AttemptVerdict::kSucceeded);
  }
  EXPECT_EQ(schedule.Decide(Automatic(0), {410, {}}, 0, &next),
            AttemptVerdict::kGone);
  for (int status : {0, 301, 302, 400, 404, 500, 503}) {
    EXPECT_EQ(schedule.Decide(Automatic(0), {status, {}}, 0, &next),
              AttemptVerdict::kRetry)
        << status;
  }
}

TEST(RetryScheduleTest, NDelaysGiveNPlusOneAttemptsWithJitter) {
  RetrySchedule schedule({1000, 60'000}, 7);
  int64_t next = 0;
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(schedule.Decide(Automatic(0), {500, {}}, 10'000, &next),
              AttemptVerdict::kRetry);
    EXPECT_GE(next, 10'000 + 800);
    EXPECT_LE(next, 10'000 + 1200);
    seen.insert(next);
    ASSERT_EQ(schedule.Decide(Automatic(1), {500, {}}, 0, &next),
              AttemptVerdict::kRetry);
    EXPECT_GE(next, 48'000);
    EXPECT_LE(next, 72'000);
  }
  EXPECT_GT(seen.size(), 50u);  // jittered, not one fixed delay
  EXPECT_EQ(schedule.Decide(Automatic(2), {500, {}}, 0, &next),
            AttemptVerdict::kFailed);
}

TEST(RetryScheduleTest, AManualAttemptIsNeverRescheduled) {
  RetrySchedule schedule({1000}, 1);
  ClaimedDelivery d = Automatic(0);
  d.manual = true;
  int64_t next = 0;
  EXPECT_EQ(schedule.Decide(d, {500, {}}, 0, &next), AttemptVerdict::kFailed);
  EXPECT_EQ(schedule.Decide(d, {200, {}}, 0, &next),
            AttemptVerdict::kSucceeded);
}

TEST(RetryScheduleTest, RetryAfterIsHonouredUpToTwiceTheDelay) {
  RetrySchedule schedule({10'000}, 3);
  int64_t next = 0;
  ASSERT_EQ(schedule.Decide(Automatic(0), {503, std::string("3")}, 0, &next),
            AttemptVerdict::kRetry);
  EXPECT_EQ(next, 3000);
  ASSERT_EQ(schedule.Decide(Automatic(0), {429, std::string("3600")}, 0, &next),
            AttemptVerdict::kRetry);
  EXPECT_GE(next, 16'000);  // 2 x the jittered 8-12 s
  EXPECT_LE(next, 24'000);
  // Only on 429 and 503.
  ASSERT_EQ(schedule.Decide(Automatic(0), {500, std::string("3")}, 0, &next),
            AttemptVerdict::kRetry);
  EXPECT_GE(next, 8000);
}

TEST(RetryScheduleTest, RetryAfterReadsSecondsAndHttpDates) {
  EXPECT_EQ(RetryAfterSeconds("120", 0), 120);
  EXPECT_EQ(RetryAfterSeconds(" 5 ", 0), 5);
  int64_t at = 0;
  ASSERT_TRUE(ParseTime("2026-01-01T00:00:00Z", &at));
  EXPECT_EQ(RetryAfterSeconds("Thu, 01 Jan 2026 00:01:00 GMT", at), 60);
  EXPECT_EQ(RetryAfterSeconds("Thu, 01 Jan 2025 00:01:00 GMT", at), 0);
  EXPECT_FALSE(RetryAfterSeconds("soon", 0).has_value());
  EXPECT_FALSE(RetryAfterSeconds("-1", 0).has_value());
  EXPECT_FALSE(RetryAfterSeconds("", 0).has_value());
}

TEST(RetryScheduleTest, ErrorClassOfAStatus) {
  EXPECT_EQ(ErrorClassOfStatus(200), "");
  EXPECT_EQ(ErrorClassOfStatus(302), "redirect");
  EXPECT_EQ(ErrorClassOfStatus(404), "http_status");
  EXPECT_EQ(ErrorClassOfStatus(503), "http_status");
}

// ---------------------------------------------------------------------------
// Trigger slugs from the catalog

TEST(TriggerDescriptionTest, SlackMapsMessageAndFindsTheUser) {
  const ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  const ToolkitSpec& slack = *catalog.Find("slack");
  TriggerDescription t = DescribeEvent(
      slack,
      R"({"type":"event_callback","event":{"type":"message","user":"U9"}})");
  EXPECT_EQ(t.trigger_slug, "SLACK_RECEIVE_MESSAGE");
  EXPECT_EQ(t.user_id, "U9");
  t = DescribeEvent(slack, R"({"event":{"type":"reaction_added"}})");
  EXPECT_EQ(t.trigger_slug, "SLACK_REACTION_ADDED");
  EXPECT_EQ(t.user_id, "");
  t = DescribeEvent(slack, "command=%2Fweather");
  EXPECT_EQ(t.trigger_slug, "SLACK_EVENT");
}

TEST(TriggerDescriptionTest, NotionUpperCasesTheTypeAndCustomSlugsApply) {
  ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  EXPECT_EQ(DescribeEvent(*catalog.Find("notion"), R"({"type":"page.created"})")
                .trigger_slug,
            "NOTION_PAGE_CREATED");
  std::string error;
  ASSERT_TRUE(catalog.Apply(R"({"toolkits":{"my-kit":{"setup_fields":{},
      "triggers":{"event_type_pointer":"/a/b","user_pointer":"/u",
                  "slugs":{"x":"MY_X_TRIGGER"}}}}})",
                            &error))
      << error;
  const ToolkitSpec& kit = *catalog.Find("my-kit");
  EXPECT_EQ(DescribeEvent(kit, R"({"a":{"b":"x"},"u":"me"})").trigger_slug,
            "MY_X_TRIGGER");
  EXPECT_EQ(DescribeEvent(kit, R"({"a":{"b":"y.z"}})").trigger_slug,
            "MY_KIT_Y_Z");
  EXPECT_EQ(DescribeEvent(kit, R"({"a":{"b":"x"},"u":"me"})").user_id, "me");
  EXPECT_FALSE(catalog.Apply(
      R"({"toolkits":{"k":{"triggers":{"event_type_pointer":"a"}}}})", &error));
  EXPECT_NE(error.find("pointer"), std::string::npos) << error;
}

// Issue 17: GitHub names the event in X-GitHub-Event; the body's action
// ("opened") is the same word for issues and pull requests.
TEST(TriggerDescriptionTest, GitHubTakesTheTypeFromItsHeader) {
  const ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  const ToolkitSpec& github = *catalog.Find("github");
  const std::string body =
      R"({"action":"opened","sender":{"login":"octocat"}})";
  TriggerDescription t = DescribeEvent(github, body, "pull_request");
  EXPECT_EQ(t.trigger_slug, "GITHUB_PULL_REQUEST");
  EXPECT_EQ(t.user_id, "octocat");
  EXPECT_EQ(DescribeEvent(github, body, "").trigger_slug, "GITHUB_EVENT");
  EXPECT_EQ(DescribeEvent(github, body, std::string("bad\nvalue")).trigger_slug,
            "GITHUB_EVENT");
  EXPECT_EQ(DescribeEvent(*catalog.Find("stripe"),
                          R"({"id":"evt_1","type":"invoice.paid"})")
                .trigger_slug,
            "STRIPE_INVOICE_PAID");
}

// ---------------------------------------------------------------------------
// ParseTime

TEST(ParseTimeTest, ReadsWhatFormatTimeWrites) {
  for (int64_t millis : {0LL, 1767225600123LL, 951782400000LL}) {
    int64_t parsed = -1;
    ASSERT_TRUE(ParseTime(FormatTime(millis), &parsed)) << millis;
    EXPECT_EQ(parsed, millis);
  }
  int64_t at = 0;
  ASSERT_TRUE(ParseTime("2026-01-01T01:00:00+01:00", &at));
  EXPECT_EQ(at, 1767225600000);
  ASSERT_TRUE(ParseTime("2026-01-01T00:00:00.5Z", &at));
  EXPECT_EQ(at, 1767225600500);
  for (const char* bad :
       {"", "2026-01-01", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00",
        "2026-01-01T00:00:00.Z", "2026-01-01T25:00:00Z", "tomorrow",
        "2026-01-01T00:00:00Zjunk"}) {
    EXPECT_FALSE(ParseTime(bad, &at)) << bad;
  }
}

}  // namespace
}  // namespace webhooks
