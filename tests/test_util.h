// Test helpers shared by the suites, one copy each: status assertions, the
// API's paths and slugs, text and random values, request bodies, JSON
// fields read back, temporary folders and files, and ServerProcess, which
// runs the real webhooks-server binary. Raw connections are in raw_http.h;
// signatures, made independently of the server's code, in signer.h.

#ifndef WEBHOOKS_TESTS_TEST_UTIL_H_
#define WEBHOOKS_TESTS_TEST_UTIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <random>
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

// Memory bounds do not hold under ASan (shadow memory, quarantine): the
// tests that measure memory skip the bound, and some run fewer rounds.
#ifdef WEBHOOKS_SANITIZED
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// ===========================================================================
// The API's paths and names
// ===========================================================================

// The endpoints collection (create and list), under both prefixes.
inline constexpr char kCreatePath[] = "/api/v3.1/webhook_endpoints";
inline constexpr char kCreatePathV3[] = "/api/v3/webhook_endpoints";
// Slack's two setup fields.
inline constexpr char kSigning[] = "webhook_signing_secret";
inline constexpr char kAppToken[] = "app_token";
// Error slugs.
inline constexpr char kValidation[] = "WebhookEndpoint_ValidationError";
inline constexpr char kNotFound[] = "WebhookEndpoint_NotFound";
inline constexpr char kNotConfigured[] = "WebhookIngress_NotConfigured";

// ===========================================================================
// Text
// ===========================================================================

inline bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

inline bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline std::string Lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

inline std::string Upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

inline std::string Repeat(std::string_view text, size_t times) {
  std::string out;
  out.reserve(text.size() * times);
  for (size_t i = 0; i < times; ++i) out += text;
  return out;
}

// `text` with every `from` replaced by `to`.
inline std::string ReplaceAll(std::string text, const std::string& from,
                              const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

// ===========================================================================
// Random values
// ===========================================================================

inline constexpr char kLowerHex[] = "0123456789abcdef";
inline constexpr char kAlphanumeric[] = "abcdefghijklmnopqrstuvwxyz0123456789";

// `length` characters drawn from `alphabet`.
inline std::string RandomText(size_t length, std::string_view alphabet) {
  std::random_device random;
  std::string out;
  for (size_t i = 0; i < length; ++i)
    out += alphabet[random() % alphabet.size()];
  return out;
}

// A key nobody else uses: in local mode, a project of the test's own.
// `prefix` tells the suites' keys apart in a log.
inline std::string RandomKey(std::string_view prefix = "test_",
                             std::string_view alphabet = kLowerHex) {
  return std::string(prefix) + RandomText(32, alphabet);
}

// An id of the valid format that (with overwhelming odds) names nothing.
inline std::string RandomEndpointId() {
  return "we_" +
         RandomText(12,
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789_-");
}

// ===========================================================================
// Files
// ===========================================================================

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

inline bool WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

// A field of /proc/<pid>/status ("VmRSS", "VmHWM"), in KiB; -1 if
// unreadable.
inline long StatusKib(pid_t pid, std::string_view field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0 && line.size() > field.size() &&
        line[field.size()] == ':') {
      return std::stol(line.substr(field.size() + 1));
    }
  }
  return -1;
}

// ===========================================================================
// Requests
// ===========================================================================

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

// A Slack Events API event_callback with this event_id.
inline std::string SlackEvent(const std::string& event_id,
                              const std::string& text = "hello") {
  return R"({"token":"XXYYZZ","team_id":"T123ABC456","api_app_id":)"
         R"("A123ABC456","event":{"type":"message","channel":"C123ABC456",)"
         R"("user":"U123ABC456","text":)" +
         JsonString(text) +
         R"(,"ts":"1515449522.000016"},"type":"event_callback","event_id":)" +
         JsonString(event_id) + R"(,"event_time":1515449522})";
}

// The ingress path of endpoint `id` of `toolkit`, under `prefix`
// ("/api/v3.1/" or its "/api/v3/" twin).
inline std::string IngressPathFor(const std::string& toolkit,
                                  const std::string& id,
                                  const std::string& prefix = "/api/v3.1/") {
  return prefix + "webhook_ingress/" + toolkit + "/" + id + "/trigger_event";
}

inline httplib::Headers KeyHeaders(const std::string& key) {
  return {{"x-api-key", key}};
}

// ===========================================================================
// Answers
// ===========================================================================

// The media type of a Content-Type value, lower-cased, without parameters.
inline std::string MediaType(const std::string& content_type) {
  std::string media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  return Lower(media);
}

inline std::vector<std::string> SortedKeys(
    const simdjson::dom::object& object) {
  std::vector<std::string> keys;
  for (auto field : object) keys.emplace_back(field.key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// The string reached from the root of `json` through the object keys of
// `path` (outermost first), if there is one.
inline std::optional<std::string> StringAt(
    const std::string& json, std::initializer_list<const char*> path) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element element;
  if (parser.parse(padded).get(element) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  for (const char* key : path) {
    if (element[key].get(element) != simdjson::SUCCESS) return std::nullopt;
  }
  std::string_view value;
  if (element.get_string().get(value) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return std::string(value);
}

// A top-level string field of a JSON object, if there is one.
inline std::optional<std::string> StringField(const std::string& json,
                                              const char* name) {
  return StringAt(json, {name});
}

// A string field of the "error" object of an error envelope.
inline std::optional<std::string> ErrorField(const std::string& json,
                                             const char* name) {
  return StringAt(json, {"error", name});
}

// The "id" of every item of a list answer ({"items": [...], ...}); nullopt
// if `json` is not one.
inline std::optional<std::vector<std::string>> ParseItemIds(
    const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  simdjson::dom::array items;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS ||
      root["items"].get_array().get(items) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::vector<std::string> ids;
  for (simdjson::dom::element item : items) {
    std::string_view id;
    if (item["id"].get_string().get(id) == simdjson::SUCCESS) {
      ids.emplace_back(id);
    }
  }
  return ids;
}

// The same, empty if `json` is not a list answer.
inline std::vector<std::string> ItemIds(const std::string& json) {
  return ParseItemIds(json).value_or(std::vector<std::string>{});
}

// ===========================================================================
// The server binary
// ===========================================================================

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
    // https:// when the server speaks TLS (--tls-cert).
    if (line.rfind("listening on http://", 0) != 0 &&
        line.rfind("listening on https://", 0) != 0) {
      return false;
    }
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

// Runs the server binary to its exit, keeping standard output and error
// apart (RunToExit drops standard error): for the commands and refused
// starts.
struct Ran {
  int exit_code = -1;  // -1: killed after 20 s, or not run
  std::string out;
  std::string err;
};

// Runs the binary to its exit with `args` and, besides this process's
// environment without its WEBHOOKS_* variables, `env` ("NAME=value"; the
// first of a name counts). Standard output and error are kept apart.
inline Ran RunBinary(const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {}) {
  Ran ran;
  TempDir logs;
  const std::string out_path = logs.File("out"), err_path = logs.File("err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> argv_strings = {ServerBinary()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("WEBHOOKS_", 0) != 0) {
      env_strings.push_back(*e);
    }
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc =
      ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return ran;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    pollfd none{-1, 0, 0};
    ::poll(&none, 1, 5);
  }
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ran.out = ReadFile(out_path);
  ran.err = ReadFile(err_path);
  return ran;
}

// Runs the server binary to completion (for --help): its exit code and
// standard output, bounded by a 10 s deadline.
struct Finished {
  int exit_code = -1;
  std::string out;
};

inline Finished RunToExit(const std::vector<std::string>& args) {
  Finished finished;
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return finished;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  std::vector<std::string> argv_strings = {ServerBinary()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc =
      ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    return finished;
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd pfd{out_pipe[0], POLLIN, 0};
    if (left.count() <= 0 ||
        ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    char chunk[4096];
    ssize_t n = ::read(out_pipe[0], chunk, sizeof(chunk));
    if (n <= 0) break;
    finished.out.append(chunk, static_cast<size_t>(n));
  }
  ::close(out_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  finished.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return finished;
}

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_TEST_UTIL_H_
