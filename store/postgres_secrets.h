// SecretsAtRest for the PostgreSQL backend: setup values and subscription
// secrets sealed with a SecretBox, and the secrets key check (the
// store_settings record of how values are stored, judged against the key
// given, and the adoption of a key by a database whose values are in
// clear). The same policy, record and messages as the SQLite backend's
// (store/sqlite_secrets.h), so that a database moved between them keeps
// its meaning; what differs is that failures are values, as everywhere on
// libpq. Internal to store/: only the backend's own files include it.

#ifndef WEBHOOKS_STORE_POSTGRES_SECRETS_H_
#define WEBHOOKS_STORE_POSTGRES_SECRETS_H_

#include <optional>
#include <string>
#include <string_view>

#include "store/postgres_connection.h"
#include "store/secret_box.h"
#include "store/store.h"
#include "util/status.h"

namespace webhooks::postgres_internal {

// pg_advisory_xact_lock's key for the secrets key check: "wsec" in ASCII.
// Two instances starting together queue on it, so only one adopts a key.
constexpr int64_t kSecretsLockKey = 0x77736563;

// Immutable after construction; thread-safe (the connections it is handed
// are the caller's). Methods that take a Connection run inside the caller's
// transaction; on failure the caller rolls back.
class SecretsAtRest {
 public:
  // `database` names the database in messages (a redacted URI); `key` as
  // SecretBox takes it.
  SecretsAtRest(std::string database, std::string key);

  const SecretBox& box() const { return box_; }

  // Sets *sealed to `plain` sealed under `context` (in clear without a
  // key). Internal if sealing fails.
  Status Seal(std::string_view context, std::string_view plain,
              std::string* sealed) const;

  // Opens a stored value (sealed or clear) and appends it to the endpoint's
  // setup fields. Internal, never a garbage value, if it cannot be opened
  // with our key.
  Status AppendSetupField(std::string name, std::string_view stored,
                          WebhookEndpoint* endpoint) const;

  // Store::CheckSecretsKey, with no lock and no write: Ok with *decided
  // false when the record is missing or the key must be adopted (then run
  // CheckAndAdopt); otherwise the verdict, with *decided true.
  Status QuickCheck(Connection& c, bool* decided) const;

  // Store::CheckSecretsKey in the caller's transaction: takes
  // kSecretsLockKey, reads the record (or, for a database from before it,
  // the first sealed value), judges it, and, with a key where values are in
  // clear, seals them and records the key.
  Status CheckAndAdopt(Connection& c) const;

 private:
  Status SelectKeyCheck(Connection& c,
                        std::optional<std::string>* recorded) const;
  bool NeedsAdoption(const std::string& recorded) const;
  Status JudgeKeyCheck(const std::string& recorded) const;
  Status JudgeFirstSealedValue(Connection& c) const;
  Status SealClearValues(Connection& c) const;
  Status RecordKeyCheck(Connection& c) const;
  Status WrongKey() const;
  Status NoKey() const;

  const std::string database_;
  const SecretBox box_;
};

}  // namespace webhooks::postgres_internal

#endif  // WEBHOOKS_STORE_POSTGRES_SECRETS_H_
