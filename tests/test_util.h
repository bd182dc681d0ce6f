// Test helpers shared by the suites: status assertions, temporary folders,
// and ServerProcess, which runs the real webhooks-server binary.

#ifndef WEBHOOKS_TESTS_TEST_UTIL_H_
#define WEBHOOKS_TESTS_TEST_UTIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

extern char** environ;

#define ASSERT_OK(expr)                                           \
  do {                                                            \
    const ::webhooks::Status _status = (expr);                    \
    ASSERT_TRUE(_status.ok()) << #expr ": " << _status.message(); \
  } while (0)

#define EXPECT_OK(expr)                                           \
  do {                                                            \
    const ::webhooks::Status _status = (expr);                    \
    EXPECT_TRUE(_status.ok()) << #expr ": " << _status.message(); \
  } while (0)

namespace webhooks::testing {

// A fresh folder under the system's temporary folder, removed with its
// contents when the object goes.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "webhooks-test-XXXXXX")
            .string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// `text` as a JSON string literal, quotes included.
inline std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The body of a create request.
inline std::string CreateBody(std::string_view toolkit_slug,
                              std::string_view client_id) {
  return "{\"toolkit_slug\":" + JsonString(toolkit_slug) +
         ",\"client_id\":" + JsonString(client_id) + "}";
}

// {"data": {...}} with `fields` in this order.
inline std::string DataBody(
    const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "{\"data\":{";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ",";
    out += JsonString(fields[i].first) + ":" + JsonString(fields[i].second);
  }
  return out + "}}";
}

// The built server binary; CMake passes its path.
inline std::string ServerBinary() {
  if (const char* bin = std::getenv("WEBHOOKS_SERVER_BIN")) return bin;
  return WEBHOOKS_SERVER_BIN;
}

// Runs the real webhooks-server. Start() waits for the "listening on" line
// (never a sleep) and learns the port from it. Standard error goes to a
// file, readable with Stderr(). The process is stopped when the object goes.
class ServerProcess {
 public:
  ServerProcess() = default;
  // Runs `binary` instead of the server under test (a test-only build).
  explicit ServerProcess(std::string binary) : binary_(std::move(binary)) {}
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { Stop(); }

  // Starts the binary with `args`, plus `env` ("NAME=value") added to this
  // process's environment. Returns true once the server is listening; false
  // if it exited first or took over 10 s (ExitCode() and Stderr() tell why).
  bool Start(const std::vector<std::string>& args,
             const std::vector<std::string>& env = {}) {
    stderr_path_ = log_dir_.File("stderr.log");
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO,
                                     stderr_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> argv_strings = {binary_.empty() ? ServerBinary()
                                                             : binary_};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_strings) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string(*e).rfind("WEBHOOKS_", 0) != 0) env_strings.push_back(*e);
    }
    env_strings.insert(env_strings.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(),
                           envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    if (rc != 0) {
      ::close(out_pipe[0]);
      pid_ = -1;
      return false;
    }
    stdout_fd_ = out_pipe[0];
    std::string line;
    if (!ReadLine(std::chrono::seconds(10), &line)) return false;
    first_line_ = line;
    const std::string prefix = "listening on http://";
    if (line.rfind(prefix, 0) != 0) return false;
    size_t colon = line.rfind(':');
    port_ = std::stoi(line.substr(colon + 1));
    return true;
  }

  // Sends SIGTERM and waits for the process; returns its exit status as
  // waitpid reports it, or -1 if it was not running.
  int Stop() {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    Reap();
    return exit_status_;
  }

  // Waits for a process that exits on its own (a start-up failure).
  int Wait() {
    if (pid_ > 0) Reap();
    return exit_status_;
  }

  // The exit code if the process exited normally, else -1.
  int ExitCode() const {
    return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& first_line() const { return first_line_; }
  std::string Stderr() const { return ReadFile(stderr_path_); }
  // Waits up to `timeout` for `text` to appear on standard error. The
  // server's log is written by a thread of its own, so a line may land a
  // moment after the answer that caused it; once the process has exited,
  // Stderr() is complete. Returns whether the text appeared.
  bool WaitForStderr(std::string_view text, std::chrono::milliseconds timeout =
                                                std::chrono::seconds(5)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (Stderr().find(text) != std::string::npos) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      pollfd none{-1, 0, 0};
      ::poll(&none, 1, 10);
    }
  }
  std::string BaseUrl() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

 private:
  bool ReadLine(std::chrono::milliseconds timeout, std::string* line) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char c;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{stdout_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
      ssize_t n = ::read(stdout_fd_, &c, 1);
      if (n <= 0) return false;  // exited before printing the line
      if (c == '\n') return true;
      *line += c;
    }
  }

  void Reap() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_status_ = status;
    pid_ = -1;
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    stdout_fd_ = -1;
  }

  std::string binary_;  // empty: ServerBinary()
  TempDir log_dir_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int exit_status_ = -1;
  int port_ = 0;
  std::string first_line_;
};

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_TEST_UTIL_H_
