// ChangeFeed (ops/change_feed.h): each reader sees its own project's
// changes in order, resumes from a Last-Event-ID of this run, is told of a
// gap when what it missed was dropped, is woken by Close, and the number of
// readers is bounded.

#include "ops/change_feed.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace webhooks {
namespace {

using Clock = std::chrono::steady_clock;
using Result = ChangeFeed::Reader::Result;

ChangeFeed::Options Small(size_t capacity, size_t max_readers = 4) {
  ChangeFeed::Options options;
  options.capacity = capacity;
  options.max_readers = max_readers;
  return options;
}

TEST(ChangeFeedTest, AReaderSeesOnlyItsProjectsChangesInOrder) {
  ChangeFeed feed(Small(16));
  auto reader = feed.OpenReader("p1");
  ASSERT_NE(reader, nullptr);
  feed.Publish("p1", "event", R"({"n":1})");
  feed.Publish("p2", "event", R"({"n":2})");
  feed.Publish("p1", "endpoint", R"({"n":3})");
  uint64_t position = 0;
  std::vector<Change> changes;
  ASSERT_EQ(reader->Wait(&position, Clock::now(), &changes), Result::kChanges);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].seq, 1u);
  EXPECT_EQ(changes[0].data, R"({"n":1})");
  EXPECT_EQ(changes[1].seq, 3u);
  EXPECT_EQ(changes[1].kind, "endpoint");
  EXPECT_EQ(position, 3u);
  // Nothing new: the wait ends at its deadline.
  EXPECT_EQ(reader->Wait(&position, Clock::now() + std::chrono::milliseconds(5),
                         &changes),
            Result::kTimedOut);
  EXPECT_TRUE(changes.empty());
}

TEST(ChangeFeedTest, APublishWakesAWaitingReaderOfThatProject) {
  ChangeFeed feed(Small(16));
  auto reader = feed.OpenReader("p1");
  uint64_t position = 0;
  std::vector<Change> changes;
  std::thread publisher([&feed] { feed.Publish("p1", "event", "{}"); });
  // Woken long before the deadline (which would fail the test by timeout).
  EXPECT_EQ(reader->Wait(&position, Clock::now() + std::chrono::seconds(30),
                         &changes),
            Result::kChanges);
  publisher.join();
  EXPECT_EQ(changes.size(), 1u);
}

TEST(ChangeFeedTest, AReaderThatFellBehindTheKeptChangesIsToldOfTheGap) {
  ChangeFeed feed(Small(3));
  auto reader = feed.OpenReader("p1");
  for (int i = 0; i < 5; ++i) feed.Publish("p1", "event", "{}");
  uint64_t position = 0;  // wants 1..5, but only 3..5 are kept
  std::vector<Change> changes;
  EXPECT_EQ(reader->Wait(&position, Clock::now(), &changes), Result::kGap);
  EXPECT_EQ(position, 5u);
  uint64_t resumed = 1;  // wants 2..5: 2 was dropped too
  EXPECT_EQ(reader->Wait(&resumed, Clock::now(), &changes), Result::kGap);
  uint64_t kept = 2;  // wants 3..5: all kept
  EXPECT_EQ(reader->Wait(&kept, Clock::now(), &changes), Result::kChanges);
  EXPECT_EQ(changes.size(), 3u);
}

TEST(ChangeFeedTest, ResumesOnlyFromThisRunsKeptIds) {
  ChangeFeed feed(Small(3));
  for (int i = 0; i < 5; ++i) feed.Publish("p1", "event", "{}");
  const std::string boot = feed.boot_id();
  uint64_t after = 0;
  EXPECT_TRUE(feed.Resume(boot + ".4", &after));
  EXPECT_EQ(after, 4u);
  EXPECT_TRUE(feed.Resume(boot + ".2", &after));  // 3.. kept
  EXPECT_EQ(after, 2u);
  for (const std::string& stale : std::vector<std::string>{
           boot + ".1", boot + ".6", boot + ".", boot + ".x", "other.4",
           std::string(), boot + ".-1", boot + ".4 "}) {
    after = 0;
    EXPECT_FALSE(feed.Resume(stale, &after)) << stale;
    EXPECT_EQ(after, 5u) << "a reload goes on from now: " << stale;
  }
}

TEST(ChangeFeedTest, ReadersAreBoundedAndASlotIsFreedWithItsReader) {
  ChangeFeed feed(Small(16, 2));
  auto first = feed.OpenReader("p1");
  auto second = feed.OpenReader("p2");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(feed.OpenReader("p3"), nullptr);
  EXPECT_EQ(feed.open_readers(), 2u);
  first.reset();
  EXPECT_NE(feed.OpenReader("p3"), nullptr);
}

TEST(ChangeFeedTest, CloseWakesWaitingReadersAndRefusesNewOnes) {
  ChangeFeed feed(Small(16));
  auto reader = feed.OpenReader("p1");
  uint64_t position = 0;
  std::vector<Change> changes;
  std::thread closer([&feed] { feed.Close(); });
  EXPECT_EQ(reader->Wait(&position, Clock::now() + std::chrono::seconds(30),
                         &changes),
            Result::kClosed);
  closer.join();
  EXPECT_EQ(feed.OpenReader("p1"), nullptr);
}

}  // namespace
}  // namespace webhooks
