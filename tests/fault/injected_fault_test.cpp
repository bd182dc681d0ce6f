// Faults the server cannot be asked for over HTTP: an exception inside each
// of its hooks (through webhooks-server-faults, a build with test-only fault
// injection, see InjectFault in server.cpp), and a disk that fills up under
// the database (a small tmpfs, which needs root: skipped otherwise).

#include <httplib.h>
#include <sqlite3.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace webhooks {
namespace {

using testing::CreateBody;
using testing::ServerProcess;
using testing::TempDir;

constexpr char kKey[] = "fault-test-key";

// What must never reach a client, whatever is thrown: the text of the
// injected exception carries all three.
void ExpectNoExceptionText(const httplib::Result& result) {
  ASSERT_TRUE(result);
  std::string everything = result->body;
  for (const auto& [name, value] : result->headers) {
    everything += name + ": " + value + "\n";
  }
  for (const char* leak : {"hunter2", "injected", "SELECT", "what"}) {
    EXPECT_EQ(everything.find(leak), std::string::npos)
        << "'" << leak << "' reached the client:\n"
        << everything;
  }
}

void ExpectInternalErrorEnvelope(const httplib::Result& result) {
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 500);
  EXPECT_NE(result->body.find(R"("slug":"HTTP_InternalError")"),
            std::string::npos)
      << result->body;
  EXPECT_NE(result->body.find(R"("suggested_fix":")"), std::string::npos)
      << result->body;
  EXPECT_EQ(result->get_header_value("content-type"), "application/json");
}

httplib::Headers KeyAndFaultHeaders(const std::string& fault = "") {
  httplib::Headers headers = {{"x-api-key", kKey}};
  if (!fault.empty()) headers.emplace("x-webhooks-fault", fault);
  return headers;
}

class InjectedFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start(
        {"--port", "0", "--db", dir_.File("f.db"), "--api-key", kKey}))
        << server_.Stderr();
  }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", server_.port());
    client.set_read_timeout(10, 0);
    return client;
  }

  // The process still serves: a health check and a durable create.
  void ExpectStillServing(const std::string& client_id) {
    httplib::Client client = Client();
    auto health = client.Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    auto created =
        client.Post("/api/v3.1/webhook_endpoints", KeyAndFaultHeaders(),
                    CreateBody("slack", client_id), "application/json");
    ASSERT_TRUE(created);
    EXPECT_EQ(created->status, 201) << created->body;
  }

  size_t EndpointCount() {
    httplib::Client client = Client();
    auto listed =
        client.Get("/api/v3.1/webhook_endpoints", KeyAndFaultHeaders());
    if (!listed || listed->status != 200) return SIZE_MAX;
    size_t count = 0;
    for (size_t at = listed->body.find(R"("id":")"); at != std::string::npos;
         at = listed->body.find(R"("id":")", at + 1)) {
      ++count;
    }
    return count;
  }

  TempDir dir_;
  ServerProcess server_{WEBHOOKS_FAULTS_BIN};
};

// A throw before routing or inside a handler reaches the exception handler:
// a 500 in the error envelope, nothing of the exception in the answer,
// nothing stored, and the process serves on.
TEST_F(InjectedFaultTest, ThrowBeforeRoutingOrInAHandlerIs500AndStoresNothing) {
  for (const char* where : {"pre-routing", "handler"}) {
    SCOPED_TRACE(where);
    httplib::Client client = Client();
    auto result =
        client.Post("/api/v3.1/webhook_endpoints", KeyAndFaultHeaders(where),
                    CreateBody("slack", std::string("thrown-") + where),
                    "application/json");
    ExpectInternalErrorEnvelope(result);
    ExpectNoExceptionText(result);
    EXPECT_EQ(EndpointCount(), 0u);
  }
  ExpectStillServing("after-handler-faults");
  // The detail goes to the log, under the request id, for the operator.
  EXPECT_TRUE(server_.WaitForStderr("exception in a handler"));
}

// The error hook runs outside the library's try: a throw there would end
// the process. It answers a 500 in the envelope instead.
TEST_F(InjectedFaultTest, ThrowInTheErrorHookIs500AndTheProcessLives) {
  httplib::Client client = Client();
  auto result = client.Get("/no/such/route", KeyAndFaultHeaders("error-hook"));
  ExpectInternalErrorEnvelope(result);
  ExpectNoExceptionText(result);
  ExpectStillServing("after-error-hook-fault");
}

// The metrics hook and the logger run when the answer is decided (the
// logger after it is sent): a throw there changes nothing of the answer,
// and must not end the process.
TEST_F(InjectedFaultTest, ThrowInTheMetricsHookOrTheLoggerLeavesTheAnswer) {
  for (const char* where : {"before-write", "logger"}) {
    SCOPED_TRACE(where);
    httplib::Client client = Client();
    auto result =
        client.Post("/api/v3.1/webhook_endpoints", KeyAndFaultHeaders(where),
                    CreateBody("slack", std::string("logged-") + where),
                    "application/json");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 201) << result->body;
    ExpectNoExceptionText(result);
  }
  EXPECT_EQ(EndpointCount(), 2u);
  ExpectStillServing("after-hook-faults");
  auto metrics = Client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
}

// The ordinary server binary ignores the header: the hook is compiled out.
TEST(FaultInjectionTest, TheShippedBinaryIgnoresTheFaultHeader) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.Start(
      {"--port", "0", "--db", dir.File("s.db"), "--api-key", kKey}))
      << server.Stderr();
  httplib::Client client("127.0.0.1", server.port());
  for (const char* where :
       {"pre-routing", "handler", "error-hook", "before-write", "logger"}) {
    auto result =
        client.Post("/api/v3.1/webhook_endpoints", KeyAndFaultHeaders(where),
                    CreateBody("slack", std::string("shipped-") + where),
                    "application/json");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 201) << where << ": " << result->body;
  }
}

// A tmpfs of a few MiB mounted for one test, unmounted when it goes. Needs
// CAP_SYS_ADMIN (root): mounted() tells whether it worked.
class SmallFilesystem {
 public:
  explicit SmallFilesystem(const std::string& path) : path_(path) {
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                       "size=8m,mode=0700") == 0;
    error_ = errno;
  }
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;
  ~SmallFilesystem() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  std::string error() const { return std::strerror(error_); }

  // Writes a file until the filesystem is full; returns its size.
  size_t Fill(const std::string& name) {
    std::FILE* out = std::fopen((path_ + "/" + name).c_str(), "wb");
    if (out == nullptr) return 0;
    const std::string block(4096, 'x');
    size_t written = 0;
    while (std::fwrite(block.data(), 1, block.size(), out) == block.size() &&
           std::fflush(out) == 0) {
      written += block.size();
    }
    std::fclose(out);
    return written;
  }

 private:
  std::string path_;
  bool mounted_ = false;
  int error_ = 0;
};

// The disk fills up under the database: writes answer 503 in the envelope
// with the storage slug (no SQL, no path), reads keep working, nothing
// half-written is kept, and once space returns writes succeed again
// without a restart.
TEST(DiskFullTest, WritesAnswer503ReadsWorkAndWritesRecoverWhenSpaceReturns) {
  TempDir dir;
  SmallFilesystem disk(dir.path());
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error()
                 << "); this test needs root";
  }
  ServerProcess server;
  ASSERT_TRUE(server.Start(
      {"--port", "0", "--db", dir.File("full.db"), "--api-key", kKey}))
      << server.Stderr();
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(15, 0);
  auto first =
      client.Post("/api/v3.1/webhook_endpoints", KeyAndFaultHeaders(),
                  CreateBody("slack", "before-full"), "application/json");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201);
  ASSERT_GT(disk.Fill("filler"), 0u);

  // Write until the database needs space it cannot get (the WAL grows with
  // every commit until a checkpoint starts it over); bounded.
  std::vector<std::string> acknowledged = {"before-full"};
  std::string refused;
  for (int i = 0; i < 20000 && refused.empty(); ++i) {
    const std::string client_id = "while-full-" + std::to_string(i);
    auto result =
        client.Post("/api/v3.1/webhook_endpoints", KeyAndFaultHeaders(),
                    CreateBody("slack", client_id), "application/json");
    ASSERT_TRUE(result) << "no answer at write " << i;
    if (result->status == 201) {
      acknowledged.push_back(client_id);
      continue;
    }
    ASSERT_EQ(result->status, 503) << result->body;
    EXPECT_NE(result->body.find(R"("slug":"Storage_Unavailable")"),
              std::string::npos)
        << result->body;
    EXPECT_FALSE(result->get_header_value("Retry-After").empty());
    for (const char* leak :
         {"sqlite", "SQL", "INSERT", "full.db", "disk I/O"}) {
      EXPECT_EQ(result->body.find(leak), std::string::npos) << result->body;
    }
    refused = client_id;
  }
  ASSERT_FALSE(refused.empty()) << "20000 writes fitted on a full disk";
  RecordProperty("writes_before_refusal",
                 static_cast<int>(acknowledged.size()) - 1);
  EXPECT_TRUE(server.WaitForStderr("database or disk is full"))
      << "refused for another reason:\n"
      << server.Stderr();

  // Reads keep working while it is full.
  auto listed = client.Get("/api/v3.1/webhook_endpoints", KeyAndFaultHeaders());
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 200);
  auto health = client.Get("/readyz");
  ASSERT_TRUE(health);

  // Space returns: the refused write and new ones succeed, no restart.
  ASSERT_EQ(::unlink(dir.File("filler").c_str()), 0);
  for (const std::string& client_id : {refused, std::string("after-full")}) {
    auto result =
        client.Post("/api/v3.1/webhook_endpoints", KeyAndFaultHeaders(),
                    CreateBody("slack", client_id), "application/json");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 201) << client_id << ": " << result->body;
    acknowledged.push_back(client_id);
  }

  // Every acknowledged write is there once, and nothing else is.
  listed = client.Get("/api/v3.1/webhook_endpoints", KeyAndFaultHeaders());
  ASSERT_TRUE(listed);
  std::multiset<std::string> stored;
  for (size_t at = listed->body.find(R"("client_id":")");
       at != std::string::npos;
       at = listed->body.find(R"("client_id":")", at + 1)) {
    const size_t start = at + std::strlen(R"("client_id":")");
    stored.insert(
        listed->body.substr(start, listed->body.find('"', start) - start));
  }
  EXPECT_EQ(stored, std::multiset<std::string>(acknowledged.begin(),
                                               acknowledged.end()));
  EXPECT_EQ(server.Stop(), 0);

  // And the file is sound.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(dir.File("full.db").c_str(), &db,
                            SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* check = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &check, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(check), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(check, 0)),
               "ok");
  sqlite3_finalize(check);
  sqlite3_close(db);
}

}  // namespace
}  // namespace webhooks
