// The connections behind the PostgreSQL backend, on libpq. Internal to
// store/: nothing outside it includes this file.
//
// - Result: owns one PGresult and reads its values.
// - Connection: owns one PGconn and its prepared statements, each prepared
//   under a caller-chosen name on first use and reused after.
// - Pool: a fixed number of connections to one URI, lent one at a time; a
//   broken connection is dropped and a new one opened on a later Acquire,
//   so the server recovers from a PostgreSQL restart by itself.
// - StatusOf / StatusFromSqlState: the one libpq failure -> Status mapping.
//
// Errors are values: nothing here throws. No message built here contains
// the URI or its password (RedactUri is for the places that print a URI).

#ifndef WEBHOOKS_STORE_POSTGRES_CONNECTION_H_
#define WEBHOOKS_STORE_POSTGRES_CONNECTION_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "store/postgres_libpq.h"
#include "store/store.h"

namespace webhooks::postgres_internal {

// How long opening a connection may take before it fails (libpq's
// connect_timeout, in seconds), unless the URI sets its own.
constexpr int kConnectTimeoutSeconds = 5;

// Whether `uri` names a PostgreSQL database (a postgresql:// or postgres://
// URI) rather than a SQLite file.
bool IsPostgresUri(std::string_view uri);

// `uri` with its password, if any, replaced by "***": the user-info form
// (postgresql://user:secret@host/db) and a password= query parameter or
// keyword=value pair alike. For logs and printed configuration.
std::string RedactUri(std::string_view uri);

// The Status for a failure with SQLSTATE `sqlstate` (null or empty: none,
// e.g. the connection dropped before the server said anything), where
// `connection_lost` tells whether the connection is gone:
// - connection gone, class 08 (connection exception), 57P01/57P02/57P03
//   (shutdown, crash, cannot connect now), class 53 (insufficient
//   resources), 40001/40P01 (serialization failure, deadlock): Unavailable,
//   retrying later may work;
// - 23505 (unique violation): Conflict;
// - anything else: Internal.
// `message` becomes the Status's message as is.
Status StatusFromSqlState(const char* sqlstate, bool connection_lost,
                          std::string message);

// Whether a SQLSTATE means the connection it came on is finished (class
// 08, 57P01/57P02/57P03): the pool must not lend it again.
bool EndsConnection(const char* sqlstate);

// The Status of a failed libpq call on `conn` (may be null) whose result is
// `result` (may be null, as PQexec* return on a lost connection or out of
// memory). The message is "<operation>: [SQLSTATE] <libpq's text>", with
// `secret` (the password, may be empty) replaced by "***" wherever it
// appears. `pq` is the loaded libpq (store/postgres_libpq.h).
Status StatusOf(const Libpq& pq, const PGconn* conn, const PGresult* result,
                const char* operation, std::string_view secret);

// Owns one PGresult (or none). Move-only. Rows and columns count from 0;
// values are read in the text format unless the column was asked for in
// binary.
class Result {
 public:
  Result() = default;
  // `result` came from the functions of `pq`, which free it.
  Result(const Libpq* pq, PGresult* result) : pq_(pq), result_(result) {}
  Result(Result&& other) noexcept : pq_(other.pq_), result_(other.release()) {}
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ~Result() { Reset(nullptr, nullptr); }

  int rows() const { return result_ ? pq_->PQntuples(result_) : 0; }
  int columns() const { return result_ ? pq_->PQnfields(result_) : 0; }
  // Rows an INSERT, UPDATE or DELETE touched (0 for other commands).
  int64_t affected_rows() const;

  bool IsNull(int row, int column) const;
  // The value as text ("" for NULL). Valid while this Result lives.
  std::string_view Text(int row, int column) const;
  // The value of a bytea column as its bytes, byte-exact (decoded from the
  // text format's hex, or taken as is in binary format); a value of any
  // other type as its text.
  std::string Bytes(int row, int column) const;
  // The value parsed as a decimal integer; false if NULL or not one.
  bool Int64(int row, int column, int64_t* out) const;

  const PGresult* get() const { return result_; }
  // Takes `result` (from `pq`'s functions) in place of the one held.
  void Reset(const Libpq* pq, PGresult* result);

 private:
  PGresult* release() {
    PGresult* r = result_;
    result_ = nullptr;
    return r;
  }

  const Libpq* pq_ = nullptr;
  PGresult* result_ = nullptr;
};

// One statement parameter. Unset: SQL NULL. Text parameters are sent in the
// text format and may not contain a NUL byte; binary ones (paramFormats 1)
// are sent byte-exact, which is how a bytea is passed.
struct Param {
  std::optional<std::string> value;
  bool binary = false;
};

inline Param Text(std::string text) { return Param{std::move(text), false}; }
inline Param Binary(std::string bytes) { return Param{std::move(bytes), true}; }
inline Param Null() { return Param{std::nullopt, false}; }

// One PostgreSQL session and the statements prepared on it. Used by one
// thread at a time (a PGconn is not safe to share).
class Connection {
 public:
  // Loads libpq if no connection has yet (store/postgres_libpq.h: Unavailable
  // if it cannot be loaded), then connects to `uri` (with
  // kConnectTimeoutSeconds unless the URI sets connect_timeout) and sets
  // synchronous_commit=on for the session, so a commit returns only once it is
  // durable. On failure *out is unchanged: Unavailable if the server could not
  // be reached or refused us, InvalidArgument if `uri` does not parse.
  static Status Open(const std::string& uri, std::unique_ptr<Connection>* out);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs the statement named `name`, preparing `sql` under that name on the
  // first call on this connection and reusing it afterwards: the caller
  // always passes the same SQL for the same name. `sql` uses $1, $2, ... for
  // `params`; types are inferred by the server (cast, e.g. $1::bytea, where
  // it cannot). On success *out holds the rows (if any); on failure *out is
  // empty and the Status says why (StatusOf).
  Status Exec(const char* name, const char* sql,
              const std::vector<Param>& params, Result* out);
  // Runs `sql`, which takes no parameters, without preparing it (BEGIN,
  // COMMIT, SET: statements whose plan there is nothing to save on).
  Status Run(const char* sql);

  // Whether the pool may lend this connection again: the session is up, no
  // call on it ended with a connection error, and no transaction is left
  // open or aborted.
  bool Reusable() const;
  // Whether the session is still open as far as can be told without a
  // round trip: false once the server has ended it (a restart sends a
  // FATAL and closes the socket), which a read of what is pending tells.
  // For a connection that has been idle; costs one poll().
  bool StillOpen();
  // How many statements were prepared on this connection (for tests).
  size_t prepared_count() const { return prepared_.size(); }

 private:
  Connection(const Libpq& pq, PGconn* conn, std::string secret)
      : pq_(pq), conn_(conn), secret_(std::move(secret)) {}
  // Builds the Status of a failure and notes whether it ended the session.
  Status Failure(const PGresult* result, const char* operation);

  const Libpq& pq_;
  PGconn* const conn_;
  const std::string secret_;  // the password, scrubbed from messages
  std::unordered_set<std::string> prepared_;
  bool lost_ = false;  // a call failed because the session is gone
};

// A fixed-size pool of connections to one URI, safe to use from any number
// of threads. Connections are opened when first needed, so a Pool can be
// built while the server is down.
class Pool {
 public:
  // A connection on loan; given back to the pool when destroyed (or dropped,
  // if it is no longer Reusable()). Move-only.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { Return(); }

    explicit operator bool() const { return connection_ != nullptr; }
    Connection* operator->() const { return connection_.get(); }
    Connection& operator*() const { return *connection_; }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    void Return();

    Pool* pool_ = nullptr;
    std::unique_ptr<Connection> connection_;
  };

  // `size` > 0 connections at most. The pool must outlive its leases.
  Pool(std::string uri, size_t size);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Lends an idle connection, opening one if fewer than `size` are open and
  // none is idle, or waits for one to come back. On failure to open (the
  // server is down: Unavailable) *lease is unchanged and the slot stays
  // free for the next caller.
  Status Acquire(Lease* lease);

  // Connections open now, idle or lent (for tests and metrics).
  size_t open_count();

 private:
  void Release(std::unique_ptr<Connection> connection);

  const std::string uri_;
  const size_t size_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  size_t open_ = 0;  // idle + lent + being opened; guarded by mu_
};

}  // namespace webhooks::postgres_internal

#endif  // WEBHOOKS_STORE_POSTGRES_CONNECTION_H_
