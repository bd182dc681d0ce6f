// The throw-away PostgreSQL cluster of the test command, as tests see it.
// CTest starts it with scripts/pg-scratch (fixture "postgres") and gives
// its folder in $WEBHOOKS_TEST_PG_DIR; $WEBHOOKS_TEST_PG_URI, if set, names
// another server instead. Without either, the tests that need a server
// fail, not skip: a skipped suite would hide a backend that no longer works.

#ifndef WEBHOOKS_TESTS_PG_CLUSTER_H_
#define WEBHOOKS_TESTS_PG_CLUSTER_H_

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "store/postgres_connection.h"

namespace webhooks::testing {

inline std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The cluster's folder ("" if not configured).
inline std::string ClusterDir() {
  const char* dir = std::getenv("WEBHOOKS_TEST_PG_DIR");
  return dir ? dir : "";
}

inline std::string ClusterUri() {
  const char* uri = std::getenv("WEBHOOKS_TEST_PG_URI");
  if (uri && *uri) return uri;
  if (ClusterDir().empty()) return "";
  return ReadLine(ClusterDir() + "/uri");
}

// The URI with a password in its user-info (the cluster trusts local
// connections and ignores it), to show that no message leaks it.
inline std::string WithPassword(const std::string& uri,
                                const std::string& password) {
  std::string out = uri;
  size_t at = out.find('@');
  if (at != std::string::npos) out.insert(at, ":" + password);
  return out;
}

// The highest installed PostgreSQL's programs, as pg-scratch finds them.
inline std::string PostgresBin() {
  std::string best;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string bin = entry.path().string() + "/bin";
    if (std::filesystem::exists(bin + "/pg_ctl") && bin > best) best = bin;
  }
  return best;
}

// Runs pg_ctl `action` (with --wait) on the cluster in `dir`: "restart",
// "stop" or "start". Fast mode: sessions are terminated. The log goes to
// the cluster's file, not to our stdout, which a server we started would
// otherwise hold open.
inline bool ControlCluster(const std::string& dir, const std::string& action) {
  std::string command = PostgresBin() + "/pg_ctl --pgdata='" + dir +
                        "/data' --log='" + dir + "/server.log' --mode=fast " +
                        "--wait " + action + " >/dev/null 2>&1";
  if (::geteuid() == 0) command = "runuser -u postgres -- " + command;
  return std::system(command.c_str()) == 0;
}

// A cluster of one test's own (scripts/pg-scratch, about 1.6 s to start),
// for what must not happen to the shared one: a restart, a stop. Stopped
// and deleted when destroyed. CMake compiles in the script's path
// (WEBHOOKS_PG_SCRATCH_SCRIPT).
class PrivateCluster {
 public:
  PrivateCluster() {
    static std::atomic<int> counter{0};
    // Under /tmp: the postgres user must be able to reach the folder.
    dir_ = "/tmp/webhooks-pg-" + std::to_string(::getpid()) + "-" +
           std::to_string(++counter);
    script_ = WEBHOOKS_PG_SCRATCH_SCRIPT;
    const std::string command =
        "'" + script_ + "' start '" + dir_ + "' >/dev/null";
    if (std::system(command.c_str()) == 0) uri_ = ReadLine(dir_ + "/uri");
  }
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;
  ~PrivateCluster() {
    if (script_.empty()) return;
    const std::string command =
        "'" + script_ + "' stop '" + dir_ + "' >/dev/null 2>&1";
    (void)std::system(command.c_str());
  }

  // "" if it did not start (no script, or pg-scratch failed).
  const std::string& uri() const { return uri_; }
  bool Restart() const { return ControlCluster(dir_, "restart"); }
  bool Stop() const { return ControlCluster(dir_, "stop"); }
  bool Start() const { return ControlCluster(dir_, "start"); }

 private:
  std::string dir_;
  std::string script_;
  std::string uri_;
};

// A URI for a fresh, empty schema of the cluster's database, made now: the
// cluster URI with search_path set to it, so every table a store creates
// lives there. Each conformance test gets its own; the cluster is thrown
// away at the end. "" (and a failure added by the caller) if it cannot be
// made.
inline std::string FreshSchemaUri(const std::string& prefix = "t") {
  static std::atomic<int> counter{0};
  const std::string uri = ClusterUri();
  if (uri.empty()) return "";
  const std::string schema = prefix + "_" + std::to_string(::getpid()) + "_" +
                             std::to_string(++counter);
  std::unique_ptr<postgres_internal::Connection> admin;
  if (!postgres_internal::Connection::Open(uri, &admin).ok()) return "";
  if (!admin->Run(("CREATE SCHEMA " + schema).c_str()).ok()) return "";
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") +
         "options=-csearch_path%3D" + schema;
}

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_PG_CLUSTER_H_
