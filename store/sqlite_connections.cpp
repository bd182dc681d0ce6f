// Connection, GroupCommit, ReaderPool and Checkpointer: see the header.

#include "store/sqlite_connections.h"

#include <sqlite3.h>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

namespace webhooks {

Status StatusFromSqlite(const SQLite::Exception& e, const char* operation) {
  std::string message = std::string(operation) + ": " + e.what() +
                        " (sqlite code " +
                        std::to_string(e.getExtendedErrorCode()) + ")";
  switch (e.getErrorCode()) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
      return Status::Unavailable(std::move(message));
    case SQLITE_CONSTRAINT:
      return Status::Conflict(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

// ---------------------------------------------------------------------------
// Connection

std::unique_ptr<Connection> Connection::OpenExisting(const std::string& path,
                                                     bool reader) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX,
                      kBusyTimeoutMs);
  if (reader) db.exec("PRAGMA query_only = 1");
  // 512 KiB of page cache instead of SQLite's 2 MiB: the readers and the
  // checkpointer hold a cache each, the OS caches the file anyway, and the
  // server's peak RSS under load stays under 32 MB (31.4 MB with 2 MiB).
  db.exec("PRAGMA cache_size = -512");
  // A connection learns the journal mode from the file when it first reads
  // it; until then a checkpoint through it is a no-op.
  db.exec("PRAGMA journal_mode");
  return std::make_unique<Connection>(std::move(db));
}

SQLite::Statement& Connection::Prepared(size_t index, const char* sql) {
  std::unique_ptr<SQLite::Statement>& slot = statements_.at(index);
  if (!slot) slot = std::make_unique<SQLite::Statement>(db_, sql);
  return *slot;
}

void Connection::RunControl(Control control) {
  static constexpr const char* kText[kControlCount] = {
      "BEGIN",       "BEGIN IMMEDIATE", "COMMIT",
      "SAVEPOINT w", "ROLLBACK TO w",   "RELEASE w"};
  std::unique_ptr<SQLite::Statement>& slot = control_[control];
  if (!slot) slot = std::make_unique<SQLite::Statement>(db_, kText[control]);
  Query(*slot)->exec();
}

void Connection::Begin(bool immediate) {
  RunControl(immediate ? kBeginImmediate : kBegin);
}
void Connection::Commit() { RunControl(kCommit); }
void Connection::Savepoint() { RunControl(kSavepoint); }
void Connection::RollbackToSavepoint() { RunControl(kRollbackTo); }
void Connection::ReleaseSavepoint() { RunControl(kRelease); }

void Connection::RollbackQuietly() noexcept {
  if (InAutocommit()) return;
  // Through sqlite3_exec: a cached ROLLBACK statement could itself be the
  // one left in a bad state.
  sqlite3_exec(db_.getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

bool Connection::InAutocommit() {
  return sqlite3_get_autocommit(db_.getHandle()) != 0;
}

// ---------------------------------------------------------------------------
// GroupCommit

GroupCommit::GroupCommit(std::unique_ptr<Connection> connection, Upkeep upkeep)
    : connection_(std::move(connection)), upkeep_(std::move(upkeep)) {
  thread_ = std::thread([this] { Loop(); });
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

Status GroupCommit::RunIfIdle(const char* operation, ConnectionWork work,
                              bool* ran) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    *ran = !busy_ && waiting_.empty();
    if (!*ran) return Status::Ok();
    busy_ = true;
  }
  // Hands the connection back even if the batch throws (it should not).
  struct HandBack {
    GroupCommit* self;
    ~HandBack() { self->ReleaseAfterInline(); }
  } hand_back{this};
  Job job(operation, work);
  Job* const jobs[] = {&job};
  RunBatch(jobs, 1);
  return job.status;
}

Status GroupCommit::Run(const char* operation, ConnectionWork work) {
  bool ran = false;
  Status status = RunIfIdle(operation, work, &ran);
  if (ran) return status;
  Job job(operation, work);
  bool wake_writer = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_.push_back(&job);
    // A busy writer thread takes the queue when its batch is done, and a
    // write running on a caller's thread wakes it when it is.
    wake_writer = !busy_;
  }
  if (wake_writer) wake_.notify_one();
  job.finished.Wait();
  return job.status;
}

void GroupCommit::ReleaseAfterInline() {
  bool wake_writer = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy_ = false;
    if (upkeep_.run && (!upkeep_.due || upkeep_.due())) upkeep_due_ = true;
    wake_writer = !waiting_.empty() || upkeep_due_;
  }
  if (wake_writer) wake_.notify_one();
}

void GroupCommit::Loop() {
  std::vector<Job*> batch;
  batch.reserve(kMaxBatch);
  for (;;) {
    bool upkeep = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] {
        return !busy_ && (stopping_ || upkeep_due_ || !waiting_.empty());
      });
      if (waiting_.empty() && !upkeep_due_) return;  // stopping, all done
      busy_ = true;
      // Everything that arrived while the last write was being committed
      // goes into this batch: that is where the shared fsync comes from.
      while (!waiting_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(waiting_.front());
        waiting_.pop_front();
      }
      upkeep = upkeep_due_;
      upkeep_due_ = false;
    }
    if (!batch.empty()) {
      RunBatch(batch.data(), batch.size());
      // A job may be gone as soon as it is posted: post is the last touch.
      for (Job* job : batch) job->finished.Post();
      batch.clear();
      upkeep = upkeep_.run && (!upkeep_.due || upkeep_.due());
    }
    // After the callers were answered, and outside any transaction.
    if (upkeep) upkeep_.run(*connection_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_ = false;
    }
  }
}

void GroupCommit::RunJob(Job& job) {
  try {
    job.status = job.work(*connection_);
  } catch (const SQLite::Exception& e) {
    job.status = StatusFromSqlite(e, job.operation);
  } catch (const std::exception& e) {
    job.status = Status::Internal(std::string(job.operation) + ": " + e.what());
  }
}

void GroupCommit::RunBatch(Job* const* jobs, size_t count) {
  Connection& connection = *connection_;
  size_t next = 0;
  while (next < count) {
    const size_t first = next;
    // Waiting for another process's lock, the batch gives up when its
    // oldest write has waited the busy timeout since it arrived: a write
    // queued behind a batch that waited must not wait a second timeout.
    const auto waited = std::chrono::steady_clock::now() - jobs[next]->arrived;
    const auto left =
        std::chrono::milliseconds(kBusyTimeoutMs) -
        std::chrono::duration_cast<std::chrono::milliseconds>(waited);
    sqlite3_busy_timeout(connection.db().getHandle(),
                         static_cast<int>(std::max<long long>(
                             1, static_cast<long long>(left.count()))));
    try {
      connection.Begin(/*immediate=*/true);
    } catch (const SQLite::Exception& e) {
      // Another process holds the write lock past the busy timeout, or the
      // database is unusable: nothing of this batch can be written.
      Status failed = StatusFromSqlite(e, "begin write transaction");
      for (size_t i = next; i < count; ++i) jobs[i]->status = failed;
      return;
    }
    bool transaction_lost = false;
    if (count - next == 1) {
      // Alone in its transaction: no savepoint, the rollback undoes it.
      Job& job = *jobs[next++];
      RunJob(job);
      if (connection.InAutocommit()) {
        transaction_lost = true;  // SQLite rolled it back
      } else if (!job.status.ok()) {
        connection.RollbackQuietly();
        continue;
      }
    }
    for (; next < count && !transaction_lost; ++next) {
      Job& job = *jobs[next];
      try {
        connection.Savepoint();
        RunJob(job);
        if (connection.InAutocommit()) {
          transaction_lost = true;  // SQLite rolled everything back
        } else {
          if (!job.status.ok()) connection.RollbackToSavepoint();
          connection.ReleaseSavepoint();
        }
      } catch (const SQLite::Exception& e) {
        // The savepoint itself failed: end the transaction rather than
        // commit something half undone.
        if (job.status.ok()) job.status = StatusFromSqlite(e, "savepoint");
        connection.RollbackQuietly();
        transaction_lost = true;
      }
    }
    if (!transaction_lost) {
      try {
        connection.Commit();
        continue;
      } catch (const SQLite::Exception& e) {
        Status failed = StatusFromSqlite(e, "commit");
        connection.RollbackQuietly();
        for (size_t i = first; i < next; ++i) {
          if (jobs[i]->status.ok()) jobs[i]->status = failed;
        }
        continue;
      }
    }
    // Every write since BEGIN is gone, including those that succeeded:
    // they fail too (a caller that retries writes them again).
    const Status& cause = jobs[next - 1]->status;
    Status lost = Status::Unavailable(
        "the transaction was rolled back: " +
        (cause.ok() ? std::string("unknown cause") : cause.message()));
    for (size_t i = first; i < next; ++i) {
      if (jobs[i]->status.ok()) jobs[i]->status = lost;
    }
  }
}

// ---------------------------------------------------------------------------
// ReaderPool

ReaderPool::ReaderPool(std::string path, size_t size)
    : path_(std::move(path)), size_(size == 0 ? 1 : size) {}

std::unique_ptr<Connection> ReaderPool::Acquire(Status* status) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    available_.wait(lock, [this] { return !idle_.empty() || opened_ < size_; });
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++opened_;  // reserve the slot; open outside the lock
  }
  try {
    return Connection::OpenExisting(path_, /*reader=*/true);
  } catch (const SQLite::Exception& e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --opened_;
    }
    available_.notify_one();
    *status = StatusFromSqlite(e, "open read connection");
    return nullptr;
  }
}

void ReaderPool::Release(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(connection));
  }
  available_.notify_one();
}

Status ReaderPool::Run(const char* operation, ConnectionWork work,
                       bool snapshot) {
  Status status = Status::Ok();
  std::unique_ptr<Connection> connection = Acquire(&status);
  if (!connection) return status;
  try {
    if (snapshot) connection->Begin(/*immediate=*/false);
    status = work(*connection);
    // Ends the read transaction; nothing to write.
    if (snapshot) connection->Commit();
  } catch (const SQLite::Exception& e) {
    status = StatusFromSqlite(e, operation);
    connection->RollbackQuietly();
  } catch (const std::exception& e) {
    status = Status::Internal(std::string(operation) + ": " + e.what());
    connection->RollbackQuietly();
  }
  Release(std::move(connection));
  return status;
}

// ---------------------------------------------------------------------------
// Checkpointer

Checkpointer::Checkpointer(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)) {
  thread_ = std::thread([this] { Loop(); });
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Checkpointer::WatchWriter(Connection& writer) {
  // Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(writer.db().getHandle(), &Checkpointer::OnCommit, this);
}

int Checkpointer::OnCommit(void* self, sqlite3* /*db*/, const char* /*name*/,
                           int pages) {
  if (pages < kCheckpointPages) return SQLITE_OK;
  auto* checkpointer = static_cast<Checkpointer*>(self);
  {
    std::lock_guard<std::mutex> lock(checkpointer->mu_);
    checkpointer->requested_ = true;
  }
  checkpointer->wake_.notify_one();
  return SQLITE_OK;
}

void Checkpointer::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return requested_ || stopping_; });
      if (stopping_) return;
    }
    int rc = SQLITE_OK;
    {
      std::lock_guard<std::mutex> lock(connection_mu_);
      // A failure (a full disk, another checkpoint running) leaves the WAL
      // as it is; a later commit asks again.
      rc = sqlite3_wal_checkpoint_v2(connection_->db().getHandle(), nullptr,
                                     SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                     nullptr);
    }
    {
      // Requests made while we ran are answered by the catch-up; if the WAL
      // still does not start over, the next commits ask again.
      std::lock_guard<std::mutex> lock(mu_);
      requested_ = false;
    }
    if (rc == SQLITE_OK) catch_up_ = true;
  }
}

void Checkpointer::CatchUp(Connection& writer) {
  if (!catch_up_.exchange(false)) return;
  sqlite3_wal_checkpoint_v2(writer.db().getHandle(), nullptr,
                            SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

Status Checkpointer::Truncate() {
  std::lock_guard<std::mutex> lock(connection_mu_);
  try {
    connection_->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return Status::Ok();
  } catch (const SQLite::Exception& e) {
    return StatusFromSqlite(e, "checkpoint");
  }
}

}  // namespace webhooks
