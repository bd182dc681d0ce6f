// SecretsAtRest on PostgreSQL (see postgres_secrets.h): the key check's
// record and the adoption of a key, as store/sqlite_secrets.cpp does them.

#include "store/postgres_secrets.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace webhooks::postgres_internal {
namespace {

// The key check's row, context and text: kSecretsKeyCheck* (secret_box.h).
constexpr const char* kKeyCheckSetting = kSecretsKeyCheckSetting;
constexpr std::string_view kKeyCheckContext = kSecretsKeyCheckContext;
constexpr std::string_view kKeyCheckText = kSecretsKeyCheckText;

// SecretBox::Open's "this value cannot be opened with this key", as
// opposed to a failure of OpenSSL itself.
bool CannotOpen(const Status& opened) {
  return opened.code() == Status::Code::kInvalidArgument;
}

}  // namespace

SecretsAtRest::SecretsAtRest(std::string database, std::string key)
    : database_(std::move(database)), box_(std::move(key)) {}

Status SecretsAtRest::Seal(std::string_view context, std::string_view plain,
                           std::string* sealed) const {
  Status status = box_.Seal(context, plain, sealed);
  if (!status.ok()) return Status::Internal("seal: " + status.message());
  return status;
}

Status SecretsAtRest::AppendSetupField(std::string name,
                                       std::string_view stored,
                                       WebhookEndpoint* endpoint) const {
  SetupField field;
  field.name = std::move(name);
  Status opened = box_.Open(SetupFieldContext(endpoint->id, field.name), stored,
                            &field.value);
  if (CannotOpen(opened)) {
    return Status::Internal(
        "setup field '" + field.name + "' of " + endpoint->id +
        " cannot be decrypted (missing or different secrets key)");
  }
  if (!opened.ok()) return Status::Internal(opened.message());
  endpoint->setup_fields.push_back(std::move(field));
  return Status::Ok();
}

Status SecretsAtRest::QuickCheck(Connection& c, bool* decided) const {
  std::optional<std::string> recorded;
  Status status = SelectKeyCheck(c, &recorded);
  if (!status.ok()) return status;
  *decided = recorded && !NeedsAdoption(*recorded);
  return *decided ? JudgeKeyCheck(*recorded) : Status::Ok();
}

Status SecretsAtRest::CheckAndAdopt(Connection& c) const {
  Result result;
  Status status =
      c.Exec("secrets_lock", "SELECT pg_advisory_xact_lock($1::bigint)",
             {Text(std::to_string(kSecretsLockKey))}, &result);
  if (!status.ok()) return status;
  // Read under the lock: another instance may have recorded a key since.
  std::optional<std::string> recorded;
  status = SelectKeyCheck(c, &recorded);
  if (!status.ok()) return status;
  if (recorded && !NeedsAdoption(*recorded)) return JudgeKeyCheck(*recorded);
  if (!recorded) {
    status = JudgeFirstSealedValue(c);
    if (!status.ok()) return status;
  }
  if (box_.enabled()) {
    status = SealClearValues(c);
    if (!status.ok()) return status;
  }
  return RecordKeyCheck(c);
}

Status SecretsAtRest::SelectKeyCheck(
    Connection& c, std::optional<std::string>* recorded) const {
  Result result;
  Status status = c.Exec("select_setting",
                         "SELECT value FROM store_settings WHERE name = $1",
                         {Text(kKeyCheckSetting)}, &result);
  if (!status.ok()) return status;
  if (result.rows() > 0) {
    *recorded = std::string(result.Text(0, 0));
  } else {
    recorded->reset();
  }
  return Status::Ok();
}

bool SecretsAtRest::NeedsAdoption(const std::string& recorded) const {
  return recorded.empty() && box_.enabled();
}

Status SecretsAtRest::JudgeKeyCheck(const std::string& recorded) const {
  if (recorded.empty()) return Status::Ok();
  if (!box_.enabled()) return NoKey();
  std::string plain;
  Status opened = box_.Open(kKeyCheckContext, recorded, &plain);
  if (CannotOpen(opened) || (opened.ok() && plain != kKeyCheckText)) {
    return WrongKey();
  }
  return opened.ok() ? opened : Status::Internal(opened.message());
}

Status SecretsAtRest::JudgeFirstSealedValue(Connection& c) const {
  const std::string prefix = SecretBox::SealedPrefix();
  Result result;
  Status status =
      c.Exec("select_sealed_field",
             "SELECT endpoint_id, name, value FROM endpoint_setup_fields WHERE "
             "starts_with(value, $1) LIMIT 1",
             {Text(prefix)}, &result);
  if (!status.ok()) return status;
  std::string context, sealed;
  if (result.rows() > 0) {
    context = SetupFieldContext(result.Text(0, 0), result.Text(0, 1));
    sealed = std::string(result.Text(0, 2));
  } else {
    status = c.Exec("select_sealed_subscription_secret",
                    "SELECT id, secret FROM webhook_subscriptions WHERE "
                    "starts_with(secret, $1) LIMIT 1",
                    {Text(prefix)}, &result);
    if (!status.ok()) return status;
    if (result.rows() == 0) return Status::Ok();  // nothing sealed
    context = SubscriptionSecretContext(result.Text(0, 0));
    sealed = std::string(result.Text(0, 1));
  }
  if (!box_.enabled()) return NoKey();
  std::string plain;
  Status opened = box_.Open(context, sealed, &plain);
  if (CannotOpen(opened)) return WrongKey();
  return opened.ok() ? opened : Status::Internal(opened.message());
}

Status SecretsAtRest::SealClearValues(Connection& c) const {
  const std::string prefix = SecretBox::SealedPrefix();
  Result result;
  Status status = c.Exec(
      "select_clear_fields",
      "SELECT endpoint_id, name, value FROM endpoint_setup_fields WHERE NOT "
      "starts_with(value, $1) FOR UPDATE",
      {Text(prefix)}, &result);
  if (!status.ok()) return status;
  for (int row = 0; row < result.rows(); ++row) {
    std::string sealed;
    status = Seal(SetupFieldContext(result.Text(row, 0), result.Text(row, 1)),
                  result.Text(row, 2), &sealed);
    if (!status.ok()) return status;
    status = c.Exec("update_setup_field_value",
                    "UPDATE endpoint_setup_fields SET value = $3 WHERE "
                    "endpoint_id = $1 AND name = $2",
                    {Text(std::string(result.Text(row, 0))),
                     Text(std::string(result.Text(row, 1))), Text(sealed)},
                    nullptr);
    if (!status.ok()) return status;
  }
  status = c.Exec("select_clear_subscription_secrets",
                  "SELECT id, secret FROM webhook_subscriptions WHERE NOT "
                  "starts_with(secret, $1) FOR UPDATE",
                  {Text(prefix)}, &result);
  if (!status.ok()) return status;
  for (int row = 0; row < result.rows(); ++row) {
    std::string sealed;
    status = Seal(SubscriptionSecretContext(result.Text(row, 0)),
                  result.Text(row, 1), &sealed);
    if (!status.ok()) return status;
    status =
        c.Exec("seal_subscription_secret",
               "UPDATE webhook_subscriptions SET secret = $2 WHERE id = $1",
               {Text(std::string(result.Text(row, 0))), Text(sealed)}, nullptr);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status SecretsAtRest::RecordKeyCheck(Connection& c) const {
  std::string value;
  if (box_.enabled()) {
    Status status = Seal(kKeyCheckContext, kKeyCheckText, &value);
    if (!status.ok()) return status;
  }
  return c.Exec("upsert_setting",
                "INSERT INTO store_settings (name, value) VALUES ($1, $2) ON "
                "CONFLICT (name) DO UPDATE SET value = excluded.value",
                {Text(kKeyCheckSetting), Text(value)}, nullptr);
}

Status SecretsAtRest::WrongKey() const {
  return Status::InvalidArgument(
      "the secrets key does not decrypt the setup values stored in '" +
      database_ + "'");
}

Status SecretsAtRest::NoKey() const {
  return Status::InvalidArgument("the setup values stored in '" + database_ +
                                 "' are encrypted, and no secrets key was "
                                 "given");
}

}  // namespace webhooks::postgres_internal
