#include "ops/metrics.h"

#include <cstdio>

#include "util/time.h"

namespace webhooks {

Metrics::Metrics()
    : start_seconds_(static_cast<double>(NowMillis()) / 1000.0) {}

void Metrics::ObserveRequest(const std::string& route,
                             const std::string& method, int status,
                             double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, method, status}];
  latency_.Observe(seconds);
}

void Metrics::CountStoreError(Status::Code code) {
  const char* kind = "internal";
  switch (code) {
    case Status::Code::kUnavailable:
      kind = "unavailable";
      break;
    case Status::Code::kConflict:
      kind = "conflict";
      break;
    case Status::Code::kOk:
    case Status::Code::kNotFound:
    case Status::Code::kInvalidArgument:
    case Status::Code::kInternal:
      break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++store_errors_[kind];
}

void Metrics::ObserveDeliveryAttempt(const char* outcome, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++delivery_attempts_[outcome];
  attempt_duration_.Observe(seconds);
}

void Metrics::Histogram::Observe(double seconds) {
  size_t bucket = 0;
  while (bucket < bounds_.size() && seconds > bounds_[bucket]) ++bucket;
  ++counts_[bucket];
  sum_ += seconds;
}

void Metrics::Histogram::Render(const std::string& name,
                                std::string* out) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i];
    *out += name + "_bucket{le=\"" +
            (i < bounds_.size() ? Bound(bounds_[i]) : "+Inf") + "\"} " +
            std::to_string(cumulative) + "\n";
  }
  char sum[64];
  std::snprintf(sum, sizeof(sum), "%.17g", sum_);
  *out += name + "_sum " + sum + "\n" + name + "_count " +
          std::to_string(cumulative) + "\n";
}

std::string Metrics::Render(const Gauges& gauges) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  auto number = [](double value) {
    char text[64];
    std::snprintf(text, sizeof(text), "%.17g", value);
    return std::string(text);
  };
  out +=
      "# HELP webhooks_http_requests_total HTTP requests answered, by "
      "route template, method and status.\n"
      "# TYPE webhooks_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    out += "webhooks_http_requests_total{route=\"" + LabelValue(route) +
           "\",method=\"" + LabelValue(method) + "\",status=\"" +
           std::to_string(status) + "\"} " + std::to_string(count) + "\n";
  }
  out +=
      "# HELP webhooks_http_request_duration_seconds Time from a "
      "request's first byte to its answer.\n"
      "# TYPE webhooks_http_request_duration_seconds histogram\n";
  latency_.Render("webhooks_http_request_duration_seconds", &out);
  out +=
      "# HELP webhooks_store_errors_total Store failures, by kind.\n"
      "# TYPE webhooks_store_errors_total counter\n";
  for (const char* kind : {"unavailable", "conflict", "internal"}) {
    auto it = store_errors_.find(kind);
    out += std::string("webhooks_store_errors_total{kind=\"") + kind + "\"} " +
           std::to_string(it == store_errors_.end() ? 0 : it->second) + "\n";
  }
  out +=
      "# HELP webhooks_delivery_attempts_total Delivery attempts that "
      "ended, by outcome.\n"
      "# TYPE webhooks_delivery_attempts_total counter\n";
  for (const char* outcome : {"succeeded", "retrying", "failed", "gone"}) {
    auto it = delivery_attempts_.find(outcome);
    out += std::string("webhooks_delivery_attempts_total{outcome=\"") +
           outcome + "\"} " +
           std::to_string(it == delivery_attempts_.end() ? 0 : it->second) +
           "\n";
  }
  out +=
      "# HELP webhooks_delivery_attempt_duration_seconds Time from an "
      "attempt's start to the receiver's answer or the error.\n"
      "# TYPE webhooks_delivery_attempt_duration_seconds histogram\n";
  attempt_duration_.Render("webhooks_delivery_attempt_duration_seconds", &out);
  out +=
      "# HELP webhooks_deliveries_due Deliveries due now, not yet "
      "claimed.\n"
      "# TYPE webhooks_deliveries_due gauge\n"
      "webhooks_deliveries_due " +
      std::to_string(gauges.deliveries_due) +
      "\n"
      "# HELP webhooks_deliveries_waiting Deliveries not finished: due "
      "later, due now or in flight.\n"
      "# TYPE webhooks_deliveries_waiting gauge\n"
      "webhooks_deliveries_waiting " +
      std::to_string(gauges.deliveries_waiting) +
      "\n"
      "# HELP webhooks_oldest_due_delivery_age_seconds How long the "
      "oldest due delivery has waited; 0 if none.\n"
      "# TYPE webhooks_oldest_due_delivery_age_seconds gauge\n"
      "webhooks_oldest_due_delivery_age_seconds " +
      number(gauges.oldest_due_delivery_seconds) + "\n";
  out +=
      "# HELP webhooks_endpoints Webhook endpoints stored.\n"
      "# TYPE webhooks_endpoints gauge\n"
      "webhooks_endpoints " +
      std::to_string(gauges.endpoints) +
      "\n"
      "# HELP webhooks_events Ingress events stored.\n"
      "# TYPE webhooks_events gauge\n"
      "webhooks_events " +
      std::to_string(gauges.events) +
      "\n"
      "# HELP webhooks_log_lines_dropped_total Log lines dropped because "
      "standard error did not keep up (or failed).\n"
      "# TYPE webhooks_log_lines_dropped_total counter\n"
      "webhooks_log_lines_dropped_total " +
      std::to_string(gauges.log_lines_dropped) +
      "\n"
      "# HELP process_start_time_seconds Start time of the process "
      "since the Unix epoch in seconds.\n"
      "# TYPE process_start_time_seconds gauge\n"
      "process_start_time_seconds " +
      number(start_seconds_) + "\n";
  return out;
}

std::string Metrics::Bound(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

std::string Metrics::LabelValue(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace webhooks
