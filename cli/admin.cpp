#include "cli/admin.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "store/sqlite_store.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

constexpr char kAdminUsage[] =
    "usage: webhooks-server keys create --project NAME [--db PATH]\n"
    "       webhooks-server keys list [--db PATH]\n"
    "       webhooks-server keys revoke KEY_ID [--db PATH]\n"
    "       webhooks-server backup --to FILE [--db PATH]\n"
    "       webhooks-server check [--db PATH]\n"
    "--db defaults to WEBHOOKS_DB, else data/webhooks.db.\n";

// Splits "--name value" pairs and positional words; false on a dangling
// flag.
bool SplitArgs(int argc, char** argv, int first,
               std::vector<std::pair<std::string, std::string>>* flags,
               std::vector<std::string>* words) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      words->push_back(arg);
      continue;
    }
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      flags->emplace_back(arg.substr(2, eq - 2), arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      flags->emplace_back(arg.substr(2), argv[++i]);
    } else {
      return false;
    }
  }
  return true;
}

std::string FlagValue(
    const std::vector<std::pair<std::string, std::string>>& flags,
    std::string_view name, std::string fallback) {
  for (const auto& [flag, value] : flags) {
    if (flag == name) return value;
  }
  return fallback;
}

int AdminUsageError(const std::string& problem) {
  std::fprintf(stderr, "webhooks-server: %s\n%s", problem.c_str(), kAdminUsage);
  return 2;
}

}  // namespace

bool EnsureParentFolder(const std::string& db_path, std::string* error) {
  if (db_path == ":memory:") return true;
  size_t slash = db_path.rfind('/');
  if (slash == std::string::npos || slash == 0) return true;
  std::string folder = db_path.substr(0, slash);
  if (::mkdir(folder.c_str(), 0700) == 0 || errno == EEXIST) return true;
  *error = "cannot create folder '" + folder + "': " + std::strerror(errno);
  return false;
}

int RunAdminCommand(int argc, char** argv) {
  const std::string command = argv[1];
  std::vector<std::pair<std::string, std::string>> flags;
  std::vector<std::string> words;
  if (!SplitArgs(argc, argv, 2, &flags, &words)) {
    return AdminUsageError("an option needs a value");
  }
  const char* env_db = std::getenv("WEBHOOKS_DB");
  const std::string db =
      FlagValue(flags, "db", env_db ? env_db : "data/webhooks.db");
  for (const auto& [flag, value] : flags) {
    if (flag != "db" && flag != "project" && flag != "to") {
      return AdminUsageError("unknown option --" + flag);
    }
  }
  if (command == "check") {
    std::vector<std::string> problems;
    Status status = CheckSqliteDatabase(db, &problems);
    if (!status.ok()) {
      std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
      return 1;
    }
    for (const std::string& problem : problems) {
      std::fprintf(stderr, "%s\n", problem.c_str());
    }
    std::printf("%s: %s\n", db.c_str(), problems.empty() ? "ok" : "damaged");
    return problems.empty() ? 0 : 1;
  }
  if (command == "backup") {
    const std::string to = FlagValue(flags, "to", "");
    if (to.empty()) return AdminUsageError("backup needs --to FILE");
    Status status = BackupSqliteDatabase(db, to);
    if (!status.ok()) {
      std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
      return 1;
    }
    std::printf("backed up %s to %s\n", db.c_str(), to.c_str());
    return 0;
  }
  // keys: on the store, so the schema exists even on a new database.
  const std::string action = words.empty() ? "" : words[0];
  if (action != "create" && action != "list" && action != "revoke") {
    return AdminUsageError("keys needs create, list or revoke");
  }
  std::string error;
  if (!EnsureParentFolder(db, &error)) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 1;
  }
  std::unique_ptr<Store> store;
  if (Status status = OpenSqliteStore(db, &store); !status.ok()) {
    std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
    return 1;
  }
  if (action == "create") {
    const std::string project = FlagValue(flags, "project", "");
    if (project.empty() || !IsCleanText(project) || project.size() > 128) {
      return AdminUsageError(
          "keys create needs --project NAME (1-128 "
          "characters)");
    }
    // 32 random characters of 64 symbols: 192 bits.
    const std::string key = "whk_" + RandomToken(32);
    NewApiKey new_key;
    new_key.key_digest = Sha256(key);
    new_key.origin = KeyOrigin::kAdmin;
    new_key.key_id = "key_" + RandomToken(12);
    new_key.project_id = "proj_" + RandomToken(12);
    new_key.project_name = project;
    new_key.created_at_ms = NowMillis();
    std::string project_id;
    if (Status status = store->AddKeyToProject(new_key, &project_id);
        !status.ok()) {
      std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
      return 1;
    }
    // The key on stdout alone, for scripts; it is shown only this once.
    std::fprintf(stderr,
                 "created %s for project %s (%s); the key is shown once:\n",
                 new_key.key_id.c_str(), project.c_str(), project_id.c_str());
    std::printf("%s\n", key.c_str());
    return 0;
  }
  if (action == "revoke") {
    if (words.size() != 2) return AdminUsageError("keys revoke needs KEY_ID");
    Status status = store->RevokeKey(words[1], NowMillis());
    if (!status.ok()) {
      std::fprintf(stderr, "webhooks-server: %s: %s\n", words[1].c_str(),
                   status.message().c_str());
      return 1;
    }
    std::printf("revoked %s\n", words[1].c_str());
    return 0;
  }
  std::vector<ApiKeyInfo> keys;
  if (Status status = store->ListKeys(&keys); !status.ok()) {
    std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
    return 1;
  }
  std::printf("%-16s %-17s %-7s %-24s %-24s %s\n", "KEY ID", "PROJECT ID",
              "ORIGIN", "CREATED", "REVOKED", "PROJECT");
  for (const ApiKeyInfo& info : keys) {
    const char* origin = info.origin == KeyOrigin::kAdmin    ? "admin"
                         : info.origin == KeyOrigin::kConfig ? "config"
                                                             : "local";
    std::printf(
        "%-16s %-17s %-7s %-24s %-24s %s\n", info.key_id.c_str(),
        info.project_id.c_str(), origin, FormatTime(info.created_at_ms).c_str(),
        info.revoked_at_ms ? FormatTime(*info.revoked_at_ms).c_str() : "-",
        Printable(info.project_name, 128).c_str());
  }
  return 0;
}

}  // namespace webhooks
