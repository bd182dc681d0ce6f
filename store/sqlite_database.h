// The SQLite backend's database file, as opposed to its rows: creating it
// privately, the start-up checks, the schema and its migrations, the
// clean-stop record that decides how thorough the next start-up check is,
// and the admin commands' backup and check (declared in sqlite_store.h).
// Internal to store/: only the backend's own files include it. Apart from
// sqlite_store.cpp because all of it runs before the store's first
// statement is prepared, or without a store at all.

#ifndef WEBHOOKS_STORE_SQLITE_DATABASE_H_
#define WEBHOOKS_STORE_SQLITE_DATABASE_H_

#include <SQLiteCpp/Database.h>

#include <string>
#include <string_view>

namespace webhooks {
namespace sqlite_internal {

// The user_version schema.sql sets: the SQLite schema's migrations are
// numbered by it. 0 is a new database; 1 had a foreign key from
// webhook_events to webhook_endpoints that deleted an endpoint's events in
// the deleting transaction, and no endpoint_event_counts (MigrateToVersion2);
// 2 had webhook_endpoints as a rowid table with a separate list index
// (MigrateToVersion3). A database at a higher version (a newer server's) is
// refused.
constexpr int kSchemaVersion = 3;

// The path that names a private in-memory database, not a file.
constexpr std::string_view kMemoryPath = ":memory:";

// The store_settings row that says a server has the database open: set when
// it opens it (StoreOptions::track_clean_stop), deleted by CloseCleanly. Its
// value is a token of that open, so a server deletes only its own.
constexpr char kRunningSetting[] = "server_running";

// Sets SQLite's process-wide options for a server (see the .cpp), once per
// process; OpenDatabase calls it first. They can only be set before SQLite's
// first use in the process: returns whether they took effect.
bool ConfigureSqliteOnce();

// Opens the connection, checks the file, sets it up and applies the schema,
// all before any statement is prepared (preparing against a missing table
// throws). With `track_clean_stop` (StoreOptions), a file whose last server
// did not stop cleanly gets the full check, and once the file passed, a
// fresh token is recorded as kRunningSetting and returned in
// *running_token. *full_check tells which check ran. Throws
// SQLite::Exception if the file cannot be opened, fails its check, or the
// schema cannot be applied.
SQLite::Database OpenDatabase(const std::string& path, bool track_clean_stop,
                              bool* full_check, std::string* running_token);

// What the operating system says about `path`, for an error message: SQLite
// reports only "unable to open database file" for a directory or a folder
// that cannot be entered. Empty if nothing more is known.
std::string WhyUnopenable(const std::string& path);

}  // namespace sqlite_internal
}  // namespace webhooks

#endif  // WEBHOOKS_STORE_SQLITE_DATABASE_H_
