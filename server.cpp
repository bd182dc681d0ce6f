// webhooks-server: a self-hosted, single-binary implementation of Composio's
// webhook endpoints API (../shared/spec/webhook-endpoints.md is the
// contract). This file is the composition root: it reads the settings,
// builds each part and hands it to the next, and owns nothing else. Read Run()
// top to bottom: subcommands, settings, catalog, store, keys, log and
// metrics, server and routes, signals, serve, drain. The parts live in:
//
//   config.h     every setting: flag, environment variable, default, help
//   util/        text, crypto, time, JSON out: no dependencies of ours
//   toolkits/    the toolkit catalog and provider signature checks
//   ops/         log, metrics, rate limit, memory trimming, signals
//   http/        the hardened connection loop over cpp-httplib, and the
//                outbound client on libcurl (opened at the first delivery)
//   store/       the storage contract (store.h) and the SQLite backend
//   api/         everything that knows httplib's Request and Response,
//                and the dashboard's routes (its page is web/, compiled in)
//   cli/         the admin commands and send-test-event
//
// Where the spec copies Composio, we copy it exactly; where a decision is
// ours, the comment says "our choice".

#include <httplib.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "api/auth.h"
#include "api/context.h"
#include "api/fixtures.h"
#include "api/hooks.h"
#include "api/routes.h"
#include "cli/admin.h"
#include "cli/send_test_event.h"
#include "config.h"
#include "delivery/worker.h"
#include "http/client.h"
#include "http/hardened_server.h"
#include "http/tls.h"
#include "http/worker_pool.h"
#include "ops/change_feed.h"
#include "ops/logger.h"
#include "ops/memory_trimmer.h"
#include "ops/metrics.h"
#include "ops/rate_limiter.h"
#include "ops/signal_watcher.h"
#include "store/postgres_store.h"
#include "store/secret_box.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "toolkits/catalog.h"
#include "util/db_uri.h"
#include "util/id_source.h"
#include "util/net.h"

namespace webhooks {
namespace {

#ifdef WEBHOOKS_FAULT_INJECTION
// The webhooks-server-faults build (tests only, never installed): throws,
// with text a client must never see, where the request's x-webhooks-fault
// header says (api/routes.h lists the places).
void ThrowInjectedFault(const httplib::Request& req, std::string_view where) {
  if (req.get_header_value("x-webhooks-fault") == where) {
    throw std::runtime_error("injected fault in " + std::string(where) +
                             ": secret_value=hunter2 SELECT * FROM api_keys");
  }
}
constexpr FaultInjector kFaultInjector = ThrowInjectedFault;
#else
constexpr FaultInjector kFaultInjector = nullptr;
#endif

// The base every webhook_url starts with: --public-url, or this server
// (https:// when it speaks TLS).
std::string PublicBase(const Config& config, int bound_port) {
  if (!config.public_url.empty()) return config.public_url;
  return std::string(config.tls_cert_path.empty() ? "http" : "https") +
         "://localhost:" + std::to_string(bound_port);
}

TlsFiles TlsFilesOf(const Config& config) {
  return TlsFiles{config.tls_cert_path, config.tls_key_path};
}

// SIGHUP with TLS: loads both files again. New handshakes use the new
// certificate, connections already made keep theirs; a file that fails
// keeps the old certificate. Returns the line to log.
std::string ReloadTls(const Config& config, HardenedServer& server) {
  TlsContext context;
  std::string described, error;
  if (!LoadTlsContext(TlsFilesOf(config), &context, &described, &error)) {
    return "SIGHUP: kept the TLS certificate in use: " + error;
  }
  server.SetTls(std::move(context));
  return "SIGHUP: reloaded the TLS certificate (" + described + ")";
}

// Checks the secrets key against the database before anything is served:
// with a wrong key every read of a setup value would fail (500) while the
// server looked healthy. Returns 0 to go on, else the exit code after one
// line on stderr: 2, a configuration error (a restart cannot help), when
// the key does not fit; 1 when the database failed. Never prints the key.
int CheckSecretsKeyAtStart(const Config& config, Store& store) {
  Status status = store.CheckSecretsKey();
  if (status.ok()) return 0;
  if (status.code() != Status::Code::kInvalidArgument) {
    std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
    return 1;
  }
  const std::string fix =
      config.secrets_key_path.empty()
          ? "start with --secrets-key-file (or WEBHOOKS_SECRETS_KEY_FILE) "
            "naming the key file this database was used with"
          : "--secrets-key-file '" + config.secrets_key_path +
                "' must hold the key this database was used with; restore "
                "that file from your copy";
  std::fprintf(stderr, "webhooks-server: %s; %s\n", status.message().c_str(),
               fix.c_str());
  return 2;
}

void PrintConfig(const Config& config, const std::string& public_base,
                 const ToolkitCatalog& catalog, bool admin_keys,
                 const HostPolicy& hosts) {
  StartupFacts facts;
  facts.public_base = public_base;
  facts.toolkits = catalog.Slugs();
  facts.admin_keys = admin_keys;
  // The Host names local mode accepts (HostPolicy), so that a refused one
  // can be told from the start-up line.
  facts.hosts = "any";
  if (hosts.enforced && !hosts.any) {
    facts.hosts = "localhost,loopback";
    for (const std::string& name : hosts.names) facts.hosts += "," + name;
  }
  std::fprintf(stderr, "%s\n", ConfigLine(config, facts).c_str());
}

// webhooks-server routes: the route table, one "METHOD /path/{param}" a
// line, from the same table the server registers (tests compare it with
// openapi.json).
int PrintRoutes() {
  Config config;
  KeyPolicy keys;
  ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  std::unique_ptr<Store> store;
  if (!OpenSqliteStore(":memory:", &store).ok()) return 1;
  const Logger log(true, LogLevel::kError);
  Metrics metrics;
  Context ctx{config, keys, catalog, *store, "", log, metrics, nullptr};
  for (const Route& route : FullRouteTable(ctx)) {
    std::printf("%s %s\n", route.method, route.path.c_str());
  }
  return 0;
}

// Blocks the signals the watcher takes, before any thread starts, so that
// all threads inherit the mask and only the watcher's sigwait receives them.
sigset_t BlockWatchedSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Opens the store the settings name (the one place that chooses the
// backend): a PostgreSQL URI, or a SQLite file (creating its folder, and
// saying when the last server on it did not stop cleanly). Returns 0, or
// the exit code after one line on stderr.
int OpenStore(const Config& config, std::unique_ptr<Store>* store) {
  const bool postgres = IsPostgresDatabase(config.db_path);
  std::string error;
  if (!postgres && !EnsureParentFolder(config.db_path, &error)) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 1;
  }
  StoreOptions store_options;
  store_options.read_connections = static_cast<size_t>(config.read_connections);
  // Ages events out (and finishes deleted endpoints' events) even on
  // endpoints that receive nothing more.
  store_options.background_retention = config.event_retention;
  store_options.track_clean_stop = true;
  if (!config.secrets_key_path.empty() &&
      !ReadSecretsKeyFile(config.secrets_key_path, &store_options.secrets_key,
                          &error)) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 2;
  }
  if (postgres) {
    // Unreachable, refused or a schema too new: nothing a restart of ours
    // fixes by itself, so a configuration error (2), and one line that
    // names the database without its password.
    if (Status status = OpenPostgresStore(config.db_path, store_options, store);
        !status.ok()) {
      std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
      return 2;
    }
    return 0;
  }
  const auto opening = std::chrono::steady_clock::now();
  if (Status status = OpenSqliteStore(config.db_path, store_options, store);
      !status.ok()) {
    std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
    return 1;
  }
  if ((*store)->FullCheckAtOpen()) {
    std::fprintf(stderr,
                 "webhooks-server: the last server on %s did not stop "
                 "cleanly (or was an older version): checked every page of "
                 "it in %lld ms\n",
                 config.db_path.c_str(),
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - opening)
                         .count()));
  }
  return 0;
}

// The keys given at start-up, and whether admin keys exist; refuses to go
// on without keys where anyone could reach the server. Returns 0, or the
// exit code after one line on stderr.
int BuildKeys(const Config& config, Store& store, KeyPolicy* keys,
              bool* admin_keys) {
  if (int code = BuildKeyPolicy(config, store, keys); code != 0) return code;
  if (Status status = store.HasAdminKeys(admin_keys); !status.ok()) {
    std::fprintf(stderr, "webhooks-server: %s\n", status.message().c_str());
    return 1;
  }
  if (keys->configured.empty() && !*admin_keys &&
      (config.require_keys || !IsLoopbackHost(config.host))) {
    std::fprintf(stderr,
                 "webhooks-server: refusing to serve on %s without API keys: "
                 "anyone who can reach it could use it. Add --api-key KEY (or "
                 "WEBHOOKS_API_KEYS, or `webhooks-server keys create`)%s\n",
                 config.host.c_str(),
                 config.require_keys ? "" : ", or listen on 127.0.0.1");
    return 2;
  }
  return 0;
}

// --id-seed makes ids guessable: refused wherever keys protect the data.
// Returns 0, or 2 after one line on stderr.
int CheckIdSeed(const Config& config, const KeyPolicy& keys, bool admin_keys) {
  if (!config.id_seed) return 0;
  if (keys.configured.empty() && !admin_keys && !config.require_keys) {
    return 0;
  }
  std::fprintf(stderr,
               "webhooks-server: --id-seed makes ids guessable and is for "
               "local mode only; remove it, or the API keys (%s)\n",
               config.require_keys ? "--require-keys"
               : admin_keys        ? "made with `webhooks-server keys create`"
                                   : "--api-key, WEBHOOKS_API_KEYS");
  return 2;
}

// How long a stop waits for delivery attempts in flight before it leaves
// them to their lease (our choice: a supervisor's usual grace is 10 s, and
// the HTTP side needs some of it).
constexpr std::chrono::milliseconds kDeliveryStopGrace{5000};

DeliveryOptions DeliveryOptionsFor(const Config& config, bool shared_store) {
  DeliveryOptions options;
  options.retry_schedule_ms = config.retry_schedule_ms;
  options.attempt_timeout_ms = config.delivery_timeout_ms;
  options.concurrency = static_cast<size_t>(config.delivery_concurrency);
  options.deny_private_targets = config.deny_private_targets;
  options.user_agent = UserAgent();
  // One SQLite server works on its database alone: what it had in flight
  // when it died is due again at once, not after the lease. On a shared
  // PostgreSQL database the leases in flight may be another instance's
  // live attempts: they are left to expire.
  options.release_leases_at_start = !shared_store;
  return options;
}

int Run(int argc, char** argv) {
  // libcurl and libpq are not linked but opened when first needed
  // (util/shared_library.h): each costs start-up time a run may not use.
  if (argc > 1 && std::string_view(argv[1]) == "send-test-event") {
    return SendTestEvent(argc - 1, argv + 1);
  }
  if (argc == 2 && std::string_view(argv[1]) == "routes") return PrintRoutes();
  if (argc > 1 && (std::string_view(argv[1]) == "keys" ||
                   std::string_view(argv[1]) == "backup" ||
                   std::string_view(argv[1]) == "check" ||
                   std::string_view(argv[1]) == "migrate")) {
    return RunAdminCommand(argc, argv);
  }
  // glibc gives each thread that allocates concurrently an arena of its
  // own, up to 8 per core, and keeps what they free: with 64 workers that
  // doubled peak RSS under load (22.9 -> 41.9 MB listing 1,000 endpoints
  // at 64 connections) for no measurable gain in throughput. One per core,
  // at least two.
  mallopt(M_ARENA_MAX,
          static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  Config config;
  std::string error;
  switch (ParseConfig(
      argc, argv, [](const char* name) { return std::getenv(name); }, &config,
      &error)) {
    case ParseOutcome::kHelp:
      std::fputs(ServerHelp().c_str(), stdout);
      return 0;
    case ParseOutcome::kVersion:
      std::fputs(VersionLine().c_str(), stdout);
      return 0;
    case ParseOutcome::kError:
      std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
      return 2;
    case ParseOutcome::kRun:
      break;
  }
  ToolkitCatalog catalog;
  if (!LoadToolkitCatalog(config.toolkits_path, &catalog, &error)) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 2;
  }

  // Checked before the database is opened: a bad file is a configuration
  // error (2), and leaves nothing behind.
  TlsContext tls;
  if (!config.tls_cert_path.empty()) {
    std::string described;
    if (!LoadTlsContext(TlsFilesOf(config), &tls, &described, &error)) {
      std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
      return 2;
    }
  }

  const sigset_t watched_signals = BlockWatchedSignals();

  std::unique_ptr<Store> store;
  if (int code = OpenStore(config, &store); code != 0) return code;
  // Any return from here on is a clean stop: a start that fails (a busy
  // port, say) must not make the next one check every page.
  struct CleanStopOnReturn {
    Store& store;
    ~CleanStopOnReturn() { store.RecordCleanStop(); }
  } clean_stop_on_return{*store};
  if (int code = CheckSecretsKeyAtStart(config, *store); code != 0) {
    return code;
  }
  KeyPolicy keys;
  bool admin_keys = false;
  // --require-keys with --id-seed is refused for the seed, before the keys'
  // own complaint.
  if (config.require_keys && config.id_seed) {
    return CheckIdSeed(config, keys, admin_keys);
  }
  if (int code = BuildKeys(config, *store, &keys, &admin_keys); code != 0) {
    return code;
  }
  if (int code = CheckIdSeed(config, keys, admin_keys); code != 0) {
    return code;
  }

  HardenedServer::Limits limits;
  limits.max_request_bytes = config.max_body + 16 * 1024;
  HardenedServer server(limits);
  const size_t threads = static_cast<size_t>(config.threads);
  // Workers start as requests need them, up to --threads (worker_pool.h).
  server.new_task_queue = [threads] { return new WorkerPool(threads); };

  if (tls != nullptr) server.SetTls(std::move(tls));

  int port = server.Bind(config.host, config.port, &error);
  if (port < 0) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 1;
  }
  const std::string public_base = PublicBase(config, port);

  const Logger log(config.log_format == "json", LevelNamed(config.log_level));
  Metrics metrics;
  std::unique_ptr<RateLimiter> rate_limiter;
  if (config.rate_limit > 0) {
    rate_limiter = std::make_unique<RateLimiter>(config.rate_limit);
  }
  Context ctx{config,      keys, catalog, *store,
              public_base, log,  metrics, rate_limiter.get()};
  MemoryTrimmer trimmer;
  ctx.trimmer = &trimmer;
  // What changes, for the dashboard's live streams. Each open stream holds
  // a worker thread, so at most half of them may be streams.
  ChangeFeed::Options feed_options;
  feed_options.max_readers =
      std::min<size_t>(static_cast<size_t>(config.max_streams),
                       std::max<size_t>(1, threads / 2));
  ChangeFeed changes(feed_options);
  ctx.changes = &changes;
  // Deliveries to the projects' apps: one thread, woken by every stored
  // event; destroyed before the store.
  DeliveryOptions delivery_options =
      DeliveryOptionsFor(config, IsPostgresDatabase(config.db_path));
  delivery_options.changes = &changes;
  DeliveryWorker deliveries(*store, delivery_options, log, metrics);
  ctx.wake_deliveries = [&deliveries] { deliveries.Wake(); };
  ctx.delivery_claim_lease = [&deliveries] {
    return deliveries.ClaimLeaseMs();
  };
  ctx.take_delivery = [&deliveries](ClaimedDelivery delivery) {
    deliveries.Take(std::move(delivery));
  };
  IdSource ids(config.id_seed);
  ctx.ids = &ids;
  // The seed goes in before the server listens: a harness that waits for
  // the listening line finds it applied.
  if (!config.seed_path.empty() &&
      !ApplySeedFile(ctx, config.seed_path, &error)) {
    std::fprintf(stderr, "webhooks-server: %s\n", error.c_str());
    return 2;
  }
  std::vector<CompiledRoute> compiled;
  RegisterRoutes(server, FullRouteTable(ctx), kFaultInjector, &compiled);
  const HostPolicy hosts =
      BuildHostPolicy(config, keys.configured.empty() && !admin_keys);
  InstallHooks(server, config, hosts, log, metrics, compiled, kFaultInjector);

  Config shown = config;
  shown.port = port;
  PrintConfig(shown, public_base, catalog, admin_keys, hosts);
  const bool v6 = config.host.find(':') != std::string::npos;
  std::printf("listening on %s://%s%s%s:%d\n", server.tls() ? "https" : "http",
              v6 ? "[" : "", config.host.c_str(), v6 ? "]" : "", port);
  std::fflush(stdout);
  // Declared after the log and the server, so it is finished before they go.
  // A stop ends the live streams too: the server waits for every request.
  SignalWatcher watcher(
      [&server, &changes] {
        changes.Close();
        server.Stop();
      },
      watched_signals, log,
      server.tls() ? std::function<std::string()>([&config, &server] {
        return ReloadTls(config, server);
      })
                   : nullptr);
  if (!server.Serve()) return 1;
  // No request can add work now: let attempts in flight finish (bounded).
  deliveries.Stop(kDeliveryStopGrace);
  // Stopped by a signal, every request answered: record the clean stop,
  // then fold the WAL into the database file so it is complete on its own.
  if (Status status = store->RecordCleanStop(); !status.ok()) {
    log.Notice("recording the clean stop failed: " + status.message());
    return 1;
  }
  if (Status status = store->Checkpoint(); !status.ok()) {
    log.Notice("checkpoint failed: " + status.message());
    return 1;
  }
  watcher.Finish();
  log.Notice("stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace webhooks

int main(int argc, char** argv) { return webhooks::Run(argc, argv); }
