// The conformance suite for any Store, run against every backend
// (store_test.cpp, fixture in store_fixture.h): the events the ingress
// stores, listed newest first in pages with a byte bound, stored once however
// many copies arrive at once, and their retention: the newest kept, the
// events of deleted endpoints dropped in slices, a lowered bound reached in
// bounded steps.

#include <gtest/gtest.h>

#include <atomic>
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

TEST_P(StoreTest, EventsAreStoredOnceAndListedNewestFirst) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  auto event = [](std::string id, std::string provider_id) {
    NewEvent e;
    e.id = std::move(id);
    e.endpoint_id = "we_1";
    e.provider_event_id = std::move(provider_id);
    e.received_at_ms = 5;
    e.headers_json = "{}";
    e.body = std::string("body\0with nul", 13);
    return e;
  };
  bool stored = false;
  ASSERT_OK(store_->RecordEvent(event("ev_1", "P1"), {}, &stored));
  EXPECT_TRUE(stored);
  ASSERT_OK(store_->RecordEvent(event("ev_2", "P1"), {}, &stored));
  EXPECT_FALSE(stored);  // a retry of P1
  ASSERT_OK(store_->RecordEvent(event("ev_3", "P2"), {}, &stored));
  EXPECT_TRUE(stored);

  std::vector<StoredEvent> events;
  bool more = true;
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, &events, &more));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, "ev_3");
  EXPECT_EQ(events[1].id, "ev_1");
  EXPECT_EQ(events[1].body, std::string("body\0with nul", 13));
  EXPECT_FALSE(more);

  ASSERT_OK(store_->ListEvents(a, "we_1", 1, 0, &events, &more));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(more);
  ASSERT_OK(
      store_->ListEvents(a, "we_1", 1, events[0].sequence, &events, &more));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "ev_1");
  EXPECT_FALSE(more);

  EXPECT_EQ(store_->ListEvents(b, "we_1", 0, 0, &events, &more).code(),
            Status::Code::kNotFound);
}

// Issue 12, 2026: a page of events is bounded in bytes as well as in
// count; the first event comes back whatever its size, so paging always
// makes progress.
TEST_P(StoreTest, EventPagesStopAtTheByteBound) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  bool stored = false;
  for (int i = 1; i <= 5; ++i) {  // bodies of 100 bytes, the third of 1000
    NewEvent e;
    e.id = "ev_" + std::to_string(i);
    e.endpoint_id = "we_1";
    e.provider_event_id = "p" + std::to_string(i);
    e.headers_json = "{}";  // 2 bytes
    e.body = std::string(i == 3 ? 1000 : 100, 'x');
    ASSERT_OK(store_->RecordEvent(e, {}, &stored));
  }
  std::vector<StoredEvent> events;
  bool more = false;
  auto ids = [&] {
    std::vector<std::string> out_ids;
    for (const StoredEvent& event : events) out_ids.push_back(event.id);
    return out_ids;
  };
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, 204, &events, &more));
  EXPECT_EQ(ids(), (std::vector<std::string>{"ev_5", "ev_4"}));
  EXPECT_TRUE(more);
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, events.back().sequence, 204,
                               &events, &more));
  EXPECT_EQ(ids(), std::vector<std::string>{"ev_3"});  // alone, over it
  EXPECT_TRUE(more);
  ASSERT_OK(store_->ListEvents(a, "we_1", 1, events.back().sequence, 204,
                               &events, &more));
  EXPECT_EQ(ids(), std::vector<std::string>{"ev_2"});  // the count bound
  EXPECT_TRUE(more);
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, events.back().sequence, 204,
                               &events, &more));
  EXPECT_EQ(ids(), std::vector<std::string>{"ev_1"});
  EXPECT_FALSE(more);
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, 0, &events, &more));
  EXPECT_EQ(events.size(), 5u);  // 0: no byte bound
  EXPECT_FALSE(more);
}

TEST_P(StoreTest, ConcurrentCopiesOfOneEventAreStoredOnce) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  std::atomic<int> stored_count{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      NewEvent e;
      e.id = "ev_" + std::to_string(i);
      e.endpoint_id = "we_1";
      e.provider_event_id = "same";
      e.headers_json = "{}";
      bool stored = false;
      if (!store_->RecordEvent(e, {}, &stored).ok()) ++failures;
      if (stored) ++stored_count;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(stored_count.load(), 1);
}

TEST_P(StoreTest, RetentionKeepsTheNewestEventsAndDropsOldOnes) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  EventRetention keep_three;
  keep_three.max_count_per_endpoint = 3;
  bool stored = false;
  for (int i = 1; i <= 5; ++i) {
    NewEvent e;
    e.id = "ev_" + std::to_string(i);
    e.endpoint_id = "we_1";
    e.provider_event_id = "p" + std::to_string(i);
    e.received_at_ms = i * 1000;
    e.headers_json = "{}";
    ASSERT_OK(store_->RecordEvent(e, keep_three, &stored));
  }
  std::vector<StoredEvent> events;
  bool more = false;
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, &events, &more));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].id, "ev_5");
  EXPECT_EQ(events[2].id, "ev_3");

  // The age bound is PruneEvents's, whether or not events arrive.
  EventRetention two_seconds;
  two_seconds.max_age_ms = 2000;
  bool pruned = false;
  ASSERT_OK(store_->PruneEvents(two_seconds, 6000, 100, &pruned));
  EXPECT_TRUE(pruned);
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, &events, &more));
  ASSERT_EQ(events.size(), 2u);  // received at 5000 and 4000
  EXPECT_EQ(events[1].id, "ev_4");
  ASSERT_OK(store_->PruneEvents(two_seconds, 6000, 100, &pruned));
  EXPECT_FALSE(pruned);
}

// Issue 12 (2026-12): a deleted endpoint's events are deleted afterwards, a
// bounded slice per PruneEvents call, and what is left survives a reopen.
TEST_P(StoreTest, DeletedEndpointEventsGoInSlices) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_big"), &out, &created));
  ASSERT_OK(
      store_->CreateEndpoint(Endpoint(a, "we_kept", "c2"), &out, &created));
  for (int i = 0; i < 25; ++i) {
    for (const char* endpoint : {"we_big", "we_kept"}) {
      NewEvent e;
      e.id = std::string("ev_") + endpoint + std::to_string(i);
      e.endpoint_id = endpoint;
      e.provider_event_id = "p" + std::to_string(i);
      e.headers_json = "{}";
      bool stored = false;
      ASSERT_OK(store_->RecordEvent(e, {}, &stored));
    }
  }
  ASSERT_OK(store_->DeleteEndpoint(a, "we_big"));
  WebhookEndpoint gone;
  EXPECT_EQ(store_->GetEndpoint(a, "we_big", &gone).code(),
            Status::Code::kNotFound);
  int64_t endpoints = 0, events = 0;
  ASSERT_OK(store_->CountRows(&endpoints, &events));
  EXPECT_EQ(events, 50);  // none deleted yet
  bool more = false;
  ASSERT_OK(store_->PruneEvents({}, 0, 10, &more));
  EXPECT_TRUE(more);
  ASSERT_OK(store_->CountRows(&endpoints, &events));
  EXPECT_EQ(events, 40);  // one slice of 10
  int calls = 0;
  do {
    ASSERT_OK(store_->PruneEvents({}, 0, 10, &more));
  } while (more && ++calls < 10);
  ASSERT_OK(store_->CountRows(&endpoints, &events));
  EXPECT_EQ(events, 25);  // we_kept's, untouched
  EXPECT_FALSE(more);
}

// Count retention deletes at most kMaxPrunedPerEvent per stored event, so a
// lowered bound costs a bounded amount per event and is reached over a few.
TEST_P(StoreTest, LoweredCountBoundIsReachedInBoundedSteps) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  auto record = [&](int i, const EventRetention& retention) {
    NewEvent e;
    e.id = "ev_" + std::to_string(i);
    e.endpoint_id = "we_1";
    e.provider_event_id = "p" + std::to_string(i);
    e.headers_json = "{}";
    bool stored = false;
    return store_->RecordEvent(e, retention, &stored);
  };
  for (int i = 0; i < 40; ++i) ASSERT_OK(record(i, {}));
  EventRetention keep_five;
  keep_five.max_count_per_endpoint = 5;
  ASSERT_OK(record(40, keep_five));
  int64_t endpoints = 0, events = 0;
  ASSERT_OK(store_->CountRows(&endpoints, &events));
  EXPECT_EQ(events, 41 - static_cast<int64_t>(kMaxPrunedPerEvent));
  for (int i = 41; i < 45; ++i) ASSERT_OK(record(i, keep_five));
  std::vector<StoredEvent> kept;
  bool more = false;
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, &kept, &more));
  ASSERT_EQ(kept.size(), 5u);
  EXPECT_EQ(kept[0].id, "ev_44");
  EXPECT_EQ(kept[4].id, "ev_40");
}

}  // namespace
}  // namespace webhooks
