// The PostgreSQL backend's schema as numbered migrations, and the runner
// that brings a database up to date. Internal to store/.
//
// Each migration is applied once, in version order, inside one transaction
// that first takes a transaction-level advisory lock (kMigrationLockKey):
// two instances starting together against one database queue on the lock,
// and the second finds the first's versions recorded in schema_migrations
// and applies nothing. A database whose recorded version is newer than any
// this binary knows is refused (an older binary must not write to a schema
// it does not understand).

#ifndef WEBHOOKS_STORE_POSTGRES_SCHEMA_H_
#define WEBHOOKS_STORE_POSTGRES_SCHEMA_H_

#include <cstdint>
#include <vector>

#include "store/postgres_connection.h"
#include "util/status.h"

namespace webhooks::postgres_internal {

// pg_advisory_xact_lock's key for schema changes: "webh" in ASCII.
constexpr int64_t kMigrationLockKey = 0x77656268;

struct Migration {
  int version;       // 1, 2, ...: the order of application
  const char* name;  // what it does, recorded with it
  const char* sql;   // one or more statements, run as one simple query
};

// Every migration this binary knows, in ascending version order.
const std::vector<Migration>& Migrations();

// The highest version in Migrations().
int LatestSchemaVersion();

// Applies the migrations `c`'s database lacks, under the advisory lock, in
// one transaction (all or none). Sets *from to the version found and *to to
// the version now recorded (equal when nothing was due). FailedPrecondition
// if the database is newer than this binary; the libpq failure's Status
// otherwise. `at_ms` is recorded as each migration's applied_at.
Status ApplyMigrations(Connection& c, int64_t at_ms, int* from, int* to);

}  // namespace webhooks::postgres_internal

#endif  // WEBHOOKS_STORE_POSTGRES_SCHEMA_H_
