// The deliveries of a Store (issue 14): the outbox row written with each new
// event, the worker's claim (order, bound, lease, concurrency) and finish
// (each verdict, stale outcomes, 410 Gone), the API's list, get, resend and
// recover, the queue's metrics, retention, and a delivery surviving a
// reopen. Fixture in store_fixture.h.

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/store.h"
#include "tests/test_util.h"
#include "tests/unit/store_fixture.h"

namespace webhooks {
namespace {

using testing::StoreTest;
using testing::TempDir;

constexpr char kAllEvents[] = R"(["composio.trigger.message"])";

class DeliveriesTest : public StoreTest {
 protected:
  // Gives `project` subscription `id` to `events` (a JSON array).
  bool Subscribe(const std::string& project, const std::string& id,
                 const std::string& events = kAllEvents) {
    WebhookSubscription subscription;
    subscription.id = id;
    subscription.project_id = project;
    subscription.webhook_url = "http://app.test/" + id;
    subscription.version = "V3";
    subscription.enabled_events = {events == kAllEvents
                                       ? kTriggerMessageEvent
                                       : "composio.trigger.disabled"};
    subscription.secret = "secret-" + id;
    subscription.created_at_ms = 1;
    subscription.updated_at_ms = 1;
    WebhookSubscription out;
    Status status = store_->CreateSubscription(subscription, &out);
    EXPECT_OK(status);
    return status.ok();
  }

  // An endpoint "we_<n>" of `project`.
  std::string AddEndpoint(const std::string& project, const std::string& id) {
    WebhookEndpoint out;
    bool created = false;
    EXPECT_OK(
        store_->CreateEndpoint(Endpoint(project, id, id), &out, &created));
    return id;
  }

  // Records event "ev_<n>" (provider id "P<n>") on `endpoint` at `at_ms`,
  // with delivery "dlv_<n>"; returns whether it was stored.
  bool Record(const std::string& endpoint, int n, int64_t at_ms,
              bool deliver = true, const std::string& provider_id = "",
              size_t keep = 0) {
    NewEvent event;
    event.id = "ev_" + std::to_string(n);
    event.endpoint_id = endpoint;
    event.provider_event_id =
        provider_id.empty() ? "P" + std::to_string(n) : provider_id;
    event.received_at_ms = at_ms;
    event.headers_json = "{}";
    event.body = std::string("{\"n\":\0", 6) + std::to_string(n) + "}";
    if (deliver) {
      NewDelivery delivery;
      delivery.id = "dlv_" + std::to_string(n);
      delivery.message_id = "msg_" + std::to_string(n);
      delivery.trigger_slug = "SLACK_RECEIVE_MESSAGE";
      delivery.user_id = "U" + std::to_string(n);
      delivery.content_type = "application/json";
      event.delivery = delivery;
    }
    bool stored = false;
    EXPECT_OK(store_->RecordEvent(event, EventRetention{keep, 0}, &stored));
    return stored;
  }

  std::vector<ClaimedDelivery> Claim(int64_t now_ms, size_t max = 100,
                                     int64_t lease_ms = 1000) {
    std::vector<ClaimedDelivery> claimed;
    EXPECT_OK(store_->ClaimDeliveries(now_ms, lease_ms, max, &claimed));
    return claimed;
  }

  static std::vector<std::string> Ids(
      const std::vector<ClaimedDelivery>& claimed) {
    std::vector<std::string> ids;
    for (const ClaimedDelivery& c : claimed) ids.push_back(c.id);
    return ids;
  }

  static AttemptOutcome Outcome(const ClaimedDelivery& claim,
                                AttemptVerdict verdict,
                                std::optional<int> status_code,
                                int64_t next_ms = 0) {
    AttemptOutcome outcome;
    outcome.delivery_id = claim.id;
    outcome.record.attempt = claim.attempt;
    outcome.record.started_at_ms = 1000 + claim.attempt;
    outcome.record.request_headers_json = R"({"webhook-id":"x"})";
    outcome.record.status_code = status_code;
    outcome.record.error_class =
        verdict == AttemptVerdict::kSucceeded ? "" : "http_status";
    outcome.record.duration_ms = 12;
    outcome.record.response_headers_json = "{}";
    outcome.record.response_body = "answer";
    outcome.verdict = verdict;
    outcome.next_attempt_at_ms = next_ms;
    return outcome;
  }

  DeliveryRecord Get(const std::string& project, const std::string& sub,
                     const std::string& id,
                     std::vector<DeliveryAttempt>* attempts = nullptr) {
    DeliveryRecord record;
    std::vector<DeliveryAttempt> rows;
    EXPECT_OK(store_->GetDelivery(project, sub, id, &record, &rows));
    if (attempts) *attempts = std::move(rows);
    return record;
  }

  std::vector<DeliveryRecord> List(const std::string& project,
                                   const std::string& sub,
                                   std::optional<DeliveryStatus> status = {}) {
    DeliveryListQuery query;
    query.project_id = project;
    query.subscription_id = sub;
    query.status = status;
    query.limit = 100;
    std::vector<DeliveryRecord> rows;
    bool more = false;
    EXPECT_OK(store_->ListDeliveries(query, &rows, &more));
    return rows;
  }

  // Whether subscription `id` of `project` is enabled.
  bool SubscriptionEnabled(const std::string& project, const std::string& id) {
    WebhookSubscription subscription;
    EXPECT_OK(store_->GetSubscription(project, id, &subscription));
    return subscription.enabled;
  }
};

TEST_P(DeliveriesTest, NoDeliveryWithoutASubscriptionToTriggerMessages) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  EXPECT_TRUE(Record(we, 1, 100));  // no subscription at all
  ASSERT_TRUE(Subscribe(a, "whs_a", R"(["composio.trigger.disabled"])"));
  EXPECT_TRUE(Record(we, 2, 200));  // a subscription to other events
  std::optional<int64_t> due = 7;
  ASSERT_OK(store_->NextDeliveryDue(&due));
  EXPECT_FALSE(due.has_value());
  EXPECT_TRUE(List(a, "whs_a").empty());
  EXPECT_TRUE(Claim(1'000).empty());
}

TEST_P(DeliveriesTest, OutboxStoresOneDeliveryPerNewEvent) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  EXPECT_TRUE(Record(we, 1, 100));
  // The provider's retry of event 1: no second event, no second delivery.
  EXPECT_FALSE(Record(we, 2, 150, true, "P1"));
  EXPECT_TRUE(Record(we, 3, 200, /*deliver=*/false));

  std::vector<DeliveryRecord> rows = List(a, "whs_a");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, "dlv_1");
  EXPECT_EQ(rows[0].subscription_id, "whs_a");
  EXPECT_EQ(rows[0].webhook_id, "msg_1");
  EXPECT_EQ(rows[0].event_id, "ev_1");
  EXPECT_EQ(rows[0].endpoint_id, we);
  EXPECT_EQ(rows[0].status, DeliveryStatus::kPending);
  EXPECT_EQ(rows[0].attempts, 0);
  EXPECT_EQ(rows[0].next_attempt_at_ms, std::optional<int64_t>(100));
  EXPECT_FALSE(rows[0].last_status_code.has_value());
  EXPECT_EQ(rows[0].created_at_ms, 100);

  EXPECT_TRUE(Claim(99).empty());  // due at the event's time, not before
  std::vector<ClaimedDelivery> claimed = Claim(100);
  ASSERT_EQ(claimed.size(), 1u);
  const ClaimedDelivery& c = claimed[0];
  EXPECT_EQ(c.id, "dlv_1");
  EXPECT_EQ(c.attempt, 1);
  EXPECT_EQ(c.automatic_attempts, 0);
  EXPECT_FALSE(c.manual);
  EXPECT_EQ(c.webhook_id, "msg_1");
  EXPECT_EQ(c.event_id, "ev_1");
  EXPECT_EQ(c.endpoint_id, we);
  EXPECT_EQ(c.toolkit_slug, "slack");
  EXPECT_EQ(c.trigger_slug, "SLACK_RECEIVE_MESSAGE");
  EXPECT_EQ(c.user_id, "U1");
  EXPECT_EQ(c.content_type, "application/json");
  EXPECT_EQ(c.event_received_at_ms, 100);
  EXPECT_EQ(c.body, std::string("{\"n\":\0", 6) + "1}");
  EXPECT_EQ(c.subscription_id, "whs_a");
  EXPECT_EQ(c.url, "http://app.test/whs_a");
  EXPECT_EQ(c.secret, "secret-whs_a");
  EXPECT_EQ(c.version, "V3");
  EXPECT_EQ(Get(a, "whs_a", "dlv_1").status, DeliveryStatus::kInFlight);
}

TEST_P(DeliveriesTest, ClaimTakesTheOldestDueFirstUpToMax) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 300);
  Record(we, 2, 100);
  Record(we, 3, 200);
  EXPECT_EQ(Ids(Claim(250)), (std::vector<std::string>{"dlv_2", "dlv_3"}));
  EXPECT_TRUE(Claim(250).empty());  // both leased, the third not due
  // dlv_1 was due at 300, before the two leases end (at 1250).
  EXPECT_EQ(Ids(Claim(5'000, 1)), std::vector<std::string>{"dlv_1"});
  EXPECT_EQ(Ids(Claim(5'000, 0)), std::vector<std::string>{});
}

TEST_P(DeliveriesTest, AClaimHoldsUntilItsLeaseEnds) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 100);
  ASSERT_EQ(Claim(100, 10, 50).size(), 1u);
  EXPECT_TRUE(Claim(149).empty());
  std::optional<int64_t> due;
  ASSERT_OK(store_->NextDeliveryDue(&due));
  EXPECT_EQ(due, std::optional<int64_t>(150));  // the lease's end
  std::vector<ClaimedDelivery> again = Claim(150);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, "dlv_1");
  EXPECT_EQ(again[0].attempt, 2);
  EXPECT_EQ(again[0].automatic_attempts, 1);
}

TEST_P(DeliveriesTest, ConcurrentClaimsNeverShareADelivery) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  constexpr int kDeliveries = 60;
  for (int n = 1; n <= kDeliveries; ++n) Record(we, n, n);
  std::mutex mu;
  std::vector<std::string> all;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        std::vector<ClaimedDelivery> claimed;
        if (!store_->ClaimDeliveries(1'000, 60'000, 3, &claimed).ok()) return;
        if (claimed.empty()) return;
        std::lock_guard<std::mutex> lock(mu);
        for (const ClaimedDelivery& c : claimed) all.push_back(c.id);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(all.size(), static_cast<size_t>(kDeliveries));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
}

TEST_P(DeliveriesTest, FinishAppliesEachVerdict) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  for (int n = 1; n <= 3; ++n) Record(we, n, n);
  std::vector<ClaimedDelivery> claimed = Claim(10);
  ASSERT_EQ(claimed.size(), 3u);
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(claimed[0], AttemptVerdict::kSucceeded, 200),
       Outcome(claimed[1], AttemptVerdict::kRetry, 500, 5'000),
       Outcome(claimed[2], AttemptVerdict::kFailed, std::nullopt)},
      20));

  std::vector<DeliveryAttempt> attempts;
  DeliveryRecord done = Get(a, "whs_a", "dlv_1", &attempts);
  EXPECT_EQ(done.status, DeliveryStatus::kSucceeded);
  EXPECT_FALSE(done.next_attempt_at_ms.has_value());
  EXPECT_EQ(done.last_status_code, std::optional<int>(200));
  EXPECT_EQ(done.last_error, "");
  EXPECT_EQ(done.attempts, 1);
  EXPECT_EQ(done.updated_at_ms, 20);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].attempt, 1);
  EXPECT_EQ(attempts[0].started_at_ms, 1001);
  EXPECT_EQ(attempts[0].request_headers_json, R"({"webhook-id":"x"})");
  EXPECT_EQ(attempts[0].status_code, std::optional<int>(200));
  EXPECT_EQ(attempts[0].duration_ms, 12);
  EXPECT_EQ(attempts[0].response_body, "answer");

  DeliveryRecord retrying = Get(a, "whs_a", "dlv_2");
  EXPECT_EQ(retrying.status, DeliveryStatus::kRetrying);
  EXPECT_EQ(retrying.next_attempt_at_ms, std::optional<int64_t>(5'000));
  EXPECT_EQ(retrying.last_error, "http_status");

  DeliveryRecord failed = Get(a, "whs_a", "dlv_3", &attempts);
  EXPECT_EQ(failed.status, DeliveryStatus::kFailed);
  EXPECT_FALSE(failed.last_status_code.has_value());
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_FALSE(attempts[0].status_code.has_value());

  // Only the retry comes back, at its time, as the second automatic attempt.
  EXPECT_TRUE(Claim(4'999).empty());
  std::vector<ClaimedDelivery> again = Claim(5'000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, "dlv_2");
  EXPECT_EQ(again[0].attempt, 2);
  EXPECT_EQ(again[0].automatic_attempts, 1);
  EXPECT_FALSE(again[0].manual);
}

TEST_P(DeliveriesTest, ActivityCountsAProjectsEventsAndDeliveriesByBucket) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  const std::string we_a = AddEndpoint(a, "we_a");
  const std::string we_b = AddEndpoint(b, "we_b");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  // Buckets of 1,000 ms from 10,000: events at 9,999 (before), 10,000 and
  // 10,500 (bucket 0), 12,000 (bucket 2); project b's never count for a.
  Record(we_a, 1, 9'999);
  Record(we_a, 2, 10'000);
  Record(we_a, 3, 10'500);
  Record(we_a, 4, 12'000);
  Record(we_b, 5, 10'000, false);
  std::vector<ClaimedDelivery> claimed = Claim(20'000, 10);
  ASSERT_EQ(claimed.size(), 4u);
  std::vector<AttemptOutcome> outcomes;
  for (const ClaimedDelivery& delivery : claimed) {
    EXPECT_EQ(delivery.project_id, a);  // for the live stream
    if (delivery.id == "dlv_2") {
      outcomes.push_back(Outcome(delivery, AttemptVerdict::kSucceeded, 200));
    } else if (delivery.id == "dlv_3") {
      outcomes.push_back(Outcome(delivery, AttemptVerdict::kFailed, 500));
    }
  }
  ASSERT_OK(store_->FinishAttempts(outcomes, 20'100));
  std::vector<ActivityBucket> buckets;
  ASSERT_OK(store_->CountActivity(a, 10'000, 1'000, &buckets));
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0].start_ms, 10'000);
  EXPECT_EQ(buckets[0].events, 2);
  EXPECT_EQ(buckets[0].succeeded, 1);
  EXPECT_EQ(buckets[0].failed, 1);
  EXPECT_EQ(buckets[0].waiting, 0);
  EXPECT_EQ(buckets[1].start_ms, 12'000);
  EXPECT_EQ(buckets[1].events, 1);
  EXPECT_EQ(buckets[1].waiting, 1);  // dlv_4, still in flight
  ASSERT_OK(store_->CountActivity(b, 10'000, 1'000, &buckets));
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].events, 1);
  EXPECT_EQ(buckets[0].succeeded + buckets[0].failed + buckets[0].waiting, 0);
  ASSERT_OK(store_->CountActivity(Project('c'), 0, 1'000, &buckets));
  EXPECT_TRUE(buckets.empty());
}

TEST_P(DeliveriesTest, AStaleOutcomeRecordsOnlyItsAttempt) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 100);
  std::vector<ClaimedDelivery> first = Claim(100, 10, 50);
  std::vector<ClaimedDelivery> second = Claim(200, 10, 50);  // lease ended
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(first[0], AttemptVerdict::kSucceeded, 200)}, 210));
  std::vector<DeliveryAttempt> attempts;
  DeliveryRecord record = Get(a, "whs_a", "dlv_1", &attempts);
  EXPECT_EQ(record.status, DeliveryStatus::kInFlight);  // attempt 2's
  EXPECT_EQ(record.attempts, 2);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].attempt, 1);
  // The current attempt's outcome applies; a repeat of it changes nothing.
  const AttemptOutcome retry =
      Outcome(second[0], AttemptVerdict::kRetry, 503, 9'000);
  ASSERT_OK(store_->FinishAttempts({retry, retry}, 220));
  record = Get(a, "whs_a", "dlv_1", &attempts);
  EXPECT_EQ(record.status, DeliveryStatus::kRetrying);
  EXPECT_EQ(attempts.size(), 2u);
}

TEST_P(DeliveriesTest, GoneDisablesTheSubscriptionAndHoldsItsDeliveries) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 100);
  Record(we, 2, 200);
  std::vector<ClaimedDelivery> claimed = Claim(150);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(claimed[0], AttemptVerdict::kGone, 410)}, 160));
  EXPECT_FALSE(SubscriptionEnabled(a, "whs_a"));
  EXPECT_EQ(Get(a, "whs_a", "dlv_1").status, DeliveryStatus::kFailed);
  DeliveryRecord held = Get(a, "whs_a", "dlv_2");
  EXPECT_EQ(held.status, DeliveryStatus::kHeld);
  EXPECT_FALSE(held.next_attempt_at_ms.has_value());
  // New events of a disabled subscription are held from the start.
  EXPECT_TRUE(Record(we, 3, 300));
  EXPECT_EQ(Get(a, "whs_a", "dlv_3").status, DeliveryStatus::kHeld);
  EXPECT_EQ(List(a, "whs_a", DeliveryStatus::kHeld).size(), 2u);
  EXPECT_TRUE(Claim(10'000).empty());
  std::optional<int64_t> due = 7;
  ASSERT_OK(store_->NextDeliveryDue(&due));
  EXPECT_FALSE(due.has_value());
}

TEST_P(DeliveriesTest, ResendFollowsTheDeliveryStatus) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 100);
  Record(we, 2, 100'000);
  int attempt = 0;
  // Pending: its first automatic attempt moves to now.
  ASSERT_OK(store_->ResendDelivery(a, "whs_a", "dlv_2", 500, &attempt));
  EXPECT_EQ(attempt, 1);
  std::vector<ClaimedDelivery> claimed = Claim(500);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_FALSE(claimed[1].manual);
  // In flight: Conflict.
  EXPECT_EQ(store_->ResendDelivery(a, "whs_a", "dlv_1", 600, &attempt).code(),
            Status::Code::kConflict);
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(claimed[0], AttemptVerdict::kSucceeded, 200)}, 700));
  // Succeeded: one manual attempt, numbered on, outside the schedule.
  ASSERT_OK(store_->ResendDelivery(a, "whs_a", "dlv_1", 800, &attempt));
  EXPECT_EQ(attempt, 2);
  DeliveryRecord record = Get(a, "whs_a", "dlv_1");
  EXPECT_EQ(record.status, DeliveryStatus::kPending);
  EXPECT_EQ(record.next_attempt_at_ms, std::optional<int64_t>(800));
  std::vector<ClaimedDelivery> manual = Claim(800);
  ASSERT_EQ(manual.size(), 1u);
  EXPECT_EQ(manual[0].attempt, 2);
  EXPECT_EQ(manual[0].automatic_attempts, 1);
  EXPECT_TRUE(manual[0].manual);
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(manual[0], AttemptVerdict::kFailed, 500)}, 900));
  ASSERT_OK(store_->ResendDelivery(a, "whs_a", "dlv_1", 1'000, &attempt));
  EXPECT_EQ(attempt, 3);
  manual = Claim(1'000);
  ASSERT_EQ(manual.size(), 1u);
  EXPECT_EQ(manual[0].automatic_attempts, 1);  // manual ones do not count

  EXPECT_EQ(store_->ResendDelivery(a, "whs_a", "dlv_9", 1'000, &attempt).code(),
            Status::Code::kNotFound);
}

TEST_P(DeliveriesTest, ADeliveryWhoseSubscriptionIsGoneIsCancelled) {
  if (!Reopenable()) GTEST_SKIP() << "deletes the subscription row with SQL";
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 100);
  ASSERT_EQ(Claim(100, 10, 50).size(), 1u);  // then the worker dies
  Sql("DELETE FROM webhook_subscriptions");
  EXPECT_TRUE(Claim(1'000).empty());
  EXPECT_EQ(Sql("SELECT status || ',' || "
                "CASE WHEN due_at IS NULL THEN 1 ELSE 0 END "
                "FROM webhook_deliveries"),
            "cancelled,1");
  // Gone for the API too, as the contract says of another project's.
  int attempt = 0;
  EXPECT_EQ(store_->ResendDelivery(a, "whs_a", "dlv_1", 1'000, &attempt).code(),
            Status::Code::kNotFound);
  // A cancelled delivery under a subscription that exists: Conflict.
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  EXPECT_EQ(store_->ResendDelivery(a, "whs_a", "dlv_1", 1'000, &attempt).code(),
            Status::Code::kConflict);
}

TEST_P(DeliveriesTest, RecoverGivesFailedAndHeldDeliveriesOneMoreAttempt) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 100);  // will fail
  Record(we, 2, 200);  // will succeed
  Record(we, 3, 300);  // will fail, but outside the window
  std::vector<ClaimedDelivery> claimed = Claim(300);
  ASSERT_EQ(claimed.size(), 3u);
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(claimed[0], AttemptVerdict::kFailed, 500),
       Outcome(claimed[1], AttemptVerdict::kSucceeded, 200),
       Outcome(claimed[2], AttemptVerdict::kFailed, 500)},
      400));
  Record(we, 4, 250);  // pending: not recovered, already on its way
  int64_t scheduled = -1;
  ASSERT_OK(store_->RecoverDeliveries(a, "whs_a", 100, 299, 1'000, &scheduled));
  EXPECT_EQ(scheduled, 1);
  EXPECT_EQ(Get(a, "whs_a", "dlv_3").status, DeliveryStatus::kFailed);
  std::vector<ClaimedDelivery> again = Claim(1'000);
  ASSERT_EQ(Ids(again), (std::vector<std::string>{"dlv_4", "dlv_1"}));
  EXPECT_TRUE(again[1].manual);
  EXPECT_EQ(again[1].attempt, 2);

  // Held ones come out through recover (here: held after a 410).
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(again[1], AttemptVerdict::kGone, 410)}, 1'100));
  Record(we, 5, 260);
  EXPECT_EQ(Get(a, "whs_a", "dlv_5").status, DeliveryStatus::kHeld);
  ASSERT_OK(
      store_->RecoverDeliveries(a, "whs_a", 0, 10'000, 1'500, &scheduled));
  // dlv_1 and dlv_3 (failed), dlv_5 (held); not dlv_4, in flight.
  EXPECT_EQ(scheduled, 3);
  EXPECT_EQ(Ids(Claim(1'500)),
            (std::vector<std::string>{"dlv_1", "dlv_3", "dlv_5"}));
}

TEST_P(DeliveriesTest, AnotherProjectsSubscriptionIsNotFound) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 100);
  DeliveryListQuery query;
  query.project_id = b;
  query.subscription_id = "whs_a";
  std::vector<DeliveryRecord> rows;
  bool more = false;
  EXPECT_EQ(store_->ListDeliveries(query, &rows, &more).code(),
            Status::Code::kNotFound);
  DeliveryRecord record;
  std::vector<DeliveryAttempt> attempts;
  EXPECT_EQ(store_->GetDelivery(b, "whs_a", "dlv_1", &record, &attempts).code(),
            Status::Code::kNotFound);
  int attempt = 0;
  EXPECT_EQ(store_->ResendDelivery(b, "whs_a", "dlv_1", 100, &attempt).code(),
            Status::Code::kNotFound);
  int64_t scheduled = 0;
  EXPECT_EQ(
      store_->RecoverDeliveries(b, "whs_a", 0, 1'000, 100, &scheduled).code(),
      Status::Code::kNotFound);
  EXPECT_EQ(store_->GetDelivery(a, "whs_a", "dlv_2", &record, &attempts).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(Get(a, "whs_a", "dlv_1").status, DeliveryStatus::kPending);
}

TEST_P(DeliveriesTest, ListPagesNewestFirstWithAStatusFilter) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  // Two at the same time: the id breaks the tie.
  for (int n = 1; n <= 5; ++n) Record(we, n, n == 5 ? 400 : n * 100);
  std::vector<ClaimedDelivery> claimed = Claim(150);  // dlv_1
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(claimed[0], AttemptVerdict::kSucceeded, 200)}, 160));

  DeliveryListQuery query;
  query.project_id = a;
  query.subscription_id = "whs_a";
  query.limit = 2;
  std::vector<std::string> seen;
  bool more = true;
  for (int page = 0; more && page < 5; ++page) {
    std::vector<DeliveryRecord> rows;
    ASSERT_OK(store_->ListDeliveries(query, &rows, &more));
    ASSERT_FALSE(rows.empty());
    for (const DeliveryRecord& r : rows) seen.push_back(r.id);
    query.after = DeliveryCursor{rows.back().created_at_ms, rows.back().id};
  }
  EXPECT_FALSE(more);
  EXPECT_EQ(seen, (std::vector<std::string>{"dlv_5", "dlv_4", "dlv_3", "dlv_2",
                                            "dlv_1"}));

  query.after.reset();
  query.limit = 10;
  query.status = DeliveryStatus::kSucceeded;
  std::vector<DeliveryRecord> rows;
  ASSERT_OK(store_->ListDeliveries(query, &rows, &more));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, "dlv_1");
  EXPECT_FALSE(more);
  EXPECT_EQ(List(a, "whs_a", DeliveryStatus::kPending).size(), 4u);
}

TEST_P(DeliveriesTest, ReleaseLeasesMakesInFlightDeliveriesDueAtOnce) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 100);
  Record(we, 2, 5'000);  // not due: stays as it is
  ASSERT_EQ(Claim(100, 10, 60'000).size(), 1u);
  ASSERT_OK(store_->ReleaseLeases(200));
  std::vector<ClaimedDelivery> again = Claim(200);
  ASSERT_EQ(Ids(again), std::vector<std::string>{"dlv_1"});
  EXPECT_EQ(again[0].attempt, 2);
}

TEST_P(DeliveriesTest, QueueMetricsAndTheNextDueTime) {
  std::optional<int64_t> due = 7;
  ASSERT_OK(store_->NextDeliveryDue(&due));
  EXPECT_FALSE(due.has_value());
  DeliveryQueueStats stats;
  stats.due = 9;
  ASSERT_OK(store_->CountDeliveryQueue(1'000, &stats));
  EXPECT_EQ(stats.due, 0);
  EXPECT_EQ(stats.waiting, 0);
  EXPECT_EQ(stats.oldest_due_at_ms, 0);

  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 100);
  Record(we, 2, 200);
  Record(we, 3, 300);
  ASSERT_OK(store_->CountDeliveryQueue(250, &stats));
  EXPECT_EQ(stats.due, 2);
  EXPECT_EQ(stats.waiting, 3);
  EXPECT_EQ(stats.oldest_due_at_ms, 100);
  ASSERT_EQ(Claim(250, 1, 1'000).size(), 1u);  // dlv_1, leased to 1250
  ASSERT_OK(store_->CountDeliveryQueue(250, &stats));
  EXPECT_EQ(stats.due, 1);
  EXPECT_EQ(stats.waiting, 3);
  EXPECT_EQ(stats.oldest_due_at_ms, 200);
  ASSERT_OK(store_->NextDeliveryDue(&due));
  EXPECT_EQ(due, std::optional<int64_t>(200));
  ASSERT_OK(store_->CountDeliveryQueue(100, &stats));
  EXPECT_EQ(stats.due, 0);
  EXPECT_EQ(stats.oldest_due_at_ms, 0);
}

TEST_P(DeliveriesTest, AnAttemptsResponseBodyKeepsItsBytes) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  Record(we, 1, 100);
  std::vector<ClaimedDelivery> claimed = Claim(100);
  ASSERT_EQ(claimed.size(), 1u);
  std::string body(20'000, '\0');
  for (size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>((i * 7) % 256);
  }
  AttemptOutcome outcome =
      Outcome(claimed[0], AttemptVerdict::kRetry, 502, 9'000);
  outcome.record.response_body = body;
  outcome.record.response_headers_json = R"({"x":"caf\u00e9 \"q\""})";
  ASSERT_OK(store_->FinishAttempts({outcome}, 200));
  std::vector<DeliveryAttempt> attempts;
  Get(a, "whs_a", "dlv_1", &attempts);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].response_body, body);
  EXPECT_EQ(attempts[0].response_headers_json, R"({"x":"caf\u00e9 \"q\""})");
  EXPECT_EQ(attempts[0].status_code, std::optional<int>(502));
}

// The outbox's promise: a 200 at the ingress means the delivery is stored
// with its event, so it is there after the process goes away.
TEST_P(DeliveriesTest, ADeliverySurvivesClosingAndReopening) {
  if (!Reopenable()) GTEST_SKIP() << ":memory: does not outlive its store";
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  ASSERT_TRUE(Record(we, 1, 100));
  ASSERT_OK(Reopen());
  std::vector<ClaimedDelivery> claimed = Claim(100);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, "dlv_1");
  EXPECT_EQ(claimed[0].body, std::string("{\"n\":\0", 6) + "1}");
}

TEST_P(DeliveriesTest, AgeRetentionDeletesOnlyFinishedDeliveries) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  for (int n = 1; n <= 5; ++n) Record(we, n, n * 100);  // all aged below
  std::vector<ClaimedDelivery> claimed = Claim(1'000, 4);
  ASSERT_EQ(claimed.size(), 4u);
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(claimed[0], AttemptVerdict::kSucceeded, 200),
       Outcome(claimed[1], AttemptVerdict::kFailed, 500),
       Outcome(claimed[2], AttemptVerdict::kSucceeded, 200),
       Outcome(claimed[3], AttemptVerdict::kRetry, 500, 50'000)},
      1'000));
  // Now: dlv_1-3 finished (two rows each, with their attempt), dlv_4
  // retrying, dlv_5 pending. Events go first: 5 of the budget of 7, then
  // one finished delivery with its attempt.
  EventRetention retention;
  retention.max_age_ms = 1'000;
  bool more = false;
  ASSERT_OK(store_->PruneEvents(retention, 100'000, 7, &more));
  EXPECT_TRUE(more);
  EXPECT_EQ(List(a, "whs_a").size(), 4u);
  ASSERT_OK(store_->PruneEvents(retention, 100'000, 7, &more));
  EXPECT_TRUE(more);
  ASSERT_OK(store_->PruneEvents(retention, 100'000, 7, &more));
  EXPECT_FALSE(more);
  std::vector<DeliveryRecord> rows = List(a, "whs_a");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, "dlv_5");
  EXPECT_EQ(rows[1].id, "dlv_4");
  if (Reopenable()) {
    EXPECT_EQ(Sql("SELECT count(*) FROM webhook_delivery_attempts"),
              "1");  // dlv_4's
  }
}

// The outbox keeps no copy of the body: a delivery reads its event's. When
// retention deletes the event, a delivery that may still be attempted gets
// the body first; a succeeded one lets it go, and cannot be resent then.
TEST_P(DeliveriesTest, EventRetentionKeepsTheBodiesDeliveriesStillNeed) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  ASSERT_TRUE(Record(we, 1, 100));
  ASSERT_TRUE(Record(we, 2, 100));
  std::vector<ClaimedDelivery> first = Claim(100, 2);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(first[0], AttemptVerdict::kSucceeded, 200),
       Outcome(first[1], AttemptVerdict::kFailed, 500)},
      110));
  ASSERT_TRUE(Record(we, 3, 120));  // pending
  // Keep one event: 1, 2 and 3 go as 4 is stored.
  ASSERT_TRUE(Record(we, 4, 130, true, "", /*keep=*/1));
  ASSERT_TRUE(Record(we, 5, 130, true, "", /*keep=*/1));
  std::vector<StoredEvent> events;
  bool more = false;
  ASSERT_OK(store_->ListEvents(a, we, 0, 0, &events, &more));
  ASSERT_EQ(events.size(), 1u);

  int attempt = 0;
  // Succeeded: its body went with its event.
  EXPECT_EQ(store_->ResendDelivery(a, "whs_a", "dlv_1", 140, &attempt).code(),
            Status::Code::kConflict);
  // Failed: recoverable, so its body was kept.
  ASSERT_OK(store_->ResendDelivery(a, "whs_a", "dlv_2", 140, &attempt));
  std::vector<ClaimedDelivery> claimed = Claim(140);
  ASSERT_EQ(Ids(claimed),
            (std::vector<std::string>{"dlv_3", "dlv_4", "dlv_5", "dlv_2"}));
  for (const ClaimedDelivery& delivery : claimed) {
    const std::string n = delivery.id.substr(4);
    EXPECT_EQ(delivery.body, std::string("{\"n\":\0", 6) + n + "}")
        << delivery.id;
  }
}

// A delivery claimed as its event is stored: returned ready to send, in
// flight with attempt 1, and claimed by no one else until its lease ends.
TEST_P(DeliveriesTest, RecordEventCanClaimTheDeliveryItStores) {
  const std::string a = Project('a');
  const std::string we = AddEndpoint(a, "we_a");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  NewEvent event;
  event.id = "ev_1";
  event.endpoint_id = we;
  event.provider_event_id = "P1";
  event.received_at_ms = 100;
  event.headers_json = "{}";
  event.body = R"({"n":1})";
  NewDelivery& delivery = event.delivery.emplace();
  delivery.id = "dlv_1";
  delivery.message_id = "msg_1";
  delivery.trigger_slug = "SLACK_RECEIVE_MESSAGE";
  delivery.user_id = "U1";
  delivery.content_type = "application/json";
  delivery.claim_lease_ms = 1000;
  bool stored = false;
  std::optional<ClaimedDelivery> claimed;
  ASSERT_OK(store_->RecordEvent(event, {}, &stored, &claimed));
  ASSERT_TRUE(stored);
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id, "dlv_1");
  EXPECT_EQ(claimed->attempt, 1);
  EXPECT_EQ(claimed->automatic_attempts, 0);
  EXPECT_FALSE(claimed->manual);
  EXPECT_EQ(claimed->webhook_id, "msg_1");
  EXPECT_EQ(claimed->event_id, "ev_1");
  EXPECT_EQ(claimed->endpoint_id, we);
  EXPECT_EQ(claimed->body, R"({"n":1})");
  EXPECT_EQ(claimed->url, "http://app.test/whs_a");
  EXPECT_EQ(claimed->secret, "secret-whs_a");
  EXPECT_EQ(claimed->version, "V3");
  DeliveryRecord record = Get(a, "whs_a", "dlv_1");
  EXPECT_EQ(record.status, DeliveryStatus::kInFlight);
  EXPECT_EQ(record.attempts, 1);
  EXPECT_TRUE(Claim(1099).empty());  // leased to the one who asked
  // The lease ends: another claim takes it, as attempt 2, the schedule's
  // first automatic attempt made.
  std::vector<ClaimedDelivery> again = Claim(1100);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempt, 2);
  EXPECT_EQ(again[0].automatic_attempts, 1);
  // The outcome of the first attempt is stale now: recorded, nothing else.
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(*claimed, AttemptVerdict::kSucceeded, 200)}, 1200));
  EXPECT_EQ(Get(a, "whs_a", "dlv_1").status, DeliveryStatus::kInFlight);

  // A provider's retry: no event, no delivery, no claim.
  event.id = "ev_2";
  delivery.id = "dlv_2";
  ASSERT_OK(store_->RecordEvent(event, {}, &stored, &claimed));
  EXPECT_FALSE(stored);
  EXPECT_FALSE(claimed.has_value());
  // Without asking (lease 0): pending, not claimed.
  event.provider_event_id = "P3";
  event.id = "ev_3";
  delivery.id = "dlv_3";
  delivery.claim_lease_ms = 0;
  ASSERT_OK(store_->RecordEvent(event, {}, &stored, &claimed));
  EXPECT_TRUE(stored);
  EXPECT_FALSE(claimed.has_value());
  EXPECT_EQ(Get(a, "whs_a", "dlv_3").status, DeliveryStatus::kPending);
}

// Issue 17: a test fixture's reset empties one project, all of it, and
// touches no other project.
TEST_P(DeliveriesTest, ResetProjectDeletesOneProjectsDataAndNoOther) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  const std::string we_a = AddEndpoint(a, "we_a");
  const std::string we_b = AddEndpoint(b, "we_b");
  ASSERT_TRUE(Subscribe(a, "whs_a"));
  ASSERT_TRUE(Subscribe(b, "whs_b"));
  ASSERT_TRUE(Record(we_a, 1, 100));
  ASSERT_TRUE(Record(we_b, 2, 100));
  std::vector<ClaimedDelivery> claimed = Claim(200);
  ASSERT_EQ(claimed.size(), 2u);
  ASSERT_OK(store_->FinishAttempts(
      {Outcome(claimed[0], AttemptVerdict::kSucceeded, 200),
       Outcome(claimed[1], AttemptVerdict::kSucceeded, 200)},
      300));

  ASSERT_OK(store_->ResetProject(a));

  WebhookEndpoint endpoint;
  EXPECT_EQ(store_->GetEndpoint(a, we_a, &endpoint).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->GetEndpointForIngress(we_a, &endpoint).code(),
            Status::Code::kNotFound);
  std::vector<WebhookSubscription> subscriptions;
  ASSERT_OK(store_->ListSubscriptions(a, &subscriptions));
  EXPECT_TRUE(subscriptions.empty());
  DeliveryRecord record;
  std::vector<DeliveryAttempt> attempts;
  EXPECT_EQ(store_->GetDelivery(a, "whs_a", "dlv_1", &record, &attempts).code(),
            Status::Code::kNotFound);
  // The rows themselves are gone, not only out of reach: no delivery, no
  // attempt of project a is left.
  if (Reopenable()) {
    EXPECT_EQ(Sql("SELECT count(*) FROM webhook_deliveries WHERE project_id = "
                  "'proj_a'"),
              "0");
    EXPECT_EQ(Sql("SELECT count(*) FROM webhook_delivery_attempts WHERE "
                  "delivery_id = 'dlv_1'"),
              "0");
  }
  // Its events go with the pruner, as a deleted endpoint's do.
  for (bool more = true; more;) {
    ASSERT_OK(store_->PruneEvents(EventRetention{1000, 0}, 1'000, 100, &more));
  }
  int64_t endpoints = 0;
  int64_t events = 0;
  ASSERT_OK(store_->CountRows(&endpoints, &events));
  EXPECT_EQ(endpoints, 1);
  EXPECT_EQ(events, 1);

  // Project b keeps everything.
  ASSERT_OK(store_->GetEndpoint(b, we_b, &endpoint));
  ASSERT_OK(store_->ListSubscriptions(b, &subscriptions));
  ASSERT_EQ(subscriptions.size(), 1u);
  Get(b, "whs_b", "dlv_2", &attempts);
  EXPECT_EQ(attempts.size(), 1u);
  std::vector<StoredEvent> stored;
  bool more = false;
  ASSERT_OK(store_->ListEvents(b, we_b, 10, 0, &stored, &more));
  EXPECT_EQ(stored.size(), 1u);

  // Project a starts over: the same triple and a subscription are new
  // again, and a reset of an empty project is no error.
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_a2", "we_a"), &endpoint,
                                   &created));
  EXPECT_TRUE(created);
  EXPECT_TRUE(Subscribe(a, "whs_a2"));
  ASSERT_OK(store_->ResetProject(a));
  ASSERT_OK(store_->ResetProject(a));
}

INSTANTIATE_TEST_SUITE_P(Backends, DeliveriesTest,
                         ::testing::ValuesIn(testing::ConformanceBackends()),
                         [](const auto& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace webhooks
