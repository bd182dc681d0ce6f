// Request counters and latency, written in Prometheus' text format.

#ifndef WEBHOOKS_OPS_METRICS_H_
#define WEBHOOKS_OPS_METRICS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "util/status.h"

namespace webhooks {

// Request counters and a latency histogram, kept in memory and written by
// GET /metrics in Prometheus' text exposition format (0.0.4). Requests are
// counted by route template, never by raw path, so ids cannot multiply the
// series. Thread-safe.
class Metrics {
 public:
  Metrics();

  // `route` is a route template or "unmatched", `method` one of a closed
  // set (the caller counts a method outside RFC 9110's and PATCH as
  // "other"), so no request can add a series.
  void ObserveRequest(const std::string& route, const std::string& method,
                      int status, double seconds);

  void CountStoreError(Status::Code code);

  // A delivery attempt that ended: `outcome` is one of a closed set
  // ("succeeded", "retrying", "failed", "gone"), `seconds` its duration.
  void ObserveDeliveryAttempt(const char* outcome, double seconds);

  // What GET /metrics shows beside the counters, read from the store when
  // it is scraped.
  struct Gauges {
    int64_t endpoints = 0;
    int64_t events = 0;
    uint64_t log_lines_dropped = 0;  // the Logger's count
    int64_t deliveries_due = 0;      // due now and not yet claimed
    int64_t deliveries_waiting = 0;  // not finished: due later or in flight
    double oldest_due_delivery_seconds = 0;  // its age; 0 if none is due
  };
  std::string Render(const Gauges& gauges) const;

 private:
  // A Prometheus histogram over fixed bucket bounds (seconds).
  class Histogram {
   public:
    explicit Histogram(std::vector<double> bounds)
        : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
    void Observe(double seconds);
    // Its _bucket, _sum and _count lines, named `name`.
    void Render(const std::string& name, std::string* out) const;

   private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // the last one: above every bound
    double sum_ = 0;
  };

  // A bucket bound as written in the table ("0.0005", not 17 digits).
  static std::string Bound(double value);

  // The exposition format's escapes for a label value.
  static std::string LabelValue(const std::string& text);

  const double start_seconds_;
  mutable std::mutex mu_;
  // Guarded by mu_.
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  Histogram latency_{
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0}};
  std::map<std::string, uint64_t> store_errors_;
  std::map<std::string, uint64_t> delivery_attempts_;  // by outcome
  // An attempt waits for a receiver across the network: up to seconds.
  Histogram attempt_duration_{
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1.0, 5.0, 15.0}};
};

}  // namespace webhooks

#endif  // WEBHOOKS_OPS_METRICS_H_
