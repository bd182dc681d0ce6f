// Black-box tests of the admin commands (keys, backup, check), run beside a
// serving binary on the same database.

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// keys, backup and check on a serving database
// ===========================================================================

class HttpAdminCommandTest : public HttpOperationsTest {
 protected:
  int StatusFor(const std::string& key) {
    auto result = Create(key, "admin-test");
    return result ? result->status : -1;
  }
  httplib::Result Create(const std::string& key, const std::string& client) {
    return CreateWithKey(key, CreateBody("slack", client));
  }
  // The id of the last key of `origin` ("admin", "config") that `keys list`
  // shows for this test's database; empty if none.
  std::string KeyIdOf(const std::string& origin) {
    Finished listed = RunToExit({"keys", "list", "--db", db_path()});
    EXPECT_EQ(listed.exit_code, 0);
    std::string key_id;
    for (size_t at = 0; at < listed.out.size();) {
      size_t end = listed.out.find('\n', at);
      std::string line = listed.out.substr(at, end - at);
      if (Contains(line, " " + origin + " ")) {
        key_id = line.substr(0, line.find(' '));
      }
      at = end == std::string::npos ? listed.out.size() : end + 1;
    }
    return key_id;
  }
};

TEST_F(HttpAdminCommandTest, KeysCreatedListedAndRevokedWhileServing) {
  EXPECT_EQ(StatusFor(key_), 201);  // local mode: any key

  Finished created =
      RunToExit({"keys", "create", "--project", "acme", "--db", db_path()});
  ASSERT_EQ(created.exit_code, 0);
  ASSERT_FALSE(created.out.empty());
  const std::string admin_key = created.out.substr(0, created.out.find('\n'));
  EXPECT_EQ(admin_key.rfind("whk_", 0), 0u) << created.out;
  EXPECT_EQ(created.out, admin_key + "\n");  // the key alone on stdout

  // From the next request on, only the admin key is accepted.
  EXPECT_EQ(StatusFor(admin_key), 201);
  EXPECT_EQ(StatusFor(key_), 401);
  EXPECT_EQ(StatusFor(RandomKey()), 401);

  Finished listed = RunToExit({"keys", "list", "--db", db_path()});
  ASSERT_EQ(listed.exit_code, 0);
  EXPECT_TRUE(Contains(listed.out, "acme"));
  EXPECT_TRUE(Contains(listed.out, "admin"));
  EXPECT_FALSE(Contains(listed.out, admin_key));
  EXPECT_FALSE(Contains(listed.out, key_));
  const std::string key_id = KeyIdOf("admin");
  ASSERT_EQ(key_id.rfind("key_", 0), 0u) << listed.out;

  EXPECT_EQ(RunToExit({"keys", "revoke", key_id, "--db", db_path()}).exit_code,
            0);
  auto revoked = Create(admin_key, "after-revoke");
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(revoked, 401, "HTTP_Unauthorized"));
  // Revoking every admin key does not reopen the server to any key.
  EXPECT_EQ(StatusFor(RandomKey()), 401);
  EXPECT_EQ(RunToExit({"keys", "revoke", key_id, "--db", db_path()}).exit_code,
            1);
  EXPECT_EQ(RunToExit({"keys", "frobnicate", "--db", db_path()}).exit_code, 2);
  EXPECT_EQ(RunToExit({"keys", "create", "--db", db_path()}).exit_code, 2);
  server_->Stop();  // the log is complete once the server has exited
  EXPECT_FALSE(Contains(server_->Stderr(), admin_key));
}

// Issue 17: `keys create --project NAME` used to add a key to any
// existing project of that name, silently. It now refuses (exit 2, naming
// --join), and --join adds the key to that project: the rotation of an
// admin key, endpoints intact.
TEST_F(HttpAdminCommandTest, KeysCreateRefusesAnExistingProjectUnlessJoin) {
  Finished first =
      RunToExit({"keys", "create", "--project", "acme", "--db", db_path()});
  ASSERT_EQ(first.exit_code, 0);
  const std::string old_key = first.out.substr(0, first.out.find('\n'));
  EXPECT_EQ(StatusFor(old_key), 201);
  const std::string old_id = KeyIdOf("admin");

  Ran again =
      RunBinary({"keys", "create", "--project", "acme", "--db", db_path()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_EQ(again.out, "");  // no key was made
  EXPECT_TRUE(Contains(again.err, "project named 'acme' exists")) << again.err;
  EXPECT_TRUE(Contains(again.err, "--join")) << again.err;
  Ran nowhere = RunBinary(
      {"keys", "create", "--project", "nobody", "--join", "--db", db_path()});
  EXPECT_EQ(nowhere.exit_code, 2);
  EXPECT_EQ(nowhere.out, "");
  EXPECT_TRUE(Contains(nowhere.err, "drop --join")) << nowhere.err;
  EXPECT_EQ(RunBinary({"keys", "list", "--join", "--db", db_path()}).exit_code,
            2);

  Ran joined = RunBinary(
      {"keys", "create", "--project", "acme", "--join", "--db", db_path()});
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  const std::string new_key = joined.out.substr(0, joined.out.find('\n'));
  ASSERT_EQ(RunToExit({"keys", "revoke", old_id, "--db", db_path()}).exit_code,
            0);
  // The endpoint made with the old key is the new key's (200: it exists).
  EXPECT_EQ(StatusFor(new_key), 200);
  EXPECT_EQ(StatusFor(old_key), 401);
  Finished listed = RunToExit({"keys", "list", "--db", db_path()});
  size_t projects = 0;
  for (size_t at = listed.out.find("acme"); at != std::string::npos;
       at = listed.out.find("acme", at + 1)) {
    ++projects;
  }
  EXPECT_EQ(projects, 2u) << listed.out;  // two keys, one project
}

// Issue 11, item 9 (2026-04): `keys revoke` of a key given at start-up
// printed "revoked" but the key went on working, because configured keys
// were accepted from memory before the database was asked.
TEST_F(HttpAdminCommandTest, RevokedStartUpKeyIsRefusedNowAndAfterARestart) {
  const std::string start_key = RandomKey();
  ASSERT_TRUE(StartServer({"--api-key", start_key}));
  EXPECT_EQ(StatusFor(start_key), 201);
  const std::string key_id = KeyIdOf("config");
  ASSERT_EQ(key_id.rfind("key_", 0), 0u);

  Finished revoked = RunToExit({"keys", "revoke", key_id, "--db", db_path()});
  ASSERT_EQ(revoked.exit_code, 0);
  EXPECT_EQ(revoked.out, "revoked " + key_id + "\n");
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(Create(start_key, "after"), 401,
                                              "HTTP_Unauthorized"));

  // Restarted with the revoked key still configured: it starts, says which
  // key to remove, refuses it, and is still in configured mode (no other
  // key works either).
  ASSERT_TRUE(StartServer({"--api-key", start_key}));
  const std::string log = server_->Stderr();
  EXPECT_TRUE(Contains(log, "warning: API key " + key_id)) << log;
  EXPECT_TRUE(Contains(log, "remove it")) << log;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(Create(start_key, "restarted"),
                                              401, "HTTP_Unauthorized"));
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(Create(RandomKey(), "other"), 401,
                                              "HTTP_Unauthorized"));
  EXPECT_EQ(StatusFor(key_), 401);
  server_->Stop();
  EXPECT_FALSE(Contains(server_->Stderr(), start_key));
}

TEST_F(HttpAdminCommandTest, BackupDuringWritesPassesCheckAndHoldsEveryAck) {
  constexpr int kThreads = 4;
  std::mutex mu;
  std::condition_variable enough;
  std::vector<std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      httplib::Client client = NewClient();
      for (int i = 0; i < 5000 && !stop; ++i) {
        auto result =
            client.Post(kCreatePath, {{"x-api-key", key_}},
                        CreateBody("slack", "b-" + std::to_string(t) + "-" +
                                                std::to_string(i)),
                        "application/json");
        if (!result || result->status != 201) continue;
        size_t at = result->body.find("\"id\":\"");
        std::lock_guard<std::mutex> lock(mu);
        acked.push_back(result->body.substr(at + 6, 15));
        enough.notify_all();
      }
    });
  }
  std::vector<std::string> before_backup;
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(enough.wait_for(lock, std::chrono::seconds(20),
                                [&] { return acked.size() >= 100; }));
    before_backup = acked;  // acknowledged before the backup began
  }
  const std::string copy = dir_.File("copy.db");
  Finished backup = RunToExit({"backup", "--db", db_path(), "--to", copy});
  stop = true;
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(backup.exit_code, 0) << backup.out;
  Finished check = RunToExit({"check", "--db", copy});
  EXPECT_EQ(check.exit_code, 0);
  EXPECT_TRUE(Contains(check.out, "ok"));

  // Serve the copy and find every endpoint acknowledged before the backup.
  ASSERT_TRUE(StartServerWithArgs({"--port", "0", "--db", copy}));
  std::vector<std::string> listed = ListedIds();
  std::sort(listed.begin(), listed.end());
  for (const std::string& id : before_backup) {
    EXPECT_TRUE(std::binary_search(listed.begin(), listed.end(), id)) << id;
  }
  EXPECT_GE(listed.size(), before_backup.size());
}

TEST_F(HttpAdminCommandTest, CheckFailsOnADamagedFileAndChangesNothing) {
  const std::string bad = dir_.File("bad.db");
  ASSERT_TRUE(WriteTextFile(bad, std::string(8192, 'x')));
  Finished check = RunToExit({"check", "--db", bad});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_TRUE(Contains(check.out, "damaged"));
  EXPECT_EQ(ReadFile(bad), std::string(8192, 'x'));
  EXPECT_EQ(RunToExit({"check", "--db", dir_.File("none.db")}).exit_code, 1);
  EXPECT_EQ(RunToExit({"backup", "--db", db_path()}).exit_code, 2);
}

// migrate on a SQLite file: a new file gets the whole schema (version 2),
// a second run finds nothing to do, and a server starts on the result.
TEST(AdminMigrate, SqliteFileMigratesOnceThenIsUpToDate) {
  TempDir dir;
  const std::string db = dir.File("data/migrated.db");
  Finished first = RunToExit({"migrate", "--db", db});
  EXPECT_EQ(first.exit_code, 0);
  EXPECT_EQ(first.out, db + ": schema version 3 (was 0)\n");
  Finished again = RunToExit({"migrate", "--db", db});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.out, db + ": schema version 3 (up to date)\n");
  ServerProcess server;
  EXPECT_TRUE(server.Start({"--port", "0", "--db", db})) << server.Stderr();
}

}  // namespace
}  // namespace webhooks::testing
