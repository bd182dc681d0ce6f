// Gives freed memory back to the system after bursts of large responses.

#ifndef WEBHOOKS_OPS_MEMORY_TRIMMER_H_
#define WEBHOOKS_OPS_MEMORY_TRIMMER_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace webhooks {

// Gives memory back to the system once large responses are done. glibc
// keeps what threads free in its arenas for reuse, as pages still resident:
// after 64 concurrent lists of 40,000 endpoints, 120 MB stayed resident for
// good (17 MB idle); after eight lists of big events, 600 MB more.
// malloc_trim(0) returns every free page of every arena, but it takes each
// arena's lock and walks its heap, so it runs on a thread of its own, once
// large responses have stopped for kQuiet: once per burst, never on a request's
// path, and not at all while only small requests come. Thread-safe.
class MemoryTrimmer {
 public:
  static constexpr std::chrono::milliseconds kQuiet{200};

  MemoryTrimmer();
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;
  ~MemoryTrimmer();

  // A large response was built or sent, and what it held freed (or about
  // to be): trim once none has come for kQuiet.
  void NoteLargeResponse();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable wake_;
  bool due_ = false;                            // Guarded by mu_.
  bool stopping_ = false;                       // Guarded by mu_.
  std::chrono::steady_clock::time_point last_;  // Guarded by mu_.
  std::thread thread_;  // declared last: starts once the rest is ready
};

}  // namespace webhooks

#endif  // WEBHOOKS_OPS_MEMORY_TRIMMER_H_
