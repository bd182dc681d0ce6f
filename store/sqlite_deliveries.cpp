// The deliveries of the SQLite backend: the flows sqlite_deliveries.h
// declares, over the statements of the "Deliveries" block of the Sql table.
// A delivery's life is in its row's `status` and `due_at` (schema.sql):
// claims take rows whose due_at has come; every other change here is a
// move between statuses that keeps due_at NULL outside pending, retrying
// and in_flight.

#include "store/sqlite_deliveries.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/sqlite_statements.h"

namespace webhooks {
namespace sqlite_internal {
namespace {

// A BLOB or TEXT column as bytes (NUL bytes included).
std::string Bytes(const SQLite::Column& column) {
  const int size = column.getBytes();
  if (size <= 0) return std::string();
  return std::string(static_cast<const char*>(column.getBlob()),
                     static_cast<size_t>(size));
}

std::optional<int64_t> OptionalInt64(SQLite::Statement& row, int index) {
  if (row.isColumnNull(index)) return std::nullopt;
  return row.getColumn(index).getInt64();
}

// The columns of a DeliveryRecord, in the order of kListDeliveries and
// kSelectDelivery.
void ReadDeliveryRecord(SQLite::Statement& row, DeliveryRecord* out) {
  out->id = row.getColumn(0).getString();
  out->subscription_id = row.getColumn(1).getString();
  out->webhook_id = row.getColumn(2).getString();
  out->event_id = row.getColumn(3).getString();
  out->endpoint_id = row.getColumn(4).getString();
  // The CHECK constraint admits only the names DeliveryStatusName spells.
  out->status = DeliveryStatusFromName(row.getColumn(5).getString())
                    .value_or(DeliveryStatus::kPending);
  out->attempts = row.getColumn(6).getInt();
  out->next_attempt_at_ms = OptionalInt64(row, 7);
  if (row.isColumnNull(8)) {
    out->last_status_code.reset();
  } else {
    out->last_status_code = row.getColumn(8).getInt();
  }
  out->last_error = row.getColumn(9).getString();
  out->created_at_ms = row.getColumn(10).getInt64();
  out->updated_at_ms = row.getColumn(11).getInt64();
}

// Whether `subscription_id` is a subscription of `project_id` (a deleted
// one is not: its deliveries are no longer any project's to inspect).
bool SubscriptionOfProject(Connection& c, std::string_view project_id,
                           std::string_view subscription_id) {
  Use select(c, Sql::kSelectSubscriptionOfProject);
  select->bind(":id", std::string(subscription_id));
  select->bind(":project_id", std::string(project_id));
  return select->executeStep();
}

Status NoSuchSubscription() {
  return Status::NotFound("no such webhook subscription in this project");
}

const char* FinalStatus(AttemptVerdict verdict) {
  switch (verdict) {
    case AttemptVerdict::kSucceeded:
      return "succeeded";
    case AttemptVerdict::kRetry:
      return "retrying";
    case AttemptVerdict::kFailed:
    case AttemptVerdict::kGone:
      return "failed";
  }
  return "failed";
}

void InsertAttempt(Connection& c, const std::string& delivery_id,
                   const DeliveryAttempt& record) {
  Use insert(c, Sql::kInsertDeliveryAttempt);
  insert->bind(":delivery_id", delivery_id);
  insert->bind(":attempt", record.attempt);
  insert->bind(":started_at", record.started_at_ms);
  insert->bind(":request_headers", record.request_headers_json);
  if (record.status_code) insert->bind(":status_code", *record.status_code);
  insert->bind(":error_class", record.error_class);
  insert->bind(":duration_ms", record.duration_ms);
  insert->bind(":response_headers", record.response_headers_json);
  // A zero-length blob, not NULL, for an empty body: the column is NOT NULL.
  insert->bind(":response_body", record.response_body.data(),
               static_cast<int>(record.response_body.size()));
  insert->exec();
}

// A 410 Gone: the subscription stops, and what it had waiting is held until
// a recover (the spec: nothing is dropped, re-enabling releases nothing).
void DisableAndHold(Connection& c, const std::string& subscription_id,
                    int64_t now_ms) {
  {
    Use disable(c, Sql::kDisableSubscription);
    disable->bind(":id", subscription_id);
    disable->bind(":now", now_ms);
    disable->exec();
  }
  Use hold(c, Sql::kHoldDeliveries);
  hold->bind(":subscription_id", subscription_id);
  hold->bind(":now", now_ms);
  hold->exec();
}

}  // namespace

bool InsertDeliveryForEvent(Connection& c, const NewEvent& event,
                            int64_t event_seq) {
  const NewDelivery& delivery = *event.delivery;
  Use insert(c, Sql::kInsertDelivery);
  insert->bind(":id", delivery.id);
  insert->bind(":message_id", delivery.message_id);
  insert->bind(":event_id", event.id);
  insert->bind(":trigger_slug", delivery.trigger_slug);
  insert->bind(":user_id", delivery.user_id);
  insert->bind(":content_type", delivery.content_type);
  insert->bind(":received_at", event.received_at_ms);
  insert->bind(":event_seq", event_seq);
  insert->bind(":lease", delivery.claim_lease_ms);
  insert->bind(":endpoint_id", event.endpoint_id);
  insert->bind(":event_type", kTriggerMessageEvent);
  return insert->exec() > 0;
}

std::optional<ClaimedDelivery> ClaimedAtInsert(Connection& c,
                                               const SecretsAtRest& secrets,
                                               const NewEvent& event) {
  const NewDelivery& delivery = *event.delivery;
  Use select(c, Sql::kSelectClaimedAtInsert);
  select->bind(":id", delivery.id);
  if (!select->executeStep()) return std::nullopt;  // held
  ClaimedDelivery claim;
  claim.id = delivery.id;
  claim.attempt = 1;
  claim.automatic_attempts = 0;
  claim.manual = false;
  claim.webhook_id = delivery.message_id;
  claim.event_id = event.id;
  claim.endpoint_id = event.endpoint_id;
  claim.toolkit_slug = select->getColumn(0).getString();
  claim.trigger_slug = delivery.trigger_slug;
  claim.user_id = delivery.user_id;
  claim.content_type = delivery.content_type;
  claim.event_received_at_ms = event.received_at_ms;
  claim.body = event.body;
  claim.subscription_id = select->getColumn(1).getString();
  claim.url = select->getColumn(2).getString();
  claim.secret = OpenSubscriptionSecret(secrets, claim.subscription_id,
                                        select->getColumn(3).getString());
  claim.version = select->getColumn(4).getString();
  claim.project_id = select->getColumn(5).getString();
  return claim;
}

Status ListDeliveries(Connection& c, const DeliveryListQuery& query,
                      std::vector<DeliveryRecord>* out, bool* more) {
  if (!SubscriptionOfProject(c, query.project_id, query.subscription_id)) {
    return NoSuchSubscription();
  }
  Use select(c, Sql::kListDeliveries);
  select->bind(":subscription_id", query.subscription_id);
  if (query.status) select->bind(":status", DeliveryStatusName(*query.status));
  if (query.after) {
    select->bind(":after_created_at", query.after->created_at_ms);
    select->bind(":after_id", query.after->id);
  }
  // One row past the limit tells whether more follow; -1 is no limit.
  select->bind(":limit", query.limit == 0
                             ? static_cast<int64_t>(-1)
                             : static_cast<int64_t>(query.limit) + 1);
  std::vector<DeliveryRecord> rows;
  while (select->executeStep()) {
    ReadDeliveryRecord(*select, &rows.emplace_back());
  }
  const bool has_more = query.limit != 0 && rows.size() > query.limit;
  if (has_more) rows.resize(query.limit);
  *out = std::move(rows);
  *more = has_more;
  return Status::Ok();
}

Status GetDelivery(Connection& c, std::string_view project_id,
                   std::string_view subscription_id,
                   std::string_view delivery_id, DeliveryRecord* out,
                   std::vector<DeliveryAttempt>* attempts) {
  if (!SubscriptionOfProject(c, project_id, subscription_id)) {
    return NoSuchSubscription();
  }
  DeliveryRecord record;
  {
    Use select(c, Sql::kSelectDelivery);
    select->bind(":id", std::string(delivery_id));
    select->bind(":subscription_id", std::string(subscription_id));
    if (!select->executeStep()) {
      return Status::NotFound("no such delivery of this subscription");
    }
    ReadDeliveryRecord(*select, &record);
  }
  std::vector<DeliveryAttempt> rows;
  Use select(c, Sql::kSelectDeliveryAttempts);
  select->bind(":delivery_id", record.id);
  while (select->executeStep()) {
    DeliveryAttempt& attempt = rows.emplace_back();
    attempt.attempt = select->getColumn(0).getInt();
    attempt.started_at_ms = select->getColumn(1).getInt64();
    attempt.request_headers_json = select->getColumn(2).getString();
    if (!select->isColumnNull(3)) {
      attempt.status_code = select->getColumn(3).getInt();
    }
    attempt.error_class = select->getColumn(4).getString();
    attempt.duration_ms = select->getColumn(5).getInt64();
    attempt.response_headers_json = select->getColumn(6).getString();
    attempt.response_body = Bytes(select->getColumn(7));
  }
  *out = std::move(record);
  *attempts = std::move(rows);
  return Status::Ok();
}

Status ResendDelivery(Connection& c, std::string_view project_id,
                      std::string_view subscription_id,
                      std::string_view delivery_id, int64_t now_ms,
                      int* attempt) {
  if (!SubscriptionOfProject(c, project_id, subscription_id)) {
    return NoSuchSubscription();
  }
  std::optional<DeliveryStatus> status;
  int attempts = 0;
  bool body_stored = true;
  {
    Use select(c, Sql::kSelectDeliveryState);
    select->bind(":id", std::string(delivery_id));
    select->bind(":subscription_id", std::string(subscription_id));
    if (!select->executeStep()) {
      return Status::NotFound("no such delivery of this subscription");
    }
    status = DeliveryStatusFromName(select->getColumn(0).getString());
    attempts = select->getColumn(1).getInt();
    body_stored = select->getColumn(2).getInt() != 0;
  }
  Sql update = Sql::kResendDelivery;
  switch (status.value_or(DeliveryStatus::kCancelled)) {
    case DeliveryStatus::kInFlight:
      return Status::Conflict("an attempt of this delivery is in flight");
    case DeliveryStatus::kCancelled:
      return Status::Conflict("this delivery was cancelled");
    case DeliveryStatus::kPending:
    case DeliveryStatus::kRetrying:
      // Still on its schedule: the next automatic attempt moves to now.
      update = Sql::kRescheduleDelivery;
      break;
    case DeliveryStatus::kSucceeded:
    case DeliveryStatus::kFailed:
    case DeliveryStatus::kHeld:
      break;
  }
  if (!body_stored) {
    return Status::Conflict(
        "its event is no longer stored (event retention), and a succeeded "
        "delivery keeps no copy");
  }
  Use change(c, update);
  change->bind(":id", std::string(delivery_id));
  change->bind(":now", now_ms);
  change->exec();
  *attempt = attempts + 1;
  return Status::Ok();
}

Status RecoverDeliveries(Connection& c, std::string_view project_id,
                         std::string_view subscription_id, int64_t since_ms,
                         int64_t until_ms, int64_t now_ms, int64_t* scheduled) {
  if (!SubscriptionOfProject(c, project_id, subscription_id)) {
    return NoSuchSubscription();
  }
  Use update(c, Sql::kRecoverDeliveries);
  update->bind(":subscription_id", std::string(subscription_id));
  update->bind(":since", since_ms);
  update->bind(":until", until_ms);
  update->bind(":now", now_ms);
  *scheduled = update->exec();
  return Status::Ok();
}

Status CountActivity(Connection& c, std::string_view project_id,
                     int64_t since_ms, int64_t bucket_ms,
                     std::vector<ActivityBucket>* out) {
  std::map<int64_t, ActivityBucket> buckets;
  auto bucket_at = [&](int64_t index) -> ActivityBucket& {
    ActivityBucket& bucket = buckets[index];
    bucket.start_ms = since_ms + index * bucket_ms;
    return bucket;
  };
  {
    Use events(c, Sql::kCountEventsByBucket);
    events->bind(":since", since_ms);
    events->bind(":bucket", bucket_ms);
    events->bind(":project_id", std::string(project_id));
    while (events->executeStep()) {
      bucket_at(events->getColumn(0).getInt64()).events =
          events->getColumn(1).getInt64();
    }
  }
  Use deliveries(c, Sql::kCountDeliveriesByBucket);
  deliveries->bind(":since", since_ms);
  deliveries->bind(":bucket", bucket_ms);
  deliveries->bind(":project_id", std::string(project_id));
  while (deliveries->executeStep()) {
    ActivityBucket& bucket = bucket_at(deliveries->getColumn(0).getInt64());
    const std::string status = deliveries->getColumn(1).getString();
    const int64_t count = deliveries->getColumn(2).getInt64();
    if (status == "succeeded") {
      bucket.succeeded += count;
    } else if (status == "failed" || status == "cancelled") {
      bucket.failed += count;
    } else {
      bucket.waiting += count;
    }
  }
  out->clear();
  for (auto& [index, bucket] : buckets) out->push_back(bucket);
  return Status::Ok();
}

Status ClaimDeliveries(Connection& c, const SecretsAtRest& secrets,
                       int64_t now_ms, int64_t lease_ms, size_t max,
                       std::vector<ClaimedDelivery>* out) {
  std::vector<ClaimedDelivery> due;
  std::vector<std::string> orphans;  // due, but their subscription is gone
  {
    Use select(c, Sql::kSelectDueDeliveries);
    select->bind(":now", now_ms);
    select->bind(":limit", static_cast<int64_t>(max));
    // Read to the end before updating: a claimed row moves along the
    // due_at index this scan walks, and could be met again.
    while (select->executeStep()) {
      if (select->getColumn(14).getInt() == 0) {
        orphans.push_back(select->getColumn(0).getString());
        continue;
      }
      ClaimedDelivery& claim = due.emplace_back();
      claim.id = select->getColumn(0).getString();
      claim.attempt = select->getColumn(1).getInt() + 1;
      claim.automatic_attempts = select->getColumn(2).getInt();
      claim.manual = select->getColumn(3).getInt() != 0;
      claim.webhook_id = select->getColumn(4).getString();
      claim.event_id = select->getColumn(5).getString();
      claim.endpoint_id = select->getColumn(6).getString();
      claim.toolkit_slug = select->getColumn(7).getString();
      claim.trigger_slug = select->getColumn(8).getString();
      claim.user_id = select->getColumn(9).getString();
      claim.content_type = select->getColumn(10).getString();
      claim.event_received_at_ms = select->getColumn(11).getInt64();
      claim.body = Bytes(select->getColumn(12));
      claim.subscription_id = select->getColumn(13).getString();
      claim.url = select->getColumn(15).getString();
      claim.secret = OpenSubscriptionSecret(secrets, claim.subscription_id,
                                            select->getColumn(16).getString());
      claim.version = select->getColumn(17).getString();
      claim.project_id = select->getColumn(18).getString();
    }
  }
  // Deleting a subscription cancels what it had waiting, but not an attempt
  // in flight; if that attempt's lease ended without an outcome (a crash),
  // the delivery is due again with nowhere to go.
  for (const std::string& id : orphans) {
    Use cancel(c, Sql::kCancelDelivery);
    cancel->bind(":id", id);
    cancel->bind(":now", now_ms);
    cancel->exec();
  }
  for (const ClaimedDelivery& claim : due) {
    Use update(c, Sql::kClaimDelivery);
    update->bind(":id", claim.id);
    update->bind(":lease_end", now_ms + lease_ms);
    update->bind(":now", now_ms);
    update->exec();
  }
  *out = std::move(due);
  return Status::Ok();
}

Status FinishAttempts(Connection& c,
                      const std::vector<AttemptOutcome>& outcomes,
                      int64_t now_ms) {
  for (const AttemptOutcome& outcome : outcomes) {
    // Recorded whatever happened to the delivery meanwhile: the receiver
    // saw the attempt.
    InsertAttempt(c, outcome.delivery_id, outcome.record);
    std::optional<std::string> subscription_id;
    {
      Use update(c, Sql::kFinishDelivery);
      update->bind(":id", outcome.delivery_id);
      update->bind(":attempt", outcome.record.attempt);
      update->bind(":status", FinalStatus(outcome.verdict));
      if (outcome.verdict == AttemptVerdict::kRetry) {
        update->bind(":next", outcome.next_attempt_at_ms);
      }
      if (outcome.record.status_code) {
        update->bind(":status_code", *outcome.record.status_code);
      }
      update->bind(":error", outcome.record.error_class);
      update->bind(":now", now_ms);
      // No row: the outcome is stale (the lease ended and the delivery was
      // claimed again, or it was cancelled); only the attempt stays.
      if (update->executeStep()) {
        subscription_id = update->getColumn(0).getString();
        while (update->executeStep()) {
        }
      }
    }
    if (subscription_id && outcome.verdict == AttemptVerdict::kGone) {
      DisableAndHold(c, *subscription_id, now_ms);
    }
  }
  return Status::Ok();
}

Status ReleaseLeases(Connection& c, int64_t now_ms) {
  Use update(c, Sql::kReleaseLeases);
  update->bind(":now", now_ms);
  update->exec();
  return Status::Ok();
}

Status NextDeliveryDue(Connection& c, std::optional<int64_t>* at_ms) {
  Use select(c, Sql::kNextDeliveryDue);
  select->executeStep();
  *at_ms = OptionalInt64(*select, 0);
  return Status::Ok();
}

Status CountDeliveryQueue(Connection& c, int64_t now_ms,
                          DeliveryQueueStats* out) {
  Use select(c, Sql::kCountDeliveryQueue);
  select->bind(":now", now_ms);
  select->executeStep();
  DeliveryQueueStats stats;
  stats.due = select->getColumn(0).getInt64();
  stats.waiting = select->getColumn(1).getInt64();
  stats.oldest_due_at_ms = OptionalInt64(*select, 2).value_or(0);
  *out = stats;
  return Status::Ok();
}

int64_t PruneFinishedDeliveries(Connection& c, int64_t cutoff_ms,
                                int64_t budget) {
  if (budget <= 0) return 0;
  std::vector<std::string> ids;
  {
    Use select(c, Sql::kSelectFinishedDeliveries);
    select->bind(":cutoff", cutoff_ms);
    // Each delivery is at least one row: never more candidates than that.
    select->bind(":limit", budget);
    while (select->executeStep())
      ids.push_back(select->getColumn(0).getString());
  }
  int64_t deleted = 0;
  for (const std::string& id : ids) {
    int64_t attempts = 0;
    {
      Use count(c, Sql::kCountDeliveryAttempts);
      count->bind(":delivery_id", id);
      if (count->executeStep()) attempts = count->getColumn(0).getInt64();
    }
    if (deleted > 0 && deleted + attempts + 1 > budget) break;
    {
      Use remove(c, Sql::kDeleteDeliveryAttempts);
      remove->bind(":delivery_id", id);
      deleted += remove->exec();
    }
    Use remove(c, Sql::kDeleteDelivery);
    remove->bind(":id", id);
    deleted += remove->exec();
  }
  return deleted;
}

// The column is sealed under the subscription's id when a secrets key is
// given (store/sqlite_subscriptions.cpp); SecretsAtRest opens it, or reads
// it in clear without a key.
std::string OpenSubscriptionSecret(const SecretsAtRest& secrets,
                                   std::string_view subscription_id,
                                   std::string stored) {
  return secrets.OpenSubscriptionSecret(std::string(subscription_id), stored);
}

}  // namespace sqlite_internal
}  // namespace webhooks
