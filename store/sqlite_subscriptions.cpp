// Webhook subscriptions on SQLite (see sqlite_subscriptions.h): the row
// reader, the enabled_events encoding, and one function per step.

#include "store/sqlite_subscriptions.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/secret_box.h"
#include "store/sqlite_statements.h"
#include "util/json_writer.h"

namespace webhooks {
namespace sqlite_internal {
namespace {

// Reads the subscription columns of the current row of `row` (their order
// is in SqlText) into *out, opening the secret.
void ReadSubscriptionRow(SQLite::Statement& row, const SecretsAtRest& secrets,
                         WebhookSubscription* out) {
  out->id = row.getColumn(0).getString();
  out->project_id = row.getColumn(1).getString();
  out->webhook_url = row.getColumn(2).getString();
  out->version = row.getColumn(3).getString();
  out->enabled_events = DecodeEventList(row.getColumn(4).getString());
  out->secret =
      secrets.OpenSubscriptionSecret(out->id, row.getColumn(5).getString());
  out->enabled = row.getColumn(6).getInt() != 0;
  out->created_at_ms = row.getColumn(7).getInt64();
  out->updated_at_ms = row.getColumn(8).getInt64();
}

// Reads the one row of an UPDATE ... RETURNING, if any, and steps the
// statement to its end so that it is finished before COMMIT.
bool ReadReturnedRow(SQLite::Statement& statement, const SecretsAtRest& secrets,
                     WebhookSubscription* out) {
  if (!statement.executeStep()) return false;
  ReadSubscriptionRow(statement, secrets, out);
  while (statement.executeStep()) {
  }
  return true;
}

}  // namespace

std::string EncodeEventList(const std::vector<std::string>& events) {
  JsonWriter json;
  json.BeginArray();
  for (const std::string& event : events) json.Value(event);
  json.EndArray();
  return json.Take();
}

std::vector<std::string> DecodeEventList(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::array array;
  std::vector<std::string> events;
  if (parser.parse(padded).get_array().get(array) != simdjson::SUCCESS) {
    throw SQLite::Exception(
        "webhook_subscriptions.enabled_events is not a "
        "JSON array",
        SQLITE_CORRUPT);
  }
  for (simdjson::dom::element element : array) {
    std::string_view event;
    if (element.get_string().get(event) != simdjson::SUCCESS) {
      throw SQLite::Exception(
          "webhook_subscriptions.enabled_events holds a "
          "value that is not a string",
          SQLITE_CORRUPT);
    }
    events.emplace_back(event);
  }
  return events;
}

bool InsertSubscription(Connection& c, const SecretsAtRest& secrets,
                        const WebhookSubscription& subscription,
                        WebhookSubscription* out) {
  {
    Use insert(c, Sql::kInsertSubscription);
    insert->bind(":id", subscription.id);
    insert->bind(":project_id", subscription.project_id);
    insert->bind(":webhook_url", subscription.webhook_url);
    insert->bind(":version", subscription.version);
    insert->bind(":enabled_events",
                 EncodeEventList(subscription.enabled_events));
    insert->bind(":secret",
                 secrets.Seal(SubscriptionSecretContext(subscription.id),
                              subscription.secret));
    insert->bind(":enabled", subscription.enabled ? 1 : 0);
    insert->bind(":created_at", subscription.created_at_ms);
    insert->bind(":updated_at", subscription.updated_at_ms);
    // DO NOTHING changes no row when the project has a subscription; the
    // UNIQUE constraint decides, so concurrent creates (from any process)
    // store exactly one.
    if (insert->exec() > 0) {
      *out = subscription;
      return true;
    }
  }
  std::vector<WebhookSubscription> existing =
      SelectProjectSubscriptions(c, secrets, subscription.project_id);
  if (existing.empty()) {
    throw SQLite::Exception(
        "create subscription: conflict without an "
        "existing row",
        SQLITE_INTERNAL);
  }
  *out = std::move(existing.front());
  return false;
}

bool SelectSubscription(Connection& c, const SecretsAtRest& secrets,
                        std::string_view project_id, std::string_view id,
                        WebhookSubscription* out) {
  Use select(c, Sql::kSelectSubscriptionById);
  select->bind(":id", std::string(id));
  select->bind(":project_id", std::string(project_id));
  if (!select->executeStep()) return false;
  ReadSubscriptionRow(*select, secrets, out);
  return true;
}

std::vector<WebhookSubscription> SelectProjectSubscriptions(
    Connection& c, const SecretsAtRest& secrets, std::string_view project_id) {
  Use select(c, Sql::kSelectSubscriptionByProject);
  select->bind(":project_id", std::string(project_id));
  std::vector<WebhookSubscription> subscriptions;
  while (select->executeStep()) {
    ReadSubscriptionRow(*select, secrets, &subscriptions.emplace_back());
  }
  return subscriptions;
}

bool UpdateSubscription(Connection& c, const SecretsAtRest& secrets,
                        std::string_view project_id, std::string_view id,
                        const SubscriptionChanges& changes,
                        WebhookSubscription* out) {
  Use update(c, Sql::kUpdateSubscription);
  update->bind(":id", std::string(id));
  update->bind(":project_id", std::string(project_id));
  // Left unbound (NULL), a field keeps its stored value.
  if (changes.webhook_url) update->bind(":webhook_url", *changes.webhook_url);
  if (changes.version) update->bind(":version", *changes.version);
  if (changes.enabled_events) {
    update->bind(":enabled_events", EncodeEventList(*changes.enabled_events));
  }
  update->bind(":updated_at", changes.updated_at_ms);
  return ReadReturnedRow(*update, secrets, out);
}

bool RotateSubscriptionSecret(Connection& c, const SecretsAtRest& secrets,
                              std::string_view project_id, std::string_view id,
                              const std::string& secret, int64_t now_ms,
                              WebhookSubscription* out) {
  Use update(c, Sql::kRotateSubscriptionSecret);
  update->bind(":id", std::string(id));
  update->bind(":project_id", std::string(project_id));
  // Sealed under the id asked for: if it is not the project's, no row
  // changes and the sealed text is dropped.
  update->bind(":secret", secrets.Seal(SubscriptionSecretContext(id), secret));
  update->bind(":updated_at", now_ms);
  return ReadReturnedRow(*update, secrets, out);
}

bool DeleteSubscription(Connection& c, std::string_view project_id,
                        std::string_view id, int64_t now_ms) {
  {
    Use remove(c, Sql::kDeleteSubscription);
    remove->bind(":id", std::string(id));
    remove->bind(":project_id", std::string(project_id));
    if (remove->exec() == 0) return false;
  }
  // In the same transaction: no worker can claim one of them after the
  // subscription is gone. One in flight is left to finish (store.h).
  Use cancel(c, Sql::kCancelSubscriptionDeliveries);
  cancel->bind(":id", std::string(id));
  cancel->bind(":now", now_ms);
  cancel->exec();
  return true;
}

}  // namespace sqlite_internal
}  // namespace webhooks
