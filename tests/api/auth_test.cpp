// Black-box tests of authentication and projects against the real binary:
// the key headers (401s, exactly one key), keys from flags and from the
// environment, request keys kept out of the log; and the secrets key
// (--secrets-key-file) checked against the database.

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/raw_http.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// Authentication and projects
// ===========================================================================

class HttpAuthTest : public HttpTest {};

TEST_F(HttpAuthTest, MissingOrMalformedKeyIs401) {
  const std::string body = CreateBody("slack", "c1");
  const std::vector<std::pair<std::string, httplib::Headers>> cases = {
      {"no key", {}},
      {"empty key", {{"x-api-key", ""}}},
      {"empty user key", {{"x-user-api-key", ""}}},
      {"key with a space", {{"x-api-key", "test key"}}},
      {"key twice", {{"x-api-key", key_}, {"x-api-key", key_}}},
  };
  std::vector<int64_t> codes;
  for (const auto& [name, headers] : cases) {
    SCOPED_TRACE(name);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Post(kCreatePath, headers, body), 401, "HTTP_Unauthorized", &error));
    codes.push_back(error.code);
  }
  // The code is a stable number per slug.
  EXPECT_EQ(std::count(codes.begin(), codes.end(), codes.front()),
            static_cast<long>(codes.size()));
  // None of them created anything.
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpAuthTest, BothKeyHeadersAre401SayingExactlyOneIsAllowed) {
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      Post(kCreatePath, {{"x-api-key", key_}, {"x-user-api-key", key_}},
           CreateBody("slack", "c1")),
      401, "HTTP_Unauthorized", &error));
  EXPECT_TRUE(Contains(Lower(error.message), "multiple authentication modes"))
      << error.message;
  EXPECT_TRUE(Contains(Lower(error.message), "exactly one")) << error.message;
}

TEST_F(HttpAuthTest, UserKeyAloneIsAccepted) {
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Post(kCreatePath, {{"x-user-api-key", RandomKey()}},
                          CreateBody("slack", "c1")),
                     201, &endpoint));
  ExpectNewEndpoint(endpoint, "slack", "c1", DefaultPublicBase());
}

TEST_F(HttpAuthTest, RequestKeysNeverReachTheLog) {
  const std::string body = CreateBody("slack", "c1");
  const std::string other = RandomKey();
  const std::string spaced_part = RandomKey();
  const std::string spaced = "spaced " + spaced_part;
  // Over raw connections with Connection: close: the server closes only
  // after its request hook and logger have run, so the log is complete when
  // we see the close.
  const std::vector<std::string> requests = {
      RawCreate(key_, body, "Connection: close\r\n"),
      RawCreate(key_, body,
                "x-user-api-key: " + other + "\r\n" + "Connection: close\r\n"),
      RawRequest("POST", kCreatePath,
                 "x-api-key: " + spaced +
                     "\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\n",
                 body),
      RawRequest("POST", "/api/v3.1/nope",
                 "x-api-key: " + other +
                     "\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\n",
                 body),
  };
  for (const std::string& request : requests) {
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    ASSERT_TRUE(connection.Send(request));
    Reply reply;
    ASSERT_TRUE(connection.ReadResponse(&reply));
    EXPECT_NE(connection.WaitForClose(), RawConnection::Outcome::kTimeout);
  }
  server_->Stop();  // the log is complete once the server has exited
  const std::string log = server_->Stderr();
  EXPECT_FALSE(log.empty());
  for (const std::string& key : {key_, other, spaced_part}) {
    EXPECT_FALSE(Contains(log, key)) << key << " in the log:\n" << log;
  }
}

// Configured mode: exactly the given keys, each its own project.
class HttpConfiguredAuthTest : public HttpTest {
 protected:
  // k-one and k-two are accepted as two projects, k-three is refused, and
  // none of the keys reaches the log.
  void ExpectKeysOneAndTwoOnly() {
    const std::string body = CreateBody("slack", "c1");
    Endpoint one, two, again;
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(CreateWithKey("k-one", body), 201, &one));
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(CreateWithKey("k-two", body), 201, &two));
    EXPECT_NE(one.id, two.id);
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(CreateWithKey("k-one", body), 200, &again));
    EXPECT_EQ(again.raw_body, one.raw_body);
    ExpectErrorEnvelope(CreateWithKey("k-three", body), 401,
                        "HTTP_Unauthorized");
    ExpectErrorEnvelope(
        Post(kCreatePath, {{"x-user-api-key", "k-three"}}, body), 401,
        "HTTP_Unauthorized");
    ExpectErrorEnvelope(CreateWithKey(key_, body), 401, "HTTP_Unauthorized");
    ExpectNoKeysInLog();
  }

  // Stops the server, then reads its whole log.
  void ExpectNoKeysInLog() {
    server_->Stop();
    const std::string log = server_->Stderr();
    for (const std::string& key : {std::string("k-one"), std::string("k-two"),
                                   std::string("k-three"), key_}) {
      EXPECT_FALSE(Contains(log, key)) << key << " in the log:\n" << log;
    }
  }
};

TEST_F(HttpConfiguredAuthTest, KeysFromFlagsAreTheOnlyOnesAccepted) {
  ASSERT_TRUE(StartServer({"--api-key", "k-one", "--api-key", "k-two"}));
  ExpectKeysOneAndTwoOnly();
}

TEST_F(HttpConfiguredAuthTest, KeysFromTheEnvironmentAreTheOnlyOnesAccepted) {
  ASSERT_TRUE(StartServer({}, {"WEBHOOKS_API_KEYS=k-one,k-two"}));
  ExpectKeysOneAndTwoOnly();
}

TEST_F(HttpConfiguredAuthTest, FlagKeysReplaceEnvironmentKeys) {
  ASSERT_TRUE(
      StartServer({"--api-key", "k-three"}, {"WEBHOOKS_API_KEYS=k-one,k-two"}));
  Endpoint endpoint;
  ExpectEndpoint(CreateWithKey("k-three", CreateBody("slack", "c1")), 201,
                 &endpoint);
  for (const char* key : {"k-one", "k-two"}) {
    SCOPED_TRACE(key);
    ExpectErrorEnvelope(CreateWithKey(key, CreateBody("slack", "c1")), 401,
                        "HTTP_Unauthorized");
  }
}

// Issue 17: a start-up key's project was made for that key alone, so
// replacing the key lost the project's endpoints. KEY@PROJECT puts several
// keys on one project: start with A, add B, drop A.
TEST_F(HttpConfiguredAuthTest, KeyRotationOnOneProjectKeepsItsEndpoints) {
  const std::string a = RandomKey("rot_a_"), b = RandomKey("rot_b_");
  ASSERT_TRUE(StartServer({}, {"WEBHOOKS_API_KEYS=" + a + "@shop"}));
  Endpoint made, seen;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(CreateWithKey(a, CreateBody("slack", "c1")), 201, &made));
  ExpectErrorEnvelope(CreateWithKey(b, CreateBody("slack", "c1")), 401,
                      "HTTP_Unauthorized");

  ASSERT_TRUE(
      StartServer({"--api-key", a + "@shop", "--api-key", b + "@shop"}));
  for (const std::string& key : {a, b}) {
    SCOPED_TRACE(key.substr(0, 6));
    ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
        CreateWithKey(key, CreateBody("slack", "c1")), 200, &seen));
    EXPECT_EQ(seen.id, made.id);
    auto got = NewClient().Get(std::string(kCreatePath) + "/" + made.id,
                               KeyHeaders(key));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 200) << got->body;
  }

  ASSERT_TRUE(StartServer({"--api-key", b + "@shop"}));
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(CreateWithKey(b, CreateBody("slack", "c1")), 200, &seen));
  EXPECT_EQ(seen.id, made.id);
  ExpectErrorEnvelope(CreateWithKey(a, CreateBody("slack", "c1")), 401,
                      "HTTP_Unauthorized");
  server_->Stop();
  for (const std::string& key : {a, b}) {
    EXPECT_FALSE(Contains(server_->Stderr(), key));
  }
}

// A key given the old way ("KEY") has a project of its own, named
// "configured" like every such project: it is rotated by naming that
// project's id, as `keys list` shows it. A known key named with another
// project is refused at start-up (exit 2), since its endpoints cannot move.
TEST_F(HttpConfiguredAuthTest, OldFormKeyRotatesByProjectId) {
  const std::string a = RandomKey("old_a_"), b = RandomKey("old_b_");
  ASSERT_TRUE(StartServer({"--api-key", a}));
  Endpoint made, seen;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(CreateWithKey(a, CreateBody("slack", "c1")), 201, &made));
  server_->Stop();
  Finished listed = RunToExit({"keys", "list", "--db", db_path()});
  ASSERT_EQ(listed.exit_code, 0);
  // The config key's line: "key_... proj_... config ...".
  const size_t line = listed.out.find(" config ");
  ASSERT_NE(line, std::string::npos) << listed.out;
  const size_t id_at = listed.out.rfind("proj_", line);
  const std::string project = listed.out.substr(id_at, 17);
  ASSERT_EQ(project.rfind("proj_", 0), 0u) << listed.out;

  ASSERT_TRUE(StartServer({"--api-key", "k-one"}));  // a second "configured"
  server_->Stop();
  // "configured" names two projects now: refused, not guessed.
  Ran ambiguous = RunBinary(
      {"--port", "0", "--db", db_path(), "--api-key", b + "@configured"});
  EXPECT_EQ(ambiguous.exit_code, 2);
  EXPECT_TRUE(Contains(ambiguous.err, "several projects")) << ambiguous.err;
  Ran moved = RunBinary(
      {"--port", "0", "--db", db_path(), "--api-key", a + "@elsewhere"});
  EXPECT_EQ(moved.exit_code, 2);
  EXPECT_TRUE(Contains(moved.err, "already belongs to project")) << moved.err;
  EXPECT_FALSE(Contains(moved.err, a));
  // A mistyped id makes no new, empty project.
  Ran typo = RunBinary({"--port", "0", "--db", db_path(), "--api-key",
                        b + "@proj_nosuchproject"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_TRUE(Contains(typo.err, "no project has the id")) << typo.err;

  ASSERT_TRUE(StartServer({"--api-key", a, "--api-key", b + "@" + project}));
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(CreateWithKey(b, CreateBody("slack", "c1")), 200, &seen));
  EXPECT_EQ(seen.id, made.id);
}

// ===========================================================================
// The secrets key checked against the database
// ===========================================================================

class HttpSecretsKeyTest : public HttpManageTest {
 protected:
  // A key file holding `hex`.
  std::string KeyFile(const std::string& name, const std::string& hex) {
    const std::string path = dir_.File(name);
    EXPECT_TRUE(WriteTextFile(path, hex + "\n")) << path;
    ::chmod(path.c_str(), 0600);
    return path;
  }

  // Starts a server on db_path() with `extra_args`, which must refuse to
  // start with exit code 2 and exactly one line; returns that line.
  std::string RefusalOf(const std::vector<std::string>& extra_args) {
    std::vector<std::string> args = {"--port", "0", "--db", db_path()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    ServerProcess refused;
    if (refused.Start(args)) {  // stopped, not waited for: it would serve on
      ADD_FAILURE() << "started: " << refused.Stderr();
      return "";
    }
    refused.Wait();
    EXPECT_EQ(refused.ExitCode(), 2);
    const std::string log = refused.Stderr();
    EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
    return log;
  }

  const std::string right_hex_ = Repeat("0123456789abcdef", 4);
  const std::string wrong_hex_ = Repeat("fedcba9876543210", 4);
};

// Issue 11, item 10 (2026-04): with a wrong --secrets-key-file the server
// started, /readyz said ready, and every read of a setup value was a 500.
TEST_F(HttpSecretsKeyTest, WrongOrMissingKeyRefusesToStartAndTheRightOneReads) {
  const std::string right = KeyFile("right.key", right_hex_);
  const std::string wrong = KeyFile("wrong.key", wrong_hex_);
  ASSERT_TRUE(StartServer({"--secrets-key-file", right}));
  Endpoint created, stored;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "sig-0123456789abcdef"}}), &stored));
  ASSERT_EQ(server_->Stop(), 0);

  const std::string wrong_line = RefusalOf({"--secrets-key-file", wrong});
  EXPECT_TRUE(Contains(wrong_line, "does not decrypt")) << wrong_line;
  EXPECT_TRUE(Contains(wrong_line, "'" + wrong + "'")) << wrong_line;
  const std::string missing_line = RefusalOf({});
  EXPECT_TRUE(Contains(missing_line, "no secrets key was given"))
      << missing_line;
  EXPECT_TRUE(Contains(missing_line, "--secrets-key-file")) << missing_line;
  for (const std::string& line : {wrong_line, missing_line}) {
    EXPECT_FALSE(Contains(line, right_hex_)) << line;
    EXPECT_FALSE(Contains(line, wrong_hex_)) << line;
  }

  ASSERT_TRUE(StartServer({"--secrets-key-file", right}));
  Endpoint got;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "sig-..."}}));
  auto ready = NewClient().Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
}

// /readyz runs the same check: a server whose values another server sealed
// with a key (one database file, two configurations) is not ready.
TEST_F(HttpSecretsKeyTest, ReadinessFailsOnceTheValuesNeedAKeyItLacks) {
  Endpoint created, stored;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "sig-0123456789abcdef"}}), &stored));
  auto before = NewClient().Get("/readyz");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200);

  // A key given for values stored in clear seals them (our choice).
  ServerProcess keyed;
  ASSERT_TRUE(
      keyed.Start({"--port", "0", "--db", db_path(), "--secrets-key-file",
                   KeyFile("right.key", right_hex_)}))
      << keyed.Stderr();
  auto not_ready = NewClient().Get("/readyz");
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(not_ready, 503, "Storage_Unavailable"));
  EXPECT_TRUE(Contains(not_ready->body, "secrets key")) << not_ready->body;
  httplib::Client keyed_client("127.0.0.1", keyed.port());
  auto read = keyed_client.Get(ItemPath(created.id), KeyHeaders(key_));
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  EXPECT_TRUE(Contains(read->body, "sig-...")) << read->body;
}

}  // namespace
}  // namespace webhooks::testing
