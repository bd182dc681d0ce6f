// Issue 13 (2026-12): the command line, run through the real binary. The
// settings are one table (config.cpp): these tests read --help, take every
// flag and environment variable it lists and check that each is parsed
// (a bad value exits 2 naming it), so a setting cannot be documented and not
// read, or read and not documented. Also: booleans in every spelling, each
// command's --help, --version, admin commands that refuse a missing
// database instead of creating an empty one, and the start-up line.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

bool Has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

size_t Lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

struct Refused {
  int exit_code = -1;  // -1: it started (and was stopped)
  std::string log;     // standard error
};

// Runs the server expecting it to refuse to start. A server that starts
// after all is stopped, so a test fails instead of waiting for it.
Refused RefusedStart(const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {}) {
  ServerProcess server;
  Refused refused;
  if (server.Start(args, env)) {
    server.Stop();
  } else {
    server.Wait();
    refused.exit_code = server.ExitCode();
  }
  refused.log = server.Stderr();
  return refused;
}

// The start-up line ("webhooks-server: host=..."), from standard error.
std::string ConfigLineOf(const std::string& log) {
  const size_t at = log.find("webhooks-server: host=");
  if (at == std::string::npos) return "";
  return log.substr(at, log.find('\n', at) - at);
}

// The flags --help documents: one entry per line that starts "  --NAME".
std::vector<std::string> FlagsInHelp(const std::string& help) {
  std::vector<std::string> flags;
  for (size_t at = 0; at < help.size();) {
    const size_t end = std::min(help.find('\n', at), help.size());
    const std::string line = help.substr(at, end - at);
    if (line.rfind("  --", 0) == 0) {
      flags.push_back(line.substr(4, line.find_first_of(" [=", 4) - 4));
    }
    at = end + 1;
  }
  return flags;
}

// The environment variables --help names, each once.
std::set<std::string> VariablesInHelp(const std::string& help) {
  std::set<std::string> variables;
  const std::regex variable("WEBHOOKS_[A-Z_]+");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), variable);
       it != std::sregex_iterator(); ++it) {
    variables.insert(it->str());
  }
  return variables;
}

// A value each setting refuses. The empty string suits every setting but
// the lists, where an empty item is skipped (WEBHOOKS_API_KEYS=a,,b).
std::string BadValueFor(const std::string& name) {
  if (Has(name, "API_KEY") || Has(name, "api-key")) return "two words";
  if (Has(name, "ALLOWED_HOSTS") || Has(name, "allowed-host")) {
    return "bad/host";
  }
  if (Has(name, "TRUSTED_PROXIES") || Has(name, "trusted-proxy")) {
    return "10.0.0.1/8";  // host bits after the prefix
  }
  return "";
}

// ===========================================================================
// The settings table: --help, flags and environment agree
// ===========================================================================

TEST(CliSettingsTest, HelpListsEveryFlagOnceWithItsVariable) {
  const Ran help = RunBinary({"--help"});
  ASSERT_EQ(help.exit_code, 0);
  EXPECT_EQ(help.err, "");
  const std::vector<std::string> flags = FlagsInHelp(help.out);
  for (const std::string& flag : flags) {
    EXPECT_EQ(std::count(flags.begin(), flags.end(), flag), 1) << flag;
  }
  // Every setting the README documents, and the two actions.
  const std::vector<std::string> expected = {"host",
                                             "port",
                                             "db",
                                             "public-url",
                                             "threads",
                                             "read-connections",
                                             "max-body",
                                             "toolkits",
                                             "secrets-key-file",
                                             "tls-cert",
                                             "tls-key",
                                             "api-key",
                                             "allowed-host",
                                             "require-keys",
                                             "event-retention",
                                             "rate-limit",
                                             "metrics-key",
                                             "trusted-proxy",
                                             "log-format",
                                             "log-level",
                                             "retry-schedule",
                                             "deny-private-targets",
                                             "delivery-timeout",
                                             "delivery-concurrency",
                                             "max-streams",
                                             "stream-lifetime",
                                             "seed",
                                             "id-seed",
                                             "help",
                                             "version"};
  std::vector<std::string> sorted_flags = flags, sorted_expected = expected;
  std::sort(sorted_flags.begin(), sorted_flags.end());
  std::sort(sorted_expected.begin(), sorted_expected.end());
  EXPECT_EQ(sorted_flags, sorted_expected) << help.out;
  // One variable per setting, with its default.
  EXPECT_EQ(VariablesInHelp(help.out).size(), expected.size() - 2) << help.out;
  for (const char* shown :
       {"(default 127.0.0.1)", "(default 9900)", "(default data/webhooks.db)",
        "(default 64)", "(default 4)", "(default 65536)", "(default 1000)",
        "(default json)", "(default off)"}) {
    EXPECT_TRUE(Has(help.out, shown)) << shown << " not in:\n" << help.out;
  }
}

// Proves the table drives parsing: each variable --help names is read, and
// a bad value in it stops start-up with one line naming the variable.
TEST(CliSettingsTest, EveryVariableInHelpIsReadAndABadValueExits2) {
  const Ran help = RunBinary({"--help"});
  ASSERT_EQ(help.exit_code, 0);
  const std::set<std::string> variables = VariablesInHelp(help.out);
  ASSERT_FALSE(variables.empty());
  for (const std::string& variable : variables) {
    SCOPED_TRACE(variable);
    TempDir dir;
    // A port and a database of the test's own, should the variable be
    // ignored and the server start; the variable under test comes first.
    const std::vector<std::string> env = {
        variable + "=" + BadValueFor(variable), "WEBHOOKS_PORT=0",
        "WEBHOOKS_DB=" + dir.File("test.db")};
    const Refused refused = RefusedStart({}, env);
    EXPECT_EQ(refused.exit_code, 2) << refused.log;
    EXPECT_EQ(Lines(refused.log), 1u) << refused.log;
    EXPECT_TRUE(Has(refused.log, variable)) << refused.log;
  }
}

// The same for the flags: each --help flag is parsed, and refuses a bad
// value with one line naming it.
TEST(CliSettingsTest, EveryFlagInHelpIsReadAndABadValueExits2) {
  const Ran help = RunBinary({"--help"});
  ASSERT_EQ(help.exit_code, 0);
  for (const std::string& flag : FlagsInHelp(help.out)) {
    if (flag == "help" || flag == "version") continue;
    SCOPED_TRACE(flag);
    TempDir dir;
    std::vector<std::string> args = {"--port", "0", "--db", dir.File("t.db")};
    if (Has(help.out, "--" + flag + "[=BOOL]")) {
      args.push_back("--" + flag + "=maybe");
    } else {
      args.push_back("--" + flag);
      args.push_back(BadValueFor(flag));
    }
    const Refused refused = RefusedStart(args);
    EXPECT_EQ(refused.exit_code, 2) << refused.log;
    EXPECT_EQ(Lines(refused.log), 1u) << refused.log;
    EXPECT_TRUE(Has(refused.log, "--" + flag)) << refused.log;
  }
}

TEST(CliSettingsTest, HelpAndVersionWinOverABadEnvironment) {
  const Ran help = RunBinary({"--help"}, {"WEBHOOKS_PORT=abc"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_TRUE(Has(help.out, "--port")) << help.out;
  const Ran version = RunBinary({"--version"}, {"WEBHOOKS_PORT=abc"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
}

// ===========================================================================
// Booleans
// ===========================================================================

class CliBooleanTest : public ::testing::Test {
 protected:
  // Starts the server in local mode on loopback: it refuses (exit 2) if
  // keys are required, and serves if not.
  bool KeysRequired(const std::vector<std::string>& args,
                    const std::vector<std::string>& env) {
    std::vector<std::string> all = {"--port", "0", "--db", dir_.File("t.db")};
    all.insert(all.end(), args.begin(), args.end());
    const Refused refused = RefusedStart(all, env);
    if (refused.exit_code == -1) return false;
    EXPECT_EQ(refused.exit_code, 2) << refused.log;
    EXPECT_TRUE(Has(refused.log, "refusing to serve")) << refused.log;
    return true;
  }

  TempDir dir_;
};

// Issue 13 (2026-12): WEBHOOKS_REQUIRE_KEYS=true (or yes) left keys
// optional, without a word; only "1" was read as on.
TEST_F(CliBooleanTest, EverySpellingOfTheVariableIsRead) {
  for (const char* on : {"1", "true", "TRUE", "yes", "Yes", "on", "ON"}) {
    EXPECT_TRUE(KeysRequired({}, {std::string("WEBHOOKS_REQUIRE_KEYS=") + on}))
        << on;
  }
  for (const char* off : {"0", "false", "False", "no", "NO", "off", "Off"}) {
    EXPECT_FALSE(
        KeysRequired({}, {std::string("WEBHOOKS_REQUIRE_KEYS=") + off}))
        << off;
  }
}

TEST_F(CliBooleanTest, TheFlagAloneOrWithAValueAndItWinsOverTheVariable) {
  EXPECT_TRUE(KeysRequired({"--require-keys"}, {}));
  EXPECT_TRUE(KeysRequired({"--require-keys=true"}, {}));
  EXPECT_TRUE(KeysRequired({"--require-keys=YES"}, {}));
  EXPECT_FALSE(KeysRequired({"--require-keys=false"}, {}));
  EXPECT_FALSE(
      KeysRequired({"--require-keys=off"}, {"WEBHOOKS_REQUIRE_KEYS=1"}));
  EXPECT_TRUE(KeysRequired({"--require-keys"}, {"WEBHOOKS_REQUIRE_KEYS=no"}));
}

TEST_F(CliBooleanTest, AnyOtherValueExits2NamingTheVariableAndTheSpellings) {
  for (const char* bad : {"maybe", "", "2", "enabled", "y"}) {
    SCOPED_TRACE(bad);
    const Refused refused =
        RefusedStart({"--port", "0", "--db", dir_.File("t.db")},
                     {std::string("WEBHOOKS_REQUIRE_KEYS=") + bad});
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_EQ(Lines(refused.log), 1u) << refused.log;
    for (const char* part :
         {"WEBHOOKS_REQUIRE_KEYS", "1/0", "true/false", "yes/no", "on/off"}) {
      EXPECT_TRUE(Has(refused.log, part)) << part << " not in " << refused.log;
    }
  }
  const Refused flag = RefusedStart(
      {"--port", "0", "--db", dir_.File("t.db"), "--require-keys=maybe"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_TRUE(Has(flag.log, "--require-keys")) << flag.log;
  EXPECT_FALSE(Exists(dir_.File("t.db")));
}

// ===========================================================================
// --help of each command, --version
// ===========================================================================

// Issue 13 (2026-12): `keys --help` and the like answered "an option needs
// a value" with exit 2.
TEST(CliHelpTest, EachCommandHasItsOwnHelpOnStandardOutput) {
  TempDir cwd;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"keys", "--help"}, "usage: webhooks-server keys "},
      {{"keys", "create", "--help"}, "usage: webhooks-server keys create "},
      {{"keys", "list", "--help"}, "usage: webhooks-server keys list "},
      {{"keys", "revoke", "--help"}, "usage: webhooks-server keys revoke "},
      {{"keys", "-h"}, "usage: webhooks-server keys "},
      {{"backup", "--help"}, "usage: webhooks-server backup "},
      {{"check", "--help"}, "usage: webhooks-server check "},
      {{"send-test-event", "--help"}, "usage: webhooks-server send-test-event"},
  };
  for (const auto& [args, usage] : cases) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    const Ran help =
        RunBinary(args, {"WEBHOOKS_DB=" + cwd.File("never/made.db")});
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_EQ(help.out.rfind(usage, 0), 0u) << help.out;
    EXPECT_EQ(help.err, "");
    if (args[0] != "send-test-event") {
      EXPECT_TRUE(Has(help.out, "--db PATH")) << help.out;
      EXPECT_TRUE(Has(help.out, "WEBHOOKS_DB")) << help.out;
    }
  }
  EXPECT_TRUE(Has(RunBinary({"keys", "create", "--help"}).out, "--project"));
  EXPECT_TRUE(Has(RunBinary({"backup", "--help"}).out, "--to FILE"));
  EXPECT_FALSE(Exists(cwd.File("never")));
}

TEST(CliHelpTest, VersionPrintsTheProjectVersion) {
  const Ran version = RunBinary({"--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_TRUE(std::regex_match(
      version.out, std::regex("webhooks-server [0-9]+\\.[0-9]+\\.[0-9]+\n")))
      << version.out;
  EXPECT_EQ(version.err, "");
}

// ===========================================================================
// Admin commands and the database they name
// ===========================================================================

class CliAdminTest : public ::testing::Test {
 protected:
  // A database with one admin key, made by keys create.
  std::string MadeDatabase() {
    const std::string db = dir_.File("made.db");
    const Ran created =
        RunBinary({"keys", "create", "--project", "acme", "--db", db});
    EXPECT_EQ(created.exit_code, 0) << created.err;
    return db;
  }

  TempDir dir_;
};

// Issue 13 (2026-12): `keys list --db typo/webhoks.db` created an empty
// database, and its folder, and listed no keys.
TEST_F(CliAdminTest, CommandsRefuseADatabaseThatDoesNotExist) {
  const std::string typo = dir_.File("typo/webhoks.db");
  const std::string nearby = dir_.File("webhoks.db");  // folder exists
  const std::string copy = dir_.File("copy.db");
  const std::vector<std::vector<std::string>> commands = {
      {"keys", "list"},
      {"keys", "revoke", "key_abcdefghijkl"},
      {"backup", "--to", copy},
      {"check"},
  };
  for (const std::vector<std::string>& command : commands) {
    for (const std::string& path : {typo, nearby}) {
      SCOPED_TRACE(command[0] + " " + command.back() + " " + path);
      std::vector<std::string> with_flag = command;
      with_flag.insert(with_flag.end(), {"--db", path});
      for (const Ran& ran : {RunBinary(with_flag),
                             RunBinary(command, {"WEBHOOKS_DB=" + path})}) {
        EXPECT_EQ(ran.exit_code, 1) << ran.err;
        EXPECT_TRUE(Has(ran.err, "'" + path + "'")) << ran.err;
        EXPECT_TRUE(Has(ran.err, "WEBHOOKS_DB")) << ran.err;
        EXPECT_EQ(Lines(ran.err), 1u) << ran.err;
        EXPECT_FALSE(Exists(dir_.File("typo")));
        EXPECT_FALSE(Exists(nearby));
        EXPECT_FALSE(Exists(copy));
      }
    }
  }
}

TEST_F(CliAdminTest, KeysCreateStillMakesANewDatabaseAndItsFolder) {
  const std::string db = dir_.File("new/webhooks.db");
  const Ran created =
      RunBinary({"keys", "create", "--project", "acme", "--db", db});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out.rfind("whk_", 0), 0u) << created.out;
  EXPECT_TRUE(Exists(db));
  // The same entry as the server's: --db=PATH, and WEBHOOKS_DB.
  const Ran listed = RunBinary({"keys", "list", "--db=" + db});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(Has(listed.out, "acme")) << listed.out;
  const Ran from_env = RunBinary({"check"}, {"WEBHOOKS_DB=" + db});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_EQ(from_env.out, db + ": ok\n");
}

// The admin commands read --db through the server's table entry: the same
// validation, and a flag wins over the variable.
TEST_F(CliAdminTest, DbIsTheServersSetting) {
  const std::string db = MadeDatabase();
  const Ran empty = RunBinary({"keys", "list"}, {"WEBHOOKS_DB="});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_TRUE(Has(empty.err, "WEBHOOKS_DB")) << empty.err;
  const Ran flag_wins = RunBinary({"keys", "list", "--db", db},
                                  {"WEBHOOKS_DB=" + dir_.File("none.db")});
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.err;
  EXPECT_TRUE(Has(flag_wins.out, "acme"));
  EXPECT_FALSE(Exists(dir_.File("none.db")));
  // A database private to one process is nothing to act on.
  EXPECT_EQ(RunBinary({"keys", "list", "--db", ":memory:"}).exit_code, 2);
  EXPECT_EQ(RunBinary({"check", "--db", ":memory:"}).exit_code, 2);
}

TEST_F(CliAdminTest, UsageErrorsExit2AndTouchNothing) {
  const std::string db = dir_.File("none/webhooks.db");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"keys"},
           {"keys", "frobnicate"},
           {"keys", "create"},
           {"keys", "list", "--project", "acme"},
           {"keys", "revoke"},
           {"keys", "list", "extra"},
           {"backup"},
           {"check", "--port", "1"},
           {"check", "--db"}}) {
    std::vector<std::string> all = args;
    if (args.back() != "--db") all.insert(all.end(), {"--db", db});
    const Ran ran = RunBinary(all);
    EXPECT_EQ(ran.exit_code, 2) << args[0] << " " << args.back() << ran.err;
    EXPECT_EQ(Lines(ran.err), 1u) << ran.err;
    EXPECT_EQ(ran.out, "");
  }
  EXPECT_FALSE(Exists(dir_.File("none")));
}

// ===========================================================================
// The start-up line
// ===========================================================================

TEST(CliStartupLineTest, ShowsEverySettingInItsFormat) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--port", "0", "--db", dir.File("t.db")}));
  server.Stop();
  const std::string line = ConfigLineOf(server.Stderr());
  const std::string port = std::to_string(server.port());
  EXPECT_EQ(line, "webhooks-server: host=127.0.0.1 port=" + port +
                      " db=" + dir.File("t.db") +
                      " public_url=http://localhost:" + port +
                      " threads=64 read_connections=4 max_body=65536"
                      " toolkits=discord,github,notion,slack,slackbot,stripe"
                      " secrets=clear"
                      " tls_cert=none tls_key=none"
                      " auth=local (any non-empty key is its own project)"
                      " hosts=localhost,loopback require_keys=off"
                      " event_retention=1000 rate_limit=0 metrics=open"
                      " trusted_proxies=none log_format=json"
                      " log_level=info retry_schedule=5s,5m,30m,2h,5h,10h,10h"
                      " deny_private_targets=off delivery_timeout_ms=15000"
                      " delivery_concurrency=64 max_streams=32"
                      " stream_lifetime_seconds=300 seed=none id_seed=none");
}

TEST(CliStartupLineTest, DeliverySettingsAreReadAndChecked) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.Start(
      {"--port", "0", "--db", dir.File("t.db"), "--retry-schedule",
       "200ms,1s,30m", "--deny-private-targets"},
      {"WEBHOOKS_DELIVERY_TIMEOUT=2500", "WEBHOOKS_DELIVERY_CONCURRENCY=8"}));
  server.Stop();
  const std::string line = ConfigLineOf(server.Stderr());
  for (const char* shown :
       {" retry_schedule=200ms,1s,30m ", " deny_private_targets=on ",
        " delivery_timeout_ms=2500 ", " delivery_concurrency=8"}) {
    EXPECT_TRUE(Has(line, shown)) << shown << " not in " << line;
  }
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{
           {"--retry-schedule", "5"},
           {"--retry-schedule", "5x"},
           {"--retry-schedule", "1s,,2s"},
           {"--retry-schedule", "25h"},
           {"--retry-schedule",
            "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,"
            "1s,1s,1s,1s,1s,1s"},
           {"--delivery-timeout", "50"},
           {"--delivery-concurrency", "0"},
           {"--deny-private-targets=maybe"}}) {
    std::vector<std::string> args = {"--port", "0", "--db", ":memory:"};
    args.insert(args.end(), bad.begin(), bad.end());
    const Ran ran = RunBinary(args);
    EXPECT_EQ(ran.exit_code, 2) << bad[0] << " " << bad.back();
    EXPECT_TRUE(Has(ran.err, bad[0].substr(0, bad[0].find('=')))) << ran.err;
  }
}

TEST(CliStartupLineTest, StreamSettingsAreReadAndChecked) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.Start(
      {"--port", "0", "--db", dir.File("t.db"), "--max-streams", "3"},
      {"WEBHOOKS_STREAM_LIFETIME=60"}));
  server.Stop();
  const std::string line = ConfigLineOf(server.Stderr());
  EXPECT_TRUE(Has(line, " max_streams=3 ")) << line;
  EXPECT_TRUE(Has(line, " stream_lifetime_seconds=60")) << line;
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{"--max-streams", "0"},
                                             {"--max-streams", "1025"},
                                             {"--stream-lifetime", "1"},
                                             {"--stream-lifetime", "1m"}}) {
    std::vector<std::string> args = {"--port", "0", "--db", ":memory:"};
    args.insert(args.end(), bad.begin(), bad.end());
    const Ran ran = RunBinary(args);
    EXPECT_EQ(ran.exit_code, 2) << bad[0] << " " << bad.back();
    EXPECT_TRUE(Has(ran.err, bad[0])) << ran.err;
  }
}

TEST(CliStartupLineTest, FlagsWinOverTheEnvironmentInEitherForm) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.Start(
      {"--port=0", "--db=" + dir.File("t.db"), "--threads=8",
       "--event-retention", "36h,500", "--log-level=warn"},
      {"WEBHOOKS_THREADS=16", "WEBHOOKS_RATE_LIMIT=60",
       "WEBHOOKS_EVENT_RETENTION=7d", "WEBHOOKS_LOG_FORMAT=text"}));
  server.Stop();
  const std::string line = ConfigLineOf(server.Stderr());
  for (const char* shown :
       {" threads=8 ", " event_retention=36h,500 ", " rate_limit=60 ",
        " log_format=text ", " log_level=warn"}) {
    EXPECT_TRUE(Has(line, shown)) << shown << " not in " << line;
  }
}

// API keys are counted, never shown; keys given as flags replace those of
// the environment.
TEST(CliStartupLineTest, NeverShowsAnApiKey) {
  const std::string flag_keys[] = {"flag-key-0123456789", "flag-key-abcdef"};
  const std::string env_keys[] = {"env-key-0123456789", "env-key-abcdef",
                                  "env-key-third"};
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(
      server.Start({"--port", "0", "--db", dir.File("t.db"), "--api-key",
                    flag_keys[0], "--api-key=" + flag_keys[1]},
                   {"WEBHOOKS_API_KEYS=" + env_keys[0] + "," + env_keys[1] +
                    "," + env_keys[2]}));
  server.Stop();
  std::string log = server.Stderr();
  EXPECT_TRUE(Has(ConfigLineOf(log), " auth=2 configured key(s) ")) << log;

  ServerProcess from_env;
  ASSERT_TRUE(
      from_env.Start({"--port", "0", "--db", dir.File("t.db")},
                     {"WEBHOOKS_API_KEYS=" + env_keys[0] + "," + env_keys[1]}));
  from_env.Stop();
  EXPECT_TRUE(Has(ConfigLineOf(from_env.Stderr()), " auth=2 configured key"))
      << from_env.Stderr();
  log += from_env.Stderr();

  // Nor does a refused one appear in the complaint.
  const Refused refused = RefusedStart({"--port", "0", "--db", dir.File("t.db"),
                                        "--api-key", "secret with-a-space"});
  EXPECT_EQ(refused.exit_code, 2);
  log += refused.log;
  EXPECT_FALSE(Has(log, "with-a-space")) << log;
  for (const std::string& key : flag_keys) EXPECT_FALSE(Has(log, key)) << log;
  for (const std::string& key : env_keys) EXPECT_FALSE(Has(log, key)) << log;
}

}  // namespace
}  // namespace webhooks::testing
