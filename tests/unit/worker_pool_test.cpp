// Unit tests for http/worker_pool.h: workers start only when a job finds
// none free, never beyond the maximum, a free worker is reused, queued jobs
// wait their turn, and shutdown runs what is queued, then joins.

#include "http/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

namespace webhooks {
namespace {

// A latch the jobs block on until the test opens it.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    opened_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    opened_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable opened_;
  bool open_ = false;
};

// Waits (bounded) until `pool` has `count` idle workers: a worker is idle
// once it is back waiting, a moment after its job's last statement.
bool AwaitIdle(WorkerPool& pool, size_t count) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.idle() != count) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(WorkerPoolTest, StartsNoWorkerBeforeTheFirstJob) {
  WorkerPool pool(64);
  EXPECT_EQ(pool.started(), 0u);
  std::promise<void> ran;
  pool.enqueue([&ran] { ran.set_value(); });
  ran.get_future().wait();
  EXPECT_EQ(pool.started(), 1u);
}

TEST(WorkerPoolTest, AFreeWorkerIsReusedInsteadOfStartingAnother) {
  WorkerPool pool(64);
  for (int i = 0; i < 20; ++i) {
    std::promise<void> ran;
    pool.enqueue([&ran] { ran.set_value(); });
    ran.get_future().wait();
    ASSERT_TRUE(AwaitIdle(pool, 1));
  }
  EXPECT_EQ(pool.started(), 1u);
}

TEST(WorkerPoolTest, BusyWorkersMakeItGrowUpToTheMaximumThenJobsQueue) {
  constexpr size_t kMax = 8;
  WorkerPool pool(kMax);
  Gate gate;
  std::atomic<int> running{0}, done{0};
  for (int i = 0; i < 30; ++i) {
    pool.enqueue([&] {
      ++running;
      gate.Wait();
      ++done;
    });
  }
  EXPECT_EQ(pool.started(), kMax);  // 30 jobs, never more than 8 workers
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (running.load() < static_cast<int>(kMax) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(running.load(), static_cast<int>(kMax));  // the rest wait
  gate.Open();
  pool.shutdown();  // runs the 22 queued ones before it returns
  EXPECT_EQ(done.load(), 30);
  EXPECT_EQ(pool.started(), 0u);  // joined
}

// Backlogged() says a job waits for a worker: only once every worker the
// maximum allows is busy and one more job came; and no longer once a
// worker took it.
TEST(WorkerPoolTest, BackloggedOnlyWhileAJobWaitsForAWorker) {
  WorkerPool pool(2);
  Gate first, second;
  std::atomic<int> running{0};
  EXPECT_FALSE(pool.Backlogged());
  pool.enqueue([&] {
    ++running;
    first.Wait();
  });
  pool.enqueue([&] {
    ++running;
    second.Wait();
  });
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (running.load() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(running.load(), 2);
  EXPECT_FALSE(pool.Backlogged());  // two jobs, each on a worker
  std::promise<void> ran;
  pool.enqueue([&ran] { ran.set_value(); });
  EXPECT_TRUE(pool.Backlogged());  // the third waits
  first.Open();
  ran.get_future().wait();  // a freed worker took it
  EXPECT_FALSE(pool.Backlogged());
  second.Open();
  pool.shutdown();
  EXPECT_FALSE(pool.Backlogged());
}

TEST(WorkerPoolTest, AJobAfterShutdownIsNotRun) {
  WorkerPool pool(4);
  pool.shutdown();
  bool ran = false;
  pool.enqueue([&ran] { ran = true; });
  EXPECT_FALSE(ran);
  EXPECT_EQ(pool.started(), 0u);
}

}  // namespace
}  // namespace webhooks
