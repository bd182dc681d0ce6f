// The SQLite backend of the Store interface (store.h), and the SQLite-only
// operations the admin commands run on a database file. Only the composition
// root (server.cpp) and the backend's tests include this header; no SQLite
// type appears in it either.

#ifndef WEBHOOKS_STORE_SQLITE_STORE_H_
#define WEBHOOKS_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "store/store.h"
#include "util/status.h"

namespace webhooks {

// Opens (creating if missing, with mode 0600) the SQLite database at `path`
// and applies the built-in schema. ":memory:" gives a private in-memory
// database. A file database runs in WAL mode with synchronous=FULL, so a
// committed write is on disk. On error, *store is unchanged and the Status
// message says what failed (it names the path); a secrets key that is
// neither empty nor 32 bytes is InvalidArgument.
//
// The options, for SQLite: read_connections is the pool of read-only
// connections that read beside the writer (file databases only: each
// connection to ":memory:" is a separate database, so there the writer
// serves reads too). With track_clean_stop (file databases only), the full
// check is PRAGMA integrity_check, whose time grows with the file; every
// other open checks only that the file is a database whose schema and
// b-tree root pages read.
Status OpenSqliteStore(const std::string& path, const StoreOptions& options,
                       std::unique_ptr<Store>* store);
// The same with default options.
inline Status OpenSqliteStore(const std::string& path,
                              std::unique_ptr<Store>* store) {
  return OpenSqliteStore(path, StoreOptions{}, store);
}

// Copies the SQLite database at `from` to the new file `to` (mode 0600) with
// SQLite's online backup API: a consistent snapshot even while a server
// writes to `from`. Fails if `to` exists.
Status BackupSqliteDatabase(const std::string& from, const std::string& to);

// Applies the schema migrations the database at `path` lacks (creating it
// if missing), as a server's start does, and closes it. *from: the version
// found (0 for a new database); *to: the version now.
Status MigrateSqliteDatabase(const std::string& path, int* from, int* to);

// Runs PRAGMA integrity_check on `path`, opened read-only (the file is not
// changed). Ok with *problems empty if the database is sound; Ok with the
// problems listed if not; an error Status if it cannot be opened at all.
Status CheckSqliteDatabase(const std::string& path,
                           std::vector<std::string>* problems);

}  // namespace webhooks

#endif  // WEBHOOKS_STORE_SQLITE_STORE_H_
