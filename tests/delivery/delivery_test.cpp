// Delivery to the project's app, black-box: the real binary, a real
// Receiver on loopback, and the contract of
// ../shared/spec/subscriptions-and-delivery.md ("What an app receives",
// "Attempts, retries, outcomes", "Inspecting and replaying").

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tests/delivery/delivery_fixture.h"

namespace webhooks::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_F(DeliveryTest, AStoredEventArrivesSignedAsATriggerMessage) {
  Receiver receiver;
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  const std::string provider_body = SlackEvent("Ev0001", "hi there");
  auto sent = SendSlack(IngressPath(endpoint), kSlackSecret, provider_body);
  ASSERT_TRUE(sent);
  ASSERT_EQ(sent->status, 200);

  ASSERT_TRUE(receiver.WaitFor(1));
  const Received got = receiver.Requests().front();
  EXPECT_EQ(got.path, "/hook");
  EXPECT_EQ(MediaType(got.Header("Content-Type")), "application/json");
  EXPECT_EQ(got.Header("x-composio-webhook-version"), "V3");
  EXPECT_EQ(got.Header("x-composio-delivery-attempt"), "1");
  EXPECT_EQ(got.Header("User-Agent").rfind("webhooks-server/", 0), 0u)
      << got.Header("User-Agent");
  const std::string webhook_id = got.Header("webhook-id");
  EXPECT_EQ(webhook_id.rfind("msg_", 0), 0u) << webhook_id;
  const std::string timestamp = got.Header("webhook-timestamp");
  EXPECT_LE(std::abs(std::stoll(timestamp) - UnixNow()), 5);
  EXPECT_TRUE(SignatureVerifies(subscription.secret, webhook_id, timestamp,
                                got.body, got.Header("webhook-signature")))
      << got.Header("webhook-signature");

  // The body: the contract's V3 shape around the provider's own body.
  EXPECT_EQ(StringAt(got.body, {"id"}), webhook_id);
  EXPECT_EQ(StringAt(got.body, {"type"}), "composio.trigger.message");
  EXPECT_EQ(StringAt(got.body, {"metadata", "trigger_slug"}),
            "SLACK_RECEIVE_MESSAGE");
  EXPECT_EQ(StringAt(got.body, {"metadata", "trigger_id"}), endpoint.id);
  EXPECT_EQ(StringAt(got.body, {"metadata", "webhook_endpoint_id"}),
            endpoint.id);
  EXPECT_EQ(StringAt(got.body, {"metadata", "toolkit_slug"}), "slack");
  EXPECT_EQ(StringAt(got.body, {"metadata", "user_id"}), "U123ABC456");
  EXPECT_EQ(StringAt(got.body, {"metadata", "connected_account_id"}), "");
  EXPECT_EQ(StringAt(got.body, {"data", "event", "text"}), "hi there");
  EXPECT_EQ(StringAt(got.body, {"data", "event_id"}), "Ev0001");
  // log_id is the stored event's id.
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(endpoint.id, &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(StringAt(got.body, {"metadata", "log_id"}), events[0].id);

  // The delivery is recorded as succeeded, with its attempt.
  std::vector<DeliveryItem> items = Deliveries(subscription.id);
  ASSERT_EQ(items.size(), 1u);
  ASSERT_TRUE(WaitForStatus(subscription.id, items[0].id, "succeeded"));
  std::vector<AttemptItem> attempts;
  DeliveryItem item = Delivery(subscription.id, items[0].id, &attempts);
  EXPECT_EQ(item.webhook_id, webhook_id);
  EXPECT_EQ(item.event_id, events[0].id);
  EXPECT_EQ(item.attempts, 1);
  EXPECT_EQ(item.last_status_code, 200);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].status_code, 200);
  EXPECT_EQ(attempts[0].error_class, "");
  EXPECT_EQ(attempts[0].response_body, "{}");
  EXPECT_TRUE(Contains(attempts[0].request_headers_json, webhook_id))
      << attempts[0].request_headers_json;
  // The log names the attempt, never the secret or the signature.
  ASSERT_TRUE(server_->WaitForStderr("delivery attempt"));
  EXPECT_FALSE(Contains(server_->Stderr(), subscription.secret));
  EXPECT_FALSE(Contains(server_->Stderr(), got.Header("webhook-signature")));
}

TEST_F(DeliveryTest, AProvidersRetryOfAStoredEventIsDeliveredOnce) {
  Receiver receiver;
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvSame"));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvSame"));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvOther"));
  ASSERT_TRUE(receiver.WaitFor(2));
  std::vector<DeliveryItem> items = Deliveries(subscription.id);
  EXPECT_EQ(items.size(), 2u);
  for (const DeliveryItem& item : items) {
    EXPECT_TRUE(WaitForStatus(subscription.id, item.id, "succeeded"));
  }
  EXPECT_EQ(receiver.Count(), 2u);
}

TEST_F(DeliveryTest, NoSubscriptionNoDelivery) {
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("client-1", &endpoint));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "Ev1"));
  // A subscription made later does not receive events stored before it.
  Receiver receiver;
  Subscription subscription;
  ASSERT_NO_FATAL_FAILURE(MustSubscribe(receiver.Url(), &subscription));
  EXPECT_TRUE(Deliveries(subscription.id).empty());
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "Ev2"));
  ASSERT_TRUE(receiver.WaitFor(1));
  EXPECT_EQ(StringAt(receiver.Requests()[0].body, {"data", "event_id"}), "Ev2");
}

TEST_F(DeliveryTest, FailuresAreRetriedWithTheSameIdAndAFreshSignature) {
  Receiver receiver([](const httplib::Request&, httplib::Response& res, int n) {
    res.status = n < 2 ? 500 : 200;
    res.set_content(n < 2 ? "not yet" : "ok", "text/plain");
  });
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvRetry"));
  ASSERT_TRUE(receiver.WaitFor(3));
  std::vector<Received> got = receiver.Requests();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].Header("webhook-id"), got[0].Header("webhook-id"));
    EXPECT_EQ(got[i].Header("x-composio-delivery-attempt"),
              std::to_string(i + 1));
    EXPECT_EQ(got[i].body, got[0].body);  // the same bytes every time
    EXPECT_TRUE(
        SignatureVerifies(subscription.secret, got[i].Header("webhook-id"),
                          got[i].Header("webhook-timestamp"), got[i].body,
                          got[i].Header("webhook-signature")));
  }
  std::vector<DeliveryItem> items = Deliveries(subscription.id);
  ASSERT_EQ(items.size(), 1u);
  ASSERT_TRUE(WaitForStatus(subscription.id, items[0].id, "succeeded"));
  std::vector<AttemptItem> attempts;
  DeliveryItem item = Delivery(subscription.id, items[0].id, &attempts);
  EXPECT_EQ(item.attempts, 3);
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].status_code, 500);
  EXPECT_EQ(attempts[0].error_class, "http_status");
  EXPECT_EQ(attempts[0].response_body, "not yet");
  EXPECT_EQ(attempts[2].status_code, 200);
  EXPECT_EQ(receiver.Count(), 3u);
}

TEST_F(DeliveryTest, AnExhaustedScheduleFailsAndRecoverGivesOneMoreAttempt) {
  std::atomic<bool> healthy{false};
  Receiver receiver([&](const httplib::Request&, httplib::Response& res, int) {
    res.status = healthy ? 200 : 503;
  });
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  const std::string since = FormatTimeForTest(-60);
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvFail"));
  std::vector<DeliveryItem> items;
  ASSERT_TRUE(WaitForDeliveries(subscription.id, 1));
  items = Deliveries(subscription.id);
  // 3 delays: 4 automatic attempts, then failed.
  ASSERT_TRUE(WaitForStatus(subscription.id, items[0].id, "failed"));
  EXPECT_EQ(receiver.Count(), 4u);
  EXPECT_EQ(Delivery(subscription.id, items[0].id).last_error, "http_status");

  healthy = true;
  auto recovered =
      PostJsonAs(key_, SubscriptionPath(subscription.id) + "/recover",
                 R"({"since":")" + since + R"("})");
  ASSERT_TRUE(recovered);
  ASSERT_EQ(recovered->status, 202) << recovered->body;
  EXPECT_EQ(recovered->body, R"({"scheduled":1})");
  ASSERT_TRUE(receiver.WaitFor(5));
  EXPECT_EQ(receiver.Requests()[4].Header("x-composio-delivery-attempt"), "5");
  ASSERT_TRUE(WaitForStatus(subscription.id, items[0].id, "succeeded"));

  // A window that holds nothing schedules nothing.
  auto empty = PostJsonAs(
      key_, SubscriptionPath(subscription.id) + "/recover",
      R"({"since":"2020-01-01T00:00:00Z","until":"2020-01-02T00:00:00Z"})");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 202);
  EXPECT_EQ(empty->body, R"({"scheduled":0})");
}

TEST_F(DeliveryTest, ARedirectIsAFailureAndIsNeverFollowed) {
  Receiver receiver(
      [](const httplib::Request& req, httplib::Response& res, int) {
        if (req.path == "/hook") {
          res.status = 302;
          res.set_header("Location", "/elsewhere");
        }
      });
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvRedirect"));
  ASSERT_TRUE(WaitForDeliveries(subscription.id, 1));
  const std::string id = Deliveries(subscription.id)[0].id;
  ASSERT_TRUE(WaitForStatus(subscription.id, id, "failed"));
  std::vector<AttemptItem> attempts;
  Delivery(subscription.id, id, &attempts);
  ASSERT_EQ(attempts.size(), 4u);
  for (const AttemptItem& attempt : attempts) {
    EXPECT_EQ(attempt.status_code, 302);
    EXPECT_EQ(attempt.error_class, "redirect");
  }
  for (const Received& got : receiver.Requests()) EXPECT_EQ(got.path, "/hook");
}

TEST_F(DeliveryTest, GoneDisablesTheSubscriptionAndHoldsWhatFollows) {
  std::atomic<bool> gone{true};
  Receiver receiver([&](const httplib::Request&, httplib::Response& res, int) {
    res.status = gone ? 410 : 200;
  });
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  const std::string since = FormatTimeForTest(-60);
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvGone"));
  ASSERT_TRUE(WaitForDeliveries(subscription.id, 1));
  const std::string first = Deliveries(subscription.id)[0].id;
  ASSERT_TRUE(WaitForStatus(subscription.id, first, "failed"));
  EXPECT_EQ(receiver.Count(), 1u);  // 410 is not retried
  auto sub = GetAs(key_, SubscriptionPath(subscription.id));
  ASSERT_TRUE(sub);
  EXPECT_EQ(StringField(sub->body, "status"), "disabled") << sub->body;

  // While disabled, a new event is kept as held, not sent.
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvHeld"));
  ASSERT_TRUE(WaitForDeliveries(subscription.id, 2));
  const std::string held = Deliveries(subscription.id)[0].id;
  EXPECT_EQ(Delivery(subscription.id, held).status, "held");
  // Re-enabling does not release it by itself...
  auto enabled =
      NewClient().Patch(SubscriptionPath(subscription.id), KeyHeaders(key_),
                        R"({"status":"enabled"})", "application/json");
  ASSERT_TRUE(enabled);
  ASSERT_EQ(enabled->status, 200) << enabled->body;
  EXPECT_EQ(StringField(enabled->body, "status"), "enabled");
  EXPECT_EQ(Delivery(subscription.id, held).status, "held");
  // ...recover does: both the held one and the failed one.
  gone = false;
  auto recovered =
      PostJsonAs(key_, SubscriptionPath(subscription.id) + "/recover",
                 R"({"since":")" + since + R"("})");
  ASSERT_TRUE(recovered);
  ASSERT_EQ(recovered->status, 202) << recovered->body;
  EXPECT_EQ(recovered->body, R"({"scheduled":2})");
  EXPECT_TRUE(WaitForStatus(subscription.id, held, "succeeded"));
  EXPECT_TRUE(WaitForStatus(subscription.id, first, "succeeded"));
}

TEST_F(DeliveryTest, ResendMakesOneMoreAttemptWithTheSameId) {
  Receiver receiver;
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvResend"));
  ASSERT_TRUE(receiver.WaitFor(1));
  const std::string id = Deliveries(subscription.id)[0].id;
  ASSERT_TRUE(WaitForStatus(subscription.id, id, "succeeded"));
  auto resent = PostJsonAs(
      key_, SubscriptionPath(subscription.id) + "/deliveries/" + id + "/resend",
      "");
  ASSERT_TRUE(resent);
  ASSERT_EQ(resent->status, 202) << resent->body;
  EXPECT_EQ(resent->body, R"({"id":")" + id + R"(","attempt":2})");
  ASSERT_TRUE(receiver.WaitFor(2));
  std::vector<Received> got = receiver.Requests();
  EXPECT_EQ(got[1].Header("webhook-id"), got[0].Header("webhook-id"));
  EXPECT_EQ(got[1].Header("x-composio-delivery-attempt"), "2");
  EXPECT_TRUE(SignatureVerifies(subscription.secret,
                                got[1].Header("webhook-id"),
                                got[1].Header("webhook-timestamp"), got[1].body,
                                got[1].Header("webhook-signature")));
  ASSERT_TRUE(WaitForStatus(subscription.id, id, "succeeded"));
  EXPECT_EQ(Delivery(subscription.id, id).attempts, 2);
}

TEST_F(DeliveryTest, ARotatedSecretSignsTheNextAttempt) {
  Receiver receiver([](const httplib::Request&, httplib::Response& res, int n) {
    res.status = n == 0 ? 500 : 200;
  });
  // A slow first retry, so that the rotation comes between the attempts.
  ASSERT_TRUE(StartServer({"--retry-schedule", "1s"}));
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvRotate"));
  ASSERT_TRUE(receiver.WaitFor(1));
  auto rotated = PostJsonAs(
      key_, SubscriptionPath(subscription.id) + "/rotate_secret", "");
  ASSERT_TRUE(rotated);
  ASSERT_EQ(rotated->status, 200) << rotated->body;
  const std::string new_secret =
      StringField(rotated->body, "secret").value_or("");
  ASSERT_NE(new_secret, subscription.secret);
  ASSERT_TRUE(receiver.WaitFor(2));
  const Received second = receiver.Requests()[1];
  EXPECT_TRUE(SignatureVerifies(new_secret, second.Header("webhook-id"),
                                second.Header("webhook-timestamp"), second.body,
                                second.Header("webhook-signature")));
  EXPECT_FALSE(
      SignatureVerifies(subscription.secret, second.Header("webhook-id"),
                        second.Header("webhook-timestamp"), second.body,
                        second.Header("webhook-signature")));
}

TEST_F(DeliveryTest, DeletingTheSubscriptionCancelsWhatIsNotMade) {
  Receiver receiver([](const httplib::Request&, httplib::Response& res, int) {
    res.status = 500;
  });
  ASSERT_TRUE(StartServer({"--retry-schedule", "1h"}));
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvCancel"));
  ASSERT_TRUE(WaitForDeliveries(subscription.id, 1));
  const std::string id = Deliveries(subscription.id)[0].id;
  ASSERT_TRUE(WaitForStatus(subscription.id, id, "retrying"));
  auto deleted =
      NewClient().Delete(SubscriptionPath(subscription.id), KeyHeaders(key_));
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 200) << deleted->body;
  // The subscription and its deliveries are gone for the API.
  auto listed = GetAs(key_, SubscriptionPath(subscription.id) + "/deliveries");
  ASSERT_TRUE(listed);
  ExpectErrorEnvelope(ToReply(listed), 404, "WebhookSubscription_NotFound");
}

TEST_F(DeliveryTest, AnotherProjectSeesNoneOfIt) {
  Receiver receiver;
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvMine"));
  ASSERT_TRUE(WaitForDeliveries(subscription.id, 1));
  const std::string id = Deliveries(subscription.id)[0].id;
  const std::string other = RandomKey();
  const std::string base = SubscriptionPath(subscription.id);
  ExpectErrorEnvelope(ToReply(GetAs(other, base + "/deliveries")), 404,
                      "WebhookSubscription_NotFound");
  ExpectErrorEnvelope(ToReply(GetAs(other, base + "/deliveries/" + id)), 404,
                      "WebhookDelivery_NotFound");
  ExpectErrorEnvelope(
      ToReply(PostJsonAs(other, base + "/deliveries/" + id + "/resend", "")),
      404, "WebhookDelivery_NotFound");
  ExpectErrorEnvelope(
      ToReply(PostJsonAs(other, base + "/recover",
                         R"({"since":"2020-01-01T00:00:00Z"})")),
      404, "WebhookSubscription_NotFound");
  // Nothing changed for the owner.
  ASSERT_TRUE(WaitForStatus(subscription.id, id, "succeeded"));
  EXPECT_EQ(Delivery(subscription.id, id).attempts, 1);
}

TEST_F(DeliveryTest, BadQueriesAndBodiesAreRefusedWithEveryProblem) {
  Receiver receiver;
  Subscription subscription;
  ASSERT_NO_FATAL_FAILURE(MustSubscribe(receiver.Url(), &subscription));
  const std::string base = SubscriptionPath(subscription.id);
  ErrorBody error;
  ExpectErrorEnvelope(
      ToReply(GetAs(key_, base + "/deliveries?limit=0&status=lost&cursor=x")),
      400, "WebhookSubscription_ValidationError", &error);
  EXPECT_EQ(error.errors.size(), 3u);
  ExpectErrorEnvelope(
      ToReply(PostJsonAs(
          key_, base + "/recover",
          R"({"since":"yesterday","until":"2020-01-01T00:00:00Z","x":1})")),
      400, "WebhookSubscription_ValidationError", &error);
  EXPECT_EQ(error.errors.size(), 2u);
  ExpectErrorEnvelope(ToReply(PostJsonAs(key_, base + "/recover", "{}")), 400,
                      "WebhookSubscription_ValidationError");
  ExpectErrorEnvelope(ToReply(PostJsonAs(key_, base + "/recover", "[")), 400,
                      "WebhookSubscription_ValidationError");
  ExpectErrorEnvelope(
      ToReply(GetAs(key_, base + "/deliveries/dlv_doesnotexist")), 404,
      "WebhookDelivery_NotFound");
  ExpectErrorEnvelope(
      ToReply(PostJsonAs(key_, base + "/deliveries/dlv_nope/resend", "")), 404,
      "WebhookDelivery_NotFound");
}

TEST_F(DeliveryTest, ListsNewestFirstInPagesAndFiltersByStatus) {
  Receiver receiver;
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  for (int i = 0; i < 5; ++i) {
    ASSERT_NO_FATAL_FAILURE(
        MustSendSlackEvent(endpoint, "EvPage" + std::to_string(i)));
  }
  ASSERT_TRUE(receiver.WaitFor(5));
  std::vector<DeliveryItem> all = Deliveries(subscription.id);
  ASSERT_EQ(all.size(), 5u);
  for (const DeliveryItem& item : all) {
    ASSERT_TRUE(WaitForStatus(subscription.id, item.id, "succeeded"));
  }
  // Pages of 2 follow each other without a gap or a repeat.
  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto result =
        GetAs(key_, SubscriptionPath(subscription.id) + "/deliveries?limit=2" +
                        (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    for (const std::string& id : ItemIds(result->body)) paged.push_back(id);
    auto next = StringField(result->body, "next_cursor");
    if (!next) break;
    cursor = *next;
  }
  std::vector<std::string> ids;
  for (const DeliveryItem& item : all) ids.push_back(item.id);
  EXPECT_EQ(paged, ids);
  EXPECT_EQ(Deliveries(subscription.id, "status=succeeded").size(), 5u);
  EXPECT_TRUE(Deliveries(subscription.id, "status=failed").empty());
}

TEST_F(DeliveryTest, MetricsCountAttemptsAndTheQueue) {
  Receiver receiver;
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvMetric"));
  ASSERT_TRUE(receiver.WaitFor(1));
  ASSERT_TRUE(WaitForStatus(subscription.id, Deliveries(subscription.id)[0].id,
                            "succeeded"));
  auto metrics = NewClient().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_TRUE(
      Contains(metrics->body,
               "webhooks_delivery_attempts_total{outcome=\"succeeded\"} 1"))
      << metrics->body;
  EXPECT_TRUE(Contains(metrics->body,
                       "webhooks_delivery_attempt_duration_seconds_count 1"));
  EXPECT_TRUE(Contains(metrics->body, "webhooks_deliveries_due 0"));
  EXPECT_TRUE(Contains(metrics->body, "webhooks_deliveries_waiting 0"));
  EXPECT_TRUE(
      Contains(metrics->body, "webhooks_oldest_due_delivery_age_seconds 0"));
}

}  // namespace
}  // namespace webhooks::testing

namespace webhooks::testing {
namespace {

// SIGTERM with an attempt in flight: the stop waits for it (within its
// bound), records it, and the next start does not send it again.
TEST_F(DeliveryTest, AStopWaitsForTheAttemptInFlightAndRecordsIt) {
  Receiver* self = nullptr;
  Receiver receiver(
      [&self](const httplib::Request&, httplib::Response& res, int) {
        self->Hold(std::chrono::milliseconds(700));  // the app is slow
        res.status = 200;
      });
  self = &receiver;
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  ASSERT_NO_FATAL_FAILURE(MustSendSlackEvent(endpoint, "EvStop"));
  ASSERT_TRUE(receiver.WaitFor(1));  // the attempt is in flight now
  const auto stopping = std::chrono::steady_clock::now();
  const int status = server_->Stop();
  const auto stopped = std::chrono::steady_clock::now();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_LT(stopped - stopping, std::chrono::seconds(6));
  EXPECT_TRUE(Contains(server_->Stderr(), "\"outcome\":\"succeeded\""))
      << server_->Stderr();

  ASSERT_TRUE(StartServer({"--retry-schedule", "50ms"}));
  std::vector<DeliveryItem> items = Deliveries(subscription.id);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].status, "succeeded");
  EXPECT_EQ(items[0].attempts, 1);
  // Nothing more arrives: a look at the queue after the restart finds it
  // empty (the metrics read the store).
  auto metrics = NewClient().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_TRUE(Contains(metrics->body, "webhooks_deliveries_waiting 0"));
  EXPECT_EQ(receiver.Count(), 1u);
}

}  // namespace
}  // namespace webhooks::testing
