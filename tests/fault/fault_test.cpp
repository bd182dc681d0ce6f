// Fault tests of webhooks-server (issue 7, "Faults: nothing acknowledged is
// ever lost"), each against the real binary over real HTTP on 127.0.0.1 and
// a real SQLite file, which the tests also open with the sqlite3 API, as
// another process would, to see what is on disk:
// - kill -9 at 20 seeded random moments during creates and ingress events
//   from several client threads that retry with the same key: every write
//   that got a 2xx survives, each key has one row, integrity_check is ok;
// - the durability order, under strace: each 201 is written after a sync of
//   the WAL that followed a WAL write made after its request was read;
// - another process holding the write lock past the busy timeout: writes
//   answer 503 Storage_Unavailable with Retry-After instead of hanging, reads
//   go on, and writes succeed again once the lock is released;
// - start-up on a corrupt file, an unreadable folder or a directory: refused
//   within 2 s, with one line naming the path, the file left untouched;
// - standard error a pipe nobody reads: requests and SIGTERM still answered;
//   two stop signals back to back: one clean stop, checkpoint included.
// A full disk and exceptions inside hooks are in injected_fault_test.cpp.

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks {
namespace {

using testing::Contains;
using testing::CreateBody;
using testing::EndsWith;
using testing::IngressPathFor;
using testing::kCreatePath;
using testing::kSanitized;
using testing::RandomKey;
using testing::ReadFile;
using testing::ServerBinary;
using testing::ServerProcess;
using testing::SlackEvent;
using testing::SlackHeaders;
using testing::StringField;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr char kSlackSecret[] = "fault-test-slack-signing-secret-0123";
// The server's SQLite busy timeout, as the README states it.
constexpr std::chrono::seconds kBusyTimeout(5);
// Every request of these tests gives up after this, so none can hang a test.
constexpr std::chrono::seconds kRequestTimeout(5);

// ===========================================================================
// Helpers
// ===========================================================================

// At most the first ten problems, one per line, then how many were left.
std::string ProblemList(const std::vector<std::string>& problems) {
  std::string out;
  for (size_t i = 0; i < problems.size() && i < 10; ++i) {
    out += "\n  " + problems[i];
  }
  if (problems.size() > 10) {
    out += "\n  (" + std::to_string(problems.size() - 10) + " more)";
  }
  return out;
}

// `name` and a zero-padded number: fixed width, so that no name is a prefix
// of another when searched for in a trace.
std::string Numbered(const std::string& name, int number) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%05d", number);
  return name + digits;
}

std::unique_ptr<httplib::Client> NewClient(int port,
                                           std::chrono::seconds timeout) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  const auto seconds = static_cast<time_t>(timeout.count());
  client->set_connection_timeout(seconds);
  client->set_read_timeout(seconds);
  client->set_write_timeout(seconds);
  client->set_keep_alive(true);
  // httplib writes a request's headers and body apart: without this, Nagle
  // holds the body back until the server's delayed ACK, 40 ms a request.
  client->set_tcp_nodelay(true);
  return client;
}

httplib::Result PostCreate(httplib::Client& client, const std::string& key,
                           const std::string& client_id) {
  return client.Post(kCreatePath, {{"x-api-key", key}},
                     CreateBody("slack", client_id), "application/json");
}

httplib::Result PostEvent(httplib::Client& client,
                          const std::string& endpoint_id,
                          const std::string& event_id) {
  const std::string body = SlackEvent(event_id);
  return client.Post(IngressPathFor("slack", endpoint_id),
                     SlackHeaders(kSlackSecret, body), body,
                     "application/json");
}

std::string Describe(const httplib::Result& result) {
  if (!result)
    return "no response (" + httplib::to_string(result.error()) + ")";
  return std::to_string(result->status) + " " + result->body;
}

// Creates a Slack endpoint for `client_id` and stores the signing secret on
// it, so that it accepts signed events. Returns its id, or "" after adding
// a failure.
std::string CreateSlackEndpoint(httplib::Client& client, const std::string& key,
                                const std::string& client_id) {
  auto created = PostCreate(client, key, client_id);
  if (!created || created->status != 201) {
    ADD_FAILURE() << "create " << client_id << ": " << Describe(created);
    return "";
  }
  const std::string id = StringField(created->body, "id").value_or("");
  auto patched =
      client.Patch(std::string(kCreatePath) + "/" + id, {{"x-api-key", key}},
                   std::string(R"({"data":{"webhook_signing_secret":")") +
                       kSlackSecret + R"("}})",
                   "application/json");
  if (!patched || patched->status != 200) {
    ADD_FAILURE() << "set the signing secret: " << Describe(patched);
    return "";
  }
  return id;
}

// A connection of the test's own to the server's database file, opened as
// another process would open it (read-write, never creating the file).
class Database {
 public:
  explicit Database(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) !=
        SQLITE_OK) {
      error_ = sqlite3_errmsg(db_);
      return;
    }
    sqlite3_busy_timeout(db_, static_cast<int>(kBusyTimeout.count() * 1000));
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() { sqlite3_close(db_); }  // a no-op on null

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  bool Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) ==
        SQLITE_OK) {
      return true;
    }
    error_ = sql + ": " + (message != nullptr ? message : "?");
    sqlite3_free(message);
    return false;
  }

  // Every row of `sql`, each column as text (NULL as ""). Sets error() and
  // returns what it read if a step fails.
  std::vector<std::vector<std::string>> Rows(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) !=
        SQLITE_OK) {
      error_ = sql + ": " + sqlite3_errmsg(db_);
      return rows;
    }
    int step;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(statement); ++i) {
        const unsigned char* text = sqlite3_column_text(statement, i);
        row.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text)
                                         : "");
      }
      rows.push_back(std::move(row));
    }
    if (step != SQLITE_DONE) error_ = sql + ": " + sqlite3_errmsg(db_);
    sqlite3_finalize(statement);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string error_;
};

// A process started with fork and exec. Unlike ServerProcess it can run the
// program as another user and as the leader of its own process group (so a
// signal reaches both strace and the server it runs), and its exit is
// awaited against a deadline (through a pidfd), so a test can bound how
// long a refusal takes. Killed and reaped when the object goes.
class Child {
 public:
  struct Options {
    std::optional<uid_t> uid;  // run as this user and group (needs root)
    gid_t gid = 0;
    bool own_process_group = false;
    // Appended to ASAN_OPTIONS (later options win).
    std::string asan_options;
    // Standard error to a pipe this object holds open and never reads (as a
    // careless test harness does) instead of a file; Stderr() is then empty.
    bool stderr_to_unread_pipe = false;
  };

  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      Signal(SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    if (unread_stderr_fd_ >= 0) ::close(unread_stderr_fd_);
    if (pidfd_ >= 0) ::close(pidfd_);
  }

  // Exit status 126: the user could not be changed; 127: exec failed. Both
  // say why on standard error.
  bool Start(std::vector<std::string> argv, const Options& options) {
    stderr_path_ = log_dir_.File("stderr.log");
    // Everything the child uses is built before fork: the child of a
    // multi-threaded process may only make async-signal-safe calls.
    std::vector<char*> args;
    for (std::string& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    std::string asan_options = "ASAN_OPTIONS=";
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view variable = *e;
      if (variable.rfind("ASAN_OPTIONS=", 0) == 0) {
        asan_options = variable;
      } else if (variable.rfind("WEBHOOKS_", 0) != 0) {
        env_strings.emplace_back(variable);
      }
    }
    if (!options.asan_options.empty()) {
      asan_options += ":" + options.asan_options;
    }
    env_strings.push_back(asan_options);
    std::vector<char*> env;
    for (std::string& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    static constexpr char kNoUser[] = "fault_test: cannot change user\n";
    static constexpr char kNoExec[] = "fault_test: cannot execute\n";

    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return false;
    int err = -1;
    if (options.stderr_to_unread_pipe) {
      int unread[2];
      if (::pipe2(unread, O_CLOEXEC) == 0) {
        unread_stderr_fd_ = unread[0];
        err = unread[1];
      }
    } else {
      err = ::open(stderr_path_.c_str(),
                   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    const pid_t pid = err < 0 ? -1 : ::fork();
    if (pid == 0) {
      if (options.own_process_group) ::setpgid(0, 0);
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      if (options.uid &&
          (::setgroups(0, nullptr) != 0 || ::setgid(options.gid) != 0 ||
           ::setuid(*options.uid) != 0)) {
        (void)!::write(STDERR_FILENO, kNoUser, sizeof(kNoUser) - 1);
        ::_exit(126);
      }
      ::execve(args[0], args.data(), env.data());
      (void)!::write(STDERR_FILENO, kNoExec, sizeof(kNoExec) - 1);
      ::_exit(127);
    }
    ::close(out[1]);
    if (err >= 0) ::close(err);
    if (pid < 0) {
      ::close(out[0]);
      return false;
    }
    // Also here, so that no signal to the group can precede the child's own
    // setpgid.
    if (options.own_process_group) ::setpgid(pid, pid);
    pid_ = pid;
    own_process_group_ = options.own_process_group;
    stdout_fd_ = out[0];
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    return pidfd_ >= 0;
  }

  // One line of standard output, without its newline; false if none came
  // by `deadline` (or the process closed its output first).
  bool ReadLine(Clock::time_point deadline, std::string* line) {
    char c;
    for (;;) {
      if (!WaitReadable(stdout_fd_, deadline)) return false;
      if (::read(stdout_fd_, &c, 1) != 1) return false;
      if (c == '\n') return true;
      *line += c;
    }
  }

  // True once the process has exited (it is then reaped); false if it still
  // runs at `deadline`.
  bool WaitUntil(Clock::time_point deadline) {
    if (pid_ <= 0) return true;
    if (!WaitReadable(pidfd_, deadline)) return false;
    ::waitpid(pid_, &status_, 0);
    pid_ = -1;
    return true;
  }

  void Signal(int number) {
    if (pid_ > 0) ::kill(own_process_group_ ? -pid_ : pid_, number);
  }

  bool exited() const { return pid_ < 0 && WIFEXITED(status_); }
  int exit_code() const {
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  std::string Stderr() const { return ReadFile(stderr_path_); }

 private:
  static bool WaitReadable(int fd, Clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) return false;
    }
  }

  TempDir log_dir_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int stdout_fd_ = -1;
  int unread_stderr_fd_ = -1;  // the read end of that pipe, kept open
  int status_ = -1;
  bool own_process_group_ = false;
};

// ===========================================================================
// kill -9 during writes
// ===========================================================================

// What the clients were told, and what they ever sent.
struct Ledger {
  std::map<std::string, std::string> created;  // client id -> endpoint id
  std::set<std::string> events;                // event ids answered 200
  std::set<std::string> sent_client_ids;
  std::set<std::string> sent_event_ids;
};

// Checks the database file against the ledger: the file passes SQLite's
// integrity and foreign key checks, every create that got a 2xx is there
// with the id it was answered with, every event that got a 200 is there,
// each create triple and each event id has one row, and no row holds a key
// no client sent. `setup_client_ids` are endpoints made before the faults.
// Returns the problems found.
std::vector<std::string> CheckDatabase(
    const std::string& path, const Ledger& ledger,
    const std::set<std::string>& setup_client_ids) {
  std::vector<std::string> problems;
  Database db(path);
  if (!db.ok() || !db.Exec("BEGIN")) return {"cannot read: " + db.error()};
  const auto integrity = db.Rows("PRAGMA integrity_check");
  if (integrity != std::vector<std::vector<std::string>>{{"ok"}}) {
    std::string report;
    for (const auto& row : integrity) report += row.at(0) + "; ";
    problems.push_back("integrity_check: " + report);
  }
  if (!db.Rows("PRAGMA foreign_key_check").empty()) {
    problems.push_back("foreign_key_check found dangling rows");
  }
  // Client ids are unique across the test's projects: one row per client
  // id is one row per (project, toolkit, client id).
  std::map<std::string, std::vector<std::string>> ids_by_client;
  for (const auto& row :
       db.Rows("SELECT client_id, id FROM webhook_endpoints")) {
    ids_by_client[row.at(0)].push_back(row.at(1));
  }
  for (const auto& [client_id, ids] : ids_by_client) {
    if (ids.size() > 1) {
      problems.push_back("client id " + client_id + " has " +
                         std::to_string(ids.size()) + " rows");
    }
    if (ledger.sent_client_ids.count(client_id) == 0 &&
        setup_client_ids.count(client_id) == 0) {
      problems.push_back("a row for client id " + client_id +
                         ", which no client sent");
    }
  }
  for (const auto& [client_id, id] : ledger.created) {
    auto found = ids_by_client.find(client_id);
    if (found == ids_by_client.end()) {
      problems.push_back("acknowledged create " + client_id + " (" + id +
                         ") is missing");
    } else if (std::find(found->second.begin(), found->second.end(), id) ==
               found->second.end()) {
      problems.push_back("acknowledged create " + client_id + " was " + id +
                         ", the file has " + found->second.front());
    }
  }
  std::set<std::string> stored_events;
  for (const auto& row :
       db.Rows("SELECT provider_event_id, COUNT(*) FROM webhook_events "
               "GROUP BY endpoint_id, provider_event_id")) {
    if (row.at(1) != "1") {
      problems.push_back("event " + row.at(0) + " has " + row.at(1) + " rows");
    }
    if (!stored_events.insert(row.at(0)).second) {
      problems.push_back("event " + row.at(0) + " is stored twice");
    }
    if (ledger.sent_event_ids.count(row.at(0)) == 0) {
      problems.push_back("an event " + row.at(0) + ", which no client sent");
    }
  }
  for (const std::string& event : ledger.events) {
    if (stored_events.count(event) == 0) {
      problems.push_back("acknowledged event " + event + " is missing");
    }
  }
  if (!db.error().empty()) problems.push_back("reading: " + db.error());
  db.Exec("COMMIT");
  return problems;
}

// What the client threads and the killing loop share, guarded by `mu`.
struct CrashState {
  std::mutex mu;
  std::condition_variable changed;
  // False from just before a kill until the restarted server is checked:
  // clients wait meanwhile, and a failure while it is true is unexpected.
  bool serving = true;
  bool stopping = false;
  int generation = 0;  // one per server process
  int port = 0;
  int acknowledged_in_generation = 0;
  int retries = 0;
  int clients_finished = 0;
  std::vector<std::string> unexpected_failures;
  Ledger ledger;
};

struct CrashClientPlan {
  int index = 0;
  std::string api_key;
  std::string endpoint_id;  // where its events go
  int operations = 0;       // alternately a create and an event
};

std::string CrashClientId(int client, int operation) {
  return Numbered("crash-c" + std::to_string(client) + "-", operation);
}
std::string CrashEventId(int client, int operation) {
  return Numbered("Ev-c" + std::to_string(client) + "-", operation);
}

// One client: each operation is sent until it gets a 2xx, on a fresh
// connection after any failure, and with the same key every time.
void RunCrashClient(const CrashClientPlan& plan, CrashState* state) {
  constexpr size_t kMaxUnexpectedFailures = 20;
  std::unique_ptr<httplib::Client> client;
  int client_generation = -1;
  for (int op = 0; op < plan.operations; ++op) {
    const bool create = op % 2 == 0;
    const std::string name =
        create ? CrashClientId(plan.index, op) : CrashEventId(plan.index, op);
    {
      std::lock_guard<std::mutex> lock(state->mu);
      (create ? state->ledger.sent_client_ids : state->ledger.sent_event_ids)
          .insert(name);
    }
    for (;;) {
      int generation;
      {
        std::unique_lock<std::mutex> lock(state->mu);
        state->changed.wait(lock,
                            [&] { return state->serving || state->stopping; });
        if (state->stopping) return;
        generation = state->generation;
        if (client_generation != generation) {
          client = NewClient(state->port, kRequestTimeout);
          client_generation = generation;
        }
      }
      httplib::Result result = create
                                   ? PostCreate(*client, plan.api_key, name)
                                   : PostEvent(*client, plan.endpoint_id, name);
      std::string endpoint_id;
      bool acknowledged = result && result->status / 100 == 2;
      if (acknowledged && create) {
        endpoint_id = StringField(result->body, "id").value_or("");
        acknowledged = !endpoint_id.empty();
      }
      std::lock_guard<std::mutex> lock(state->mu);
      if (acknowledged) {
        if (create) {
          state->ledger.created.emplace(name, endpoint_id);
        } else {
          state->ledger.events.insert(name);
        }
        if (generation == state->generation) {
          ++state->acknowledged_in_generation;
        }
        state->changed.notify_all();
        break;
      }
      ++state->retries;
      client_generation = -1;  // retry on a new connection
      if (state->serving && generation == state->generation) {
        state->unexpected_failures.push_back(name + ": " + Describe(result));
        if (state->unexpected_failures.size() >= kMaxUnexpectedFailures) {
          state->stopping = true;
          state->changed.notify_all();
          return;
        }
      }
    }
  }
  std::lock_guard<std::mutex> lock(state->mu);
  ++state->clients_finished;
  state->changed.notify_all();
}

// Stops and joins the client threads, however the test ends.
class CrashClients {
 public:
  explicit CrashClients(CrashState* state) : state_(state) {}
  CrashClients(const CrashClients&) = delete;
  CrashClients& operator=(const CrashClients&) = delete;
  ~CrashClients() { Join(); }

  void Start(const CrashClientPlan& plan) {
    threads_.emplace_back(RunCrashClient, std::cref(plan), state_);
  }
  void Join() {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->stopping = true;
    }
    state_->changed.notify_all();
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  CrashState* const state_;
  std::vector<std::thread> threads_;
};

uint64_t CrashSeed() {
  if (const char* seed = std::getenv("WEBHOOKS_FAULT_SEED")) {
    return std::strtoull(seed, nullptr, 10);
  }
  return std::random_device()();
}

// Kills the server with SIGKILL each time the clients have had a random
// number of writes acknowledged (drawn from a seeded generator, printed;
// WEBHOOKS_FAULT_SEED=N repeats the draws), restarts it on the same file,
// and checks the file before the clients go on. A killed process leaves
// what it wrote in the OS's cache, so this proves the order of commit and
// answer and the idempotency keys, not the sync (FaultDurabilityOrder does).
TEST(FaultKillNine, EveryAcknowledgedWriteSurvivesTwentyKills) {
  constexpr int kClients = 4;
  constexpr int kKills = 20;
  // Alternately creates and events: 5000 of each (2000 under sanitizers).
  constexpr int kOperationsPerClient = kSanitized ? 1000 : 2500;
  constexpr int kOperations = kClients * kOperationsPerClient;
  const uint64_t seed = CrashSeed();
  std::printf(
      "[ seed     ] %llu (WEBHOOKS_FAULT_SEED=%llu repeats the kills)\n",
      static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::seconds(kSanitized ? 240 : 90);

  TempDir dir;
  const std::string db = dir.File("crash.db");
  // A count far above the writes: retention must not delete events.
  const std::vector<std::string> args = {
      "--port",    "0",           "--db", db, "--event-retention",
      "100000000", "--log-level", "warn"};
  auto server = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server->Start(args)) << server->Stderr();

  std::vector<CrashClientPlan> plans(kClients);
  std::set<std::string> setup_client_ids;
  for (int i = 0; i < kClients; ++i) {
    plans[i].index = i;
    plans[i].api_key = RandomKey("fault_");
    plans[i].operations = kOperationsPerClient;
    const std::string client_id = "crash-ingress-" + std::to_string(i);
    setup_client_ids.insert(client_id);
    auto client = NewClient(server->port(), kRequestTimeout);
    plans[i].endpoint_id =
        CreateSlackEndpoint(*client, plans[i].api_key, client_id);
    ASSERT_FALSE(plans[i].endpoint_id.empty());
  }

  CrashState state;
  state.port = server->port();
  CrashClients clients(&state);
  for (const CrashClientPlan& plan : plans) clients.Start(plan);

  // Each kill comes after 1 to kOperations / kKills - 1 acknowledgements,
  // so all 20 come before the clients run out of work.
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> acknowledgements_before_kill(
      1, kOperations / kKills - 1);
  int kills = 0;
  std::string stopped_early;
  while (kills < kKills && stopped_early.empty()) {
    const int target = acknowledgements_before_kill(random);
    {
      std::unique_lock<std::mutex> lock(state.mu);
      if (!state.changed.wait_until(lock, deadline, [&] {
            return state.acknowledged_in_generation >= target ||
                   state.clients_finished == kClients || state.stopping;
          })) {
        stopped_early = "the time limit passed";
        break;
      }
      if (state.stopping || state.clients_finished == kClients) {
        stopped_early = "the clients stopped";
        break;
      }
      state.serving = false;
    }
    ::kill(server->pid(), SIGKILL);
    const int status = server->Wait();
    ++kills;
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the server ended before kill " << kills << ": " << server->Stderr();
    server = std::make_unique<ServerProcess>();
    if (!server->Start(args)) {
      stopped_early =
          "restart " + std::to_string(kills) + " failed: " + server->Stderr();
      break;
    }
    Ledger told;
    {
      std::lock_guard<std::mutex> lock(state.mu);
      told = state.ledger;
    }
    const std::vector<std::string> problems =
        CheckDatabase(db, told, setup_client_ids);
    if (!problems.empty()) {
      stopped_early = "after kill " + std::to_string(kills) + " (" +
                      std::to_string(told.created.size()) + " creates and " +
                      std::to_string(told.events.size()) +
                      " events acknowledged):" + ProblemList(problems);
      break;
    }
    {
      std::lock_guard<std::mutex> lock(state.mu);
      ++state.generation;
      state.port = server->port();
      state.acknowledged_in_generation = 0;
      state.serving = true;
    }
    state.changed.notify_all();
  }
  EXPECT_EQ(kills, kKills);
  if (!stopped_early.empty()) {
    clients.Join();  // before reading what they wrote
    FAIL() << "stopped: " << stopped_early
           << "\nfailures while the server was up:"
           << ProblemList(state.unexpected_failures);
  }

  // The rest of the work, on the last server.
  {
    std::unique_lock<std::mutex> lock(state.mu);
    state.changed.wait_until(lock, deadline, [&] {
      return state.clients_finished == kClients || state.stopping;
    });
  }
  clients.Join();
  EXPECT_TRUE(state.unexpected_failures.empty())
      << "failures while the server was up:"
      << ProblemList(state.unexpected_failures);
  EXPECT_EQ(state.clients_finished, kClients);
  EXPECT_EQ(state.ledger.created.size(), size_t{kOperations / 2});
  EXPECT_EQ(state.ledger.events.size(), size_t{kOperations / 2});
  const int stopped = server->Stop();
  EXPECT_TRUE(WIFEXITED(stopped) && WEXITSTATUS(stopped) == 0)
      << server->Stderr();
  const std::vector<std::string> problems =
      CheckDatabase(db, state.ledger, setup_client_ids);
  EXPECT_TRUE(problems.empty()) << "at the end:" << ProblemList(problems);
  std::printf(
      "[ summary  ] %d kills, %zu creates and %zu events acknowledged, %d "
      "retries, %.1f s\n",
      kills, state.ledger.created.size(), state.ledger.events.size(),
      state.retries,
      std::chrono::duration<double>(Clock::now() - started).count());
}

// ===========================================================================
// The durability order, under strace
// ===========================================================================

// The full path of `program` found on PATH, or "".
std::string FindProgram(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    const std::string candidate =
        std::string(dirs.substr(0, colon)) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    dirs = colon == std::string_view::npos ? "" : dirs.substr(colon + 1);
  }
  return "";
}

// One system call from the log of `strace -f -yy`, its two halves joined
// when another thread's call came between them (strace then prints
// "<unfinished ...>" and later "<... name resumed>"). strace handles one
// stop at a time and a traced thread waits at each stop until strace has
// printed it, so the order of the log's lines is the order of the events:
// a call whose return is printed before another's start returned before
// that one started.
struct Syscall {
  size_t start = 0;  // line where it started
  size_t end = 0;    // line where it returned
  std::string name;
  std::string fd;    // what -yy printed for the first argument: a path or
                     // "TCP:[local->peer]"
  std::string text;  // the call as printed, data included
  long long result = -1;
};

std::vector<Syscall> ParseStraceLog(const std::string& log) {
  std::vector<Syscall> calls;
  std::map<std::string, Syscall> unfinished;  // by thread id
  static constexpr std::string_view kUnfinished = " <unfinished ...>";
  size_t line_number = 0;
  size_t begin = 0;
  while (begin < log.size()) {
    size_t newline = log.find('\n', begin);
    if (newline == std::string::npos) newline = log.size();
    const std::string line = log.substr(begin, newline - begin);
    begin = newline + 1;
    ++line_number;
    // "<thread id> <time> <call>", the id padded with spaces to a width.
    const size_t id_end = line.find(' ');
    const size_t time_start = line.find_first_not_of(' ', id_end);
    const size_t time_end = line.find(' ', time_start);
    const size_t call_start = line.find_first_not_of(' ', time_end);
    if (call_start == std::string::npos) continue;
    const std::string thread = line.substr(0, id_end);
    std::string rest = line.substr(call_start);
    if (rest.rfind("+++", 0) == 0 || rest.rfind("---", 0) == 0) continue;
    Syscall call;
    if (rest.rfind("<... ", 0) == 0) {
      auto started = unfinished.find(thread);
      const size_t resumed = rest.find(" resumed>");
      if (started == unfinished.end() || resumed == std::string::npos) continue;
      call = started->second;
      unfinished.erase(started);
      call.text += rest.substr(resumed + std::string_view(" resumed>").size());
    } else {
      call.start = line_number;
      call.text = rest;
      if (rest.size() >= kUnfinished.size() &&
          rest.compare(rest.size() - kUnfinished.size(), kUnfinished.size(),
                       kUnfinished) == 0) {
        call.text.resize(rest.size() - kUnfinished.size());
        unfinished[thread] = call;
        continue;
      }
    }
    call.end = line_number;
    const size_t paren = call.text.find('(');
    if (paren == std::string::npos) continue;
    call.name = call.text.substr(0, paren);
    size_t p = paren + 1;
    while (p < call.text.size() && call.text[p] >= '0' && call.text[p] <= '9') {
      ++p;
    }
    if (p < call.text.size() && call.text[p] == '<') {
      // A socket's annotation contains "->", so it ends at "]>".
      const bool socket = call.text.compare(p + 1, 4, "TCP:") == 0;
      const size_t annotation_end =
          socket ? call.text.find("]>", p) + 1 : call.text.find('>', p);
      if (annotation_end != std::string::npos && annotation_end > p) {
        call.fd = call.text.substr(p + 1, annotation_end - p - 1);
      }
    }
    const size_t equals = call.text.rfind(" = ");
    if (equals != std::string::npos) {
      call.result = std::strtoll(call.text.c_str() + equals + 3, nullptr, 10);
    }
    calls.push_back(std::move(call));
  }
  return calls;
}

bool IsSocketWrite(const Syscall& call, const std::string& connection) {
  return call.fd == connection &&
         (call.name == "sendto" || call.name == "write" ||
          call.name == "writev" || call.name == "sendmsg");
}

// A create as the client saw it: its 201 carried `endpoint_id`. `alone`:
// no other request was in flight while it was.
struct ObservedCreate {
  std::string client_id;
  std::string endpoint_id;
  bool alone = false;
};

// For each create, from the trace: R, the read of its request (the recvfrom
// holding its client id); W, the first write on that connection after R,
// which must be the 201 carrying its id. Required: a write to the WAL that
// started after R returned, then a successful fdatasync/fsync of the WAL
// that started after that write returned and returned before W started.
// The row cannot have been written before its request was read, so this is
// a sync of a WAL that may hold the row; which frames it holds strace
// cannot show. For a create that was alone, every WAL write between R and W
// must be followed by such a sync before W: nothing written for it was left
// unsynced when it was answered. Returns the problems found.
std::vector<std::string> CheckDurabilityOrder(
    const std::vector<Syscall>& calls,
    const std::vector<ObservedCreate>& creates, const std::string& wal) {
  std::vector<std::string> problems;
  std::vector<const Syscall*> wal_writes, wal_syncs;
  for (const Syscall& call : calls) {
    if (!EndsWith(call.fd, wal)) continue;
    if (call.name == "pwrite64" || call.name == "write" ||
        call.name == "pwritev" || call.name == "writev") {
      if (call.result > 0) wal_writes.push_back(&call);
    } else if ((call.name == "fdatasync" || call.name == "fsync") &&
               call.result == 0) {
      wal_syncs.push_back(&call);
    }
  }
  if (wal_writes.empty()) return {"no write to " + wal + " in the trace"};
  // A sync of the WAL that started after `after` and returned before
  // `before` (line numbers), if any.
  auto synced_between = [&](size_t after, size_t before) {
    return std::any_of(wal_syncs.begin(), wal_syncs.end(),
                       [&](const Syscall* sync) {
                         return sync->start > after && sync->end < before;
                       });
  };
  for (const ObservedCreate& create : creates) {
    const std::string needle = create.client_id + "\\\"";  // as strace quotes
    auto request =
        std::find_if(calls.begin(), calls.end(), [&](const Syscall& c) {
          return c.name == "recvfrom" && c.result > 0 &&
                 Contains(c.text, needle);
        });
    if (request == calls.end()) {
      problems.push_back(create.client_id +
                         ": its request is not in the trace");
      continue;
    }
    const std::string connection = request->fd;
    auto response = std::find_if(request, calls.end(), [&](const Syscall& c) {
      return IsSocketWrite(c, connection) && c.start > request->end;
    });
    if (response == calls.end() || !Contains(response->text, "HTTP/1.1 201")) {
      problems.push_back(create.client_id +
                         ": no 201 after its request (line " +
                         std::to_string(request->end) + ")");
      continue;
    }
    auto next_write = std::find_if(
        response + 1, calls.end(),
        [&](const Syscall& c) { return IsSocketWrite(c, connection); });
    if (!Contains(response->text, create.endpoint_id) &&
        (next_write == calls.end() ||
         !Contains(next_write->text, create.endpoint_id))) {
      problems.push_back(create.client_id + ": the 201 at line " +
                         std::to_string(response->start) + " is not for " +
                         create.endpoint_id);
      continue;
    }
    bool synced = false;
    bool unsynced_write = false;
    for (const Syscall* wal_write : wal_writes) {
      if (wal_write->start <= request->end ||
          wal_write->end >= response->start) {
        continue;
      }
      if (synced_between(wal_write->end, response->start)) {
        synced = true;
      } else {
        unsynced_write = true;
      }
    }
    if (!synced) {
      problems.push_back(
          create.client_id + " (" + create.endpoint_id +
          "): its 201 was written (line " + std::to_string(response->start) +
          ") with no WAL sync after a WAL write that followed its request "
          "(line " +
          std::to_string(request->end) + ")");
    } else if (create.alone && unsynced_write) {
      problems.push_back(create.client_id + " (" + create.endpoint_id +
                         "): its 201 was written (line " +
                         std::to_string(response->start) +
                         ") before a sync of the WAL written for it");
    }
  }
  return problems;
}

TEST(FaultDurabilityOrder, EachCreateIsAnsweredAfterItsWalWriteIsSynced) {
  const std::string strace = FindProgram("strace");
  if (strace.empty()) {
    GTEST_SKIP() << "strace is not installed (scripts/install-deps.sh "
                    "--for-tests installs it)";
  }
  const auto generous = Clock::now() + std::chrono::seconds(30);
  {
    Child probe;
    ASSERT_TRUE(
        probe.Start({strace, "-f", "-o", "/dev/null", "/bin/true"}, {}));
    ASSERT_TRUE(probe.WaitUntil(generous));
    if (probe.exit_code() != 0) {
      GTEST_SKIP() << "ptrace is not permitted here: " << probe.Stderr();
    }
  }
  TempDir dir;
  const std::string db = dir.File("durable.db");
  const std::string trace = dir.File("trace.log");
  Child server;
  Child::Options group;
  group.own_process_group = true;
  group.asan_options = "detect_leaks=0";  // LeakSanitizer fails under ptrace
  // -yy names each descriptor (file path, or TCP addresses) at each call;
  // -s 1024 keeps requests and responses whole.
  ASSERT_TRUE(server.Start(
      {strace, "-f", "-tt", "-yy", "-s", "1024", "-e",
       "trace=fdatasync,fsync,pwrite64,recvfrom,sendto,write,writev", "-o",
       trace, ServerBinary(), "--port", "0", "--db", db, "--log-level", "warn"},
      group));
  std::string line;
  ASSERT_TRUE(server.ReadLine(generous, &line)) << server.Stderr();
  ASSERT_EQ(line.rfind("listening on http://", 0), 0u) << line;
  const int port = std::stoi(line.substr(line.rfind(':') + 1));
  const std::string key = RandomKey("fault_");

  // The key's first use registers its project, a write of its own: it is
  // left out of the checks.
  auto client = NewClient(port, kRequestTimeout);
  auto warm_up = PostCreate(*client, key, "durable-warm-up");
  ASSERT_TRUE(warm_up && warm_up->status == 201) << Describe(warm_up);

  constexpr int kSequential = 24;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 8;
  std::mutex mu;
  std::vector<ObservedCreate> creates;
  std::vector<std::string> failures;
  auto create = [&](httplib::Client& with, const std::string& client_id,
                    bool alone) {
    auto result = PostCreate(with, key, client_id);
    std::lock_guard<std::mutex> lock(mu);
    if (!result || result->status != 201) {
      failures.push_back(client_id + ": " + Describe(result));
      return;
    }
    creates.push_back(
        {client_id, StringField(result->body, "id").value_or(""), alone});
  };
  for (int i = 0; i < kSequential; ++i) {
    create(*client, Numbered("durable-s", i), /*alone=*/true);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto own = NewClient(port, kRequestTimeout);
      for (int i = 0; i < kPerThread; ++i) {
        create(*own, Numbered("durable-t" + std::to_string(t) + "-", i),
               /*alone=*/false);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(failures.empty()) << ProblemList(failures);

  // SIGTERM to the group: strace -o FILE ignores it, the server stops
  // cleanly, and strace exits after it with the trace complete.
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.WaitUntil(Clock::now() + std::chrono::seconds(30)));
  EXPECT_EQ(server.exit_code(), 0) << server.Stderr();
  const std::vector<Syscall> calls = ParseStraceLog(ReadFile(trace));
  ASSERT_EQ(creates.size(), size_t{kSequential + kThreads * kPerThread});
  const std::vector<std::string> problems =
      CheckDurabilityOrder(calls, creates, "durable.db-wal");
  EXPECT_TRUE(problems.empty())
      << problems.size() << " of " << creates.size()
      << " creates answered without a WAL sync after their request:"
      << ProblemList(problems);
  std::printf("[ summary  ] %zu creates checked against %zu traced calls\n",
              creates.size(), calls.size());
}

// ===========================================================================
// Another process holds the write lock
// ===========================================================================

// A 503 Storage_Unavailable in the error envelope, with Retry-After, and
// nothing of SQLite or of the file in it.
void ExpectStorageUnavailable(const httplib::Result& result,
                              const std::string& db_path) {
  ASSERT_TRUE(result) << "no answer within the busy timeout + 3 s: "
                      << Describe(result);
  EXPECT_EQ(result->status, 503) << result->body;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(result->body);
  simdjson::dom::object error;
  ASSERT_EQ(parser.parse(padded)["error"].get_object().get(error),
            simdjson::SUCCESS)
      << result->body;
  std::string_view slug, request_id;
  int64_t status = 0;
  EXPECT_EQ(error["slug"].get_string().get(slug), simdjson::SUCCESS);
  EXPECT_EQ(slug, "Storage_Unavailable") << result->body;
  EXPECT_EQ(error["status"].get_int64().get(status), simdjson::SUCCESS);
  EXPECT_EQ(status, 503);
  EXPECT_EQ(error["request_id"].get_string().get(request_id),
            simdjson::SUCCESS);
  EXPECT_EQ(request_id, result->get_header_value("x-request-id"));
  EXPECT_GE(std::atoi(result->get_header_value("Retry-After").c_str()), 1)
      << "Retry-After: '" << result->get_header_value("Retry-After") << "'";
  for (const char* leak : {"sqlite", "SQLITE", "locked", "BEGIN"}) {
    EXPECT_FALSE(Contains(result->body, leak)) << result->body;
  }
  EXPECT_FALSE(Contains(result->body, db_path)) << result->body;
}

// Reads the endpoint and /readyz over and over, on a thread of its own,
// until stopped, and counts how they went; `during` counts reads that began
// and ended while one write was waiting.
class ReadProbe {
 public:
  ReadProbe(int port, std::string key, std::string endpoint_id)
      : port_(port), key_(std::move(key)), path_(kCreatePath) {
    path_ += "/" + endpoint_id;
    thread_ = std::thread([this] { Run(); });
  }
  ReadProbe(const ReadProbe&) = delete;
  ReadProbe& operator=(const ReadProbe&) = delete;
  ~ReadProbe() { Stop(); }

  void WriteStarted() { ++writes_started_; }
  void WriteFinished() { ++writes_finished_; }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int ok() const { return ok_; }
  int during() const { return during_; }
  const std::vector<std::string>& failures() const { return failures_; }

 private:
  void Run() {
    auto client = NewClient(port_, kBusyTimeout + std::chrono::seconds(3));
    while (!stop_ && failures_.size() < 10) {
      const int started = writes_started_, finished = writes_finished_;
      auto endpoint = client->Get(path_, {{"x-api-key", key_}});
      auto ready = client->Get("/readyz");
      if (!endpoint || endpoint->status != 200 || !ready ||
          ready->status != 200) {
        failures_.push_back("endpoint: " + Describe(endpoint) +
                            "; readyz: " + Describe(ready));
        client = NewClient(port_, kBusyTimeout + std::chrono::seconds(3));
        continue;
      }
      ++ok_;
      if (started > finished && started == writes_started_ &&
          finished == writes_finished_) {
        ++during_;
      }
    }
  }

  const int port_;
  const std::string key_;
  std::string path_;
  std::atomic<bool> stop_{false};
  std::atomic<int> writes_started_{0};
  std::atomic<int> writes_finished_{0};
  // Written by the probe's thread only; read after Stop().
  int ok_ = 0;
  int during_ = 0;
  std::vector<std::string> failures_;
  std::thread thread_;  // last: starts once the rest is built
};

// One write at a time while the test holds the lock (BEGIN IMMEDIATE on its
// own connection) for longer than the server's busy timeout: a create and
// an ingress event each answer 503 (the client waits at most the busy
// timeout and 3 s), reads keep answering 200, and once the lock is released
// the same writes succeed, without a restart.
TEST(FaultWriteLock,
     WritesAnswer503WhileAnotherProcessHoldsTheLockThenRecover) {
  TempDir dir;
  const std::string db = dir.File("locked.db");
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--port", "0", "--db", db, "--log-level", "error"}))
      << server.Stderr();
  const std::string key = RandomKey("fault_");
  auto client = NewClient(server.port(), kRequestTimeout);
  const std::string endpoint_id =
      CreateSlackEndpoint(*client, key, "locked-existing");
  ASSERT_FALSE(endpoint_id.empty());

  auto holder = std::make_unique<Database>(db);
  ASSERT_TRUE(holder->ok()) << holder->error();
  ASSERT_TRUE(holder->Exec("BEGIN IMMEDIATE")) << holder->error();
  const auto locked_at = Clock::now();
  ReadProbe reads(server.port(), key, endpoint_id);
  const auto write_client =
      NewClient(server.port(), kBusyTimeout + std::chrono::seconds(3));
  reads.WriteStarted();
  const auto create_started = Clock::now();
  httplib::Result create = PostCreate(*write_client, key, "locked-new");
  const auto create_took = Clock::now() - create_started;
  reads.WriteFinished();
  reads.WriteStarted();
  httplib::Result event = PostEvent(*write_client, endpoint_id, "Ev-locked");
  reads.WriteFinished();
  reads.Stop();
  const auto held_for = Clock::now() - locked_at;

  ExpectStorageUnavailable(create, db);
  ExpectStorageUnavailable(event, db);
  EXPECT_GT(reads.during(), 0) << "no read completed while a write waited";
  EXPECT_TRUE(reads.failures().empty())
      << "reads failed during the lock:" << ProblemList(reads.failures());
  ASSERT_TRUE(holder->Exec("COMMIT")) << holder->error();
  holder.reset();

  auto created = PostCreate(*client, key, "locked-new");
  ASSERT_TRUE(created) << Describe(created);
  EXPECT_EQ(created->status, 201)
      << "the 503 stored something: " << created->body;
  auto stored = PostEvent(*client, endpoint_id, "Ev-locked");
  ASSERT_TRUE(stored) << Describe(stored);
  EXPECT_EQ(stored->status, 200) << stored->body;
  auto another = PostCreate(*client, key, "locked-after");
  ASSERT_TRUE(another) << Describe(another);
  EXPECT_EQ(another->status, 201) << another->body;
  Database check(db);
  ASSERT_TRUE(check.ok()) << check.error();
  EXPECT_EQ(check.Rows("SELECT COUNT(*) FROM webhook_endpoints WHERE "
                       "client_id = 'locked-new'"),
            (std::vector<std::vector<std::string>>{{"1"}}));
  EXPECT_EQ(check.Rows("SELECT COUNT(*) FROM webhook_events WHERE "
                       "provider_event_id = 'Ev-locked'"),
            (std::vector<std::vector<std::string>>{{"1"}}));
  std::printf(
      "[ summary  ] lock held %.1f s; the create's answer took %.1f s; "
      "%d reads answered, %d of them while a write waited\n",
      std::chrono::duration<double>(held_for).count(),
      std::chrono::duration<double>(create_took).count(), reads.ok(),
      reads.during());
}

// Writes wait in the writer thread's queue. A batch that meets the held
// lock used to wait out the whole busy timeout before the next batch began
// a wait of its own, so a write sent meanwhile answered only after up to
// twice the timeout (10.0 s measured; found by this suite). Each write now
// waits at most one busy timeout from its arrival.
TEST(FaultWriteLock, ConcurrentWritesAlsoAnswerWithinTheBusyTimeout) {
  TempDir dir;
  const std::string db = dir.File("locked.db");
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--port", "0", "--db", db, "--log-level", "error"}))
      << server.Stderr();
  const std::string key = RandomKey("fault_");
  auto registered = PostCreate(*NewClient(server.port(), kRequestTimeout), key,
                               "registers-the-key");
  ASSERT_TRUE(registered && registered->status == 201) << Describe(registered);
  Database holder(db);
  ASSERT_TRUE(holder.Exec("BEGIN IMMEDIATE")) << holder.error();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2;
  std::mutex mu;
  std::vector<std::string> late;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client =
          NewClient(server.port(), kBusyTimeout + std::chrono::seconds(3));
      for (int i = 0; i < kPerThread; ++i) {
        const std::string client_id =
            Numbered("concurrent-" + std::to_string(t) + "-", i);
        const auto started = Clock::now();
        auto result = PostCreate(*client, key, client_id);
        const double took =
            std::chrono::duration<double>(Clock::now() - started).count();
        if (!result || result->status != 503) {
          std::lock_guard<std::mutex> lock(mu);
          late.push_back(client_id + " after " + std::to_string(took) +
                         " s: " + Describe(result));
          client =
              NewClient(server.port(), kBusyTimeout + std::chrono::seconds(3));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(late.empty())
      << "writes not answered 503 within the busy timeout + 3 s:"
      << ProblemList(late);
  holder.Exec("ROLLBACK");
}

// ===========================================================================
// Start-up on a file it must not use
// ===========================================================================

constexpr std::chrono::seconds kRefusalBound(2);

// A file's or folder's content and modification time, to show that a
// refused start-up changed nothing.
struct FileState {
  bool exists = false;
  std::string content;  // for a folder: its entries' names
  int64_t mtime_ns = 0;
};

// "" if `after` is `before`, else what changed.
std::string Changes(const FileState& before, const FileState& after) {
  std::string changes;
  if (before.exists != after.exists) changes += "existence; ";
  if (before.content != after.content) {
    changes += "content (" + std::to_string(before.content.size()) + " -> " +
               std::to_string(after.content.size()) + " bytes); ";
  }
  if (before.mtime_ns != after.mtime_ns) changes += "modification time; ";
  return changes;
}

FileState StateOf(const std::string& path) {
  FileState state;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return state;
  state.exists = true;
  state.mtime_ns =
      int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec;
  if (S_ISDIR(info.st_mode)) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) state.content += name + "\n";
  } else {
    state.content = ReadFile(path);
  }
  return state;
}

// Sets the modification time back to 2001 (10^9 s after the epoch), so that
// any write shows, however coarse the file system's clock.
void AgeFile(const std::string& path) {
  const timespec times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

// Starts the server on `db_path` and expects it to give up within 2 s: an
// exit (not a signal) with a non-zero code, and one line on standard error
// that names the path and says the database cannot be opened.
void ExpectStartUpRefused(const std::string& db_path,
                          const Child::Options& options = {}) {
  Child server;
  const auto started = Clock::now();
  ASSERT_TRUE(
      server.Start({ServerBinary(), "--port", "0", "--db", db_path}, options));
  const bool exited = server.WaitUntil(started + kRefusalBound);
  const double took =
      std::chrono::duration<double>(Clock::now() - started).count();
  ASSERT_TRUE(exited) << "still running " << took
                      << " s after start; stderr: " << server.Stderr();
  EXPECT_TRUE(server.exited()) << "ended by a signal";
  EXPECT_NE(server.exit_code(), 0);
  const std::string log = server.Stderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_EQ(log.rfind("webhooks-server: ", 0), 0u) << log;
  EXPECT_TRUE(Contains(log, "'" + db_path + "'")) << log;
  EXPECT_TRUE(Contains(log, "cannot open database")) << log;
  std::printf("[ refused  ] in %.3f s, exit %d: %s", took, server.exit_code(),
              log.c_str());
}

// A database made by the server itself: one endpoint, stopped cleanly (the
// WAL folded into the file).
void MakeDatabase(const std::string& path) {
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--port", "0", "--db", path})) << server.Stderr();
  auto client = NewClient(server.port(), kRequestTimeout);
  auto created = PostCreate(*client, RandomKey("fault_"), "before-the-damage");
  ASSERT_TRUE(created && created->status == 201) << Describe(created);
  ASSERT_EQ(server.Stop(), 0) << server.Stderr();
}

TEST(FaultStartUp, RefusesAFileThatIsNotADatabaseAndLeavesItAlone) {
  TempDir dir;
  const std::string db = dir.File("garbage.db");
  std::mt19937 random(7);
  std::string garbage(8192, '\0');
  for (char& c : garbage) c = static_cast<char>(random() & 0xff);
  std::ofstream(db, std::ios::binary) << garbage;
  ASSERT_NO_FATAL_FAILURE(AgeFile(db));
  const FileState file = StateOf(db), folder = StateOf(dir.path());
  ExpectStartUpRefused(db);
  EXPECT_EQ(Changes(file, StateOf(db)), "");
  EXPECT_EQ(StateOf(dir.path()).content, folder.content) << "files appeared";
}

// A real database with one page overwritten (the first bytes of the
// endpoints table's root page): SQLite opens it, the server's check must
// refuse it before anything is written.
TEST(FaultStartUp, RefusesADatabaseWithADamagedPageAndLeavesItAlone) {
  TempDir dir;
  const std::string db = dir.File("damaged.db");
  ASSERT_NO_FATAL_FAILURE(MakeDatabase(db));
  long long page_size = 0, root_page = 0;
  {
    Database reader(db);
    ASSERT_TRUE(reader.ok()) << reader.error();
    page_size = std::stoll(reader.Rows("PRAGMA page_size").at(0).at(0));
    root_page =
        std::stoll(reader
                       .Rows("SELECT rootpage FROM sqlite_master WHERE name = "
                             "'webhook_endpoints'")
                       .at(0)
                       .at(0));
  }
  {
    std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp((root_page - 1) * page_size);
    file << std::string(16, '\xff');
    ASSERT_TRUE(file.good());
  }
  ASSERT_NO_FATAL_FAILURE(AgeFile(db));
  const FileState file = StateOf(db), folder = StateOf(dir.path());
  ExpectStartUpRefused(db);
  EXPECT_EQ(Changes(file, StateOf(db)), "");
  EXPECT_EQ(StateOf(dir.path()).content, folder.content) << "files appeared";
}

// The folder of the database made unreadable (mode 000). Root ignores
// permissions, so as root the server runs as "nobody", which owns the
// folder: a first start shows it can use the folder, then the chmod alone
// makes the difference.
TEST(FaultStartUp, RefusesAnUnreadableFolderAndLeavesTheFileAlone) {
  TempDir dir;
  const std::string folder = dir.File("data");
  const std::string db = folder + "/webhooks.db";
  ASSERT_EQ(::mkdir(folder.c_str(), 0700), 0);
  Child::Options as_user;
  if (::geteuid() == 0) {
    const passwd* nobody = ::getpwnam("nobody");
    if (nobody == nullptr) {
      GTEST_SKIP() << "running as root, which ignores folder permissions, "
                      "and there is no user 'nobody' to run the server as";
    }
    as_user.uid = nobody->pw_uid;
    as_user.gid = nobody->pw_gid;
    ASSERT_EQ(::chmod(dir.path().c_str(), 0711), 0);  // nobody may pass
    ASSERT_EQ(::chown(folder.c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  }
  {
    Child server;
    ASSERT_TRUE(
        server.Start({ServerBinary(), "--port", "0", "--db", db}, as_user));
    std::string line;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    if (!server.ReadLine(deadline, &line)) {
      server.WaitUntil(deadline);
      if (server.exit_code() == 126 || server.exit_code() == 127) {
        GTEST_SKIP() << "cannot run the server as 'nobody': "
                     << server.Stderr();
      }
      FAIL() << "the server does not start on a readable folder: "
             << server.Stderr();
    }
    server.Signal(SIGTERM);
    ASSERT_TRUE(server.WaitUntil(Clock::now() + std::chrono::seconds(10)));
    ASSERT_EQ(server.exit_code(), 0) << server.Stderr();
  }
  ASSERT_NO_FATAL_FAILURE(AgeFile(db));
  const FileState file = StateOf(db), listing = StateOf(folder);
  ASSERT_EQ(::chmod(folder.c_str(), 0), 0);
  if (!as_user.uid && ::access(folder.c_str(), R_OK | X_OK) == 0) {
    ::chmod(folder.c_str(), 0700);
    GTEST_SKIP() << "this process ignores folder permissions (a capability "
                    "such as CAP_DAC_OVERRIDE) and is not root";
  }
  ExpectStartUpRefused(db, as_user);
  ASSERT_EQ(::chmod(folder.c_str(), 0700), 0);
  EXPECT_EQ(Changes(file, StateOf(db)), "");
  EXPECT_EQ(StateOf(folder).content, listing.content) << "files appeared";
}

TEST(FaultStartUp, RefusesAPathThatIsADirectoryAndLeavesItAlone) {
  TempDir dir;
  const std::string db = dir.File("folder.db");
  ASSERT_EQ(::mkdir(db.c_str(), 0700), 0);
  ASSERT_NO_FATAL_FAILURE(AgeFile(db));
  const FileState target = StateOf(db), parent = StateOf(dir.path());
  ExpectStartUpRefused(db);
  EXPECT_EQ(Changes(target, StateOf(db)), "");
  EXPECT_EQ(StateOf(dir.path()).content, parent.content) << "files appeared";
}

// ===========================================================================
// Shutdown and the log
// ===========================================================================

// Starts `argv` and waits up to 10 s for its "listening on" line; sets
// *port from it.
bool StartListening(Child* server, std::vector<std::string> argv,
                    const Child::Options& options, int* port) {
  if (!server->Start(std::move(argv), options)) return false;
  std::string line;
  if (!server->ReadLine(Clock::now() + std::chrono::seconds(10), &line) ||
      line.rfind("listening on http://", 0) != 0) {
    return false;
  }
  *port = std::stoi(line.substr(line.rfind(':') + 1));
  return true;
}

// The value of the unlabelled sample `name` in Prometheus' text format, or
// -1 if there is none.
double UnlabelledSample(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

// Issue 11, item 7 (2026-12-02): a test harness that captured standard error
// and never read it hung the server after about 250 requests (the pipe was
// full and each request wrote its log line itself), and then SIGTERM did not
// stop it either (the shutdown message blocked too). Each request here gives
// up after kRequestTimeout, so the old behaviour fails the test, not hangs it.
TEST(FaultLogSink, AStderrPipeNobodyReadsStallsNeitherRequestsNorShutdown) {
  TempDir dir;
  Child server;
  Child::Options unread;
  unread.stderr_to_unread_pipe = true;
  int port = 0;
  ASSERT_TRUE(StartListening(
      &server, {ServerBinary(), "--port", "0", "--db", dir.File("log.db")},
      unread, &port));
  // A request's log line is about 230 bytes: 2,000 of them are seven times
  // what the pipe holds (64 KiB), and more than the server queues besides.
  constexpr int kRequests = 2000;
  auto client = NewClient(port, kRequestTimeout);
  int answered = 0;
  std::string failure;
  for (int i = 0; i < kRequests; ++i) {
    auto result = client->Get("/healthz");
    if (!result || result->status != 200) {
      failure = Describe(result);
      break;
    }
    ++answered;
  }
  EXPECT_EQ(answered, kRequests)
      << "request " << answered + 1 << " failed: " << failure;
  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200) << Describe(metrics);
  EXPECT_GT(UnlabelledSample(metrics->body, "webhooks_log_lines_dropped_total"),
            0)
      << metrics->body;
  client.reset();
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.WaitUntil(Clock::now() + std::chrono::seconds(15)))
      << "still running 15 s after SIGTERM";
  EXPECT_EQ(server.exit_code(), 0);
}

// Issue 11, item 8 (2026-12-02): `timeout` signals the whole process group, so
// the server may get SIGTERM twice almost at once; one start in six took the
// second as "exit now" and skipped the final checkpoint. Two stop signals
// that arrive together are one request to stop. Two different signals are
// both delivered even when pending together (two SIGTERMs may merge into
// one), so the mixed pairs show the rule on every run.
class FaultStopSignals : public ::testing::TestWithParam<std::pair<int, int>> {
};

TEST_P(FaultStopSignals, TwoSignalsTogetherAreOneCleanStop) {
  TempDir dir;
  const std::string db = dir.File("signals.db");
  Child server;
  int port = 0;
  ASSERT_TRUE(StartListening(
      &server, {ServerBinary(), "--port", "0", "--db", db}, {}, &port))
      << server.Stderr();
  constexpr int kCreates = 20;
  {
    auto client = NewClient(port, kRequestTimeout);
    const std::string key = RandomKey("fault_");
    for (int i = 0; i < kCreates; ++i) {
      auto created = PostCreate(*client, key, Numbered("signals-", i));
      ASSERT_TRUE(created && created->status == 201) << Describe(created);
    }
  }
  server.Signal(GetParam().first);
  server.Signal(GetParam().second);
  ASSERT_TRUE(server.WaitUntil(Clock::now() + std::chrono::seconds(15)))
      << server.Stderr();
  const std::string log = server.Stderr();
  EXPECT_EQ(server.exit_code(), 0) << log;
  EXPECT_TRUE(Contains(log, "stopped cleanly"));
  EXPECT_FALSE(Contains(log, "exiting now"));
  // The final checkpoint ran: everything is in the database file itself.
  const std::string wal = db + "-wal";
  EXPECT_TRUE(!std::filesystem::exists(wal) ||
              std::filesystem::file_size(wal) == 0);
  Database reader(db);
  ASSERT_TRUE(reader.ok()) << reader.error();
  EXPECT_EQ(
      reader.Rows("SELECT COUNT(*) FROM webhook_endpoints"),
      (std::vector<std::vector<std::string>>{{std::to_string(kCreates)}}));
}

INSTANTIATE_TEST_SUITE_P(
    BackToBack, FaultStopSignals,
    ::testing::Values(std::make_pair(SIGTERM, SIGINT),
                      std::make_pair(SIGINT, SIGTERM),
                      std::make_pair(SIGTERM, SIGTERM)),
    [](const ::testing::TestParamInfo<std::pair<int, int>>& tested) {
      auto name = [](int number) {
        return number == SIGINT ? std::string("Sigint")
                                : std::string("Sigterm");
      };
      return name(tested.param.first) + "Then" + name(tested.param.second);
    });

}  // namespace
}  // namespace webhooks
