// The connections behind SqliteStore, and how work reaches them. Internal to
// store/: nothing outside it includes this file.
//
// - Connection: one SQLite connection and its prepared statements, reused.
// - GroupCommit: the one write connection, owned by a writer thread. Callers
//   hand it a write and wait; the thread runs every write that is waiting in
//   one transaction, each in its own savepoint, and commits once, so
//   concurrent writers share one fsync and each still returns only after its
//   write is durable.
// - ReaderPool: read-only connections. In WAL mode readers run beside the
//   writer on the last committed snapshot, so reads never wait for a commit.
// - Checkpointer: moves the WAL into the database from a background thread
//   once it grows, so no request pays for a checkpoint.

#ifndef WEBHOOKS_STORE_SQLITE_CONNECTIONS_H_
#define WEBHOOKS_STORE_SQLITE_CONNECTIONS_H_

#include <SQLiteCpp/SQLiteCpp.h>
#include <semaphore.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/store.h"

namespace webhooks {

// How long a connection waits for a lock another connection (or process)
// holds before its statement fails with SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 5000;

// The one SQLite::Exception -> Status conversion. The message keeps SQLite's
// text for the log; the API layer never sends it to a client.
Status StatusFromSqlite(const SQLite::Exception& e, const char* operation);

// A non-owning reference to a callable, so that handing a lambda to a
// connection costs no allocation (std::function may allocate).
template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<
                            !std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit, like std::function
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(
              std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const {
    return call_(object_, std::forward<Args>(args)...);
  }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

// A connection and its statements, each prepared on first use and kept.
// Used by one thread at a time (SQLiteCpp objects are not thread-safe).
class Connection {
 public:
  // Statements are identified by a small index chosen by the caller, who
  // always passes the same SQL for the same index.
  static constexpr size_t kMaxStatements = 96;

  explicit Connection(SQLite::Database db) : db_(std::move(db)) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens an existing database file for one thread at a time (no SQLite
  // mutex). A reader cannot write (query_only); neither creates the file or
  // applies the schema, which is the writer's job.
  static std::unique_ptr<Connection> OpenExisting(const std::string& path,
                                                  bool reader);

  SQLite::Database& db() { return db_; }
  SQLite::Statement& Prepared(size_t index, const char* sql);

  // Transaction control, through statements prepared once.
  void Begin(bool immediate);
  void Commit();
  void Savepoint();
  void RollbackToSavepoint();  // undoes the savepoint's changes, keeps it
  void ReleaseSavepoint();
  // Rolls back the open transaction, if any. Never throws.
  void RollbackQuietly() noexcept;
  // Whether no transaction is open (SQLite may roll one back by itself
  // after an I/O error or a full disk).
  bool InAutocommit();

 private:
  enum Control {
    kBegin,
    kBeginImmediate,
    kCommit,
    kSavepoint,
    kRollbackTo,
    kRelease,
    kControlCount
  };
  void RunControl(Control control);

  SQLite::Database db_;  // declared first: the statements die before it
  std::array<std::unique_ptr<SQLite::Statement>, kMaxStatements> statements_;
  std::array<std::unique_ptr<SQLite::Statement>, kControlCount> control_;
};

// What a caller runs on a connection. It may throw SQLite::Exception; a
// non-Ok Status it returns undoes whatever it wrote.
using ConnectionWork = FunctionRef<Status(Connection&)>;

// Resets a statement and clears its bindings when the scope ends, normally
// or by an exception, so no statement stays active (an active statement
// holds back checkpoints and makes COMMIT fail).
class Query {
 public:
  explicit Query(SQLite::Statement& statement) : statement_(statement) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() {
    statement_.tryReset();
    statement_.clearBindings();
  }
  SQLite::Statement* operator->() { return &statement_; }
  SQLite::Statement& operator*() { return statement_; }

 private:
  SQLite::Statement& statement_;
};

// Wakes one waiting thread once. Unlike a condition variable it needs no
// shared mutex, so the writer can finish a batch of jobs without each woken
// caller contending for the queue's lock, and the waiter may destroy it as
// soon as Wait() returns (glibc's sem_post allows that).
class OneShotSignal {
 public:
  OneShotSignal() { sem_init(&semaphore_, 0, 0); }
  OneShotSignal(const OneShotSignal&) = delete;
  OneShotSignal& operator=(const OneShotSignal&) = delete;
  ~OneShotSignal() { sem_destroy(&semaphore_); }

  void Post() { sem_post(&semaphore_); }
  void Wait() {
    while (sem_wait(&semaphore_) != 0) {
      // EINTR: a signal arrived; keep waiting
    }
  }

 private:
  sem_t semaphore_;
};

// The one write connection and how writes reach it. Run() blocks until the
// work is committed (durable, for a file database) or has failed; then its
// Status is final.
//
// A write that finds the connection idle and nobody waiting runs at once on
// its caller's thread, in a transaction of its own: a lone request pays no
// hand-off to another thread (two wake-ups, 0.1-0.2 ms on a loaded machine).
// A write that finds it busy queues; the writer thread then runs every write
// that is waiting in one transaction, each in its own savepoint, and commits
// once, so concurrent writers share one fsync.
class GroupCommit {
 public:
  // At most this many writes share one transaction, which bounds how long
  // the first of them waits for the others.
  static constexpr size_t kMaxBatch = 256;

  // Work to do on the connection between two transactions, off the request
  // path: `due` (may be empty) says whether there is some, `run` does it on
  // the writer thread once no write is running.
  struct Upkeep {
    std::function<bool()> due;
    std::function<void(Connection&)> run;
  };

  GroupCommit(std::unique_ptr<Connection> connection, Upkeep upkeep);
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;
  // Finishes the work already queued, then stops the thread.
  ~GroupCommit();

  // Runs `work` inside a write transaction; if it throws or returns an
  // error, only its own changes are undone.
  Status Run(const char* operation, ConnectionWork work);

 private:
  // A caller's write, on the caller's stack until `finished` is posted.
  struct Job {
    Job(const char* op, ConnectionWork w)
        : operation(op), work(w), arrived(std::chrono::steady_clock::now()) {}
    const char* operation;
    ConnectionWork work;
    // A write waits for a lock held elsewhere at most kBusyTimeoutMs from
    // here, however many batches were before it.
    std::chrono::steady_clock::time_point arrived;
    Status status = Status::Ok();  // written by the writer before `finished`
    OneShotSignal finished;
  };

  // Runs `work` at once on this thread if the connection is idle and no
  // write is waiting, and sets *ran; otherwise runs nothing, *ran = false.
  Status RunIfIdle(const char* operation, ConnectionWork work, bool* ran);
  void Loop();
  // Runs one job's work on the connection; what it throws becomes its status.
  void RunJob(Job& job);
  // Runs the jobs in as few transactions as it can (one, unless a failure
  // ends one early) and sets each job's final status. The caller holds the
  // connection (busy_).
  void RunBatch(Job* const* jobs, size_t count);
  // After a write on the caller's thread: hands the connection back and
  // wakes the writer thread if writes queued meanwhile or upkeep is due.
  void ReleaseAfterInline();

  const std::unique_ptr<Connection> connection_;
  const Upkeep upkeep_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job*> waiting_;  // guarded by mu_
  bool busy_ = false;         // a thread is using connection_; guarded by mu_
  bool upkeep_due_ = false;   // guarded by mu_
  bool stopping_ = false;     // guarded by mu_
  std::thread thread_;        // started last, in the constructor body
};

// A bounded set of read-only connections, opened when first needed.
class ReaderPool {
 public:
  ReaderPool(std::string path, size_t size);
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  // Runs `work` on a free connection, waiting for one if all are busy.
  // With `snapshot`, in one read transaction, so that several statements
  // see the same database; without, each statement is its own (cheaper for
  // a single statement).
  Status Run(const char* operation, ConnectionWork work, bool snapshot);

 private:
  std::unique_ptr<Connection> Acquire(Status* status);
  void Release(std::unique_ptr<Connection> connection);

  const std::string path_;
  const size_t size_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  size_t opened_ = 0;                              // guarded by mu_
};

// Keeps the WAL near kCheckpointPages pages without a checkpoint inside any
// commit. SQLite's automatic checkpoint runs in whichever commit crosses the
// threshold (5-8 ms here, copying every page and syncing the database);
// instead:
// 1. the writer's WAL hook wakes a thread of ours, which copies the bulk of
//    the WAL into the database with a PASSIVE checkpoint on a connection of
//    its own, while writes go on;
// 2. that cannot empty the WAL while writes go on (the frames written
//    meanwhile remain, and SQLite starts the WAL over only when a write
//    begins with every frame copied), so the writer thread then copies the
//    few frames left, between two batches, after answering the first one
//    (CatchUp). The next write starts the WAL over.
class Checkpointer {
 public:
  static constexpr int kCheckpointPages = 1000;  // SQLite's own default

  explicit Checkpointer(std::unique_ptr<Connection> connection);
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  ~Checkpointer();

  // Installs the WAL hook on the writer's connection, in place of SQLite's
  // automatic checkpoint (itself a WAL hook). Call before the writer's
  // connection is in use.
  void WatchWriter(Connection& writer);

  // Step 2, on the writer's thread and connection, outside a transaction:
  // a no-op unless a background checkpoint finished since the last call.
  void CatchUp(Connection& writer);
  // Whether CatchUp has something to do.
  bool CatchUpDue() const { return catch_up_.load(); }

  // A full checkpoint that also empties the WAL, for a clean shutdown.
  Status Truncate();

 private:
  static int OnCommit(void* self, sqlite3* db, const char* name, int pages);
  void Loop();

  const std::unique_ptr<Connection> connection_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  std::atomic<bool> catch_up_{false};
  std::mutex connection_mu_;  // one user of connection_ at a time
  std::thread thread_;
};

}  // namespace webhooks

#endif  // WEBHOOKS_STORE_SQLITE_CONNECTIONS_H_
