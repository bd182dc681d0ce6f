// libpq's functions, from libpq.so.5 opened at run time rather than linked
// (util/shared_library.h says why): a server on SQLite never loads it.
// Internal to store/: only postgres_connection calls libpq.

#ifndef WEBHOOKS_STORE_POSTGRES_LIBPQ_H_
#define WEBHOOKS_STORE_POSTGRES_LIBPQ_H_

#include <libpq-fe.h>

#include <string>

namespace webhooks::postgres_internal {

// Every libpq function the backend calls. A new call needs its name here.
// clang-format off
#define WEBHOOKS_LIBPQ_FUNCTIONS(X) \
  X(PQclear) \
  X(PQcmdTuples) \
  X(PQconnectdbParams) \
  X(PQconninfoFree) \
  X(PQconninfoParse) \
  X(PQconsumeInput) \
  X(PQerrorMessage) \
  X(PQexec) \
  X(PQexecPrepared) \
  X(PQfformat) \
  X(PQfinish) \
  X(PQfreemem) \
  X(PQftype) \
  X(PQgetisnull) \
  X(PQgetlength) \
  X(PQgetvalue) \
  X(PQnfields) \
  X(PQntuples) \
  X(PQprepare) \
  X(PQresultErrorField) \
  X(PQresultErrorMessage) \
  X(PQresultStatus) \
  X(PQsetNoticeProcessor) \
  X(PQsocket) \
  X(PQstatus) \
  X(PQtransactionStatus) \
  X(PQunescapeBytea)
// clang-format on

// The functions, typed as libpq-fe.h declares them: pq->PQexec(conn, sql).
struct Libpq {
#define WEBHOOKS_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
  WEBHOOKS_LIBPQ_FUNCTIONS(WEBHOOKS_LIBPQ_MEMBER)
#undef WEBHOOKS_LIBPQ_MEMBER
};

// Opens libpq on the first call, from whichever thread makes it (the
// others wait for that one); every later call returns the same table, or
// the same failure. Once opened, libpq stays loaded until the process
// exits, like a linked library: connections may live that long. Null, and
// *error says why and which package provides it, if it cannot be opened.
const Libpq* LoadLibpq(std::string* error);

}  // namespace webhooks::postgres_internal

#endif  // WEBHOOKS_STORE_POSTGRES_LIBPQ_H_
