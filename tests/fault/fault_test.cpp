// Fault tests of webhooks-server (issue 7, "Faults: nothing acknowledged is
// ever lost") from its surroundings, each against the real binary over real
// HTTP on 127.0.0.1 and a real SQLite file, through the machinery in
// fault_fixture.h:
// - another process holding the write lock past the busy timeout: writes
//   answer 503 Storage_Unavailable with Retry-After instead of hanging, reads
//   go on, and writes succeed again once the lock is released;
// - start-up on a corrupt file, an unreadable folder or a directory: refused
//   within 2 s, with one line naming the path, the file left untouched;
// - standard error a pipe nobody reads: requests and SIGTERM still answered;
//   two stop signals back to back: one clean stop, checkpoint included.
// kill -9 during writes is in fault_kill_nine_test.cpp, the durability order
// under strace in fault_durability_order_test.cpp, and a full disk and
// exceptions inside hooks in injected_fault_test.cpp.

#include <gtest/gtest.h>
#include <httplib.h>
#include <pwd.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/fault/fault_fixture.h"
#include "tests/test_util.h"

namespace webhooks::fault {
namespace {

using testing::Contains;
using testing::RandomKey;
using testing::ServerBinary;

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
}  // namespace webhooks::fault
