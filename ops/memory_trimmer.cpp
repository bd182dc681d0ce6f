#include "ops/memory_trimmer.h"

#include <malloc.h>

namespace webhooks {

MemoryTrimmer::MemoryTrimmer() : thread_([this] { Loop(); }) {}

MemoryTrimmer::~MemoryTrimmer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void MemoryTrimmer::NoteLargeResponse() {
  bool was_due = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_due = due_;
    due_ = true;
    last_ = std::chrono::steady_clock::now();
  }
  if (!was_due) wake_.notify_one();
}

void MemoryTrimmer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (!due_) {
      wake_.wait(lock);
      continue;
    }
    const auto at = last_ + kQuiet;
    if (std::chrono::steady_clock::now() < at) {
      wake_.wait_until(lock, at);
      continue;
    }
    due_ = false;
    lock.unlock();
    malloc_trim(0);
    lock.lock();
  }
}

}  // namespace webhooks
