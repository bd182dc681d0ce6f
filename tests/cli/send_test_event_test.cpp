// Black-box tests of the send-test-event command, run against a serving
// binary: a signed Slack event that shows up in the events listing, a file
// sent as it is (the challenge printed), and usage errors.

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/api/ingress_fixture.h"
#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

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

}  // namespace
}  // namespace webhooks::testing
