// Black-box tests of the server's configuration against the real binary:
// the first line, --help, the public base URL from a flag or the
// environment, a busy port; and what stops start-up with exit 2 and one line
// naming the problem: bad flags and environment values, and bad toolkit
// catalog files (--toolkits, WEBHOOKS_TOOLKITS).

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// Configuration
// ===========================================================================

class HttpConfigTest : public HttpTest {};

TEST_F(HttpConfigTest, FirstLineIsTheListeningAddress) {
  EXPECT_GT(port(), 0);
  EXPECT_EQ(server_->first_line(),
            "listening on http://127.0.0.1:" + std::to_string(port()));
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpConfigTest, HelpExits0AndNamesEveryFlag) {
  const Finished help = RunToExit({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--host", "--port", "--db", "--public-url",
                           "--api-key", "--threads", "--max-body"}) {
    EXPECT_TRUE(Contains(help.out, flag)) << flag << " not in:\n" << help.out;
  }
}

// Issue 17: the help gives --max-body's range, up to GitHub's 25 MiB.
TEST_F(HttpConfigTest, HelpGivesTheMaxBodyRange) {
  const Finished help = RunToExit({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(Contains(help.out, "1024-26214400")) << help.out;
}

TEST_F(HttpConfigTest, PublicUrlWithTrailingSlashMakesNoDoubleSlash) {
  ASSERT_TRUE(StartServer({"--public-url", "https://hooks.example.com/"}));
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint));
  ExpectNewEndpoint(endpoint, "slack", "c1", "https://hooks.example.com");
  EXPECT_EQ(endpoint.webhook_url.rfind(
                "https://hooks.example.com/api/v3.1/webhook_ingress/", 0),
            0u)
      << endpoint.webhook_url;
}

TEST_F(HttpConfigTest, PublicUrlMayHaveAPath) {
  ASSERT_TRUE(StartServer({"--public-url", "https://example.com/hooks/"}));
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint));
  ExpectNewEndpoint(endpoint, "slack", "c1", "https://example.com/hooks");
}

TEST_F(HttpConfigTest, PublicUrlFromTheEnvironment) {
  ASSERT_TRUE(StartServer({}, {"WEBHOOKS_PUBLIC_URL=https://env.example.com"}));
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint));
  ExpectNewEndpoint(endpoint, "slack", "c1", "https://env.example.com");
}

TEST_F(HttpConfigTest, PublicUrlFlagWinsOverTheEnvironment) {
  ASSERT_TRUE(StartServer({"--public-url", "https://flag.example.com"},
                          {"WEBHOOKS_PUBLIC_URL=https://env.example.com"}));
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint));
  ExpectNewEndpoint(endpoint, "slack", "c1", "https://flag.example.com");
}

TEST_F(HttpConfigTest, SecondServerOnABusyPortFailsAndTheFirstKeepsServing) {
  ServerProcess second;
  EXPECT_FALSE(second.Start(
      {"--port", std::to_string(port()), "--db", dir_.File("second.db")}));
  second.Wait();
  EXPECT_GT(second.ExitCode(), 0);
  EXPECT_TRUE(Contains(Lower(second.Stderr()), "in use")) << second.Stderr();
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

struct BadConfig {
  std::string name;
  std::string mentions;           // in the one line on standard error
  std::vector<std::string> args;  // after --db <tempdir>/test.db
  std::vector<std::string> env;
};

void PrintTo(const BadConfig& bad, std::ostream* out) { *out << bad.name; }

class HttpBadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(HttpBadConfigTest, Exits2WithOneLineNamingTheProblem) {
  const BadConfig& bad = GetParam();
  TempDir dir;
  std::vector<std::string> args = {"--db", dir.File("test.db")};
  args.insert(args.end(), bad.args.begin(), bad.args.end());
  ServerProcess server;
  EXPECT_FALSE(server.Start(args, bad.env));
  server.Wait();
  EXPECT_EQ(server.ExitCode(), 2);
  const std::string log = server.Stderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_TRUE(Contains(log, bad.mentions)) << log;
}

BadConfig BadFlags(std::string name, std::string mentions,
                   std::vector<std::string> args) {
  return BadConfig{std::move(name), std::move(mentions), std::move(args), {}};
}

INSTANTIATE_TEST_SUITE_P(
    Http, HttpBadConfigTest,
    ::testing::Values(
        BadFlags("PortNotANumber", "--port", {"--port", "abc"}),
        BadFlags("PortOutOfRange", "--port", {"--port", "70000"}),
        BadFlags("PortWithoutValue", "--port", {"--port"}),
        BadFlags("ZeroThreads", "--threads", {"--port", "0", "--threads", "0"}),
        BadFlags("TinyMaxBody", "--max-body",
                 {"--port", "0", "--max-body", "5"}),
        // Issue 17: up to 25 MiB (GitHub's limit), and the line says so.
        BadFlags("MaxBodyOverTwentyFiveMebibytes", "from 1024 to 26214400",
                 {"--port", "0", "--max-body", "26214401"}),
        BadFlags("FtpPublicUrl", "--public-url",
                 {"--port", "0", "--public-url", "ftp://x"}),
        BadFlags("UnknownFlag", "--nope", {"--port", "0", "--nope", "1"}),
        // Reachable from other machines, where anyone could use it.
        BadFlags("PublicHostWithoutKeys", "--api-key",
                 {"--port", "0", "--host", "0.0.0.0"}),
        BadConfig{"PortFromTheEnvironment",
                  "WEBHOOKS_PORT",
                  {},
                  {"WEBHOOKS_PORT=abc"}},
        // A count (3) or an age (30m, 24h, 7d); nothing else.
        BadFlags("EventRetentionUnknownUnit", "--event-retention",
                 {"--port", "0", "--event-retention", "5x"}),
        BadFlags("EventRetentionZero", "--event-retention",
                 {"--port", "0", "--event-retention", "0"}),
        BadFlags("EventRetentionNegative", "--event-retention",
                 {"--port", "0", "--event-retention", "-3"}),
        BadFlags("EventRetentionFractionalAge", "--event-retention",
                 {"--port", "0", "--event-retention", "1.5h"}),
        // Both bounds at most once each: "24h,5000" or "5000,24h".
        BadFlags("EventRetentionTwoAges", "--event-retention",
                 {"--port", "0", "--event-retention", "1h,2h"}),
        BadFlags("EventRetentionTwoCounts", "--event-retention",
                 {"--port", "0", "--event-retention", "3,4"}),
        BadFlags("EventRetentionEmptyPart", "--event-retention",
                 {"--port", "0", "--event-retention", "1h,"}),
        BadFlags("EventRetentionAgeTooLong", "--event-retention",
                 {"--port", "0", "--event-retention", "3651d"}),
        BadConfig{"EventRetentionFromTheEnvironment",
                  "WEBHOOKS_EVENT_RETENTION",
                  {"--port", "0"},
                  {"WEBHOOKS_EVENT_RETENTION=5x"}}),
    [](const ::testing::TestParamInfo<BadConfig>& param) {
      return param.param.name;
    });

// ===========================================================================
// Toolkit catalog file: refused at start-up
// ===========================================================================

struct BadToolkits {
  std::string name;
  std::optional<std::string> file;    // nullopt: nothing at the path
  std::vector<std::string> mentions;  // lower-case, in the one stderr line
};

void PrintTo(const BadToolkits& bad, std::ostream* out) { *out << bad.name; }

// A catalog with github's webhook_secret field spec and verification
// replaced.
std::string Github(const std::string& field,
                   const std::string& verification = kGithubVerification) {
  return R"({"toolkits":{"github":{"setup_fields":{"webhook_secret":)" + field +
         R"(},"verification":)" + verification + "}}}";
}

std::vector<BadToolkits> BadToolkitFiles() {
  const std::string field =
      R"({"display_name":"Webhook Secret","is_required":true})";
  return {
      {"InvalidJson", R"({"toolkits":{"github":)", {"json"}},
      {"EmptyFile", "", {"json"}},
      {"NotAnObject", "[]", {}},
      {"ToolkitsMissing", "{}", {"toolkits"}},
      {"ToolkitsNotAnObject", R"({"toolkits":[]})", {"toolkits"}},
      {"UnknownTopLevelKey", R"({"toolkits":{},"extra":true})", {"extra"}},
      {"ReplaceNotABool", R"({"replace":"yes","toolkits":{}})", {"replace"}},
      {"FieldWithoutDisplayName",
       Github(R"({"is_required":true,"is_secret":true})"),
       {"github", "webhook_secret", "display_name"}},
      {"IsRequiredNotABool",
       Github(R"({"display_name":"W","is_required":"yes"})"),
       {"github", "webhook_secret", "is_required"}},
      {"IsSecretNotABool",
       Github(R"({"display_name":"W","is_secret":1})"),
       {"github", "webhook_secret", "is_secret"}},
      {"UnknownKeyInAField",
       Github(R"({"display_name":"W","colour":"red"})"),
       {"github", "webhook_secret", "colour"}},
      {"UnknownKeyInAToolkit",
       R"({"toolkits":{"github":{"setup_fields":{},"hooks":{}}}})",
       {"github", "hooks"}},
      {"BadScheme",
       Github(field, R"({"scheme":"md5","secret_field":"webhook_secret"})"),
       {"github", "md5"}},
      {"MissingScheme",
       Github(field, R"({"secret_field":"webhook_secret"})"),
       {"github", "scheme"}},
      {"SecretFieldNamesNoField",
       Github(field, R"({"scheme":"hmac_sha256","secret_field":"nope",)"
                     R"("signature_header":"X-Sig"})"),
       {"github", "nope"}},
      {"BadToolkitSlug", R"({"toolkits":{"Git Hub":{}}})", {"git hub"}},
      {"BadFieldName",
       R"({"toolkits":{"github":{"setup_fields":{"Web-Hook":)" + field + "}}}}",
       {"github", "web-hook"}},
      {"DuplicateToolkit",
       R"({"toolkits":{"github":{},"github":{}}})",
       {"github"}},
      // Issue 17: a placeholder the loader does not know would otherwise
      // be signed as literal text, and no request would ever verify.
      {"UnknownPlaceholderTs",
       Github(field, R"({"scheme":"hmac_sha256","secret_field":)"
                     R"("webhook_secret","signature_header":"X-Sig",)"
                     R"("timestamp_header":"X-Ts",)"
                     R"("signed_payload":"{ts}.{body}"})"),
       {"github", "signed_payload", "{ts}"}},
      {"UnknownPlaceholderNonce",
       Github(field, R"({"scheme":"hmac_sha256","secret_field":)"
                     R"("webhook_secret","signature_header":"X-Sig",)"
                     R"("signed_payload":"{nonce}{body}"})"),
       {"github", "signed_payload", "{nonce}"}},
      {"IdPlaceholderWithoutItsHeader",
       Github(field, R"({"scheme":"hmac_sha256","secret_field":)"
                     R"("webhook_secret","signature_header":"X-Sig",)"
                     R"("signed_payload":"{id}.{body}"})"),
       {"github", "{id}", "event_id_header"}},
      {"KeepsTheSignatureHeader",
       R"({"toolkits":{"github":{"setup_fields":{"webhook_secret":)" + field +
           R"(},"verification":)" + kGithubVerification +
           R"(,"keep_headers":["X-GitHub-Event","X-Hub-Signature-256"]}}})",
       {"github", "keep_headers", "x-hub-signature-256"}},
      {"KeepsACredential",
       R"({"toolkits":{"github":{"keep_headers":["Authorization"]}}})",
       {"github", "keep_headers", "authorization"}},
      {"FixedSchemeWithAHeader",
       Github(field, R"({"scheme":"stripe","secret_field":"webhook_secret",)"
                     R"("signature_header":"X-Sig"})"),
       {"github", "stripe", "signature_header"}},
      {"MissingFile", std::nullopt, {}},
  };
}

class HttpBadToolkitsTest : public ::testing::TestWithParam<BadToolkits> {};

// Exit 2 with one line on standard error naming the file, the toolkit and
// the problem.
TEST_P(HttpBadToolkitsTest, StopsStartUpWithOneLineNamingTheProblem) {
  const BadToolkits& bad = GetParam();
  TempDir dir;
  const std::string path = dir.File("toolkits.json");
  if (bad.file) {
    ASSERT_TRUE(WriteTextFile(path, *bad.file));
  }
  ServerProcess server;
  EXPECT_FALSE(server.Start(
      {"--port", "0", "--db", dir.File("test.db"), "--toolkits", path}));
  server.Stop();  // reaps it if it exited; bounded if it did not
  EXPECT_EQ(server.ExitCode(), 2);
  const std::string log = server.Stderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_TRUE(Contains(log, path)) << log;
  for (const std::string& mention : bad.mentions) {
    EXPECT_TRUE(Contains(Lower(log), mention)) << mention << " not in: " << log;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Http, HttpBadToolkitsTest, ::testing::ValuesIn(BadToolkitFiles()),
    [](const ::testing::TestParamInfo<BadToolkits>& param) {
      return param.param.name;
    });

TEST(HttpBadToolkitsEnvTest, MalformedFileFromTheEnvironmentStopsStartUp) {
  TempDir dir;
  const std::string path = dir.File("toolkits.json");
  ASSERT_TRUE(WriteTextFile(path, Github(R"({"is_required":true})")));
  ServerProcess server;
  EXPECT_FALSE(server.Start({"--port", "0", "--db", dir.File("test.db")},
                            {"WEBHOOKS_TOOLKITS=" + path}));
  server.Stop();  // reaps it if it exited; bounded if it did not
  EXPECT_EQ(server.ExitCode(), 2);
  const std::string log = server.Stderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_TRUE(Contains(log, path)) << log;
  EXPECT_TRUE(Contains(log, "github")) << log;
  EXPECT_TRUE(Contains(log, "display_name")) << log;
}

}  // namespace
}  // namespace webhooks::testing
