// The admin commands: keys (create, list, revoke), backup, check and
// migrate. They work on the database a server may be running on: SQLite's
// locking and the busy timeout (or PostgreSQL's transactions) make that
// safe, and the server reads keys per request.

#ifndef WEBHOOKS_CLI_ADMIN_H_
#define WEBHOOKS_CLI_ADMIN_H_

#include <string>

namespace webhooks {

// argv[1] is "keys", "backup", "check" or "migrate". Reads --db and
// WEBHOOKS_DB through the settings table (config.h), as the server does:
// a SQLite file or a PostgreSQL URI (backup and check refuse a URI and name
// PostgreSQL's tools). Every command but `keys create` and `migrate`
// refuses a database file that does not exist, and none takes :memory:. --help
// (also after `keys create` etc.) prints the command's own help. Returns the
// exit code: 0 done (or help), 1 failed (a missing database among them), 2 a
// usage error.
int RunAdminCommand(int argc, char** argv);

// Creates the folder of a database file if it is missing (one level, mode
// 0700: it holds secrets).
bool EnsureParentFolder(const std::string& db_path, std::string* error);

}  // namespace webhooks

#endif  // WEBHOOKS_CLI_ADMIN_H_
