// The server's settings. config.cpp holds them in one table, each setting
// written once: its flag, environment variable, default, help text, parser
// and how the start-up line shows it. From that table come the parsing of
// flags and environment (flags win over the environment, which wins over the
// defaults), the --help text and the start-up line. The admin commands read
// --db through the same table.

#ifndef WEBHOOKS_CONFIG_H_
#define WEBHOOKS_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace webhooks {

// Svix's retry schedule: after the first attempt, 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h, 10 h.
std::vector<int64_t> DefaultRetrySchedule();

// Events kept per endpoint when no count is configured.
constexpr size_t kDefaultEventCount = 1000;

// The largest --max-body: 25 MiB, the largest payload a provider sends
// (GitHub caps webhook payloads at 25 MB and drops larger ones). Every
// bound behind the flag (the connection's byte budget, both stores) holds
// an event this large; tests/api/ingress_test.cpp stores one.
constexpr long long kMaxBodyLimit = 25LL * 1024 * 1024;

// Everything the server is told at start-up. Sources, lowest priority first:
// these defaults, WEBHOOKS_* environment variables, command-line flags.
struct Config {
  // Address to listen on (--host, WEBHOOKS_HOST). An IP literal or
  // "localhost". Anything but loopback requires configured API keys.
  std::string host = "127.0.0.1";
  // TCP port (--port, WEBHOOKS_PORT); 0 picks a free one and prints it.
  int port = 9900;
  // SQLite database file (--db, WEBHOOKS_DB); ":memory:" for a private,
  // in-memory database. The folder is created if missing.
  std::string db_path = "data/webhooks.db";
  // Origin every webhook_url starts with (--public-url,
  // WEBHOOKS_PUBLIC_URL), without a trailing slash. Empty means
  // http://localhost:{bound port}.
  std::string public_url;
  // Accepted API keys (--api-key, repeatable; WEBHOOKS_API_KEYS, comma
  // separated), each "KEY" (a project of its own, made on first start) or
  // "KEY@PROJECT" (a key of the project with that name or id: several keys
  // may share one, which is how a key is rotated). See SplitApiKey. Empty
  // means zero-config local mode: any key is accepted and is its own
  // project. Secret: never printed.
  std::vector<std::string> api_keys;
  // Worker threads (--threads, WEBHOOKS_THREADS). Each keep-alive client
  // holds one while connected, so this is sized for many clients.
  int threads = 64;
  // Read-only database connections serving reads beside the one writer
  // (--read-connections, WEBHOOKS_READ_CONNECTIONS). Reads are short, so a
  // few per core suffice; see the README's performance section.
  int read_connections = 4;
  // Largest request body accepted, in bytes (--max-body, WEBHOOKS_MAX_BODY),
  // from 1024 to kMaxBodyLimit.
  size_t max_body = 64 * 1024;
  // A file holding 64 hex characters (32 bytes): the key setup values are
  // encrypted with at rest (--secrets-key-file, WEBHOOKS_SECRETS_KEY_FILE).
  // Empty: stored in clear (the database file is private, mode 0600).
  std::string secrets_key_path;
  // PEM certificate chain and private key for HTTPS (--tls-cert,
  // WEBHOOKS_TLS_CERT; --tls-key, WEBHOOKS_TLS_KEY): both or neither. Set,
  // the server speaks only TLS on its port, and SIGHUP reloads both files.
  std::string tls_cert_path;
  std::string tls_key_path;
  // Events kept (--event-retention, WEBHOOKS_EVENT_RETENTION): a count per
  // endpoint ("1000"), an age ("30s", "30m", "24h", "7d"), or both
  // ("24h,5000"). The count bound is always there: an age alone keeps at
  // most kDefaultEventCount per endpoint too. Default: 1000 events.
  EventRetention event_retention{kDefaultEventCount, 0};
  // Refuse to start without API keys even on loopback (--require-keys, or
  // --require-keys=BOOL; WEBHOOKS_REQUIRE_KEYS=BOOL, where BOOL is 1/0,
  // true/false, yes/no or on/off): for a server behind a reverse proxy,
  // where loopback is not private.
  bool require_keys = false;
  // A bearer token GET /metrics requires (--metrics-key,
  // WEBHOOKS_METRICS_KEY): "Authorization: Bearer KEY", compared in
  // constant time. Empty: /metrics is open, as /healthz is. Secret: never
  // printed.
  std::string metrics_key;
  // Reverse proxies whose X-Forwarded-For is believed (--trusted-proxy,
  // repeatable; WEBHOOKS_TRUSTED_PROXIES, comma separated): IPv4 or IPv6
  // networks ("10.0.0.0/8", "::1/128") or addresses. From a peer in one of
  // them, the client's address (in the log) is the right-most
  // X-Forwarded-For entry that is not itself trusted (ClientAddress in
  // util/net.h); from any other peer the header is ignored. Empty: the
  // TCP peer is the client.
  std::vector<std::string> trusted_proxies;
  // Requests per minute per project (--rate-limit, WEBHOOKS_RATE_LIMIT);
  // 0: no limit. Over it, 429 as Composio answers.
  int rate_limit = 0;
  // Access and error log format (--log-format, WEBHOOKS_LOG_FORMAT): "json",
  // one object a line, or "text", key=value pairs.
  std::string log_format = "json";
  // Least severe level logged (--log-level, WEBHOOKS_LOG_LEVEL): debug,
  // info (every request), warn or error.
  std::string log_level = "info";
  // A toolkit catalog JSON file that extends or replaces the built-in one
  // (--toolkits, WEBHOOKS_TOOLKITS; format in catalog.h). Empty: built-in.
  std::string toolkits_path;
  // Host names a request may carry in local mode (--allowed-host,
  // repeatable; WEBHOOKS_ALLOWED_HOSTS, comma separated), besides localhost,
  // loopback addresses and the --public-url host; "*" allows any. Lower
  // case. See HostPolicy.
  std::vector<std::string> allowed_hosts;
  // Delays between automatic delivery attempts, in milliseconds
  // (--retry-schedule, WEBHOOKS_RETRY_SCHEDULE: "5s,5m,30m"): N delays give
  // N + 1 attempts, each delay with +-20 % jitter. Default: Svix's schedule
  // (our choice; Composio publishes none).
  std::vector<int64_t> retry_schedule_ms = DefaultRetrySchedule();
  // Refuse deliveries to loopback, private and other special addresses too
  // (--deny-private-targets[=BOOL], WEBHOOKS_DENY_PRIVATE_TARGETS), not only
  // to link-local and metadata ones. For shared installs.
  bool deny_private_targets = false;
  // Per delivery attempt (--delivery-timeout, WEBHOOKS_DELIVERY_TIMEOUT):
  // the whole attempt, in milliseconds; connecting has at most 5 s of it.
  int64_t delivery_timeout_ms = 15000;
  // Attempts in flight at once (--delivery-concurrency,
  // WEBHOOKS_DELIVERY_CONCURRENCY).
  int delivery_concurrency = 64;
  // The dashboard's live streams (our extension): at most this many open
  // at once (never more than half the worker threads), each ended after
  // stream_lifetime_seconds (the page reconnects and resumes).
  int max_streams = 32;
  int stream_lifetime_seconds = 300;
  // A JSON file of endpoints and subscriptions to start with (--seed,
  // WEBHOOKS_SEED; format in the README), applied at every start without
  // duplicating anything. Empty: none.
  std::string seed_path;
  // Deterministic ids and secrets for snapshot tests (--id-seed,
  // WEBHOOKS_ID_SEED): the same seed and the same requests give the same
  // ids. Local mode only: ids are capabilities where keys protect data, so
  // the server refuses to start with it and keys. Unset: random.
  std::optional<uint64_t> id_seed;
};

// Longest API key accepted, from a flag or a request.
constexpr size_t kMaxApiKeyLength = 256;

// Longest project name or id in "KEY@PROJECT" (as `keys create` allows).
constexpr size_t kMaxProjectNameLength = 128;

// Splits an --api-key value "KEY@PROJECT" at its last '@' into *key and
// *project; "KEY" alone leaves *project empty. False if either part is
// empty or not printable ASCII without spaces, or too long.
bool SplitApiKey(const std::string& value, std::string* key,
                 std::string* project);

// What --version prints: "webhooks-server 0.14.0\n", the version from
// CMake's project(webhooks VERSION ...).
std::string VersionLine();

// What deliveries send as user-agent: "webhooks-server/0.14.0".
std::string UserAgent();

// The text of webhooks-server --help: usage lines, then every setting of the
// table (flag, placeholder, help, environment variable, default).
std::string ServerHelp();

// The --help lines of the settings named by flag ("db"), in table order, for
// a command's own help text. Unknown names are skipped.
std::string SettingsHelp(const std::vector<std::string>& flags);

enum class ParseOutcome { kRun, kHelp, kVersion, kError };

// What a command reads from its arguments: settings of the table, named by
// flag, from flags and their environment variables (the server reads them
// all, `keys` only "db"), options of its own that take a value ("--project
// NAME"), and at most `max_words` positional arguments.
struct CommandSyntax {
  std::string name;  // "webhooks-server keys", for "see ... --help"
  std::vector<std::string> settings;
  std::vector<std::string> options;
  // Options of its own that take no value ("--join").
  std::vector<std::string> switches;
  size_t max_words = 0;
};

// The options (last value given wins) and words a command was given.
struct CommandLine {
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::string> words;

  // The value of option `name`, or "" if it was not given.
  std::string Option(const std::string& name) const;
  // Whether option or switch `name` was given.
  bool Has(const std::string& name) const;
};

// Parses argv[first..] for a command. --help or -h anywhere gives kHelp,
// --version kVersion, before anything else is read. Then the environment,
// read through `getenv` (a parameter, so tests and main decide what it is),
// for the settings of `syntax`, then the flags in order: a flag wins over
// the environment, and list settings (--api-key, --allowed-host) given as
// flags replace the environment's list. Flags take "--name value" or
// "--name=value"; a boolean switch (--require-keys) takes no value, or
// "=BOOL". On kError, *error is the one line to print before exiting 2;
// *config and *given are then partly filled.
ParseOutcome ParseCommand(int argc, char** argv, int first,
                          const CommandSyntax& syntax,
                          const std::function<const char*(const char*)>& getenv,
                          Config* config, CommandLine* given,
                          std::string* error);

// ParseCommand for the server: every setting, no words, from argv[1].
ParseOutcome ParseConfig(int argc, char** argv,
                         const std::function<const char*(const char*)>& getenv,
                         Config* config, std::string* error);

// What the server learned at start-up that the start-up line shows beside
// the settings themselves.
struct StartupFacts {
  std::string public_base;            // the origin of every webhook_url
  std::vector<std::string> toolkits;  // slugs of the catalog loaded
  bool admin_keys = false;            // the database holds `keys create` keys
  std::string hosts;  // Host names local mode accepts, as shown ("any", ...)
};

// The start-up line, without its newline: "webhooks-server: host=...
// port=... db=... public_url=... threads=... read_connections=...
// max_body=... toolkits=... secrets=... auth=... hosts=...", then the other
// settings, one key=value each, in table order. Never holds an API key or
// any other secret.
std::string ConfigLine(const Config& config, const StartupFacts& facts);

}  // namespace webhooks

#endif  // WEBHOOKS_CONFIG_H_
