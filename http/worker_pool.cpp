// The request workers, started on demand: see http/worker_pool.h.

#include "http/worker_pool.h"

#include <algorithm>
#include <utility>

namespace webhooks {

WorkerPool::WorkerPool(size_t max_workers)
    : max_workers_(std::max<size_t>(1, max_workers)) {}

WorkerPool::~WorkerPool() { shutdown(); }

void WorkerPool::enqueue(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
    // Each idle worker will take one queued job; a job beyond them gets a
    // worker of its own while the maximum allows. Started under the lock,
    // so two enqueues never both start the last allowed worker.
    if (jobs_.size() > idle_ && workers_.size() < max_workers_) {
      workers_.emplace_back([this] { Work(); });
    }
    UpdateBacklogged();
  }
  // An idle worker may be waiting while the new one starts: wake it too.
  ready_.notify_one();
}

void WorkerPool::shutdown() {
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    workers.swap(workers_);
  }
  ready_.notify_all();
  for (std::thread& worker : workers) worker.join();
}

size_t WorkerPool::started() {
  std::lock_guard<std::mutex> lock(mu_);
  return workers_.size();
}

size_t WorkerPool::idle() {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_;
}

void WorkerPool::UpdateBacklogged() {
  backlogged_.store(jobs_.size() > idle_ && workers_.size() >= max_workers_,
                    std::memory_order_relaxed);
}

void WorkerPool::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    ++idle_;
    UpdateBacklogged();
    ready_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
    --idle_;
    if (jobs_.empty()) return;  // stopping, and every job is done
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    UpdateBacklogged();
    lock.unlock();
    job();
    job = nullptr;  // what it holds is released outside the lock too
    lock.lock();
  }
}

}  // namespace webhooks
