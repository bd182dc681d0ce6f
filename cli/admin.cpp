#include "cli/admin.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "config.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/db_uri.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

// Each command's --help, before the options, which come from the settings
// table (--db) and the command's own (listed in the text).
constexpr char kKeysHelp[] =
    R"(usage: webhooks-server keys create --project NAME [--join] [--db PATH]
       webhooks-server keys list [--db PATH]
       webhooks-server keys revoke KEY_ID [--db PATH]

The API keys kept in the database. The commands work while a server runs on
it, and take effect from its next request.

  create             make a key for a project and print it once (see
                     webhooks-server keys create --help)
  list               show key ids, projects, origins and times, never keys
  revoke KEY_ID      refuse that key from now on, a start-up key too

)";

constexpr char kKeysCreateHelp[] =
    R"(usage: webhooks-server keys create --project NAME [--join] [--db PATH]

Makes an API key for a new project NAME; refuses (exit 2) if a project of
that name exists, so that a key never joins someone else's project by a
name that happens to match. With --join, adds the key to the existing
project NAME instead (NAME may also be a project id, proj_..., as keys list
shows it): how a key is rotated (create with --join, move the clients to
the new key, then keys revoke the old one). Prints the key once, alone on
standard output; the key id and project go to standard error. Only the
key's SHA-256 digest is stored. Creates the database, and its folder, if
missing.

  --project NAME     1-128 characters
  --join             add the key to the existing project NAME
)";

constexpr char kKeysListHelp[] =
    R"(usage: webhooks-server keys list [--db PATH]

Shows every key's id, project id, origin (admin: keys create; config:
--api-key; local: local mode), creation and revocation times and project
name. Never the keys themselves.

)";

constexpr char kKeysRevokeHelp[] =
    R"(usage: webhooks-server keys revoke KEY_ID [--db PATH]

Refuses the key with id KEY_ID (see keys list) from the server's next
request on. A key given at start-up too: remove it from the configuration,
or each start warns about it.

)";

constexpr char kBackupHelp[] =
    R"(usage: webhooks-server backup --to FILE [--db PATH]

Copies the database to the new file FILE (mode 0600) with SQLite's online
backup API: a consistent copy, even while a server writes to it. Refuses
an existing FILE.

  --to FILE          where the copy goes
)";

constexpr char kCheckHelp[] =
    R"(usage: webhooks-server check [--db PATH]

Runs SQLite's full integrity check on the database, opened read-only, and
prints "PATH: ok" or "PATH: damaged" with the problems on standard error.

)";

constexpr char kMigrateHelp[] =
    R"(usage: webhooks-server migrate [--db PATH|URI]

Brings the database's schema up to this server's version and prints the
version found and the version now, then exits: for a deploy that applies
schema changes before any new instance starts. A server applies them at
start-up too. On PostgreSQL the migrations run in one transaction under an
advisory lock, so instances starting together never race; a database newer
than this server is refused. Creates a SQLite database if missing.

)";

constexpr char kHelpEnd[] =
    R"(  --help             print this text and exit

Except keys create and migrate, the commands refuse a database file that
does not exist (exit 1) rather than create an empty one. --db also takes a
postgresql:// URI (keys, migrate; for backup and check, PostgreSQL has its
own tools). Exit status: 0 done, 1 failed, 2 a usage error.
)";

// The --help of `command` (and of the keys `action` if one is named).
std::string HelpFor(std::string_view command, std::string_view action) {
  const char* text = command == "backup"    ? kBackupHelp
                     : command == "check"   ? kCheckHelp
                     : command == "migrate" ? kMigrateHelp
                     : action == "create"   ? kKeysCreateHelp
                     : action == "list"     ? kKeysListHelp
                     : action == "revoke"   ? kKeysRevokeHelp
                                            : kKeysHelp;
  return text + SettingsHelp({"db"}) + kHelpEnd;
}

int UsageError(std::string_view command, const std::string& problem) {
  std::fprintf(stderr, "webhooks-server: %s (see webhooks-server %s --help)\n",
               problem.c_str(), std::string(command).c_str());
  return 2;
}

// Every command but `keys create` needs the database to exist: opening a
// mistyped path would create an empty database (and its folder) and report
// on that instead.
bool DatabaseExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 ||
         (errno != ENOENT && errno != ENOTDIR);
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
  CommandSyntax syntax;
  syntax.name = "webhooks-server " + command;
  syntax.settings = {"db"};  // --db and WEBHOOKS_DB, as the server reads them
  if (command == "keys") {
    syntax.options = {"project"};
    syntax.switches = {"join"};
    syntax.max_words = 2;  // create | list | revoke KEY_ID
  } else if (command == "backup") {
    syntax.options = {"to"};
  }
  Config config;
  CommandLine given;
  std::string error;
  switch (ParseCommand(
      argc, argv, 2, syntax, [](const char* name) { return std::getenv(name); },
      &config, &given, &error)) {
    case ParseOutcome::kHelp: {
      std::string_view action;
      for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "create" || arg == "list" || arg == "revoke") {
          action = arg;
          break;
        }
      }
      std::fputs(HelpFor(command, action).c_str(), stdout);
      return 0;
    }
    case ParseOutcome::kVersion:
      std::fputs(VersionLine().c_str(), stdout);
      return 0;
    case ParseOutcome::kError:
      std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
      return 2;
    case ParseOutcome::kRun:
      break;
  }
  const std::string& db = config.db_path;
  const std::string action = given.words.empty() ? "" : given.words[0];
  if (command == "keys") {
    if (action != "create" && action != "list" && action != "revoke") {
      return UsageError(command, "keys needs create, list or revoke");
    }
    if (action == "revoke" && given.words.size() != 2) {
      return UsageError(command, "keys revoke needs KEY_ID");
    }
    if (action != "revoke" && given.words.size() != 1) {
      return UsageError(command, "unexpected argument '" + given.words[1] +
                                     "' after keys " + action);
    }
    const std::string project = given.Option("project");
    if (action == "create" &&
        (project.empty() || !IsCleanText(project) || project.size() > 128)) {
      return UsageError(command,
                        "keys create needs --project NAME (1-128 characters)");
    }
    if (action != "create" && !project.empty()) {
      return UsageError(command, "--project is for keys create only");
    }
    if (action != "create" && given.Has("join")) {
      return UsageError(command, "--join is for keys create only");
    }
  }
  const bool postgres = IsPostgresDatabase(db);
  const std::string shown = RedactDatabaseUri(db);
  if (postgres && command == "backup") {
    return UsageError(
        command,
        "backup copies SQLite files; for PostgreSQL use pg_dump (a "
        "consistent copy while servers write: pg_dump --format=custom "
        "--file=webhooks.dump '" +
            shown + "'), or the point-in-time recovery of your provider");
  }
  if (postgres && command == "check") {
    return UsageError(
        command,
        "check runs SQLite's integrity check; for PostgreSQL use amcheck "
        "(CREATE EXTENSION amcheck; then bt_index_check on each index, or "
        "pg_amcheck --all from the command line)");
  }
  if (command == "backup" && given.Option("to").empty()) {
    return UsageError(command, "backup needs --to FILE");
  }
  if (command == "migrate") {
    int from = 0;
    int to = 0;
    Status status = Status::Ok();
    if (postgres) {
      status = ApplyPostgresMigrations(db, &from, &to);
    } else if (db == ":memory:") {
      return UsageError(command,
                        "migrate needs a database file or a postgresql:// "
                        "URI, not :memory: (--db or WEBHOOKS_DB)");
    } else if (EnsureParentFolder(db, &error)) {
      status = MigrateSqliteDatabase(db, &from, &to);
    } else {
      status = Status::Internal(error);
    }
    if (!status.ok()) {
      std::fprintf(stderr, "webhooks-server: %s: %s\n", shown.c_str(),
                   status.message().c_str());
      return 1;
    }
    std::printf("%s: schema version %d%s\n", shown.c_str(), to,
                from == to ? " (up to date)"
                           : (" (was " + std::to_string(from) + ")").c_str());
    return 0;
  }
  // A database private to one process: nothing for a command to act on.
  if (db == ":memory:") {
    return UsageError(command, command +
                                   " needs a database file, not :memory: "
                                   "(--db or WEBHOOKS_DB)");
  }
  if (!postgres && action != "create" && !DatabaseExists(db)) {
    std::fprintf(stderr,
                 "webhooks-server: no database at '%s' (nothing was "
                 "created): start the server once to create it, or check "
                 "--db and WEBHOOKS_DB\n",
                 db.c_str());
    return 1;
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
    const std::string to = given.Option("to");
    Status status = BackupSqliteDatabase(db, to);
    if (!status.ok()) {
      std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
      return 1;
    }
    std::printf("backed up %s to %s\n", db.c_str(), to.c_str());
    return 0;
  }
  // keys: on the store, so the schema exists even on a new database.
  if (!postgres && !EnsureParentFolder(db, &error)) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 1;
  }
  std::unique_ptr<Store> store;
  if (Status status = postgres ? OpenPostgresStore(db, StoreOptions{}, &store)
                               : OpenSqliteStore(db, &store);
      !status.ok()) {
    std::fprintf(stderr, "webhooks-server: %s%s%s\n",
                 postgres ? shown.c_str() : "", postgres ? ": " : "",
                 status.message().c_str());
    return 1;
  }
  if (action == "create") {
    const std::string project = given.Option("project");
    // 32 random characters of 64 symbols: 192 bits.
    const std::string key = "whk_" + RandomToken(32);
    NewApiKey new_key;
    new_key.key_digest = Sha256(key);
    new_key.origin = KeyOrigin::kAdmin;
    new_key.key_id = "key_" + RandomToken(12);
    new_key.project_id = "proj_" + RandomToken(12);
    new_key.project_name = project;
    new_key.created_at_ms = NowMillis();
    const bool join = given.Has("join");
    std::string project_id;
    Status status = store->AddKeyToProject(
        new_key, join ? ProjectChoice::kJoin : ProjectChoice::kCreate,
        &project_id);
    if (status.code() == Status::Code::kConflict && !join) {
      // The name is taken (the digest is new: 192 random bits). Joining
      // must be asked for.
      return UsageError(
          command, "a project named '" + project +
                       "' exists; to add a key to it, add --join (keys list "
                       "shows its keys), or choose another name");
    }
    if (status.code() == Status::Code::kNotFound && join) {
      return UsageError(command, "no project named '" + project +
                                     "' exists to --join (keys list shows "
                                     "them); drop --join to create it");
    }
    if (!status.ok()) {
      std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
      return status.code() == Status::Code::kInvalidArgument ? 2 : 1;
    }
    // The key on stdout alone, for scripts; it is shown only this once.
    std::fprintf(stderr,
                 "created %s for project %s (%s); the key is shown once:\n",
                 new_key.key_id.c_str(), project.c_str(), project_id.c_str());
    std::printf("%s\n", key.c_str());
    return 0;
  }
  if (action == "revoke") {
    const std::string& key_id = given.words[1];
    Status status = store->RevokeKey(key_id, NowMillis());
    if (!status.ok()) {
      std::fprintf(stderr, "webhooks-server: %s: %s\n", key_id.c_str(),
                   status.message().c_str());
      return 1;
    }
    std::printf("revoked %s\n", key_id.c_str());
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
