// The PostgreSQL backend's subscriptions and deliveries: the flows
// postgres_deliveries.h declares, the PostgreSQL twins of
// sqlite_subscriptions.cpp and sqlite_deliveries.cpp, with the same
// observable behaviour. A delivery's life is in its row's `status` and
// `due_at` (schema.sql): claims take rows whose due_at has come; every other
// change here is a move between statuses that keeps due_at NULL outside
// pending, retrying and in_flight.
//
// What differs from SQLite is concurrency. SQLite has one writer, so a
// read-then-write inside its transaction cannot be overtaken; here several
// transactions (of this instance and of others) run at once under READ
// COMMITTED, so every read that a later write relies on locks its rows
// (FOR UPDATE, or SKIP LOCKED where passing a row over is the right answer),
// and each place says why.

#include "store/postgres_deliveries.h"

#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/json_writer.h"

namespace webhooks::postgres_internal {
namespace {

// ---- The SQL. Each statement is prepared once per connection under its
// name (Connection::Exec); the names start with "pd_" so that they never
// meet another file's.

struct Statement {
  const char* name;
  const char* sql;
};

// Subscriptions. The columns ReadSubscription reads, in its order: id,
// project_id, webhook_url, version, enabled_events, secret, enabled,
// created_at, updated_at. The UNIQUE project_id makes a second create do
// nothing, even when two arrive at once (the second waits for the first to
// commit, then does nothing). In the UPDATE a NULL parameter keeps the
// stored value.
constexpr Statement kInsertSubscription = {
    "pd_insert_subscription",
    "INSERT INTO webhook_subscriptions (id, project_id, webhook_url, version, "
    "enabled_events, secret, enabled, created_at, updated_at) VALUES ($1, $2, "
    "$3, $4, $5, $6, $7::boolean, $8::bigint, $9::bigint) ON CONFLICT "
    "(project_id) DO NOTHING"};
constexpr Statement kSelectSubscriptionById = {
    "pd_select_subscription",
    "SELECT id, project_id, webhook_url, version, enabled_events, secret, "
    "enabled, created_at, updated_at FROM webhook_subscriptions WHERE id = $1 "
    "AND project_id = $2"};
constexpr Statement kSelectSubscriptionByProject = {
    "pd_select_project_subscriptions",
    "SELECT id, project_id, webhook_url, version, enabled_events, secret, "
    "enabled, created_at, updated_at FROM webhook_subscriptions WHERE "
    "project_id = $1"};
constexpr Statement kUpdateSubscription = {
    "pd_update_subscription",
    "UPDATE webhook_subscriptions SET webhook_url = coalesce($3::text, "
    "webhook_url), version = coalesce($4::text, version), enabled_events = "
    "coalesce($5::text, enabled_events), enabled = TRUE, updated_at = "
    "$6::bigint WHERE id = $1 AND project_id = $2 RETURNING id, project_id, "
    "webhook_url, version, enabled_events, secret, enabled, created_at, "
    "updated_at"};
constexpr Statement kRotateSubscriptionSecret = {
    "pd_rotate_subscription_secret",
    "UPDATE webhook_subscriptions SET secret = $3, updated_at = $4::bigint "
    "WHERE id = $1 AND project_id = $2 RETURNING id, project_id, webhook_url, "
    "version, enabled_events, secret, enabled, created_at, updated_at"};
constexpr Statement kDeleteSubscription = {
    "pd_delete_subscription",
    "DELETE FROM webhook_subscriptions WHERE id = $1 AND project_id = $2"};
// A row a claim holds (in flight now) is waited for, then re-checked: no
// longer pending, it is left to finish.
constexpr Statement kCancelSubscriptionDeliveries = {
    "pd_cancel_subscription_deliveries",
    "UPDATE webhook_deliveries SET status = 'cancelled', due_at = NULL, "
    "next_attempt_at = NULL, updated_at = $2::bigint WHERE subscription_id = "
    "$1 AND status IN ('pending', 'retrying', 'held')"};

// ---- Deliveries. The columns of a DeliveryRecord, in ReadDeliveryRecord's
// order: id, subscription_id, message_id, event_id, endpoint_id, status,
// attempts, next_attempt_at, last_status_code, last_error, created_at,
// updated_at.
//
// The outbox: one statement (one round trip), which finds the endpoint's
// subscription, stores the delivery and returns what a claim at insert
// needs. An event without a subscription costs two indexed look-ups and
// writes nothing. With a lease ($9 > 0) the delivery is stored claimed: in
// flight, attempt 1, due again (for another claim) only when the lease
// ends. enabled_events is the JSON array EncodeEventList wrote; jsonb's ?
// tests its string elements, as SQLite's json_each does.
constexpr Statement kInsertDelivery = {
    "pd_insert_delivery",
    "WITH s AS (SELECT s.id, s.project_id, s.enabled, s.webhook_url, "
    "s.secret, s.version, e.toolkit_slug FROM webhook_endpoints e JOIN "
    "webhook_subscriptions s ON s.project_id = e.project_id WHERE e.id = $10 "
    "AND s.enabled_events::jsonb ? $11), d AS (INSERT INTO "
    "webhook_deliveries (id, subscription_id, project_id, message_id, "
    "event_id, endpoint_id, toolkit_slug, trigger_slug, user_id, "
    "content_type, event_received_at, event_seq, status, due_at, "
    "next_attempt_at, attempts, automatic_attempts, created_at, updated_at) "
    "SELECT $1, s.id, s.project_id, $2, $3, $10, s.toolkit_slug, $4, $5, $6, "
    "$7::bigint, $8::bigint, CASE WHEN NOT s.enabled THEN 'held' WHEN "
    "$9::bigint > 0 THEN 'in_flight' ELSE 'pending' END, CASE WHEN s.enabled "
    "THEN $7::bigint + $9::bigint END, CASE WHEN s.enabled AND $9::bigint = 0 "
    "THEN $7::bigint END, CASE WHEN s.enabled AND $9::bigint > 0 THEN 1 ELSE "
    "0 END, CASE WHEN s.enabled AND $9::bigint > 0 THEN 1 ELSE 0 END, "
    "$7::bigint, $7::bigint FROM s RETURNING status) SELECT d.status, s.id, "
    "s.project_id, s.webhook_url, s.secret, s.version, s.toolkit_slug FROM d "
    "CROSS JOIN s"};
constexpr Statement kSelectSubscriptionOfProject = {
    "pd_subscription_of_project",
    "SELECT 1 FROM webhook_subscriptions WHERE id = $1 AND project_id = $2"};
// Newest first from the cursor, which always bounds the index search; with
// no cursor the bound is past any time. LIMIT NULL is no limit.
constexpr Statement kListDeliveries = {
    "pd_list_deliveries",
    "SELECT id, subscription_id, message_id, event_id, endpoint_id, status, "
    "attempts, next_attempt_at, last_status_code, last_error, created_at, "
    "updated_at FROM webhook_deliveries WHERE subscription_id = $1 AND "
    "($2::text IS NULL OR status = $2::text) AND (created_at, id) < "
    "(coalesce($3::bigint, 9223372036854775807), coalesce($4::text, '')) "
    "ORDER BY created_at DESC, id DESC LIMIT $5::bigint"};
constexpr Statement kSelectDelivery = {
    "pd_select_delivery",
    "SELECT id, subscription_id, message_id, event_id, endpoint_id, status, "
    "attempts, next_attempt_at, last_status_code, last_error, created_at, "
    "updated_at FROM webhook_deliveries WHERE id = $1 AND subscription_id = "
    "$2"};
constexpr Statement kSelectDeliveryAttempts = {
    "pd_select_delivery_attempts",
    "SELECT attempt, started_at, request_headers, status_code, error_class, "
    "duration_ms, response_headers, response_body FROM "
    "webhook_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt"};
// Whether the body is still stored: a succeeded delivery gives it up with
// its event (the trigger on webhook_events). FOR UPDATE: the row cannot be
// claimed (a claim skips it) or finished between this read and the
// resend's write; a claim that holds it already is waited for, and its
// in_flight then read.
constexpr Statement kSelectDeliveryState = {
    "pd_select_delivery_state",
    "SELECT d.status, d.attempts, d.body IS NOT NULL OR EXISTS (SELECT 1 FROM "
    "webhook_events e WHERE e.seq = d.event_seq) FROM webhook_deliveries d "
    "WHERE d.id = $1 AND d.subscription_id = $2 FOR UPDATE OF d"};
constexpr Statement kRescheduleDelivery = {
    "pd_reschedule_delivery",
    "UPDATE webhook_deliveries SET due_at = $2::bigint, next_attempt_at = "
    "$2::bigint, updated_at = $2::bigint WHERE id = $1"};
constexpr Statement kResendDelivery = {
    "pd_resend_delivery",
    "UPDATE webhook_deliveries SET status = 'pending', manual = TRUE, due_at "
    "= $2::bigint, next_attempt_at = $2::bigint, updated_at = $2::bigint "
    "WHERE id = $1"};
constexpr Statement kRecoverDeliveries = {
    "pd_recover_deliveries",
    "UPDATE webhook_deliveries SET status = 'pending', manual = TRUE, due_at "
    "= $4::bigint, next_attempt_at = $4::bigint, updated_at = $4::bigint "
    "WHERE subscription_id = $1 AND created_at >= $2::bigint AND created_at "
    "<= $3::bigint AND status IN ('failed', 'held')"};
// The dashboard's chart. A bucket of 0 puts everything in bucket 0, as
// SQLite's x / 0 (NULL, read as 0) does, instead of failing.
constexpr Statement kCountEventsByBucket = {
    "pd_count_events_by_bucket",
    "SELECT coalesce((e.received_at - $1::bigint) / nullif($2::bigint, 0), "
    "0), count(*) FROM webhook_events e JOIN webhook_endpoints p ON p.id = "
    "e.endpoint_id WHERE e.received_at >= $1::bigint AND p.project_id = $3 "
    "GROUP BY 1"};
constexpr Statement kCountDeliveriesByBucket = {
    "pd_count_deliveries_by_bucket",
    "SELECT coalesce((created_at - $1::bigint) / nullif($2::bigint, 0), 0), "
    "status, count(*) FROM webhook_deliveries WHERE subscription_id IN "
    "(SELECT id FROM webhook_subscriptions WHERE project_id = $3) AND "
    "created_at >= $1::bigint GROUP BY 1, 2"};
// Along the partial index on due_at: the claim's cost is the rows it takes.
// Ties in due_at go in event order, as SQLite's rowid order does. The LEFT
// JOIN tells a delivery whose subscription is gone. SKIP LOCKED: a row
// another transaction is claiming (or resending) is passed over, so
// concurrent claims never return one delivery twice and never wait.
constexpr Statement kSelectDueDeliveries = {
    "pd_select_due_deliveries",
    "SELECT d.id, d.attempts, d.automatic_attempts, d.manual, d.message_id, "
    "d.event_id, d.endpoint_id, d.toolkit_slug, d.trigger_slug, d.user_id, "
    "d.content_type, d.event_received_at, coalesce(d.body, (SELECT e.body "
    "FROM webhook_events e WHERE e.seq = d.event_seq)), d.subscription_id, "
    "s.id IS NOT NULL, s.webhook_url, s.secret, s.version, d.project_id FROM "
    "webhook_deliveries d LEFT JOIN webhook_subscriptions s ON s.id = "
    "d.subscription_id WHERE d.due_at <= $1::bigint ORDER BY d.due_at, "
    "d.event_seq LIMIT $2::bigint FOR UPDATE OF d SKIP LOCKED"};
constexpr Statement kClaimDeliveries = {
    "pd_claim_deliveries",
    "UPDATE webhook_deliveries SET status = 'in_flight', due_at = $2::bigint, "
    "next_attempt_at = NULL, attempts = attempts + 1, automatic_attempts = "
    "automatic_attempts + CASE WHEN manual THEN 0 ELSE 1 END, updated_at = "
    "$3::bigint WHERE id = ANY ($1::text[])"};
constexpr Statement kCancelDeliveries = {
    "pd_cancel_deliveries",
    "UPDATE webhook_deliveries SET status = 'cancelled', due_at = NULL, "
    "next_attempt_at = NULL, updated_at = $2::bigint WHERE id = ANY "
    "($1::text[])"};
// Only for a delivery that exists: pruning finds attempts through their
// delivery, and an orphan would stay for ever. FOR KEY SHARE makes a prune
// deleting the delivery at this moment finish first (then the delivery is
// gone and nothing is inserted).
constexpr Statement kInsertDeliveryAttempt = {
    "pd_insert_delivery_attempt",
    "INSERT INTO webhook_delivery_attempts (delivery_id, attempt, "
    "started_at, request_headers, status_code, error_class, duration_ms, "
    "response_headers, response_body) SELECT $1::text, $2::integer, "
    "$3::bigint, $4::text, $5::integer, $6::text, $7::bigint, $8::text, "
    "$9::bytea WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = "
    "$1::text FOR KEY SHARE) ON CONFLICT (delivery_id, attempt) DO NOTHING"};
constexpr Statement kFinishDelivery = {
    "pd_finish_delivery",
    "UPDATE webhook_deliveries SET status = $2, due_at = $3::bigint, "
    "next_attempt_at = $3::bigint, manual = FALSE, last_status_code = "
    "$4::integer, last_error = $5, updated_at = $6::bigint WHERE id = $1 AND "
    "status = 'in_flight' AND attempts = $7::integer RETURNING "
    "subscription_id"};
constexpr Statement kDisableSubscription = {
    "pd_disable_subscription",
    "UPDATE webhook_subscriptions SET enabled = FALSE, updated_at = "
    "$2::bigint WHERE id = $1"};
constexpr Statement kHoldDeliveries = {
    "pd_hold_deliveries",
    "UPDATE webhook_deliveries SET status = 'held', due_at = NULL, "
    "next_attempt_at = NULL, updated_at = $2::bigint WHERE subscription_id = "
    "$1 AND status IN ('pending', 'retrying')"};
// Rows already due are left alone: the range stays on the index.
constexpr Statement kReleaseLeases = {
    "pd_release_leases",
    "UPDATE webhook_deliveries SET due_at = $1::bigint WHERE due_at > "
    "$1::bigint AND status = 'in_flight'"};
constexpr Statement kNextDeliveryDue = {
    "pd_next_delivery_due",
    "SELECT min(due_at) FROM webhook_deliveries WHERE due_at IS NOT NULL"};
// Counts over the partial index on due_at: its size is the queue's, not
// the table's. A due row is pending, retrying or an ended lease.
constexpr Statement kCountDeliveryQueue = {
    "pd_count_delivery_queue",
    "SELECT (SELECT count(*) FROM webhook_deliveries WHERE due_at <= "
    "$1::bigint), (SELECT count(*) FROM webhook_deliveries WHERE due_at IS "
    "NOT NULL), (SELECT min(due_at) FROM webhook_deliveries WHERE due_at <= "
    "$1::bigint)"};
// The status term is spelled as in the partial index
// webhook_deliveries_finished. FOR UPDATE SKIP LOCKED: a delivery being
// resent right now is not deleted under the resend (nor waited for).
constexpr Statement kSelectFinishedDeliveries = {
    "pd_select_finished_deliveries",
    "SELECT d.id, (SELECT count(*) FROM webhook_delivery_attempts a WHERE "
    "a.delivery_id = d.id) FROM webhook_deliveries d WHERE d.status IN "
    "('succeeded', 'failed', 'cancelled') AND d.created_at < $1::bigint "
    "ORDER BY d.created_at LIMIT $2::bigint FOR UPDATE OF d SKIP LOCKED"};
constexpr Statement kDeleteDeliveryAttempts = {
    "pd_delete_delivery_attempts",
    "DELETE FROM webhook_delivery_attempts WHERE delivery_id = ANY "
    "($1::text[])"};
constexpr Statement kDeleteDeliveries = {
    "pd_delete_deliveries",
    "DELETE FROM webhook_deliveries WHERE id = ANY ($1::text[])"};

Status Exec(Connection& c, const Statement& statement,
            const std::vector<Param>& params, Result* out) {
  return c.Exec(statement.name, statement.sql, params, out);
}

// ---- Parameters and values.

Param Int(int64_t value) { return Text(std::to_string(value)); }
Param Bool(bool value) { return Text(value ? "true" : "false"); }
// A LIMIT: size_t as a bigint (beyond int64 it is no bound anyway).
Param Limit(size_t value) {
  constexpr uint64_t kMax =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  return Int(static_cast<int64_t>(
      std::min<uint64_t>(static_cast<uint64_t>(value), kMax)));
}

// A text[] literal of `items`: each quoted, with " and \ escaped, so that
// any id reads back as itself.
Param TextArray(const std::vector<std::string>& items) {
  std::string literal = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) literal += ',';
    literal += '"';
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') literal += '\\';
      literal += ch;
    }
    literal += '"';
  }
  literal += '}';
  return Text(std::move(literal));
}

std::string String(const Result& r, int row, int column) {
  return std::string(r.Text(row, column));
}
// A NOT NULL integer column (0 if it does not parse, which the schema's
// types rule out).
int64_t Int64(const Result& r, int row, int column) {
  int64_t value = 0;
  r.Int64(row, column, &value);
  return value;
}
int Int32(const Result& r, int row, int column) {
  return static_cast<int>(Int64(r, row, column));
}
std::optional<int64_t> OptionalInt64(const Result& r, int row, int column) {
  int64_t value = 0;
  if (!r.Int64(row, column, &value)) return std::nullopt;
  return value;
}
bool Boolean(const Result& r, int row, int column) {
  return r.Text(row, column) == "t";
}

// ---- Subscriptions' encodings and secrets.

// enabled_events as stored: a JSON array of strings, as SQLite stores it
// (sqlite_internal::EncodeEventList), so a row reads the same in both.
std::string EncodeEventList(const std::vector<std::string>& events) {
  JsonWriter json;
  json.BeginArray();
  for (const std::string& event : events) json.Value(event);
  json.EndArray();
  return json.Take();
}

// A damaged row is a failure, never a guess.
Status DecodeEventList(std::string_view text, std::vector<std::string>* out) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::array array;
  if (parser.parse(padded).get_array().get(array) != simdjson::SUCCESS) {
    return Status::Internal(
        "webhook_subscriptions.enabled_events is not a JSON array");
  }
  std::vector<std::string> events;
  for (simdjson::dom::element element : array) {
    std::string_view event;
    if (element.get_string().get(event) != simdjson::SUCCESS) {
      return Status::Internal(
          "webhook_subscriptions.enabled_events holds a value that is not a "
          "string");
    }
    events.emplace_back(event);
  }
  *out = std::move(events);
  return Status::Ok();
}

// Any failure to seal is Internal, as in SQLite (a key of the wrong size
// was refused when the store was opened).
Status SealSecret(const SecretBox& box, std::string_view subscription_id,
                  std::string_view secret, std::string* sealed) {
  Status status =
      box.Seal(SubscriptionSecretContext(subscription_id), secret, sealed);
  if (!status.ok()) return Status::Internal(status.message());
  return Status::Ok();
}

// Never a garbage secret: one that cannot be opened with our key is
// Internal (CheckSecretsKey finds that case up front).
Status OpenSecret(const SecretBox& box, std::string_view subscription_id,
                  std::string_view stored, std::string* secret) {
  Status status =
      box.Open(SubscriptionSecretContext(subscription_id), stored, secret);
  if (status.code() == Status::Code::kInvalidArgument) {
    return Status::Internal("the secret of subscription " +
                            std::string(subscription_id) +
                            " cannot be decrypted (missing or different "
                            "secrets key)");
  }
  if (!status.ok()) return Status::Internal(status.message());
  return Status::Ok();
}

// Reads the subscription columns of row `row` (their order is above).
Status ReadSubscription(const Result& r, int row, const SecretBox& box,
                        WebhookSubscription* out) {
  WebhookSubscription s;
  s.id = String(r, row, 0);
  s.project_id = String(r, row, 1);
  s.webhook_url = String(r, row, 2);
  s.version = String(r, row, 3);
  Status status = DecodeEventList(r.Text(row, 4), &s.enabled_events);
  if (!status.ok()) return status;
  status = OpenSecret(box, s.id, r.Text(row, 5), &s.secret);
  if (!status.ok()) return status;
  s.enabled = Boolean(r, row, 6);
  s.created_at_ms = Int64(r, row, 7);
  s.updated_at_ms = Int64(r, row, 8);
  *out = std::move(s);
  return Status::Ok();
}

Status NoSuchSubscriptionInProject() {
  return Status::NotFound("no such subscription in this project");
}

// ---- Deliveries' helpers.

Status NoSuchSubscription() {
  return Status::NotFound("no such webhook subscription in this project");
}

Status NoSuchDelivery() {
  return Status::NotFound("no such delivery of this subscription");
}

// Sets *of_project to whether `subscription_id` is a subscription of
// `project_id` (a deleted one is not: its deliveries are no longer any
// project's to inspect).
Status SubscriptionOfProject(Connection& c, std::string_view project_id,
                             std::string_view subscription_id,
                             bool* of_project) {
  Result r;
  Status status = Exec(
      c, kSelectSubscriptionOfProject,
      {Text(std::string(subscription_id)), Text(std::string(project_id))}, &r);
  if (!status.ok()) return status;
  *of_project = r.rows() > 0;
  return Status::Ok();
}

// The columns of a DeliveryRecord, in the order of kListDeliveries and
// kSelectDelivery.
void ReadDeliveryRecord(const Result& r, int row, DeliveryRecord* out) {
  out->id = String(r, row, 0);
  out->subscription_id = String(r, row, 1);
  out->webhook_id = String(r, row, 2);
  out->event_id = String(r, row, 3);
  out->endpoint_id = String(r, row, 4);
  // The CHECK constraint admits only the names DeliveryStatusName spells.
  out->status =
      DeliveryStatusFromName(r.Text(row, 5)).value_or(DeliveryStatus::kPending);
  out->attempts = Int32(r, row, 6);
  out->next_attempt_at_ms = OptionalInt64(r, row, 7);
  std::optional<int64_t> code = OptionalInt64(r, row, 8);
  if (code) {
    out->last_status_code = static_cast<int>(*code);
  } else {
    out->last_status_code.reset();
  }
  out->last_error = String(r, row, 9);
  out->created_at_ms = Int64(r, row, 10);
  out->updated_at_ms = Int64(r, row, 11);
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

Status InsertAttempt(Connection& c, const std::string& delivery_id,
                     const DeliveryAttempt& record) {
  return Exec(
      c, kInsertDeliveryAttempt,
      {Text(delivery_id), Int(record.attempt), Int(record.started_at_ms),
       Text(record.request_headers_json),
       record.status_code ? Int(*record.status_code) : Null(),
       Text(record.error_class), Int(record.duration_ms),
       Text(record.response_headers_json), Binary(record.response_body)},
      nullptr);
}

// A 410 Gone: the subscription stops, and what it had waiting is held until
// a recover (the spec: nothing is dropped, re-enabling releases nothing).
Status DisableAndHold(Connection& c, const std::string& subscription_id,
                      int64_t now_ms) {
  Status status = Exec(c, kDisableSubscription,
                       {Text(subscription_id), Int(now_ms)}, nullptr);
  if (!status.ok()) return status;
  return Exec(c, kHoldDeliveries, {Text(subscription_id), Int(now_ms)},
              nullptr);
}

}  // namespace

// ---- Subscriptions.

Status InsertSubscription(Connection& c, const SecretBox& box,
                          const WebhookSubscription& subscription,
                          WebhookSubscription* out) {
  std::string sealed;
  Status status =
      SealSecret(box, subscription.id, subscription.secret, &sealed);
  if (!status.ok()) return status;
  Result r;
  // A unique violation other than project_id's (the id) is 23505: Conflict,
  // with *out unchanged.
  status =
      Exec(c, kInsertSubscription,
           {Text(subscription.id), Text(subscription.project_id),
            Text(subscription.webhook_url), Text(subscription.version),
            Text(EncodeEventList(subscription.enabled_events)),
            Text(std::move(sealed)), Bool(subscription.enabled),
            Int(subscription.created_at_ms), Int(subscription.updated_at_ms)},
           &r);
  if (!status.ok()) return status;
  if (r.affected_rows() > 0) {
    *out = subscription;
    return Status::Ok();
  }
  // DO NOTHING fired: the project has one. Under READ COMMITTED this read
  // sees the committed row that the insert waited for.
  std::vector<WebhookSubscription> existing;
  status =
      SelectProjectSubscriptions(c, box, subscription.project_id, &existing);
  if (!status.ok()) return status;
  if (existing.empty()) {
    // It was deleted between the two statements (SQLite's single writer
    // cannot see this): a retry would store ours.
    return Status::Unavailable(
        "create subscription: the conflicting subscription was deleted "
        "meanwhile");
  }
  *out = std::move(existing.front());
  return Status::Conflict("the project has a subscription");
}

Status SelectSubscription(Connection& c, const SecretBox& box,
                          std::string_view project_id, std::string_view id,
                          WebhookSubscription* out) {
  Result r;
  Status status =
      Exec(c, kSelectSubscriptionById,
           {Text(std::string(id)), Text(std::string(project_id))}, &r);
  if (!status.ok()) return status;
  if (r.rows() == 0) return NoSuchSubscriptionInProject();
  return ReadSubscription(r, 0, box, out);
}

Status SelectProjectSubscriptions(Connection& c, const SecretBox& box,
                                  std::string_view project_id,
                                  std::vector<WebhookSubscription>* out) {
  Result r;
  Status status = Exec(c, kSelectSubscriptionByProject,
                       {Text(std::string(project_id))}, &r);
  if (!status.ok()) return status;
  std::vector<WebhookSubscription> subscriptions(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    status =
        ReadSubscription(r, row, box, &subscriptions[static_cast<size_t>(row)]);
    if (!status.ok()) return status;
  }
  *out = std::move(subscriptions);
  return Status::Ok();
}

Status UpdateSubscription(Connection& c, const SecretBox& box,
                          std::string_view project_id, std::string_view id,
                          const SubscriptionChanges& changes,
                          WebhookSubscription* out) {
  Result r;
  // NULL for a field not set: it keeps its stored value.
  Status status = Exec(
      c, kUpdateSubscription,
      {Text(std::string(id)), Text(std::string(project_id)),
       changes.webhook_url ? Text(*changes.webhook_url) : Null(),
       changes.version ? Text(*changes.version) : Null(),
       changes.enabled_events ? Text(EncodeEventList(*changes.enabled_events))
                              : Null(),
       Int(changes.updated_at_ms)},
      &r);
  if (!status.ok()) return status;
  if (r.rows() == 0) return NoSuchSubscriptionInProject();
  return ReadSubscription(r, 0, box, out);
}

Status RotateSubscriptionSecret(Connection& c, const SecretBox& box,
                                std::string_view project_id,
                                std::string_view id, const std::string& secret,
                                int64_t now_ms, WebhookSubscription* out) {
  // Sealed under the id asked for: if it is not the project's, no row
  // changes and the sealed text is dropped.
  std::string sealed;
  Status status = SealSecret(box, id, secret, &sealed);
  if (!status.ok()) return status;
  Result r;
  status = Exec(c, kRotateSubscriptionSecret,
                {Text(std::string(id)), Text(std::string(project_id)),
                 Text(std::move(sealed)), Int(now_ms)},
                &r);
  if (!status.ok()) return status;
  if (r.rows() == 0) return NoSuchSubscriptionInProject();
  return ReadSubscription(r, 0, box, out);
}

Status DeleteSubscription(Connection& c, std::string_view project_id,
                          std::string_view id, int64_t now_ms) {
  Result r;
  Status status =
      Exec(c, kDeleteSubscription,
           {Text(std::string(id)), Text(std::string(project_id))}, &r);
  if (!status.ok()) return status;
  if (r.affected_rows() == 0) return NoSuchSubscriptionInProject();
  // In the same transaction: no worker can claim one of them after the
  // subscription is gone. One in flight is left to finish (store.h); if it
  // asks for a retry, the next claim finds it orphaned and cancels it.
  return Exec(c, kCancelSubscriptionDeliveries,
              {Text(std::string(id)), Int(now_ms)}, nullptr);
}

// ---- Deliveries.

Status InsertDeliveryForEvent(Connection& c, const SecretBox& box,
                              const NewEvent& event, int64_t event_seq,
                              std::optional<ClaimedDelivery>* claimed) {
  const NewDelivery& delivery = *event.delivery;
  // Claimed only for a caller that will send it: a delivery stored in
  // flight and returned to no one would wait out its lease.
  const int64_t lease = claimed != nullptr && delivery.claim_lease_ms > 0
                            ? delivery.claim_lease_ms
                            : 0;
  Result r;
  Status status = Exec(
      c, kInsertDelivery,
      {Text(delivery.id), Text(delivery.message_id), Text(event.id),
       Text(delivery.trigger_slug), Text(delivery.user_id),
       Text(delivery.content_type), Int(event.received_at_ms), Int(event_seq),
       Int(lease), Text(event.endpoint_id), Text(kTriggerMessageEvent)},
      &r);
  if (!status.ok()) return status;
  std::optional<ClaimedDelivery> claim;
  // No row: no subscription to the trigger message. Held: not claimed.
  if (lease > 0 && r.rows() > 0 && r.Text(0, 0) == "in_flight") {
    ClaimedDelivery& d = claim.emplace();
    d.id = delivery.id;
    d.project_id = String(r, 0, 2);
    d.attempt = 1;
    d.automatic_attempts = 0;
    d.manual = false;
    d.webhook_id = delivery.message_id;
    d.event_id = event.id;
    d.endpoint_id = event.endpoint_id;
    d.toolkit_slug = String(r, 0, 6);
    d.trigger_slug = delivery.trigger_slug;
    d.user_id = delivery.user_id;
    d.content_type = delivery.content_type;
    d.event_received_at_ms = event.received_at_ms;
    d.body = event.body;
    d.subscription_id = String(r, 0, 1);
    d.url = String(r, 0, 3);
    status = OpenSecret(box, d.subscription_id, r.Text(0, 4), &d.secret);
    if (!status.ok()) return status;
    d.version = String(r, 0, 5);
  }
  if (claimed != nullptr) *claimed = std::move(claim);
  return Status::Ok();
}

Status ListDeliveries(Connection& c, const DeliveryListQuery& query,
                      std::vector<DeliveryRecord>* out, bool* more) {
  bool of_project = false;
  Status status = SubscriptionOfProject(c, query.project_id,
                                        query.subscription_id, &of_project);
  if (!status.ok()) return status;
  if (!of_project) return NoSuchSubscription();
  Result r;
  // One row past the limit tells whether more follow.
  status =
      Exec(c, kListDeliveries,
           {Text(query.subscription_id),
            query.status ? Text(DeliveryStatusName(*query.status)) : Null(),
            query.after ? Int(query.after->created_at_ms) : Null(),
            query.after ? Text(query.after->id) : Null(),
            query.limit == 0 ? Null() : Limit(query.limit + 1)},
           &r);
  if (!status.ok()) return status;
  std::vector<DeliveryRecord> rows(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    ReadDeliveryRecord(r, row, &rows[static_cast<size_t>(row)]);
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
  bool of_project = false;
  Status status =
      SubscriptionOfProject(c, project_id, subscription_id, &of_project);
  if (!status.ok()) return status;
  if (!of_project) return NoSuchSubscription();
  DeliveryRecord record;
  {
    Result r;
    status = Exec(
        c, kSelectDelivery,
        {Text(std::string(delivery_id)), Text(std::string(subscription_id))},
        &r);
    if (!status.ok()) return status;
    if (r.rows() == 0) return NoSuchDelivery();
    ReadDeliveryRecord(r, 0, &record);
  }
  Result r;
  status = Exec(c, kSelectDeliveryAttempts, {Text(record.id)}, &r);
  if (!status.ok()) return status;
  std::vector<DeliveryAttempt> rows(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    DeliveryAttempt& attempt = rows[static_cast<size_t>(row)];
    attempt.attempt = Int32(r, row, 0);
    attempt.started_at_ms = Int64(r, row, 1);
    attempt.request_headers_json = String(r, row, 2);
    std::optional<int64_t> code = OptionalInt64(r, row, 3);
    if (code) attempt.status_code = static_cast<int>(*code);
    attempt.error_class = String(r, row, 4);
    attempt.duration_ms = Int64(r, row, 5);
    attempt.response_headers_json = String(r, row, 6);
    attempt.response_body = r.Bytes(row, 7);
  }
  *out = std::move(record);
  *attempts = std::move(rows);
  return Status::Ok();
}

Status ResendDelivery(Connection& c, std::string_view project_id,
                      std::string_view subscription_id,
                      std::string_view delivery_id, int64_t now_ms,
                      int* attempt) {
  bool of_project = false;
  Status status =
      SubscriptionOfProject(c, project_id, subscription_id, &of_project);
  if (!status.ok()) return status;
  if (!of_project) return NoSuchSubscription();
  std::optional<DeliveryStatus> state;
  int attempts = 0;
  bool body_stored = true;
  {
    Result r;
    status = Exec(
        c, kSelectDeliveryState,
        {Text(std::string(delivery_id)), Text(std::string(subscription_id))},
        &r);
    if (!status.ok()) return status;
    if (r.rows() == 0) return NoSuchDelivery();
    state = DeliveryStatusFromName(r.Text(0, 0));
    attempts = Int32(r, 0, 1);
    body_stored = Boolean(r, 0, 2);
  }
  const Statement* update = &kResendDelivery;
  switch (state.value_or(DeliveryStatus::kCancelled)) {
    case DeliveryStatus::kInFlight:
      return Status::Conflict("an attempt of this delivery is in flight");
    case DeliveryStatus::kCancelled:
      return Status::Conflict("this delivery was cancelled");
    case DeliveryStatus::kPending:
    case DeliveryStatus::kRetrying:
      // Still on its schedule: the next automatic attempt moves to now.
      update = &kRescheduleDelivery;
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
  status =
      Exec(c, *update, {Text(std::string(delivery_id)), Int(now_ms)}, nullptr);
  if (!status.ok()) return status;
  *attempt = attempts + 1;
  return Status::Ok();
}

Status RecoverDeliveries(Connection& c, std::string_view project_id,
                         std::string_view subscription_id, int64_t since_ms,
                         int64_t until_ms, int64_t now_ms, int64_t* scheduled) {
  bool of_project = false;
  Status status =
      SubscriptionOfProject(c, project_id, subscription_id, &of_project);
  if (!status.ok()) return status;
  if (!of_project) return NoSuchSubscription();
  Result r;
  status = Exec(c, kRecoverDeliveries,
                {Text(std::string(subscription_id)), Int(since_ms),
                 Int(until_ms), Int(now_ms)},
                &r);
  if (!status.ok()) return status;
  *scheduled = r.affected_rows();
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
  const std::vector<Param> params = {Int(since_ms), Int(bucket_ms),
                                     Text(std::string(project_id))};
  Result r;
  Status status = Exec(c, kCountEventsByBucket, params, &r);
  if (!status.ok()) return status;
  for (int row = 0; row < r.rows(); ++row) {
    bucket_at(Int64(r, row, 0)).events = Int64(r, row, 1);
  }
  status = Exec(c, kCountDeliveriesByBucket, params, &r);
  if (!status.ok()) return status;
  for (int row = 0; row < r.rows(); ++row) {
    ActivityBucket& bucket = bucket_at(Int64(r, row, 0));
    const std::string_view state = r.Text(row, 1);
    const int64_t count = Int64(r, row, 2);
    if (state == "succeeded") {
      bucket.succeeded += count;
    } else if (state == "failed" || state == "cancelled") {
      bucket.failed += count;
    } else {
      bucket.waiting += count;
    }
  }
  std::vector<ActivityBucket> rows;
  rows.reserve(buckets.size());
  for (auto& [index, bucket] : buckets) rows.push_back(bucket);
  *out = std::move(rows);
  return Status::Ok();
}

Status ClaimDeliveries(Connection& c, const SecretBox& box, int64_t now_ms,
                       int64_t lease_ms, size_t max,
                       std::vector<ClaimedDelivery>* out) {
  std::vector<ClaimedDelivery> due;
  std::vector<std::string> ids;
  std::vector<std::string> orphans;  // due, but their subscription is gone
  {
    Result r;
    Status status =
        Exec(c, kSelectDueDeliveries, {Int(now_ms), Limit(max)}, &r);
    if (!status.ok()) return status;
    for (int row = 0; row < r.rows(); ++row) {
      if (!Boolean(r, row, 14)) {
        orphans.push_back(String(r, row, 0));
        continue;
      }
      ClaimedDelivery& claim = due.emplace_back();
      claim.id = String(r, row, 0);
      claim.attempt = Int32(r, row, 1) + 1;
      claim.automatic_attempts = Int32(r, row, 2);
      claim.manual = Boolean(r, row, 3);
      claim.webhook_id = String(r, row, 4);
      claim.event_id = String(r, row, 5);
      claim.endpoint_id = String(r, row, 6);
      claim.toolkit_slug = String(r, row, 7);
      claim.trigger_slug = String(r, row, 8);
      claim.user_id = String(r, row, 9);
      claim.content_type = String(r, row, 10);
      claim.event_received_at_ms = Int64(r, row, 11);
      claim.body = r.Bytes(row, 12);
      claim.subscription_id = String(r, row, 13);
      claim.url = String(r, row, 15);
      status = OpenSecret(box, claim.subscription_id, r.Text(row, 16),
                          &claim.secret);
      if (!status.ok()) return status;
      claim.version = String(r, row, 17);
      claim.project_id = String(r, row, 18);
      ids.push_back(claim.id);
    }
  }
  // Deleting a subscription cancels what it had waiting, but not an attempt
  // in flight; if that attempt's lease ended without an outcome (a crash),
  // or it asked for a retry, the delivery is due again with nowhere to go.
  if (!orphans.empty()) {
    Status status =
        Exec(c, kCancelDeliveries, {TextArray(orphans), Int(now_ms)}, nullptr);
    if (!status.ok()) return status;
  }
  if (!ids.empty()) {
    Status status =
        Exec(c, kClaimDeliveries,
             {TextArray(ids), Int(now_ms + lease_ms), Int(now_ms)}, nullptr);
    if (!status.ok()) return status;
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
    Status status = InsertAttempt(c, outcome.delivery_id, outcome.record);
    if (!status.ok()) return status;
    Result r;
    status = Exec(
        c, kFinishDelivery,
        {Text(outcome.delivery_id), Text(FinalStatus(outcome.verdict)),
         outcome.verdict == AttemptVerdict::kRetry
             ? Int(outcome.next_attempt_at_ms)
             : Null(),
         outcome.record.status_code ? Int(*outcome.record.status_code) : Null(),
         Text(outcome.record.error_class), Int(now_ms),
         Int(outcome.record.attempt)},
        &r);
    if (!status.ok()) return status;
    // No row: the outcome is stale (the lease ended and the delivery was
    // claimed again, or it was cancelled); only the attempt stays.
    if (r.rows() > 0 && outcome.verdict == AttemptVerdict::kGone) {
      status = DisableAndHold(c, String(r, 0, 0), now_ms);
      if (!status.ok()) return status;
    }
  }
  return Status::Ok();
}

Status ReleaseLeases(Connection& c, int64_t now_ms) {
  return Exec(c, kReleaseLeases, {Int(now_ms)}, nullptr);
}

Status NextDeliveryDue(Connection& c, std::optional<int64_t>* at_ms) {
  Result r;
  Status status = Exec(c, kNextDeliveryDue, {}, &r);
  if (!status.ok()) return status;
  *at_ms = r.rows() > 0 ? OptionalInt64(r, 0, 0) : std::nullopt;
  return Status::Ok();
}

Status CountDeliveryQueue(Connection& c, int64_t now_ms,
                          DeliveryQueueStats* out) {
  Result r;
  Status status = Exec(c, kCountDeliveryQueue, {Int(now_ms)}, &r);
  if (!status.ok()) return status;
  if (r.rows() == 0) return Status::Internal("count delivery queue: no row");
  DeliveryQueueStats stats;
  stats.due = Int64(r, 0, 0);
  stats.waiting = Int64(r, 0, 1);
  stats.oldest_due_at_ms = OptionalInt64(r, 0, 2).value_or(0);
  *out = stats;
  return Status::Ok();
}

Status PruneFinishedDeliveries(Connection& c, int64_t cutoff_ms, int64_t budget,
                               int64_t* deleted) {
  if (budget <= 0) {
    *deleted = 0;
    return Status::Ok();
  }
  std::vector<std::string> ids;
  {
    Result r;
    // Each delivery is at least one row: never more candidates than that.
    Status status =
        Exec(c, kSelectFinishedDeliveries, {Int(cutoff_ms), Int(budget)}, &r);
    if (!status.ok()) return status;
    // A delivery goes with all its attempts or not at all: the first one
    // whose rows would pass the budget is left for the next slice, unless
    // it is the first (one with more attempts than the budget must still
    // go).
    int64_t rows = 0;
    for (int row = 0; row < r.rows(); ++row) {
      const int64_t cost = Int64(r, row, 1) + 1;
      if (rows > 0 && rows + cost > budget) break;
      rows += cost;
      ids.push_back(String(r, row, 0));
    }
  }
  if (ids.empty()) {
    *deleted = 0;
    return Status::Ok();
  }
  const std::vector<Param> params = {TextArray(ids)};
  Result attempts;
  Status status = Exec(c, kDeleteDeliveryAttempts, params, &attempts);
  if (!status.ok()) return status;
  Result deliveries;
  status = Exec(c, kDeleteDeliveries, params, &deliveries);
  if (!status.ok()) return status;
  *deleted = attempts.affected_rows() + deliveries.affected_rows();
  return Status::Ok();
}

}  // namespace webhooks::postgres_internal
