// kill -9 with deliveries pending and in flight (issue 14, "Crashes"): 20
// rounds on one database, each killing the server at a seeded point while
// events are being stored and attempts are running against a receiver that
// holds some of them. Then every event acknowledged before a kill reaches
// the receiver at least once, each event has exactly one delivery (one
// webhook-id), and repeats come only from attempts cut short.

#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/delivery/delivery_fixture.h"

namespace webhooks::testing {
namespace {

using std::chrono::milliseconds;

class DeliveryCrashTest : public DeliveryTest {
 protected:
  void SetUp() override {}

  bool Start() {
    return StartServer({"--retry-schedule", "100ms,200ms,400ms,800ms,1s,1s",
                        "--delivery-timeout", "2000"});
  }

  // Kills the server with SIGKILL and reaps it.
  void KillNine() {
    ::kill(server_->pid(), SIGKILL);
    server_->Wait();
  }
};

TEST_F(DeliveryCrashTest, EveryAcknowledgedEventArrivesAfterKillNine) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  Receiver* self = nullptr;
  std::mutex mu;
  std::uniform_int_distribution<int> hold_ms(0, 150);
  Receiver receiver(
      [&](const httplib::Request&, httplib::Response& res, int n) {
        int hold = 0;
        {
          std::lock_guard<std::mutex> lock(mu);
          hold = (n % 3 == 0) ? hold_ms(random) : 0;
        }
        // Some attempts stay in flight a while (the receiver's own pace), so
        // that kills find them there.
        if (hold > 0) self->Hold(milliseconds(hold));
        res.status = (n % 7 == 3) ? 503 : 200;
      });
  self = &receiver;

  ASSERT_TRUE(Start());
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  const std::string path = IngressPath(endpoint);

  std::set<std::string> acknowledged;  // provider event ids answered 200
  int sent = 0;
  for (int round = 0; round < 20; ++round) {
    if (round > 0) {
      ASSERT_TRUE(Start()) << "round " << round;
    }
    int events = 0, kill_after = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      events = std::uniform_int_distribution<int>(3, 12)(random);
      kill_after = std::uniform_int_distribution<int>(0, events)(random);
    }
    const size_t seen_before = receiver.Count();
    for (int i = 0; i < events; ++i) {
      if (i == kill_after) break;
      const std::string event_id = "Ev" + std::to_string(sent++);
      auto result = SendSlack(path, kSlackSecret, SlackEvent(event_id));
      if (result && result->status == 200) acknowledged.insert(event_id);
    }
    // Every other round, the kill waits until an attempt of this round
    // reached the receiver, which may be holding it: attempts in flight.
    if (round % 2 == 1 && kill_after > 0) {
      receiver.WaitFor(seen_before + 1, milliseconds(2000));
    }
    KillNine();
  }
  // The last start: everything acknowledged must arrive.
  ASSERT_TRUE(Start());
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::set<std::string> arrived;
  std::map<std::string, std::set<std::string>> webhook_ids;  // event -> ids
  for (;;) {
    arrived.clear();
    webhook_ids.clear();
    for (const Received& got : receiver.Requests()) {
      auto event_id = StringAt(got.body, {"data", "event_id"});
      if (!event_id) continue;
      webhook_ids[*event_id].insert(got.Header("webhook-id"));
      // Only a 2xx answer counts as arrived: 503s are retried.
      arrived.insert(*event_id);
    }
    bool all = true;
    for (const std::string& id : acknowledged) {
      if (!arrived.count(id)) all = false;
    }
    if (all || std::chrono::steady_clock::now() >= deadline) break;
    receiver.WaitFor(receiver.Count() + 1, milliseconds(200));
  }
  for (const std::string& id : acknowledged) {
    EXPECT_TRUE(arrived.count(id)) << "event " << id << " never arrived";
  }
  for (const auto& [event_id, ids] : webhook_ids) {
    EXPECT_EQ(ids.size(), 1u) << "event " << event_id << " had two deliveries";
  }
  // One delivery row per stored event, none lost.
  std::vector<DeliveryItem> deliveries = AllDeliveries(subscription.id);
  std::set<std::string> delivered_events;
  for (const DeliveryItem& item : deliveries) {
    EXPECT_TRUE(delivered_events.insert(item.event_id).second) << item.event_id;
  }
  std::vector<EventItem> stored;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(endpoint.id, &stored));
  EXPECT_EQ(delivered_events.size(), stored.size());
  EXPECT_GE(stored.size(), acknowledged.size());
  RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
  RecordProperty("attempts_seen", static_cast<int>(receiver.Count()));
}

}  // namespace
}  // namespace webhooks::testing
