// The PostgreSQL backend's connections: see store/postgres_connection.h.

#include "store/postgres_connection.h"

#include <poll.h>

#include <cctype>
#include <charconv>
#include <climits>
#include <cstring>
#include <utility>

#include "util/db_uri.h"

namespace webhooks::postgres_internal {
namespace {

constexpr char kRedacted[] = "***";
// PostgreSQL's type oid of bytea (catalog/pg_type_d.h, which libpq-dev
// does not ship).
constexpr Oid kByteaOid = 17;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// `text` with every occurrence of `secret` replaced by "***".
std::string Scrub(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (size_t at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + std::strlen(kRedacted))) {
    text.replace(at, secret.size(), kRedacted);
  }
  return text;
}

// libpq's messages end with a newline and may span lines: one line for logs.
std::string OneLine(const char* text) {
  std::string line;
  for (const char* c = text ? text : ""; *c; ++c) {
    bool space = *c == '\n' || *c == '\t' || *c == ' ';
    if (!space) {
      line.push_back(*c);
    } else if (!line.empty() && line.back() != ' ') {
      line.push_back(' ');
    }
  }
  if (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// libpq prints server notices (e.g. "relation already exists, skipping") to
// stderr by default; the store reports what matters itself.
void IgnoreNotice(void*, const char*) {}

}  // namespace

bool IsPostgresUri(std::string_view uri) { return IsDatabaseUri(uri); }

std::string RedactUri(std::string_view uri) { return RedactDatabaseUri(uri); }

bool EndsConnection(const char* sqlstate) {
  if (sqlstate == nullptr) return false;
  std::string_view state(sqlstate);
  return StartsWith(state, "08") || state == "57P01" || state == "57P02" ||
         state == "57P03";
}

Status StatusFromSqlState(const char* sqlstate, bool connection_lost,
                          std::string message) {
  std::string_view state(sqlstate ? sqlstate : "");
  if (connection_lost || EndsConnection(sqlstate) || StartsWith(state, "53") ||
      state == "40001" || state == "40P01") {
    return Status::Unavailable(std::move(message));
  }
  if (state == "23505") return Status::Conflict(std::move(message));
  return Status::Internal(std::move(message));
}

Status StatusOf(const Libpq& pq, const PGconn* conn, const PGresult* result,
                const char* operation, std::string_view secret) {
  const char* sqlstate =
      result ? pq.PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string text;
  if (result) {
    text = OneLine(pq.PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
    if (text.empty()) text = OneLine(pq.PQresultErrorMessage(result));
  }
  if (text.empty() && conn) text = OneLine(pq.PQerrorMessage(conn));
  if (text.empty()) text = "no result (out of memory?)";
  std::string message(operation);
  message.append(": ");
  if (sqlstate) message.append(sqlstate).append(" ");
  message.append(text);
  bool lost = conn == nullptr || pq.PQstatus(conn) == CONNECTION_BAD;
  return StatusFromSqlState(sqlstate, lost, Scrub(std::move(message), secret));
}

// ---- Result ----

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) Reset(other.pq_, other.release());
  return *this;
}

void Result::Reset(const Libpq* pq, PGresult* result) {
  if (result_) pq_->PQclear(result_);
  pq_ = pq;
  result_ = result;
}

int64_t Result::affected_rows() const {
  if (!result_) return 0;
  const char* text = pq_->PQcmdTuples(result_);
  int64_t n = 0;
  std::from_chars(text, text + std::strlen(text), n);
  return n;
}

bool Result::IsNull(int row, int column) const {
  return pq_->PQgetisnull(result_, row, column) == 1;
}

std::string_view Result::Text(int row, int column) const {
  return std::string_view(
      pq_->PQgetvalue(result_, row, column),
      static_cast<size_t>(pq_->PQgetlength(result_, row, column)));
}

std::string Result::Bytes(int row, int column) const {
  std::string_view raw = Text(row, column);
  if (pq_->PQfformat(result_, column) == 1 ||
      pq_->PQftype(result_, column) != kByteaOid || IsNull(row, column)) {
    return std::string(raw);
  }
  size_t length = 0;
  unsigned char* bytes =
      pq_->PQunescapeBytea(reinterpret_cast<const unsigned char*>(
                               pq_->PQgetvalue(result_, row, column)),
                           &length);
  if (bytes == nullptr) return std::string();
  std::string out(reinterpret_cast<const char*>(bytes), length);
  pq_->PQfreemem(bytes);
  return out;
}

bool Result::Int64(int row, int column, int64_t* out) const {
  if (IsNull(row, column)) return false;
  std::string_view text = Text(row, column);
  int64_t value = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return false;
  *out = value;
  return true;
}

// ---- Connection ----

Status Connection::Open(const std::string& uri,
                        std::unique_ptr<Connection>* out) {
  std::string load_error;
  const Libpq* pq = LoadLibpq(&load_error);
  if (pq == nullptr) return Status::Unavailable(load_error);
  // Parse first: to know the password to scrub from messages, and because
  // libpq's parse errors quote pieces of the URI.
  char* parse_error = nullptr;
  PQconninfoOption* options = pq->PQconninfoParse(uri.c_str(), &parse_error);
  if (options == nullptr) {
    if (parse_error) pq->PQfreemem(parse_error);
    return Status::InvalidArgument("PostgreSQL URI does not parse");
  }
  std::string secret;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val) secret = o->val;
  }
  pq->PQconninfoFree(options);

  // Our defaults come before dbname, which expands the URI: a setting the
  // URI names wins (libpq keeps the last value of a repeated keyword).
  std::string timeout = std::to_string(kConnectTimeoutSeconds);
  const char* const keywords[] = {"connect_timeout", "application_name",
                                  "dbname", nullptr};
  const char* const values[] = {timeout.c_str(), "webhooks-server", uri.c_str(),
                                nullptr};
  PGconn* conn = pq->PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Unavailable("connect: out of memory");
  if (pq->PQstatus(conn) != CONNECTION_OK) {
    Status status = StatusOf(*pq, conn, nullptr, "connect", secret);
    pq->PQfinish(conn);
    return status;
  }
  pq->PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  std::unique_ptr<Connection> connection(new Connection(*pq, conn, secret));
  // Every commit durable before it returns, whatever the server's default.
  Status status = connection->Run("SET synchronous_commit = on");
  if (!status.ok()) return status;
  *out = std::move(connection);
  return Status::Ok();
}

Connection::~Connection() { pq_.PQfinish(conn_); }

Status Connection::Failure(const PGresult* result, const char* operation) {
  const char* sqlstate =
      result ? pq_.PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (pq_.PQstatus(conn_) == CONNECTION_BAD || EndsConnection(sqlstate)) {
    lost_ = true;
  }
  return StatusOf(pq_, conn_, result, operation, secret_);
}

Status Connection::Exec(const char* name, const char* sql,
                        const std::vector<Param>& params, Result* out) {
  if (out) out->Reset(nullptr, nullptr);
  if (params.size() > INT_MAX) {
    return Status::InvalidArgument(std::string(name) + ": too many parameters");
  }
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const Param& p = params[i];
    if (!p.value) continue;  // NULL: a null pointer
    if (p.value->size() > INT_MAX) {
      return Status::InvalidArgument(std::string(name) +
                                     ": parameter too long");
    }
    if (!p.binary && p.value->find('\0') != std::string::npos) {
      // The text format ends a value at its first NUL: it would be cut.
      return Status::InvalidArgument(std::string(name) +
                                     ": NUL byte in a text parameter");
    }
    values[i] = p.value->c_str();
    lengths[i] = static_cast<int>(p.value->size());
    formats[i] = p.binary ? 1 : 0;
  }
  int count = static_cast<int>(params.size());

  if (prepared_.count(name) == 0) {
    Result prepared(&pq_, pq_.PQprepare(conn_, name, sql, count, nullptr));
    if (pq_.PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return Failure(prepared.get(), name);
    }
    prepared_.insert(name);
  }
  Result result(&pq_, pq_.PQexecPrepared(conn_, name, count, values.data(),
                                         lengths.data(), formats.data(),
                                         /*resultFormat=*/0));
  ExecStatusType status = pq_.PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Failure(result.get(), name);
  }
  if (out) *out = std::move(result);
  return Status::Ok();
}

Status Connection::Run(const char* sql) {
  Result result(&pq_, pq_.PQexec(conn_, sql));
  ExecStatusType status = pq_.PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Failure(result.get(), sql);
  }
  return Status::Ok();
}

bool Connection::StillOpen() {
  if (lost_ || pq_.PQstatus(conn_) != CONNECTION_OK) return false;
  pollfd ready{pq_.PQsocket(conn_), POLLIN, 0};
  if (::poll(&ready, 1, 0) == 0) return true;  // nothing came: as we left it
  // An idle session hears from the server when it ends the session (a
  // shutdown's FATAL, then end of file); a notice would leave it open.
  if (pq_.PQconsumeInput(conn_) == 0 || pq_.PQstatus(conn_) != CONNECTION_OK) {
    lost_ = true;
    return false;
  }
  return true;
}

bool Connection::Reusable() const {
  return !lost_ && pq_.PQstatus(conn_) == CONNECTION_OK &&
         pq_.PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

// ---- Pool ----

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), connection_(std::move(other.connection_)) {
  other.pool_ = nullptr;
}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Return();
    pool_ = other.pool_;
    connection_ = std::move(other.connection_);
    other.pool_ = nullptr;
  }
  return *this;
}

void Pool::Lease::Return() {
  if (pool_ && connection_) pool_->Release(std::move(connection_));
  pool_ = nullptr;
}

Pool::Pool(std::string uri, size_t size)
    : uri_(std::move(uri)), size_(size > 0 ? size : 1) {}

Status Pool::Acquire(Lease* lease) {
  std::unique_lock<std::mutex> lock(mu_);
  available_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
  // An idle connection the server ended meanwhile (a restart) is dropped
  // here, before a statement fails on it: its slot opens a new one below.
  while (!idle_.empty()) {
    std::unique_ptr<Connection> connection = std::move(idle_.back());
    idle_.pop_back();
    if (connection->StillOpen()) {
      lock.unlock();
      *lease = Lease(this, std::move(connection));
      return Status::Ok();
    }
    --open_;
  }
  ++open_;  // the slot is ours while we connect, outside the lock
  lock.unlock();
  std::unique_ptr<Connection> connection;
  Status status = Connection::Open(uri_, &connection);
  if (!status.ok()) {
    lock.lock();
    --open_;
    lock.unlock();
    available_.notify_one();
    return status;
  }
  *lease = Lease(this, std::move(connection));
  return Status::Ok();
}

size_t Pool::open_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

void Pool::Release(std::unique_ptr<Connection> connection) {
  if (connection->Reusable()) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(connection));
  } else {
    connection.reset();  // closes it, outside the lock
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
  }
  available_.notify_one();
}

}  // namespace webhooks::postgres_internal
