// The shared machinery of the fault suites of webhooks-server (issue 7,
// "Faults: nothing acknowledged is ever lost"): fault_kill_nine_test.cpp,
// fault_durability_order_test.cpp and fault_test.cpp. Each test runs the
// real binary over real HTTP on 127.0.0.1 and a real SQLite file: clients
// that create endpoints and send signed Slack events (NewClient, PostCreate,
// PostEvent, CreateSlackEndpoint), the test's own connection to that file,
// opened with the sqlite3 API as another process would (Database), and a
// process started with fork and exec that can change user, lead a process
// group and be awaited against a deadline (Child).

#ifndef WEBHOOKS_TESTS_FAULT_FAULT_FIXTURE_H_
#define WEBHOOKS_TESTS_FAULT_FAULT_FIXTURE_H_

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks::fault {

using testing::CreateBody;
using testing::IngressPathFor;
using testing::kCreatePath;
using testing::ReadFile;
using testing::ServerProcess;
using testing::SlackEvent;
using testing::SlackHeaders;
using testing::StringField;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

inline constexpr char kSlackSecret[] = "fault-test-slack-signing-secret-0123";
// The server's SQLite busy timeout, as the README states it.
inline constexpr std::chrono::seconds kBusyTimeout(5);
// Every request of these tests gives up after this, so none can hang a test.
inline constexpr std::chrono::seconds kRequestTimeout(5);

// ===========================================================================
// Helpers
// ===========================================================================

// At most the first ten problems, one per line, then how many were left.
inline std::string ProblemList(const std::vector<std::string>& problems) {
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
inline std::string Numbered(const std::string& name, int number) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%05d", number);
  return name + digits;
}

inline std::unique_ptr<httplib::Client> NewClient(
    int port, std::chrono::seconds timeout) {
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

inline httplib::Result PostCreate(httplib::Client& client,
                                  const std::string& key,
                                  const std::string& client_id) {
  return client.Post(kCreatePath, {{"x-api-key", key}},
                     CreateBody("slack", client_id), "application/json");
}

inline httplib::Result PostEvent(httplib::Client& client,
                                 const std::string& endpoint_id,
                                 const std::string& event_id) {
  const std::string body = SlackEvent(event_id);
  return client.Post(IngressPathFor("slack", endpoint_id),
                     SlackHeaders(kSlackSecret, body), body,
                     "application/json");
}

inline std::string Describe(const httplib::Result& result) {
  if (!result)
    return "no response (" + httplib::to_string(result.error()) + ")";
  return std::to_string(result->status) + " " + result->body;
}

// Creates a Slack endpoint for `client_id` and stores the signing secret on
// it, so that it accepts signed events. Returns its id, or "" after adding
// a failure.
inline std::string CreateSlackEndpoint(httplib::Client& client,
                                       const std::string& key,
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

}  // namespace webhooks::fault

#endif  // WEBHOOKS_TESTS_FAULT_FAULT_FIXTURE_H_
