// The settings table and what is made from it: parsing flags and the
// environment, --help, --version and the start-up line. To add a setting,
// add its field to Config and one entry to kSettings; nothing else lists
// settings.

#include "config.h"

#include <cstdint>
#include <string_view>
#include <utility>

#include "util/db_uri.h"
#include "util/net.h"
#include "util/text.h"

#ifndef WEBHOOKS_VERSION
#error "CMake defines WEBHOOKS_VERSION from project(webhooks VERSION ...)"
#endif

namespace webhooks {

std::vector<int64_t> DefaultRetrySchedule() {
  return {5'000,      300'000,    1'800'000, 7'200'000,
          18'000'000, 36'000'000, 36'000'000};
}

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

// A boolean as a flag's value or an environment variable: 1/0, true/false,
// yes/no, on/off, in any case. Anything else is refused rather than read as
// "off": WEBHOOKS_REQUIRE_KEYS=true used to leave keys optional.
std::string ParseBool(const char* flag, const std::string& value, bool* out) {
  const std::string word = Lowercase(value);
  if (word == "1" || word == "true" || word == "yes" || word == "on") {
    *out = true;
  } else if (word == "0" || word == "false" || word == "no" || word == "off") {
    *out = false;
  } else {
    return std::string("--") + flag +
           " must be 1/0, true/false, yes/no or on/off, got '" + value + "'";
  }
  return "";
}

// --event-retention as it would be written: "1000", "24h,1000".
std::string ShowRetention(const EventRetention& retention) {
  std::string shown;
  if (retention.max_age_ms > 0) {
    constexpr std::pair<int64_t, char> kUnits[] = {
        {86'400'000, 'd'}, {3'600'000, 'h'}, {60'000, 'm'}, {1'000, 's'}};
    for (const auto& [unit_ms, suffix] : kUnits) {
      if (retention.max_age_ms % unit_ms == 0) {
        shown = std::to_string(retention.max_age_ms / unit_ms) + suffix + ",";
        break;
      }
    }
  }
  return shown + std::to_string(retention.max_count_per_endpoint);
}

// --retry-schedule: 1 to 20 delays "200ms,5s,30m,2h", each at most 24h.
bool ParseRetrySchedule(std::string_view text, std::vector<int64_t>* out) {
  std::vector<int64_t> delays;
  for (;;) {
    const size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    long long unit_ms = 0;
    if (part.size() > 2 && part.substr(part.size() - 2) == "ms") {
      unit_ms = 1;
      part.remove_suffix(2);
    } else if (!part.empty()) {
      const char unit = part.back();
      unit_ms = unit == 's'   ? 1'000LL
                : unit == 'm' ? 60'000LL
                : unit == 'h' ? 3'600'000LL
                              : 0;
      part.remove_suffix(1);
    }
    long long number = 0;
    if (unit_ms == 0 || !ParseInt(part, 0, 86'400'000LL / unit_ms, &number)) {
      return false;
    }
    delays.push_back(number * unit_ms);
    if (delays.size() > 20) return false;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  *out = std::move(delays);
  return true;
}

// --retry-schedule as it would be written: "5s,5m,30m".
std::string ShowRetrySchedule(const std::vector<int64_t>& delays_ms) {
  std::string shown;
  for (int64_t delay : delays_ms) {
    if (!shown.empty()) shown += ',';
    constexpr std::pair<int64_t, const char*> kUnits[] = {
        {3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}, {1, "ms"}};
    for (const auto& [unit_ms, suffix] : kUnits) {
      if (delay % unit_ms == 0 && (delay != 0 || unit_ms == 1'000)) {
        shown += std::to_string(delay / unit_ms) + suffix;
        break;
      }
    }
  }
  return shown;
}

enum class SettingKind {
  kValue,   // --flag VALUE; the last one given wins
  kList,    // --flag VALUE, repeatable; the variable is comma separated; the
            // flags' list replaces the environment's
  kSwitch,  // --flag alone means on; --flag=BOOL and the variable a boolean
};

// One setting: everything the program knows about it, in one place.
struct Setting {
  const char* flag;         // "port": --port N, --port=N
  const char* placeholder;  // the value's name in --help ("N"); unused by a
                            // switch, shown as [=BOOL]
  const char* variable;     // its environment variable
  SettingKind kind;
  // kList: the list that flags empty before their first item.
  std::vector<std::string> Config::*list;
  const char* default_text;  // as --help shows it
  const char* help;          // --help text, wrapped when printed
  // A secret (API keys): --help says it is never printed, `parse` must not
  // quote it in a complaint, and `show` describes it (a count), never it.
  bool secret;
  // Validates `value` and stores it into *config (a list: adds it).
  // Returns "" or the one-line complaint.
  std::string (*parse)(const std::string& value, Config* config);
  const char* shown_as;  // its key in the start-up line
  std::string (*show)(const Config& config, const StartupFacts& facts);
};

// Every setting, in the order --help lists them and the start-up line shows
// them (the first eleven keep the start-up line's historical order).
constexpr Setting kSettings[] = {
    {"host", "ADDR", "WEBHOOKS_HOST", SettingKind::kValue, nullptr, "127.0.0.1",
     "address to listen on: an IP address or localhost; a non-loopback "
     "address requires --api-key",
     false,
     [](const std::string& value, Config* config) -> std::string {
       if (!IsIpLiteral(value) && value != "localhost") {
         return "--host must be an IP address or localhost, got '" + value +
                "'";
       }
       config->host = value == "localhost" ? "127.0.0.1" : value;
       return "";
     },
     "host",
     [](const Config& config, const StartupFacts&) { return config.host; }},
    {"port", "N", "WEBHOOKS_PORT", SettingKind::kValue, nullptr, "9900",
     "TCP port; 0 picks a free one", false,
     [](const std::string& value, Config* config) -> std::string {
       long long number = 0;
       if (!ParseInt(value, 0, 65535, &number)) {
         return "--port must be a number from 0 to 65535, got '" + value + "'";
       }
       config->port = static_cast<int>(number);
       return "";
     },
     "port",
     [](const Config& config, const StartupFacts&) {
       return std::to_string(config.port);
     }},
    {"db", "PATH", "WEBHOOKS_DB", SettingKind::kValue, nullptr,
     "data/webhooks.db",
     "SQLite database file (the server creates it and its folder; the file "
     "is mode 0600), :memory: for a private in-memory one, or a "
     "postgresql:// (postgres://) URI: PostgreSQL 15 or later, shared by "
     "any number of instances; its password is never printed",
     false,
     [](const std::string& value, Config* config) -> std::string {
       if (value.empty()) return "--db must not be empty";
       config->db_path = value;
       return "";
     },
     "db",
     [](const Config& config, const StartupFacts&) {
       return RedactDatabaseUri(config.db_path);
     }},
    {"public-url", "URL", "WEBHOOKS_PUBLIC_URL", SettingKind::kValue, nullptr,
     "http://localhost:PORT",
     "base of every webhook_url: http:// or https://, without query or "
     "fragment",
     false,
     [](const std::string& value, Config* config) -> std::string {
       std::string url = value;
       while (!url.empty() && url.back() == '/') url.pop_back();
       const bool scheme =
           url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
       const size_t host_start = url.find("://") + 3;
       if (!scheme || url.size() <= host_start ||
           url.find_first_of("?#", host_start) != std::string::npos ||
           !IsTokenText(url, 2048)) {
         return "--public-url must be an http:// or https:// URL without "
                "query or fragment, got '" +
                value + "'";
       }
       config->public_url = url;
       return "";
     },
     "public_url",
     [](const Config&, const StartupFacts& facts) {
       return facts.public_base;
     }},
    {"threads", "N", "WEBHOOKS_THREADS", SettingKind::kValue, nullptr, "64",
     "worker threads, 1-1024; a busy keep-alive client holds one while no "
     "other waits for one",
     false,
     [](const std::string& value, Config* config) -> std::string {
       long long number = 0;
       if (!ParseInt(value, 1, 1024, &number)) {
         return "--threads must be a number from 1 to 1024, got '" + value +
                "'";
       }
       config->threads = static_cast<int>(number);
       return "";
     },
     "threads",
     [](const Config& config, const StartupFacts&) {
       return std::to_string(config.threads);
     }},
    {"read-connections", "N", "WEBHOOKS_READ_CONNECTIONS", SettingKind::kValue,
     nullptr, "4",
     "database connections serving reads beside the one writer, 1-64", false,
     [](const std::string& value, Config* config) -> std::string {
       long long number = 0;
       if (!ParseInt(value, 1, 64, &number)) {
         return "--read-connections must be a number from 1 to 64, got '" +
                value + "'";
       }
       config->read_connections = static_cast<int>(number);
       return "";
     },
     "read_connections",
     [](const Config& config, const StartupFacts&) {
       return std::to_string(config.read_connections);
     }},
    {"max-body", "BYTES", "WEBHOOKS_MAX_BODY", SettingKind::kValue, nullptr,
     "65536", "largest request body, 1024-26214400 (25 MiB, GitHub's limit)",
     false,
     [](const std::string& value, Config* config) -> std::string {
       long long number = 0;
       if (!ParseInt(value, 1024, kMaxBodyLimit, &number)) {
         return "--max-body must be a number of bytes from 1024 to " +
                std::to_string(kMaxBodyLimit) +
                " (25 MiB, the largest event a provider sends: GitHub's), "
                "got '" +
                value + "'";
       }
       config->max_body = static_cast<size_t>(number);
       return "";
     },
     "max_body",
     [](const Config& config, const StartupFacts&) {
       return std::to_string(config.max_body);
     }},
    {"toolkits", "FILE", "WEBHOOKS_TOOLKITS", SettingKind::kValue, nullptr,
     "built-in: slack, slackbot, notion, discord, github, stripe",
     "toolkit catalog JSON that extends (or, with \"replace\": true, "
     "replaces) the built-in one",
     false,
     [](const std::string& value, Config* config) -> std::string {
       if (value.empty()) return "--toolkits must name a file";
       config->toolkits_path = value;
       return "";
     },
     "toolkits",
     [](const Config& config, const StartupFacts& facts) {
       std::string shown;
       for (const std::string& slug : facts.toolkits) {
         shown += (shown.empty() ? "" : ",") + slug;
       }
       if (!config.toolkits_path.empty()) {
         shown += " from " + config.toolkits_path;
       }
       return shown;
     }},
    {"secrets-key-file", "FILE", "WEBHOOKS_SECRETS_KEY_FILE",
     SettingKind::kValue, nullptr, "none: stored in clear",
     "encrypt setup values at rest with the key in FILE: 64 hex characters, "
     "e.g. from `openssl rand -hex 32`",
     false,
     [](const std::string& value, Config* config) -> std::string {
       if (value.empty()) return "--secrets-key-file must name a file";
       config->secrets_key_path = value;
       return "";
     },
     "secrets",
     [](const Config& config, const StartupFacts&) {
       return std::string(config.secrets_key_path.empty() ? "clear"
                                                          : "encrypted");
     }},
    {"tls-cert", "FILE", "WEBHOOKS_TLS_CERT", SettingKind::kValue, nullptr,
     "none: plain HTTP",
     "serve HTTPS with this PEM certificate (then its intermediates); needs "
     "--tls-key; SIGHUP reloads both",
     false,
     [](const std::string& value, Config* config) -> std::string {
       if (value.empty()) return "--tls-cert must name a file";
       config->tls_cert_path = value;
       return "";
     },
     "tls_cert",
     [](const Config& config, const StartupFacts&) {
       return config.tls_cert_path.empty() ? std::string("none")
                                           : config.tls_cert_path;
     }},
    {"tls-key", "FILE", "WEBHOOKS_TLS_KEY", SettingKind::kValue, nullptr,
     "none", "the PEM private key of --tls-cert (not encrypted)", false,
     [](const std::string& value, Config* config) -> std::string {
       if (value.empty()) return "--tls-key must name a file";
       config->tls_key_path = value;
       return "";
     },
     "tls_key",
     [](const Config& config, const StartupFacts&) {
       return config.tls_key_path.empty() ? std::string("none")
                                          : config.tls_key_path;
     }},
    {"api-key", "KEY", "WEBHOOKS_API_KEYS", SettingKind::kList,
     &Config::api_keys, "none: local mode",
     "accept this API key; KEY@PROJECT makes it a key of the project with "
     "that name or id (several keys on one project: a rotation), KEY alone a "
     "project of its own; without any key, here or from `keys create`, any "
     "non-empty key is accepted as its own project (local mode)",
     true,
     [](const std::string& value, Config* config) -> std::string {
       std::string key, project;
       if (!SplitApiKey(value, &key, &project)) {
         return "--api-key values must be KEY or KEY@PROJECT, the key 1-256 "
                "and the project 1-128 printable ASCII characters without "
                "spaces";
       }
       config->api_keys.push_back(value);
       return "";
     },
     "auth",
     [](const Config& config, const StartupFacts& facts) {
       if (config.api_keys.empty() && !facts.admin_keys) {
         return std::string("local (any non-empty key is its own project)");
       }
       return std::to_string(config.api_keys.size()) + " configured key(s)" +
              (facts.admin_keys ? " and admin keys" : "");
     }},
    {"allowed-host", "NAME", "WEBHOOKS_ALLOWED_HOSTS", SettingKind::kList,
     &Config::allowed_hosts,
     "localhost, loopback addresses and the --public-url host",
     "in local mode (no API keys), also accept requests whose Host is NAME; "
     "\"*\" for any",
     false,
     [](const std::string& value, Config* config) -> std::string {
       const std::string host = Lowercase(value);
       if (host != "*" && !IsHostName(host)) {
         return "--allowed-host must be a host name or IP address without a "
                "port, or *, got '" +
                value + "'";
       }
       config->allowed_hosts.push_back(host);
       return "";
     },
     "hosts",
     [](const Config&, const StartupFacts& facts) { return facts.hosts; }},
    {"require-keys", "", "WEBHOOKS_REQUIRE_KEYS", SettingKind::kSwitch, nullptr,
     "off",
     "refuse to start without API keys, even on loopback (behind a reverse "
     "proxy loopback is not private)",
     false,
     [](const std::string& value, Config* config) -> std::string {
       return ParseBool("require-keys", value, &config->require_keys);
     },
     "require_keys",
     [](const Config& config, const StartupFacts&) {
       return std::string(config.require_keys ? "on" : "off");
     }},
    {"event-retention", "N|AGE|AGE,N", "WEBHOOKS_EVENT_RETENTION",
     SettingKind::kValue, nullptr, "1000",
     "keep the newest N events per endpoint, and with an AGE (30s, 30m, 24h, "
     "7d) only those younger than it; AGE alone keeps at most 1000 per "
     "endpoint",
     false,
     [](const std::string& value, Config* config) -> std::string {
       if (!ParseEventRetention(value, &config->event_retention)) {
         return "--event-retention must be a count (1000), an age (30s, 30m, "
                "24h, 7d, at most 3650d) or both (24h,5000), got '" +
                value + "'";
       }
       return "";
     },
     "event_retention",
     [](const Config& config, const StartupFacts&) {
       return ShowRetention(config.event_retention);
     }},
    {"rate-limit", "N", "WEBHOOKS_RATE_LIMIT", SettingKind::kValue, nullptr,
     "0: no limit",
     "requests per minute per project, 0-1000000; more get 429 with "
     "Retry-After",
     false,
     [](const std::string& value, Config* config) -> std::string {
       long long number = 0;
       if (!ParseInt(value, 0, 1'000'000, &number)) {
         return "--rate-limit must be a number of requests per minute from 0 "
                "(no limit) to 1000000, got '" +
                value + "'";
       }
       config->rate_limit = static_cast<int>(number);
       return "";
     },
     "rate_limit",
     [](const Config& config, const StartupFacts&) {
       return std::to_string(config.rate_limit);
     }},
    {"metrics-key", "KEY", "WEBHOOKS_METRICS_KEY", SettingKind::kValue, nullptr,
     "none: /metrics is open",
     "GET /metrics then needs the header \"Authorization: Bearer KEY\" "
     "(else 401)",
     true,
     [](const std::string& value, Config* config) -> std::string {
       if (!IsTokenText(value, kMaxApiKeyLength)) {
         return "--metrics-key must be 1-256 printable ASCII characters "
                "without spaces";
       }
       config->metrics_key = value;
       return "";
     },
     "metrics",
     [](const Config& config, const StartupFacts&) {
       return std::string(config.metrics_key.empty() ? "open" : "key");
     }},
    {"trusted-proxy", "CIDR", "WEBHOOKS_TRUSTED_PROXIES", SettingKind::kList,
     &Config::trusted_proxies, "none: X-Forwarded-For is ignored",
     "a reverse proxy's network (10.0.0.0/8, ::1/128) or address, or a "
     "comma-separated list of them: from it, "
     "the client address logged is the right-most X-Forwarded-For entry not "
     "itself trusted; from any other peer X-Forwarded-For is ignored",
     false,
     [](const std::string& value, Config* config) -> std::string {
       // A flag's value may be a list too ("10.0.0.0/8,::1").
       const std::vector<std::string> cidrs = SplitCommas(value);
       if (cidrs.empty()) return "--trusted-proxy needs a network or address";
       for (const std::string& cidr : cidrs) {
         NetworkList check;
         if (!check.Add(cidr)) {
           return "--trusted-proxy must be an IPv4 or IPv6 network "
                  "(10.0.0.0/8, fd00::/8; no host bits after the prefix) or "
                  "address, got '" +
                  Printable(cidr, 64) + "'";
         }
         config->trusted_proxies.push_back(cidr);
       }
       return "";
     },
     "trusted_proxies",
     [](const Config& config, const StartupFacts&) {
       std::string shown;
       for (const std::string& cidr : config.trusted_proxies) {
         shown += (shown.empty() ? "" : ",") + cidr;
       }
       return shown.empty() ? std::string("none") : shown;
     }},
    {"log-format", "json|text", "WEBHOOKS_LOG_FORMAT", SettingKind::kValue,
     nullptr, "json",
     "the log's format: one line per request on standard error", false,
     [](const std::string& value, Config* config) -> std::string {
       if (value != "json" && value != "text") {
         return "--log-format must be json or text, got '" + value + "'";
       }
       config->log_format = value;
       return "";
     },
     "log_format",
     [](const Config& config, const StartupFacts&) {
       return config.log_format;
     }},
    {"log-level", "debug|info|warn|error", "WEBHOOKS_LOG_LEVEL",
     SettingKind::kValue, nullptr, "info: every request",
     "least severe level logged", false,
     [](const std::string& value, Config* config) -> std::string {
       if (value != "debug" && value != "info" && value != "warn" &&
           value != "error") {
         return "--log-level must be debug, info, warn or error, got '" +
                value + "'";
       }
       config->log_level = value;
       return "";
     },
     "log_level",
     [](const Config& config, const StartupFacts&) {
       return config.log_level;
     }},
    {"retry-schedule", "DELAYS", "WEBHOOKS_RETRY_SCHEDULE", SettingKind::kValue,
     nullptr, "5s,5m,30m,2h,5h,10h,10h",
     "delays between automatic delivery attempts, comma separated, each a "
     "number and a unit (ms, s, m, h), at most 20 of them, each at most 24h; "
     "N delays give N + 1 attempts, with +-20 % jitter",
     false,
     [](const std::string& value, Config* config) -> std::string {
       if (!ParseRetrySchedule(value, &config->retry_schedule_ms)) {
         return "--retry-schedule must be 1 to 20 comma-separated delays, "
                "each a number and a unit (200ms, 5s, 30m, 2h) of at most 24h, "
                "got '" +
                value + "'";
       }
       return "";
     },
     "retry_schedule",
     [](const Config& config, const StartupFacts&) {
       return ShowRetrySchedule(config.retry_schedule_ms);
     }},
    {"deny-private-targets", "", "WEBHOOKS_DENY_PRIVATE_TARGETS",
     SettingKind::kSwitch, nullptr, "off",
     "refuse deliveries to loopback, private (RFC 1918), CGNAT, ULA and other "
     "special addresses too; link-local and metadata addresses are always "
     "refused",
     false,
     [](const std::string& value, Config* config) -> std::string {
       return ParseBool("deny-private-targets", value,
                        &config->deny_private_targets);
     },
     "deny_private_targets",
     [](const Config& config, const StartupFacts&) {
       return std::string(config.deny_private_targets ? "on" : "off");
     }},
    {"delivery-timeout", "MS", "WEBHOOKS_DELIVERY_TIMEOUT", SettingKind::kValue,
     nullptr, "15000",
     "milliseconds a delivery attempt may take in all, 100-600000 (connecting "
     "at most 5000 of them)",
     false,
     [](const std::string& value, Config* config) -> std::string {
       long long number = 0;
       if (!ParseInt(value, 100, 600'000, &number)) {
         return "--delivery-timeout must be a number of milliseconds from 100 "
                "to 600000, got '" +
                value + "'";
       }
       config->delivery_timeout_ms = number;
       return "";
     },
     "delivery_timeout_ms",
     [](const Config& config, const StartupFacts&) {
       return std::to_string(config.delivery_timeout_ms);
     }},
    {"delivery-concurrency", "N", "WEBHOOKS_DELIVERY_CONCURRENCY",
     SettingKind::kValue, nullptr, "64",
     "delivery attempts in flight at once, 1-1024", false,
     [](const std::string& value, Config* config) -> std::string {
       long long number = 0;
       if (!ParseInt(value, 1, 1024, &number)) {
         return "--delivery-concurrency must be a number from 1 to 1024, got "
                "'" +
                value + "'";
       }
       config->delivery_concurrency = static_cast<int>(number);
       return "";
     },
     "delivery_concurrency",
     [](const Config& config, const StartupFacts&) {
       return std::to_string(config.delivery_concurrency);
     }},
    {"max-streams", "N", "WEBHOOKS_MAX_STREAMS", SettingKind::kValue, nullptr,
     "32",
     "dashboard live streams open at once, 1-1024 (at most half of "
     "--threads)",
     false,
     [](const std::string& value, Config* config) -> std::string {
       long long number = 0;
       if (!ParseInt(value, 1, 1024, &number)) {
         return "--max-streams must be a number from 1 to 1024, got '" + value +
                "'";
       }
       config->max_streams = static_cast<int>(number);
       return "";
     },
     "max_streams",
     [](const Config& config, const StartupFacts&) {
       return std::to_string(config.max_streams);
     }},
    {"stream-lifetime", "SECONDS", "WEBHOOKS_STREAM_LIFETIME",
     SettingKind::kValue, nullptr, "300",
     "a dashboard live stream ends after this long (the page reconnects), "
     "2-86400",
     false,
     [](const std::string& value, Config* config) -> std::string {
       long long number = 0;
       if (!ParseInt(value, 2, 86400, &number)) {
         return "--stream-lifetime must be a number of seconds from 2 to "
                "86400, got '" +
                value + "'";
       }
       config->stream_lifetime_seconds = static_cast<int>(number);
       return "";
     },
     "stream_lifetime_seconds",
     [](const Config& config, const StartupFacts&) {
       return std::to_string(config.stream_lifetime_seconds);
     }},
    {"seed", "FILE", "WEBHOOKS_SEED", SettingKind::kValue, nullptr, "none",
     "JSON file of endpoints and subscriptions to start with (see the "
     "README), applied at every start without duplicating anything",
     false,
     [](const std::string& value, Config* config) -> std::string {
       if (value.empty()) return "--seed must name a file";
       config->seed_path = value;
       return "";
     },
     "seed",
     [](const Config& config, const StartupFacts&) {
       return config.seed_path.empty() ? std::string("none") : config.seed_path;
     }},
    {"id-seed", "N", "WEBHOOKS_ID_SEED", SettingKind::kValue, nullptr,
     "none: random",
     "make ids and secrets from seed N (0-9007199254740991), the same for the "
     "same requests, for snapshot tests; local mode only (no API keys)",
     false,
     [](const std::string& value, Config* config) -> std::string {
       long long number = 0;
       if (!ParseInt(value, 0, 9'007'199'254'740'991LL, &number)) {
         return "--id-seed must be a number from 0 to 9007199254740991, got "
                "'" +
                value + "'";
       }
       config->id_seed = static_cast<uint64_t>(number);
       return "";
     },
     "id_seed",
     [](const Config& config, const StartupFacts&) {
       return config.id_seed ? std::to_string(*config.id_seed)
                             : std::string("none");
     }},
};

const Setting* FindSetting(std::string_view flag) {
  for (const Setting& setting : kSettings) {
    if (flag == setting.flag) return &setting;
  }
  return nullptr;
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  for (const std::string& each : names) {
    if (each == name) return true;
  }
  return false;
}

// Where --help's text column starts, and where it wraps.
constexpr size_t kHelpColumn = 21;
constexpr size_t kHelpWidth = 79;

// One setting's --help entry: "  --port N", then its help, environment
// variable and default, word-wrapped in the text column.
std::string SettingHelp(const Setting& setting) {
  std::string out = std::string("  --") + setting.flag;
  if (setting.kind == SettingKind::kSwitch) {
    out += "[=BOOL]";
  } else {
    out += std::string(" ") + setting.placeholder;
  }
  if (out.size() + 2 > kHelpColumn) {
    out += "\n" + std::string(kHelpColumn, ' ');
  } else {
    out += std::string(kHelpColumn - out.size(), ' ');
  }
  std::string text = setting.help;
  if (setting.kind == SettingKind::kList) text += "; repeatable";
  if (setting.secret) text += "; never printed";
  text += std::string(" [") + setting.variable;
  if (setting.kind == SettingKind::kList) text += ", comma-separated";
  if (setting.kind == SettingKind::kSwitch) text += "=BOOL";
  // "(default" stays on the line of the value's first word (\x1f: a space
  // the wrapping keeps), so that "(default 9900)" can be searched for.
  text += std::string("] (default\x1f") + setting.default_text + ")";
  size_t column = kHelpColumn;
  bool line_start = true;
  for (std::string_view rest = text; !rest.empty();) {
    const size_t space = rest.find(' ');
    const std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? "" : rest.substr(space + 1);
    if (!line_start && column + 1 + word.size() > kHelpWidth) {
      out += "\n" + std::string(kHelpColumn, ' ');
      column = kHelpColumn;
      line_start = true;
    }
    if (!line_start) {
      out += ' ';
      ++column;
    }
    for (const char c : word) out += c == '\x1f' ? ' ' : c;
    column += word.size();
    line_start = false;
  }
  return out + "\n";
}

// Applies an environment variable's value: a list is comma separated.
std::string ApplyVariable(const Setting& setting, const char* value,
                          Config* config) {
  if (setting.kind != SettingKind::kList) return setting.parse(value, config);
  for (const std::string& item : SplitCommas(value)) {
    if (std::string complaint = setting.parse(item, config);
        !complaint.empty()) {
      return complaint;
    }
  }
  return "";
}

}  // namespace

bool SplitApiKey(const std::string& value, std::string* key,
                 std::string* project) {
  const size_t at = value.rfind('@');
  *key = value.substr(0, at);
  *project = at == std::string::npos ? "" : value.substr(at + 1);
  return IsTokenText(*key, kMaxApiKeyLength) &&
         (at == std::string::npos ||
          IsTokenText(*project, kMaxProjectNameLength));
}

std::string VersionLine() {
  return std::string("webhooks-server ") + WEBHOOKS_VERSION + "\n";
}

std::string UserAgent() {
  return std::string("webhooks-server/") + WEBHOOKS_VERSION;
}

std::string SettingsHelp(const std::vector<std::string>& flags) {
  std::string out;
  for (const Setting& setting : kSettings) {
    if (Contains(flags, setting.flag)) out += SettingHelp(setting);
  }
  return out;
}

std::string ServerHelp() {
  std::vector<std::string> every;
  for (const Setting& setting : kSettings) every.emplace_back(setting.flag);
  return R"(usage: webhooks-server [options]
       webhooks-server keys create --project NAME [--join] | keys list |
                       keys revoke KEY_ID   [--db PATH]
       webhooks-server backup --to FILE [--db PATH]
       webhooks-server check [--db PATH]
       webhooks-server migrate [--db PATH|URI]
       webhooks-server send-test-event --url WEBHOOK_URL --secret SECRET
                                       [--file event.json]
       webhooks-server --version

A self-hosted Composio webhook endpoints API. Options (each also read from the
environment variable in brackets; a flag wins over the environment; a bad value
stops start-up with exit code 2):

)" + SettingsHelp(every) +
         R"(  --help             print this text and exit
  --version          print the version and exit

A BOOL is 1/0, true/false, yes/no or on/off, in any case. Each command has a
--help of its own (webhooks-server keys --help).

On start-up the first line on standard output is
"listening on http://HOST:PORT" (https:// with --tls-cert); the server is
ready when it appears. The
configuration in effect goes to standard error, without any API key.
)";
}

std::string CommandLine::Option(const std::string& name) const {
  for (auto it = options.rbegin(); it != options.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return "";
}

bool CommandLine::Has(const std::string& name) const {
  for (const auto& option : options) {
    if (option.first == name) return true;
  }
  return false;
}

ParseOutcome ParseCommand(int argc, char** argv, int first,
                          const CommandSyntax& syntax,
                          const std::function<const char*(const char*)>& getenv,
                          Config* config, CommandLine* given,
                          std::string* error) {
  bool version = false;
  for (int i = first; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return ParseOutcome::kHelp;
    if (arg == "--version") version = true;
  }
  if (version) return ParseOutcome::kVersion;

  for (const Setting& setting : kSettings) {
    if (!Contains(syntax.settings, setting.flag)) continue;
    if (const char* value = getenv(setting.variable)) {
      if (std::string complaint = ApplyVariable(setting, value, config);
          !complaint.empty()) {
        *error = std::string(setting.variable) + ": " + complaint;
        return ParseOutcome::kError;
      }
    }
  }

  const std::string see = " (see " + syntax.name + " --help)";
  std::vector<const Setting*> lists_replaced;
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      if (given->words.size() == syntax.max_words) {
        *error = "unexpected argument '" + std::string(arg) + "'" + see;
        return ParseOutcome::kError;
      }
      given->words.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(2);
    const size_t eq = arg.find('=');
    const std::string name(arg.substr(0, eq));
    const Setting* setting =
        Contains(syntax.settings, name) ? FindSetting(name) : nullptr;
    if (setting == nullptr && Contains(syntax.switches, name)) {
      if (eq != std::string_view::npos) {
        *error = "option --" + name + " takes no value";
        return ParseOutcome::kError;
      }
      given->options.emplace_back(name, "");
      continue;
    }
    if (setting == nullptr && !Contains(syntax.options, name)) {
      *error = "unknown option --" + name + see;
      return ParseOutcome::kError;
    }
    std::string value;
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (setting != nullptr && setting->kind == SettingKind::kSwitch) {
      value = "on";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      *error = "option --" + name + " needs a value";
      return ParseOutcome::kError;
    }
    if (setting == nullptr) {
      given->options.emplace_back(name, value);
      continue;
    }
    if (setting->kind == SettingKind::kList) {
      bool replaced = false;
      for (const Setting* each : lists_replaced) replaced |= each == setting;
      if (!replaced) {
        (config->*setting->list).clear();
        lists_replaced.push_back(setting);
      }
    }
    *error = setting->parse(value, config);
    if (!error->empty()) return ParseOutcome::kError;
  }
  return ParseOutcome::kRun;
}

ParseOutcome ParseConfig(int argc, char** argv,
                         const std::function<const char*(const char*)>& getenv,
                         Config* config, std::string* error) {
  CommandSyntax syntax;
  syntax.name = "webhooks-server";
  for (const Setting& setting : kSettings) {
    syntax.settings.emplace_back(setting.flag);
  }
  CommandLine ignored;
  const ParseOutcome outcome =
      ParseCommand(argc, argv, 1, syntax, getenv, config, &ignored, error);
  if (outcome == ParseOutcome::kRun &&
      config->tls_cert_path.empty() != config->tls_key_path.empty()) {
    *error = config->tls_cert_path.empty()
                 ? "--tls-key needs --tls-cert (WEBHOOKS_TLS_CERT) too: "
                   "give both files for HTTPS, or neither"
                 : "--tls-cert needs --tls-key (WEBHOOKS_TLS_KEY) too: give "
                   "both files for HTTPS, or neither";
    return ParseOutcome::kError;
  }
  return outcome;
}

std::string ConfigLine(const Config& config, const StartupFacts& facts) {
  std::string line = "webhooks-server:";
  for (const Setting& setting : kSettings) {
    line +=
        std::string(" ") + setting.shown_as + "=" + setting.show(config, facts);
  }
  return line;
}

}  // namespace webhooks
