// The PostgreSQL backend of the Store interface (store.h): what
// `--db postgresql://...` opens. Only the composition root (server.cpp) and
// the backend's own tests include this header; no libpq type appears in it.

#ifndef WEBHOOKS_STORE_POSTGRES_STORE_H_
#define WEBHOOKS_STORE_POSTGRES_STORE_H_

#include <memory>
#include <string>
#include <string_view>

#include "store/store.h"
#include "util/status.h"

namespace webhooks {

// Whether `db` names a PostgreSQL database (a postgresql:// or postgres://
// URI) rather than a SQLite file.
bool IsPostgresDatabase(std::string_view db);

// Connects to the database at `uri`, applies the schema migrations it lacks
// (ApplyPostgresMigrations), checks nothing else, and returns a store that
// keeps a pool of connections (options.read_connections + 4 of them). Every
// write commits with synchronous_commit on. Several stores, in this process
// or on other machines, may share one database: idempotency rests on unique
// constraints, and deliveries are claimed FOR UPDATE SKIP LOCKED under a
// lease. On error *store is unchanged: Unavailable if the server cannot be
// reached (the message never holds the password), InvalidArgument for a
// URI that does not parse, a secrets key of the wrong size or a schema
// newer than this binary's.
// track_clean_stop is ignored (PostgreSQL checks itself; FullCheckAtOpen()
// is false), and Checkpoint() is a no-op (a commit is durable as it is).
Status OpenPostgresStore(const std::string& uri, const StoreOptions& options,
                         std::unique_ptr<Store>* store);

// Applies the migrations the database at `uri` lacks, under an advisory
// lock, in one transaction. *from: the version found (0 for an empty
// database); *to: the version now recorded.
Status ApplyPostgresMigrations(const std::string& uri, int* from, int* to);

}  // namespace webhooks

#endif  // WEBHOOKS_STORE_POSTGRES_STORE_H_
