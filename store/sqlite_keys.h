// The SQLite backend's API keys and projects: each step of the Store's key
// methods as a function that runs on a Connection inside the caller's
// transaction (SqliteStore's methods are thin wrappers that choose the
// connection and the transaction), like store/sqlite_subscriptions.h.
// Internal to store/: only the backend's own files include it. Keys are
// stored as SHA-256 digests only.
//
// Every function throws SQLite::Exception when a statement fails.

#ifndef WEBHOOKS_STORE_SQLITE_KEYS_H_
#define WEBHOOKS_STORE_SQLITE_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_connections.h"
#include "store/store.h"

namespace webhooks {
namespace sqlite_internal {

// Store::AddKeyToProject's write: sets *project to the key's project (the
// one key.project_name names, or a new one with key.project_id, as
// ChooseProject decides).
Status AddKeyToNamedProject(Connection& c, const NewApiKey& key,
                            ProjectChoice choice, std::string* project);

// Every key, oldest first.
std::vector<ApiKeyInfo> SelectKeys(Connection& c);

// NotFound if there is no active key `key_id`.
Status RevokeKeyRow(Connection& c, std::string_view key_id, int64_t at_ms);

// Whether any admin key was ever created.
bool AnyAdminKey(Connection& c);

// The key whose digest is `key_digest`, compared in constant time; NotFound
// if none.
Status SelectKeyByDigest(Connection& c, std::string_view key_digest,
                         ApiKeyRecord* out);

// Store::RegisterKey's write: the project of the known digest, or a new
// project with the key. Returns the key's project.
std::string RegisterKeyRow(Connection& c, const NewApiKey& key);

}  // namespace sqlite_internal
}  // namespace webhooks

#endif  // WEBHOOKS_STORE_SQLITE_KEYS_H_
