// The delivery worker: one thread that sends deliveries concurrently through
// one OutboundClient (libcurl's multi interface), records every attempt and
// applies the schedule. A fresh delivery reaches it already claimed, handed
// over by the ingress (Take) from the transaction that stored its event;
// retries, resends, recovers and expired leases it claims from the store
// under a lease. The store is the queue: a delivery in memory is always
// leased in the store too, so a crash loses nothing (an attempt in flight is
// made again once its lease ends, or at once at the next start of a single
// SQLite server). Contract: ../shared/spec/subscriptions-and-delivery.md.

#ifndef WEBHOOKS_DELIVERY_WORKER_H_
#define WEBHOOKS_DELIVERY_WORKER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "delivery/schedule.h"
#include "http/client.h"
#include "ops/change_feed.h"
#include "ops/logger.h"
#include "ops/metrics.h"
#include "store/store.h"

namespace webhooks {

struct DeliveryOptions {
  std::vector<int64_t> retry_schedule_ms;  // see RetrySchedule
  int64_t connect_timeout_ms = 5000;
  int64_t attempt_timeout_ms = 15000;
  size_t concurrency = 64;
  bool deny_private_targets = false;
  size_t max_response_bytes = 20000;  // kept with each attempt
  std::string user_agent;             // "webhooks-server/<version>"
  // For one SQLite server, which alone works on its database: attempts a
  // crash cut short are due at once instead of when their lease ends.
  bool release_leases_at_start = false;
  // Told of each attempt once it is recorded (the dashboard's live
  // stream); null: nobody listens. Outlives the worker.
  ChangeFeed* changes = nullptr;
};

class DeliveryWorker {
 public:
  // A claim's lease: longer than an attempt may take, so that an attempt
  // still running is never claimed again (the contract: timeout + 5 s).
  static constexpr int64_t kLeaseMarginMs = 5000;
  // How often the worker looks for due work when nothing woke it (other
  // processes may add work; a scheduled retry comes due).
  static constexpr int64_t kIdleLookMs = 1000;
  // Longest an ended attempt waits to be recorded: until then it rides on
  // the next claim's transaction instead of paying a commit of its own.
  // The delivery stays in flight in the store meanwhile (a crash then
  // repeats the attempt, as for any attempt in flight).
  static constexpr int64_t kRecordDelayMs = 20;

  // Starts the thread. `store`, `log` and `metrics` outlive the worker.
  DeliveryWorker(Store& store, DeliveryOptions options, const Logger& log,
                 Metrics& metrics);
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;
  // Stop(0) if Stop was not called.
  ~DeliveryWorker();

  // A delivery may be due now (an event was stored, a resend, a recover).
  // Thread-safe and cheap: wakes the thread, which looks.
  void Wake();

  // The lease a delivery claimed as its event is stored should carry
  // (NewDelivery::claim_lease_ms), or 0 when the worker has no room for it
  // now (it is then claimed later, from the store). Thread-safe.
  int64_t ClaimLeaseMs() const;

  // A delivery RecordEvent claimed for this worker: sent without a claim of
  // its own. Thread-safe; returns at once.
  void Take(ClaimedDelivery delivery);

  // Stops claiming, waits up to `grace` for the attempts in flight and
  // records them; attempts still running then are abandoned to their lease.
  void Stop(std::chrono::milliseconds grace);

 private:
  // An attempt started and not finished.
  struct InFlight {
    ClaimedDelivery delivery;  // its body released once sent
    int64_t started_at_ms = 0;
    std::string request_headers_json;
  };

  void Loop();
  // Claims what is due and starts it; returns whether the claim was full
  // (more may be due).
  bool ClaimAndStart(int64_t now_ms);
  // Starts the deliveries handed over by Take.
  void StartTaken();
  void StartAttempt(ClaimedDelivery delivery, int64_t timestamp_seconds);
  // Turns ended transfers into outcomes, waiting in outcomes_.
  void Finish(std::vector<OutboundResponse>& done);
  // Records the waiting outcomes in a transaction of their own.
  void Record(int64_t now_ms);
  void ForgetOutcomes();
  // Tells options_.changes of the outcomes just recorded.
  void PublishRecorded();
  void Note(const InFlight& attempt, const OutboundResponse& response,
            AttemptVerdict verdict) const;

  Store& store_;
  const DeliveryOptions options_;
  const Logger& log_;
  Metrics& metrics_;
  OutboundClient client_;
  std::atomic<bool> woken_{true};  // look at once after start
  // Deliveries handed over by Take, not started yet.
  mutable std::mutex taken_mu_;
  std::vector<ClaimedDelivery> taken_;  // guarded by taken_mu_
  std::atomic<bool> has_taken_{false};
  // Attempts running plus deliveries taken: what ClaimLeaseMs weighs.
  std::atomic<size_t> load_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> stop_deadline_ms_{0};
  RetrySchedule schedule_;
  // By transfer tag; the thread's own.
  std::unordered_map<uint64_t, InFlight> in_flight_;
  uint64_t next_tag_ = 1;
  // Ended attempts not recorded yet, the earliest retry among them and when
  // the first of them ended. The thread's own.
  std::vector<AttemptOutcome> outcomes_;
  std::optional<int64_t> earliest_retry_;
  int64_t oldest_outcome_ms_ = 0;
  // For each of outcomes_: the project, and the change as JSON.
  std::vector<std::pair<std::string, std::string>> changes_;
  std::thread thread_;  // started last
};

}  // namespace webhooks

#endif  // WEBHOOKS_DELIVERY_WORKER_H_
