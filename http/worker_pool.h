// WorkerPool: the threads that serve requests, started when the requests
// need them rather than all at start-up. cpp-httplib's ThreadPool starts
// every worker in its constructor: with the default 64, creating them came
// between the listening line and the first answer (issue 18). Here a worker
// is started when a job arrives and no started worker is free, up to the
// maximum; a started worker then stays, so a server that once saw 64
// concurrent requests serves the next 64 exactly as a full pool would.

#ifndef WEBHOOKS_HTTP_WORKER_POOL_H_
#define WEBHOOKS_HTTP_WORKER_POOL_H_

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace webhooks {

class WorkerPool final : public httplib::TaskQueue {
 public:
  // At most `max_workers` (at least 1) threads; none started yet.
  explicit WorkerPool(size_t max_workers);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool() override;  // shutdown(), if it has not been called

  // Runs `job` on a free worker, on a new one if none is free and fewer
  // than the maximum are started, or else queues it for the first worker
  // to become free. Jobs start in the order they came.
  void enqueue(std::function<void()> job) override;

  // Lets the workers finish every job already queued, then joins them. A
  // job enqueued after this is never run (as with the library's pool).
  void shutdown() override;

  // Whether a job waits for a worker: every started worker is busy, and
  // no more may start. Read without the lock: a hint.
  bool Backlogged() const {
    return backlogged_.load(std::memory_order_relaxed);
  }

  // Workers started so far, and those waiting for a job (for tests).
  size_t started();
  size_t idle();

 private:
  void Work();
  void UpdateBacklogged();  // with mu_ held

  const size_t max_workers_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  size_t idle_ = 0;                         // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  // jobs_.size() > idle_, kept under mu_ for Backlogged().
  std::atomic<bool> backlogged_{false};
  std::vector<std::thread> workers_;  // guarded by mu_
};

}  // namespace webhooks

#endif  // WEBHOOKS_HTTP_WORKER_POOL_H_
