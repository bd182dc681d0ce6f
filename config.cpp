#include "config.h"

#include <string_view>
#include <utility>

#include "util/net.h"
#include "util/text.h"

namespace webhooks {

const char kUsage[] = R"(usage: webhooks-server [options]
       webhooks-server send-test-event --url WEBHOOK_URL --secret SECRET
                                       [--file event.json]
       webhooks-server keys create --project NAME | keys list |
                       keys revoke KEY_ID   [--db PATH]
       webhooks-server backup --to FILE [--db PATH]
       webhooks-server check [--db PATH]

A self-hosted Composio webhook endpoints API. Options (each also read from the
environment variable in brackets; a flag wins over the environment):

  --host ADDR        address to listen on [WEBHOOKS_HOST] (default 127.0.0.1);
                     a non-loopback address requires --api-key
  --port N           TCP port, 0 picks a free one [WEBHOOKS_PORT] (default 9900)
  --db PATH          SQLite database file, or :memory: [WEBHOOKS_DB]
                     (default data/webhooks.db; the folder is created)
  --public-url URL   base of every webhook_url, http:// or https://
                     [WEBHOOKS_PUBLIC_URL] (default http://localhost:PORT)
  --api-key KEY      accept this API key; repeatable [WEBHOOKS_API_KEYS,
                     comma-separated]. Without any key, any non-empty key is
                     accepted and is its own project (local mode).
  --threads N        worker threads, 1-1024 [WEBHOOKS_THREADS] (default 64)
  --read-connections N
                     database connections for reads, 1-64
                     [WEBHOOKS_READ_CONNECTIONS] (default 4)
  --max-body BYTES   largest request body, 1024-16777216 [WEBHOOKS_MAX_BODY]
                     (default 65536)
  --secrets-key-file FILE
                     encrypt setup values at rest with the key in FILE: 64 hex
                     characters, e.g. from `openssl rand -hex 32`
                     [WEBHOOKS_SECRETS_KEY_FILE] (default: stored in clear)
  --event-retention N|AGE|AGE,N
                     keep the newest N events per endpoint, and with an AGE
                     (30s, 30m, 24h, 7d) only those younger than it; AGE alone
                     keeps at most 1000 per endpoint [WEBHOOKS_EVENT_RETENTION]
                     (default 1000)
  --require-keys     refuse to start without API keys, even on loopback (behind
                     a reverse proxy loopback is not private)
                     [WEBHOOKS_REQUIRE_KEYS=1]
  --rate-limit N     requests per minute per project; more get 429 with
                     Retry-After [WEBHOOKS_RATE_LIMIT] (default: no limit)
  --log-format json|text
                     one line per request on stderr [WEBHOOKS_LOG_FORMAT]
                     (default json)
  --log-level debug|info|warn|error
                     least severe level logged [WEBHOOKS_LOG_LEVEL] (default
                     info: every request)
  --toolkits FILE    toolkit catalog JSON that extends (or, with
                     "replace": true, replaces) the built-in slack, slackbot
                     and notion [WEBHOOKS_TOOLKITS]
  --allowed-host NAME
                     in local mode (no API keys), also accept requests whose
                     Host is NAME; repeatable, "*" for any
                     [WEBHOOKS_ALLOWED_HOSTS, comma-separated] (default:
                     localhost, loopback addresses and the --public-url host)
  --help             print this text and exit

On start-up the first line on standard output is
"listening on http://HOST:PORT"; the server is ready when it appears.
)";

namespace {

// "N", "AGE" or "AGE,N" (either order): see --event-retention. Without a
// count, the count bound is kDefaultEventCount, so that no mode lets one
// endpoint grow without bound.
bool ParseEventRetention(std::string_view text, EventRetention* out) {
  EventRetention parsed{0, 0};
  for (;;) {
    const size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    const char unit = part.empty() ? '\0' : part.back();
    const long long unit_ms = unit == 's'   ? 1'000LL
                              : unit == 'm' ? 60'000LL
                              : unit == 'h' ? 3'600'000LL
                              : unit == 'd' ? 86'400'000LL
                                            : 0;
    long long number = 0;
    if (unit_ms != 0) {
      if (parsed.max_age_ms != 0 ||
          !ParseInt(part.substr(0, part.size() - 1), 1,
                    3650LL * 86'400'000 / unit_ms, &number)) {
        return false;
      }
      parsed.max_age_ms = number * unit_ms;
    } else {
      if (parsed.max_count_per_endpoint != 0 ||
          !ParseInt(part, 1, 100'000'000, &number)) {
        return false;
      }
      parsed.max_count_per_endpoint = static_cast<size_t>(number);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (parsed.max_count_per_endpoint == 0) {
    parsed.max_count_per_endpoint = kDefaultEventCount;
  }
  *out = parsed;
  return true;
}

// Applies one setting, from a flag or the environment. Returns an empty
// string on success, else the one-line complaint.
std::string ApplySetting(std::string_view name, const std::string& value,
                         Config* config) {
  long long number = 0;
  if (name == "host") {
    if (!IsIpLiteral(value) && value != "localhost") {
      return "--host must be an IP address or localhost, got '" + value + "'";
    }
    config->host = value == "localhost" ? "127.0.0.1" : value;
  } else if (name == "port") {
    if (!ParseInt(value, 0, 65535, &number)) {
      return "--port must be a number from 0 to 65535, got '" + value + "'";
    }
    config->port = static_cast<int>(number);
  } else if (name == "db") {
    if (value.empty()) return "--db must not be empty";
    config->db_path = value;
  } else if (name == "public-url") {
    std::string url = value;
    while (!url.empty() && url.back() == '/') url.pop_back();
    bool scheme = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
    size_t host_start = url.find("://") + 3;
    if (!scheme || url.size() <= host_start ||
        url.find_first_of("?#", host_start) != std::string::npos ||
        !IsTokenText(url, 2048)) {
      return "--public-url must be an http:// or https:// URL without query "
             "or fragment, got '" +
             value + "'";
    }
    config->public_url = url;
  } else if (name == "api-key") {
    if (!IsTokenText(value, kMaxApiKeyLength)) {
      // Never echo the value: it is meant to be a secret.
      return "--api-key values must be 1-256 printable ASCII characters "
             "without spaces";
    }
    config->api_keys.push_back(value);
  } else if (name == "threads") {
    if (!ParseInt(value, 1, 1024, &number)) {
      return "--threads must be a number from 1 to 1024, got '" + value + "'";
    }
    config->threads = static_cast<int>(number);
  } else if (name == "read-connections") {
    if (!ParseInt(value, 1, 64, &number)) {
      return "--read-connections must be a number from 1 to 64, got '" + value +
             "'";
    }
    config->read_connections = static_cast<int>(number);
  } else if (name == "max-body") {
    if (!ParseInt(value, 1024, 16 * 1024 * 1024, &number)) {
      return "--max-body must be a number of bytes from 1024 to 16777216, "
             "got '" +
             value + "'";
    }
    config->max_body = static_cast<size_t>(number);
  } else if (name == "event-retention") {
    if (!ParseEventRetention(value, &config->event_retention)) {
      return "--event-retention must be a count (1000), an age (30s, 30m, "
             "24h, 7d, at most 3650d) or both (24h,5000), got '" +
             value + "'";
    }
  } else if (name == "rate-limit") {
    if (!ParseInt(value, 0, 1'000'000, &number)) {
      return "--rate-limit must be a number of requests per minute from 0 "
             "(no limit) to 1000000, got '" +
             value + "'";
    }
    config->rate_limit = static_cast<int>(number);
  } else if (name == "log-format") {
    if (value != "json" && value != "text") {
      return "--log-format must be json or text, got '" + value + "'";
    }
    config->log_format = value;
  } else if (name == "log-level") {
    if (value != "debug" && value != "info" && value != "warn" &&
        value != "error") {
      return "--log-level must be debug, info, warn or error, got '" + value +
             "'";
    }
    config->log_level = value;
  } else if (name == "secrets-key-file") {
    if (value.empty()) return "--secrets-key-file must name a file";
    config->secrets_key_path = value;
  } else if (name == "toolkits") {
    if (value.empty()) return "--toolkits must name a file";
    config->toolkits_path = value;
  } else if (name == "allowed-host") {
    const std::string host = Lowercase(value);
    if (host != "*" && !IsHostName(host)) {
      return "--allowed-host must be a host name or IP address without a "
             "port, or *, got '" +
             value + "'";
    }
    config->allowed_hosts.push_back(host);
  } else {
    return "unknown option --" + std::string(name) +
           " (see webhooks-server --help)";
  }
  return "";
}

}  // namespace

// Reads the environment through `getenv` (a parameter, so tests and main
// decide what it is) and then the flags. On kError, *error is the one line
// to print before exiting 2.
ParseOutcome ParseConfig(int argc, char** argv,
                         const std::function<const char*(const char*)>& getenv,
                         Config* config, std::string* error) {
  static constexpr std::pair<const char*, const char*> kEnvironment[] = {
      {"WEBHOOKS_HOST", "host"},
      {"WEBHOOKS_PORT", "port"},
      {"WEBHOOKS_DB", "db"},
      {"WEBHOOKS_PUBLIC_URL", "public-url"},
      {"WEBHOOKS_THREADS", "threads"},
      {"WEBHOOKS_READ_CONNECTIONS", "read-connections"},
      {"WEBHOOKS_MAX_BODY", "max-body"},
      {"WEBHOOKS_TOOLKITS", "toolkits"},
      {"WEBHOOKS_SECRETS_KEY_FILE", "secrets-key-file"},
      {"WEBHOOKS_EVENT_RETENTION", "event-retention"},
      {"WEBHOOKS_LOG_FORMAT", "log-format"},
      {"WEBHOOKS_RATE_LIMIT", "rate-limit"},
      {"WEBHOOKS_LOG_LEVEL", "log-level"},
  };
  for (const auto& [variable, name] : kEnvironment) {
    if (const char* value = getenv(variable)) {
      *error = ApplySetting(name, value, config);
      if (!error->empty()) {
        *error = std::string(variable) + ": " + *error;
        return ParseOutcome::kError;
      }
    }
  }
  if (const char* hosts = getenv("WEBHOOKS_ALLOWED_HOSTS")) {
    for (const std::string& host : SplitCommas(hosts)) {
      *error = ApplySetting("allowed-host", host, config);
      if (!error->empty()) {
        *error = "WEBHOOKS_ALLOWED_HOSTS: " + *error;
        return ParseOutcome::kError;
      }
    }
  }
  if (const char* keys = getenv("WEBHOOKS_API_KEYS")) {
    for (const std::string& key : SplitCommas(keys)) {
      *error = ApplySetting("api-key", key, config);
      if (!error->empty()) {
        *error = "WEBHOOKS_API_KEYS: " + *error;
        return ParseOutcome::kError;
      }
    }
  }

  if (const char* require = getenv("WEBHOOKS_REQUIRE_KEYS")) {
    config->require_keys = std::string_view(require) == "1";
  }
  bool keys_from_flags = false;
  bool hosts_from_flags = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return ParseOutcome::kHelp;
    if (arg == "--require-keys") {  // the one flag without a value
      config->require_keys = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument '" + std::string(arg) +
               "' (see webhooks-server --help)";
      return ParseOutcome::kError;
    }
    arg.remove_prefix(2);
    std::string name, value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      name = arg;
      value = argv[++i];
    } else {
      *error = "option --" + std::string(arg) + " needs a value";
      return ParseOutcome::kError;
    }
    // Keys and hosts given as flags replace those from the environment:
    // flag wins.
    if (name == "api-key" && !keys_from_flags) {
      config->api_keys.clear();
      keys_from_flags = true;
    }
    if (name == "allowed-host" && !hosts_from_flags) {
      config->allowed_hosts.clear();
      hosts_from_flags = true;
    }
    *error = ApplySetting(name, value, config);
    if (!error->empty()) return ParseOutcome::kError;
  }
  return ParseOutcome::kRun;
}

}  // namespace webhooks
