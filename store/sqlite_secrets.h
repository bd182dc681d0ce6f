// SecretsAtRest: how the SQLite backend keeps setup values (and
// subscription secrets) encrypted at rest
// with a SecretBox: a value sealed for a statement, a value opened from a
// row, and the steps of the secrets key check (the store_settings record of
// how values are stored, judged against the key given, and the adoption of
// a key by a database whose values are in clear). Internal to store/: only
// the backend's own files include it. Apart from sqlite_store.cpp because
// it is one policy, the key's, which the store's methods apply without its
// details; SqliteStore::CheckSecretsKey runs the check's steps on its
// connections.

#ifndef WEBHOOKS_STORE_SQLITE_SECRETS_H_
#define WEBHOOKS_STORE_SQLITE_SECRETS_H_

#include <optional>
#include <string>
#include <string_view>

#include "store/secret_box.h"
#include "store/sqlite_connections.h"
#include "store/store.h"
#include "util/status.h"

namespace webhooks {
namespace sqlite_internal {

// Immutable after construction; thread-safe (the connections it is handed
// are the caller's). Every method that takes a Connection runs inside the
// caller's transaction and throws SQLite::Exception when a statement fails.
class SecretsAtRest {
 public:
  // `path` names the database in messages; `key` as SecretBox takes it.
  SecretsAtRest(std::string path, std::string key);

  // Whether a key was given.
  bool enabled() const { return box_.enabled(); }

  // `plain` sealed for a statement. Throws if sealing fails.
  std::string Seal(std::string_view context, std::string_view plain) const;

  // Opens a stored value (sealed or clear) and adds it to the endpoint.
  // Throws SQLite::Exception if the value cannot be opened with our key.
  void AppendSetupField(std::string name, const std::string& stored,
                        WebhookEndpoint* endpoint) const;

  // Opens the stored secret (sealed or clear) of subscription `id`. Throws
  // SQLite::Exception if it cannot be opened with our key.
  std::string OpenSubscriptionSecret(const std::string& id,
                                     const std::string& stored) const;

  // The steps of the key check (Store::CheckSecretsKey).

  // The recorded key check; unset if none was recorded yet.
  static std::optional<std::string> SelectKeyCheck(Connection& c);

  // Values recorded in clear, and a key given now.
  bool NeedsAdoption(const std::string& recorded) const;

  // Compares the record with the key we hold (adoption aside).
  Status JudgeKeyCheck(const std::string& recorded) const;

  // A database sealed before the record existed: one of its sealed values
  // (a setup value, else a subscription secret) stands in for the record
  // (all were sealed with the same key).
  Status JudgeFirstSealedValue(Connection& c) const;

  // Seals every value stored in clear (from before the key was given):
  // setup values and subscription secrets.
  void SealClearValues(Connection& c) const;

  // Records how values are stored from now on: sealed with our key, or in
  // clear without one.
  void RecordKeyCheck(Connection& c) const;

 private:
  Status WrongKey() const;
  Status NoKey() const;

  const std::string path_;
  const SecretBox box_;
};

}  // namespace sqlite_internal
}  // namespace webhooks

#endif  // WEBHOOKS_STORE_SQLITE_SECRETS_H_
