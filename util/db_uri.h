// What --db names: a SQLite file, or a PostgreSQL URI (postgresql:// or
// postgres://), and that URI made fit to print. Here in util/ because the
// settings table and the start-up line need it, and they know no backend.

#ifndef WEBHOOKS_UTIL_DB_URI_H_
#define WEBHOOKS_UTIL_DB_URI_H_

#include <string>
#include <string_view>

namespace webhooks {

// Whether `db` is a PostgreSQL URI (postgresql:// or postgres://) rather
// than a SQLite path or ":memory:".
bool IsDatabaseUri(std::string_view db);

// `uri` with its password, if any, replaced by "***": the user-info form
// (postgresql://user:secret@host/db), a password= query parameter (its name
// percent-encoded or not) and libpq's keyword=value form alike. Anything
// else comes back unchanged. For logs, --help and errors.
std::string RedactDatabaseUri(std::string_view uri);

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_DB_URI_H_
