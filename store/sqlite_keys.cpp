#include "store/sqlite_keys.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <utility>

#include "store/sqlite_statements.h"
#include "util/crypto.h"

namespace webhooks {
namespace sqlite_internal {

Status AddKeyToNamedProject(Connection& c, const NewApiKey& key,
                            ProjectChoice choice, std::string* project) {
  std::vector<std::string> matches;
  bool id_match = false;
  {
    Use select(c, Sql::kSelectProjectByName);
    select->bind(":name", key.project_name);
    while (select->executeStep()) {
      if (matches.empty()) id_match = select->getColumn(1).getInt() != 0;
      matches.push_back(select->getColumn(0).getString());
    }
  }
  std::string chosen;
  if (Status status =
          ChooseProject(choice, key.project_name, matches, id_match, &chosen);
      !status.ok()) {
    return status;
  }
  if (chosen.empty()) {
    chosen = key.project_id;
    InsertProject(c, chosen, key.project_name, key.created_at_ms);
  }
  InsertKey(c, key, chosen);
  *project = chosen;
  return Status::Ok();
}

std::vector<ApiKeyInfo> SelectKeys(Connection& c) {
  std::vector<ApiKeyInfo> keys;
  Use select(c, Sql::kListKeys);
  while (select->executeStep()) {
    ApiKeyInfo info;
    info.key_id = select->getColumn(0).getString();
    info.project_id = select->getColumn(1).getString();
    info.project_name = select->getColumn(2).getString();
    info.origin = OriginFromName(select->getColumn(3).getString());
    info.created_at_ms = select->getColumn(4).getInt64();
    if (!select->isColumnNull(5)) {
      info.revoked_at_ms = select->getColumn(5).getInt64();
    }
    keys.push_back(std::move(info));
  }
  return keys;
}

Status RevokeKeyRow(Connection& c, std::string_view key_id, int64_t at_ms) {
  Use update(c, Sql::kRevokeKey);
  update->bind(":id", std::string(key_id));
  update->bind(":at", at_ms);
  if (update->exec() == 0)
    return Status::NotFound("no active key with that id");
  return Status::Ok();
}

bool AnyAdminKey(Connection& c) {
  Use select(c, Sql::kAnyAdminKey);
  select->executeStep();
  return select->getColumn(0).getInt() != 0;
}

Status SelectKeyByDigest(Connection& c, std::string_view key_digest,
                         ApiKeyRecord* out) {
  Use select(c, Sql::kSelectKey);
  select->bind(":key_digest", key_digest.data(),
               static_cast<int>(key_digest.size()));
  if (!select->executeStep()) return Status::NotFound("unknown or revoked key");
  // The index lookup found an equal digest; compare again in constant time
  // so that the contract holds whatever the index does.
  SQLite::Column stored = select->getColumn(3);
  if (!ConstantTimeEquals(
          std::string_view(static_cast<const char*>(stored.getBlob()),
                           static_cast<size_t>(stored.getBytes())),
          key_digest)) {
    return Status::NotFound("unknown or revoked key");
  }
  out->key_id = select->getColumn(0).getString();
  out->project_id = select->getColumn(1).getString();
  out->origin = OriginFromName(select->getColumn(2).getString());
  out->revoked = select->getColumn(4).getInt() != 0;
  return Status::Ok();
}

std::string RegisterKeyRow(Connection& c, const NewApiKey& key) {
  {
    Use select(c, Sql::kSelectAnyKey);
    select->bind(":key_digest", key.key_digest.data(),
                 static_cast<int>(key.key_digest.size()));
    if (select->executeStep()) {
      return select->getColumn(0).getString();  // known: nothing to write
    }
  }
  InsertProject(c, key.project_id, key.project_name, key.created_at_ms);
  InsertKey(c, key, key.project_id);
  return key.project_id;
}

}  // namespace sqlite_internal
}  // namespace webhooks
