// SecretsAtRest (see sqlite_secrets.h): the key check's record, and
// SecretBox's failures turned into the exceptions a transaction rolls back
// on.

#include "store/sqlite_secrets.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/sqlite_statements.h"

namespace webhooks {
namespace sqlite_internal {
namespace {

// The key check's row, context and text: kSecretsKeyCheck* (secret_box.h).
constexpr const char* kKeyCheckSetting = kSecretsKeyCheckSetting;
constexpr std::string_view kKeyCheckContext = kSecretsKeyCheckContext;
constexpr std::string_view kKeyCheckText = kSecretsKeyCheckText;

// SecretBox's failures are values. Inside a transaction they become the
// SQLite::Exception every other failure is, so that StatusFromSqlite makes
// them Internal and the transaction rolls back, as for any other failure.
void ThrowIfFailed(const Status& status) {
  if (!status.ok()) throw SQLite::Exception(status.message(), SQLITE_ERROR);
}

// SecretBox::Open's "this value cannot be opened with this key", as
// opposed to a failure of OpenSSL itself.
bool CannotOpen(const Status& opened) {
  return opened.code() == Status::Code::kInvalidArgument;
}

}  // namespace

SecretsAtRest::SecretsAtRest(std::string path, std::string key)
    : path_(std::move(path)), box_(std::move(key)) {}

std::string SecretsAtRest::Seal(std::string_view context,
                                std::string_view plain) const {
  std::string sealed;
  ThrowIfFailed(box_.Seal(context, plain, &sealed));
  return sealed;
}

void SecretsAtRest::AppendSetupField(std::string name,
                                     const std::string& stored,
                                     WebhookEndpoint* endpoint) const {
  SetupField field;
  field.name = std::move(name);
  Status opened = box_.Open(SetupFieldContext(endpoint->id, field.name), stored,
                            &field.value);
  if (CannotOpen(opened)) {
    // Converted to Internal by StatusFromSqlite: never a garbage value.
    throw SQLite::Exception(
        "setup field '" + field.name + "' of " + endpoint->id +
            " cannot be decrypted (missing or different secrets key)",
        SQLITE_ERROR);
  }
  ThrowIfFailed(opened);
  endpoint->setup_fields.push_back(std::move(field));
}

std::string SecretsAtRest::OpenSubscriptionSecret(
    const std::string& id, const std::string& stored) const {
  std::string secret;
  Status opened = box_.Open(SubscriptionSecretContext(id), stored, &secret);
  if (CannotOpen(opened)) {
    // Converted to Internal by StatusFromSqlite: never a garbage secret.
    throw SQLite::Exception("the secret of subscription " + id +
                                " cannot be decrypted (missing or different "
                                "secrets key)",
                            SQLITE_ERROR);
  }
  ThrowIfFailed(opened);
  return secret;
}

std::optional<std::string> SecretsAtRest::SelectKeyCheck(Connection& c) {
  Use select(c, Sql::kSelectSetting);
  select->bind(":name", kKeyCheckSetting);
  if (!select->executeStep()) return std::nullopt;
  return select->getColumn(0).getString();
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
  return opened;
}

Status SecretsAtRest::JudgeFirstSealedValue(Connection& c) const {
  std::string context, sealed;
  {
    Use select(c, Sql::kSelectSealedField);
    select->bind(":prefix", SecretBox::SealedPrefix());
    if (select->executeStep()) {
      context = SetupFieldContext(select->getColumn(0).getString(),
                                  select->getColumn(1).getString());
      sealed = select->getColumn(2).getString();
    }
  }
  if (sealed.empty()) {
    Use select(c, Sql::kSelectSealedSubscriptionSecret);
    select->bind(":prefix", SecretBox::SealedPrefix());
    if (!select->executeStep()) return Status::Ok();
    context = SubscriptionSecretContext(select->getColumn(0).getString());
    sealed = select->getColumn(1).getString();
  }
  if (!box_.enabled()) return NoKey();
  std::string plain;
  Status opened = box_.Open(context, sealed, &plain);
  return CannotOpen(opened) ? WrongKey() : opened;
}

void SecretsAtRest::SealClearValues(Connection& c) const {
  struct Clear {
    std::string endpoint_id, name, value;
  };
  std::vector<Clear> clear;
  {
    Use select(c, Sql::kSelectClearFields);
    select->bind(":prefix", SecretBox::SealedPrefix());
    while (select->executeStep()) {
      clear.push_back({select->getColumn(0).getString(),
                       select->getColumn(1).getString(),
                       select->getColumn(2).getString()});
    }
  }
  for (const Clear& field : clear) {
    Use update(c, Sql::kUpdateSetupFieldValue);
    update->bind(":endpoint_id", field.endpoint_id);
    update->bind(":name", field.name);
    update->bind(
        ":value",
        Seal(SetupFieldContext(field.endpoint_id, field.name), field.value));
    update->exec();
  }
  struct ClearSecret {
    std::string id, secret;
  };
  std::vector<ClearSecret> secrets;
  {
    Use select(c, Sql::kSelectClearSubscriptionSecrets);
    select->bind(":prefix", SecretBox::SealedPrefix());
    while (select->executeStep()) {
      secrets.push_back(
          {select->getColumn(0).getString(), select->getColumn(1).getString()});
    }
  }
  for (const ClearSecret& clear_secret : secrets) {
    Use update(c, Sql::kSealSubscriptionSecret);
    update->bind(":id", clear_secret.id);
    update->bind(":secret", Seal(SubscriptionSecretContext(clear_secret.id),
                                 clear_secret.secret));
    update->exec();
  }
}

void SecretsAtRest::RecordKeyCheck(Connection& c) const {
  Use upsert(c, Sql::kUpsertSetting);
  upsert->bind(":name", kKeyCheckSetting);
  upsert->bind(":value", box_.enabled() ? Seal(kKeyCheckContext, kKeyCheckText)
                                        : std::string());
  upsert->exec();
}

Status SecretsAtRest::WrongKey() const {
  return Status::InvalidArgument(
      "the secrets key does not decrypt the setup values stored in '" + path_ +
      "'");
}

Status SecretsAtRest::NoKey() const {
  return Status::InvalidArgument("the setup values stored in '" + path_ +
                                 "' are encrypted, and no secrets key was "
                                 "given");
}

}  // namespace sqlite_internal
}  // namespace webhooks
