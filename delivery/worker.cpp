#include "delivery/worker.h"

#include <algorithm>
#include <random>
#include <utility>

#include "delivery/message.h"
#include "util/json_writer.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

ClientOptions ClientOptionsFor(const DeliveryOptions& options) {
  ClientOptions client;
  client.connect_timeout_ms =
      std::min(options.connect_timeout_ms, options.attempt_timeout_ms);
  client.total_timeout_ms = options.attempt_timeout_ms;
  client.max_response_bytes = options.max_response_bytes;
  client.deny_private_targets = options.deny_private_targets;
  client.max_concurrent = options.concurrency;
  client.user_agent = options.user_agent;
  return client;
}

// The host of `url`, for the log: never its path or query, which may carry
// a token of the app's.
std::string HostOf(const std::string& url) {
  const size_t start = url.find("://");
  if (start == std::string::npos) return "";
  const size_t end = url.find_first_of("/?#", start + 3);
  std::string host = url.substr(start + 3, end - start - 3);
  const size_t at = host.rfind('@');
  if (at != std::string::npos) host = host.substr(at + 1);
  return Printable(host, 256);
}

const char* VerdictName(AttemptVerdict verdict) {
  switch (verdict) {
    case AttemptVerdict::kSucceeded:
      return "succeeded";
    case AttemptVerdict::kRetry:
      return "retrying";
    case AttemptVerdict::kFailed:
      return "failed";
    case AttemptVerdict::kGone:
      return "gone";
  }
  return "failed";
}

// What the dashboard's stream says of a recorded attempt: the delivery,
// where it stands now, and how the attempt ended.
std::string ChangeJson(const ClaimedDelivery& delivery,
                       const AttemptOutcome& outcome) {
  JsonWriter json;
  json.BeginObject();
  json.Key("id");
  json.Value(delivery.id);
  json.Key("subscription_id");
  json.Value(delivery.subscription_id);
  json.Key("event_id");
  json.Value(delivery.event_id);
  json.Key("status");
  json.Value(outcome.verdict == AttemptVerdict::kGone
                 ? "failed"
                 : VerdictName(outcome.verdict));
  json.Key("attempt");
  json.Value(static_cast<long long>(outcome.record.attempt));
  json.Key("status_code");
  if (outcome.record.status_code) {
    json.Value(static_cast<long long>(*outcome.record.status_code));
  } else {
    json.Null();
  }
  json.EndObject();
  return json.Take();
}

std::optional<std::string> HeaderValue(const OutboundResponse& response,
                                       std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (EqualsIgnoringCase(key, name)) return value;
  }
  return std::nullopt;
}

}  // namespace

DeliveryWorker::DeliveryWorker(Store& store, DeliveryOptions options,
                               const Logger& log, Metrics& metrics)
    : store_(store),
      options_(std::move(options)),
      log_(log),
      metrics_(metrics),
      client_(ClientOptionsFor(options_)),
      schedule_(options_.retry_schedule_ms, std::random_device{}()) {
  if (options_.release_leases_at_start) {
    Status status = store_.ReleaseLeases(NowMillis());
    if (!status.ok()) {
      log_.Log(LogLevel::kWarn, "delivery leases not released",
               {{"error", status.message()}});
    }
  }
  thread_ = std::thread([this] { Loop(); });
}

DeliveryWorker::~DeliveryWorker() { Stop(std::chrono::milliseconds(0)); }

void DeliveryWorker::Wake() {
  // Only the first wake since the last look interrupts the thread: a burst
  // of events costs one look.
  if (!woken_.exchange(true)) client_.Wakeup();
}

int64_t DeliveryWorker::ClaimLeaseMs() const {
  if (stopping_ || load_.load() >= options_.concurrency) return 0;
  return options_.attempt_timeout_ms + kLeaseMarginMs;
}

void DeliveryWorker::Take(ClaimedDelivery delivery) {
  {
    std::lock_guard<std::mutex> lock(taken_mu_);
    taken_.push_back(std::move(delivery));
  }
  ++load_;
  if (!has_taken_.exchange(true)) client_.Wakeup();
}

void DeliveryWorker::Stop(std::chrono::milliseconds grace) {
  if (!thread_.joinable()) return;
  stop_deadline_ms_ = NowMillis() + grace.count();
  stopping_ = true;
  client_.Wakeup();
  thread_.join();
}

void DeliveryWorker::Loop() {
  std::optional<int64_t> next_due;
  int64_t last_look = 0;
  bool claim_was_full = false;
  std::vector<OutboundResponse> done;
  for (;;) {
    const int64_t now = NowMillis();
    // Deliveries handed over are already claimed: started at once. (At a
    // stop, those not started are left to their lease.)
    if (!stopping_ && has_taken_.exchange(false)) StartTaken();
    if (stopping_) {
      if (in_flight_.empty() || now >= stop_deadline_ms_) break;
    } else {
      // Look for due work when woken, when the last claim was full, when
      // the earliest known due time has come, and at least every
      // kIdleLookMs (another process may have added work): a read, so that
      // an ingress with no subscription behind it costs no write.
      if (woken_.exchange(false) || claim_was_full || !next_due.has_value() ||
          *next_due <= now || now - last_look >= kIdleLookMs) {
        last_look = now;
        Status status = store_.NextDeliveryDue(&next_due);
        if (!status.ok()) next_due = now + kIdleLookMs;
        // Retries of outcomes not recorded yet are not in the store.
        if (earliest_retry_ && (!next_due || *earliest_retry_ < *next_due)) {
          next_due = earliest_retry_;
        }
      }
      claim_was_full = false;
      if (next_due && *next_due <= now &&
          in_flight_.size() < options_.concurrency) {
        claim_was_full = ClaimAndStart(now);
        next_due.reset();  // look again after this claim
      }
    }
    // Outcomes wait for the next claim, which records them in its own
    // transaction, but never longer than kRecordDelayMs, nor past a
    // batch's worth, nor past a stop.
    if (!outcomes_.empty() &&
        (stopping_ || outcomes_.size() >= options_.concurrency ||
         now - oldest_outcome_ms_ >= kRecordDelayMs)) {
      Record(now);
    }
    int64_t wait_ms = kIdleLookMs;
    if (stopping_) {
      wait_ms = std::clamp<int64_t>(stop_deadline_ms_ - now, 0, 100);
    } else if (claim_was_full && in_flight_.size() < options_.concurrency) {
      wait_ms = 0;
    } else if (next_due) {
      wait_ms = std::clamp<int64_t>(*next_due - now, 0, kIdleLookMs);
    }
    if (!outcomes_.empty()) {
      wait_ms = std::clamp<int64_t>(oldest_outcome_ms_ + kRecordDelayMs - now,
                                    0, wait_ms);
    }
    done.clear();
    client_.Poll(wait_ms, &done);
    if (!done.empty()) {
      Finish(done);
      // A retry may now be due before anything known: look again.
      next_due.reset();
    }
  }
  if (!outcomes_.empty()) Record(NowMillis());
  // Attempts still running are abandoned: the client's destructor aborts
  // them, and their leases bring them back.
  if (!in_flight_.empty()) {
    log_.Notice("delivery: " + std::to_string(in_flight_.size()) +
                " attempts still in flight are left to their lease");
  }
}

bool DeliveryWorker::ClaimAndStart(int64_t now_ms) {
  const size_t room = options_.concurrency - in_flight_.size();
  std::vector<ClaimedDelivery> claimed;
  const int64_t lease_ms = options_.attempt_timeout_ms + kLeaseMarginMs;
  // The outcomes waiting to be recorded go in the claim's transaction: one
  // commit for both.
  Status status =
      outcomes_.empty()
          ? store_.ClaimDeliveries(now_ms, lease_ms, room, &claimed)
          : store_.FinishAndClaim(outcomes_, now_ms, lease_ms, room, &claimed);
  if (!status.ok()) {
    metrics_.CountStoreError(status.code());
    log_.Log(LogLevel::kWarn, "delivery claim failed",
             {{"error", status.message()}});
    return false;
  }
  PublishRecorded();
  ForgetOutcomes();
  const int64_t timestamp_seconds = NowMillis() / 1000;
  for (ClaimedDelivery& delivery : claimed) {
    ++load_;
    StartAttempt(std::move(delivery), timestamp_seconds);
  }
  return claimed.size() == room;
}

void DeliveryWorker::StartTaken() {
  std::vector<ClaimedDelivery> taken;
  {
    std::lock_guard<std::mutex> lock(taken_mu_);
    taken.swap(taken_);
  }
  const int64_t timestamp_seconds = NowMillis() / 1000;
  for (ClaimedDelivery& delivery : taken) {
    StartAttempt(std::move(delivery), timestamp_seconds);
  }
}

void DeliveryWorker::StartAttempt(ClaimedDelivery delivery,
                                  int64_t timestamp_seconds) {
  OutboundRequest request;
  request.tag = next_tag_++;
  request.url = delivery.url;
  request.body = TriggerMessageBody(delivery);
  request.headers = DeliveryHeaders(delivery, request.body, timestamp_seconds,
                                    options_.user_agent);
  InFlight attempt;
  attempt.started_at_ms = NowMillis();
  attempt.request_headers_json = HeadersJson(request.headers);
  delivery.body.clear();  // sent: the worker keeps only what it records
  delivery.body.shrink_to_fit();
  delivery.secret.clear();
  attempt.delivery = std::move(delivery);
  in_flight_.emplace(request.tag, std::move(attempt));
  client_.Start(std::move(request));
}

void DeliveryWorker::Record(int64_t now_ms) {
  // One transaction for the batch: attempts finish together under load,
  // and each costs no commit of its own.
  Status status = store_.FinishAttempts(outcomes_, now_ms);
  if (!status.ok()) {
    // The deliveries stay in flight in the store; their leases bring them
    // back and they are attempted again (at least once).
    metrics_.CountStoreError(status.code());
    log_.Log(LogLevel::kError, "delivery attempts not recorded",
             {{"error", status.message()},
              {"attempts", std::to_string(outcomes_.size()), true}});
  } else {
    PublishRecorded();
  }
  ForgetOutcomes();
}

void DeliveryWorker::PublishRecorded() {
  if (options_.changes == nullptr) return;
  for (auto& [project_id, change] : changes_) {
    options_.changes->Publish(project_id, "delivery", std::move(change));
  }
}

void DeliveryWorker::ForgetOutcomes() {
  outcomes_.clear();
  changes_.clear();
  earliest_retry_.reset();
  oldest_outcome_ms_ = 0;
}

void DeliveryWorker::Finish(std::vector<OutboundResponse>& done) {
  const int64_t now = NowMillis();
  for (OutboundResponse& response : done) {
    auto found = in_flight_.find(response.tag);
    if (found == in_flight_.end()) continue;
    InFlight& attempt = found->second;
    if (response.error != TransferError::kNone) response.status_code = 0;
    AttemptResult result;
    result.status_code = response.status_code;
    result.retry_after = HeaderValue(response, "retry-after");
    AttemptOutcome outcome;
    outcome.delivery_id = attempt.delivery.id;
    outcome.verdict = schedule_.Decide(attempt.delivery, result, now,
                                       &outcome.next_attempt_at_ms);
    DeliveryAttempt& record = outcome.record;
    record.attempt = attempt.delivery.attempt;
    record.started_at_ms = attempt.started_at_ms;
    record.request_headers_json = std::move(attempt.request_headers_json);
    if (response.status_code != 0) record.status_code = response.status_code;
    record.error_class = response.error == TransferError::kNone
                             ? ErrorClassOfStatus(response.status_code)
                             : TransferErrorName(response.error);
    record.duration_ms = response.duration_ms;
    HeaderList headers(response.headers.begin(), response.headers.end());
    record.response_headers_json = HeadersJson(headers);
    record.response_body = std::move(response.body);
    metrics_.ObserveDeliveryAttempt(
        VerdictName(outcome.verdict),
        static_cast<double>(response.duration_ms) / 1000.0);
    Note(attempt, response, outcome.verdict);
    if (outcome.verdict == AttemptVerdict::kRetry &&
        (!earliest_retry_ || outcome.next_attempt_at_ms < *earliest_retry_)) {
      earliest_retry_ = outcome.next_attempt_at_ms;
    }
    if (outcomes_.empty()) oldest_outcome_ms_ = now;
    if (options_.changes != nullptr) {
      changes_.emplace_back(attempt.delivery.project_id,
                            ChangeJson(attempt.delivery, outcome));
    }
    outcomes_.push_back(std::move(outcome));
    in_flight_.erase(found);
    --load_;
  }
}

void DeliveryWorker::Note(const InFlight& attempt,
                          const OutboundResponse& response,
                          AttemptVerdict verdict) const {
  const LogLevel level =
      verdict == AttemptVerdict::kSucceeded ? LogLevel::kInfo : LogLevel::kWarn;
  if (!log_.Enabled(level)) return;
  // Never the secret, the signature or a body.
  std::vector<LogField> fields = {
      {"delivery_id", attempt.delivery.id},
      {"webhook_id", attempt.delivery.webhook_id},
      {"subscription_id", attempt.delivery.subscription_id},
      {"host", HostOf(attempt.delivery.url)},
      {"attempt", std::to_string(attempt.delivery.attempt), true},
      {"status", std::to_string(response.status_code), true},
      {"duration_ms", std::to_string(response.duration_ms), true},
      {"outcome", VerdictName(verdict)},
  };
  if (response.error != TransferError::kNone) {
    fields.push_back({"error_class", TransferErrorName(response.error)});
    fields.push_back({"error", Printable(response.error_detail, 256)});
  }
  log_.Log(level, "delivery attempt", fields);
}

}  // namespace webhooks
