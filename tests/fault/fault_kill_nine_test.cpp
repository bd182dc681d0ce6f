// kill -9 against webhooks-server (issue 7, "Faults: nothing acknowledged is
// ever lost"), through the machinery in fault_fixture.h: at 20 seeded random
// moments during creates and ingress events from several client threads
// that retry with the same key, the server is killed; every write that got
// a 2xx survives, each key has one row, and integrity_check is ok.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/fault/fault_fixture.h"
#include "tests/test_util.h"

namespace webhooks::fault {
namespace {

using testing::kSanitized;
using testing::RandomKey;

// ===========================================================================
// kill -9 during writes
// ===========================================================================

// What the clients were told, and what they ever sent.
struct Ledger {
  std::map<std::string, std::string> created;  // client id -> endpoint id
  std::set<std::string> events;                // event ids answered 200
  std::set<std::string> sent_client_ids;
  std::set<std::string> sent_event_ids;
};

// Checks the database file against the ledger: the file passes SQLite's
// integrity and foreign key checks, every create that got a 2xx is there
// with the id it was answered with, every event that got a 200 is there,
// each create triple and each event id has one row, and no row holds a key
// no client sent. `setup_client_ids` are endpoints made before the faults.
// Returns the problems found.
std::vector<std::string> CheckDatabase(
    const std::string& path, const Ledger& ledger,
    const std::set<std::string>& setup_client_ids) {
  std::vector<std::string> problems;
  Database db(path);
  if (!db.ok() || !db.Exec("BEGIN")) return {"cannot read: " + db.error()};
  const auto integrity = db.Rows("PRAGMA integrity_check");
  if (integrity != std::vector<std::vector<std::string>>{{"ok"}}) {
    std::string report;
    for (const auto& row : integrity) report += row.at(0) + "; ";
    problems.push_back("integrity_check: " + report);
  }
  if (!db.Rows("PRAGMA foreign_key_check").empty()) {
    problems.push_back("foreign_key_check found dangling rows");
  }
  // Client ids are unique across the test's projects: one row per client
  // id is one row per (project, toolkit, client id).
  std::map<std::string, std::vector<std::string>> ids_by_client;
  for (const auto& row :
       db.Rows("SELECT client_id, id FROM webhook_endpoints")) {
    ids_by_client[row.at(0)].push_back(row.at(1));
  }
  for (const auto& [client_id, ids] : ids_by_client) {
    if (ids.size() > 1) {
      problems.push_back("client id " + client_id + " has " +
                         std::to_string(ids.size()) + " rows");
    }
    if (ledger.sent_client_ids.count(client_id) == 0 &&
        setup_client_ids.count(client_id) == 0) {
      problems.push_back("a row for client id " + client_id +
                         ", which no client sent");
    }
  }
  for (const auto& [client_id, id] : ledger.created) {
    auto found = ids_by_client.find(client_id);
    if (found == ids_by_client.end()) {
      problems.push_back("acknowledged create " + client_id + " (" + id +
                         ") is missing");
    } else if (std::find(found->second.begin(), found->second.end(), id) ==
               found->second.end()) {
      problems.push_back("acknowledged create " + client_id + " was " + id +
                         ", the file has " + found->second.front());
    }
  }
  std::set<std::string> stored_events;
  for (const auto& row :
       db.Rows("SELECT provider_event_id, COUNT(*) FROM webhook_events "
               "GROUP BY endpoint_id, provider_event_id")) {
    if (row.at(1) != "1") {
      problems.push_back("event " + row.at(0) + " has " + row.at(1) + " rows");
    }
    if (!stored_events.insert(row.at(0)).second) {
      problems.push_back("event " + row.at(0) + " is stored twice");
    }
    if (ledger.sent_event_ids.count(row.at(0)) == 0) {
      problems.push_back("an event " + row.at(0) + ", which no client sent");
    }
  }
  for (const std::string& event : ledger.events) {
    if (stored_events.count(event) == 0) {
      problems.push_back("acknowledged event " + event + " is missing");
    }
  }
  if (!db.error().empty()) problems.push_back("reading: " + db.error());
  db.Exec("COMMIT");
  return problems;
}

// What the client threads and the killing loop share, guarded by `mu`.
struct CrashState {
  std::mutex mu;
  std::condition_variable changed;
  // False from just before a kill until the restarted server is checked:
  // clients wait meanwhile, and a failure while it is true is unexpected.
  bool serving = true;
  bool stopping = false;
  int generation = 0;  // one per server process
  int port = 0;
  int acknowledged_in_generation = 0;
  int retries = 0;
  int clients_finished = 0;
  std::vector<std::string> unexpected_failures;
  Ledger ledger;
};

struct CrashClientPlan {
  int index = 0;
  std::string api_key;
  std::string endpoint_id;  // where its events go
  int operations = 0;       // alternately a create and an event
};

std::string CrashClientId(int client, int operation) {
  return Numbered("crash-c" + std::to_string(client) + "-", operation);
}
std::string CrashEventId(int client, int operation) {
  return Numbered("Ev-c" + std::to_string(client) + "-", operation);
}

// One client: each operation is sent until it gets a 2xx, on a fresh
// connection after any failure, and with the same key every time.
void RunCrashClient(const CrashClientPlan& plan, CrashState* state) {
  constexpr size_t kMaxUnexpectedFailures = 20;
  std::unique_ptr<httplib::Client> client;
  int client_generation = -1;
  for (int op = 0; op < plan.operations; ++op) {
    const bool create = op % 2 == 0;
    const std::string name =
        create ? CrashClientId(plan.index, op) : CrashEventId(plan.index, op);
    {
      std::lock_guard<std::mutex> lock(state->mu);
      (create ? state->ledger.sent_client_ids : state->ledger.sent_event_ids)
          .insert(name);
    }
    for (;;) {
      int generation;
      {
        std::unique_lock<std::mutex> lock(state->mu);
        state->changed.wait(lock,
                            [&] { return state->serving || state->stopping; });
        if (state->stopping) return;
        generation = state->generation;
        if (client_generation != generation) {
          client = NewClient(state->port, kRequestTimeout);
          client_generation = generation;
        }
      }
      httplib::Result result = create
                                   ? PostCreate(*client, plan.api_key, name)
                                   : PostEvent(*client, plan.endpoint_id, name);
      std::string endpoint_id;
      bool acknowledged = result && result->status / 100 == 2;
      if (acknowledged && create) {
        endpoint_id = StringField(result->body, "id").value_or("");
        acknowledged = !endpoint_id.empty();
      }
      std::lock_guard<std::mutex> lock(state->mu);
      if (acknowledged) {
        if (create) {
          state->ledger.created.emplace(name, endpoint_id);
        } else {
          state->ledger.events.insert(name);
        }
        if (generation == state->generation) {
          ++state->acknowledged_in_generation;
        }
        state->changed.notify_all();
        break;
      }
      ++state->retries;
      client_generation = -1;  // retry on a new connection
      if (state->serving && generation == state->generation) {
        state->unexpected_failures.push_back(name + ": " + Describe(result));
        if (state->unexpected_failures.size() >= kMaxUnexpectedFailures) {
          state->stopping = true;
          state->changed.notify_all();
          return;
        }
      }
    }
  }
  std::lock_guard<std::mutex> lock(state->mu);
  ++state->clients_finished;
  state->changed.notify_all();
}

// Stops and joins the client threads, however the test ends.
class CrashClients {
 public:
  explicit CrashClients(CrashState* state) : state_(state) {}
  CrashClients(const CrashClients&) = delete;
  CrashClients& operator=(const CrashClients&) = delete;
  ~CrashClients() { Join(); }

  void Start(const CrashClientPlan& plan) {
    threads_.emplace_back(RunCrashClient, std::cref(plan), state_);
  }
  void Join() {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->stopping = true;
    }
    state_->changed.notify_all();
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  CrashState* const state_;
  std::vector<std::thread> threads_;
};

uint64_t CrashSeed() {
  if (const char* seed = std::getenv("WEBHOOKS_FAULT_SEED")) {
    return std::strtoull(seed, nullptr, 10);
  }
  return std::random_device()();
}

// Kills the server with SIGKILL each time the clients have had a random
// number of writes acknowledged (drawn from a seeded generator, printed;
// WEBHOOKS_FAULT_SEED=N repeats the draws), restarts it on the same file,
// and checks the file before the clients go on. A killed process leaves
// what it wrote in the OS's cache, so this proves the order of commit and
// answer and the idempotency keys, not the sync (FaultDurabilityOrder does).
TEST(FaultKillNine, EveryAcknowledgedWriteSurvivesTwentyKills) {
  constexpr int kClients = 4;
  constexpr int kKills = 20;
  // Alternately creates and events: 5000 of each (2000 under sanitizers).
  constexpr int kOperationsPerClient = kSanitized ? 1000 : 2500;
  constexpr int kOperations = kClients * kOperationsPerClient;
  const uint64_t seed = CrashSeed();
  std::printf(
      "[ seed     ] %llu (WEBHOOKS_FAULT_SEED=%llu repeats the kills)\n",
      static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::seconds(kSanitized ? 240 : 90);

  TempDir dir;
  const std::string db = dir.File("crash.db");
  // A count far above the writes: retention must not delete events.
  const std::vector<std::string> args = {
      "--port",    "0",           "--db", db, "--event-retention",
      "100000000", "--log-level", "warn"};
  auto server = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server->Start(args)) << server->Stderr();

  std::vector<CrashClientPlan> plans(kClients);
  std::set<std::string> setup_client_ids;
  for (int i = 0; i < kClients; ++i) {
    plans[i].index = i;
    plans[i].api_key = RandomKey("fault_");
    plans[i].operations = kOperationsPerClient;
    const std::string client_id = "crash-ingress-" + std::to_string(i);
    setup_client_ids.insert(client_id);
    auto client = NewClient(server->port(), kRequestTimeout);
    plans[i].endpoint_id =
        CreateSlackEndpoint(*client, plans[i].api_key, client_id);
    ASSERT_FALSE(plans[i].endpoint_id.empty());
  }

  CrashState state;
  state.port = server->port();
  CrashClients clients(&state);
  for (const CrashClientPlan& plan : plans) clients.Start(plan);

  // Each kill comes after 1 to kOperations / kKills - 1 acknowledgements,
  // so all 20 come before the clients run out of work.
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> acknowledgements_before_kill(
      1, kOperations / kKills - 1);
  int kills = 0;
  std::string stopped_early;
  while (kills < kKills && stopped_early.empty()) {
    const int target = acknowledgements_before_kill(random);
    {
      std::unique_lock<std::mutex> lock(state.mu);
      if (!state.changed.wait_until(lock, deadline, [&] {
            return state.acknowledged_in_generation >= target ||
                   state.clients_finished == kClients || state.stopping;
          })) {
        stopped_early = "the time limit passed";
        break;
      }
      if (state.stopping || state.clients_finished == kClients) {
        stopped_early = "the clients stopped";
        break;
      }
      state.serving = false;
    }
    ::kill(server->pid(), SIGKILL);
    const int status = server->Wait();
    ++kills;
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the server ended before kill " << kills << ": " << server->Stderr();
    server = std::make_unique<ServerProcess>();
    if (!server->Start(args)) {
      stopped_early =
          "restart " + std::to_string(kills) + " failed: " + server->Stderr();
      break;
    }
    Ledger told;
    {
      std::lock_guard<std::mutex> lock(state.mu);
      told = state.ledger;
    }
    const std::vector<std::string> problems =
        CheckDatabase(db, told, setup_client_ids);
    if (!problems.empty()) {
      stopped_early = "after kill " + std::to_string(kills) + " (" +
                      std::to_string(told.created.size()) + " creates and " +
                      std::to_string(told.events.size()) +
                      " events acknowledged):" + ProblemList(problems);
      break;
    }
    {
      std::lock_guard<std::mutex> lock(state.mu);
      ++state.generation;
      state.port = server->port();
      state.acknowledged_in_generation = 0;
      state.serving = true;
    }
    state.changed.notify_all();
  }
  EXPECT_EQ(kills, kKills);
  if (!stopped_early.empty()) {
    clients.Join();  // before reading what they wrote
    FAIL() << "stopped: " << stopped_early
           << "\nfailures while the server was up:"
           << ProblemList(state.unexpected_failures);
  }

  // The rest of the work, on the last server.
  {
    std::unique_lock<std::mutex> lock(state.mu);
    state.changed.wait_until(lock, deadline, [&] {
      return state.clients_finished == kClients || state.stopping;
    });
  }
  clients.Join();
  EXPECT_TRUE(state.unexpected_failures.empty())
      << "failures while the server was up:"
      << ProblemList(state.unexpected_failures);
  EXPECT_EQ(state.clients_finished, kClients);
  EXPECT_EQ(state.ledger.created.size(), size_t{kOperations / 2});
  EXPECT_EQ(state.ledger.events.size(), size_t{kOperations / 2});
  const int stopped = server->Stop();
  EXPECT_TRUE(WIFEXITED(stopped) && WEXITSTATUS(stopped) == 0)
      << server->Stderr();
  const std::vector<std::string> problems =
      CheckDatabase(db, state.ledger, setup_client_ids);
  EXPECT_TRUE(problems.empty()) << "at the end:" << ProblemList(problems);
  std::printf(
      "[ summary  ] %d kills, %zu creates and %zu events acknowledged, %d "
      "retries, %.1f s\n",
      kills, state.ledger.created.size(), state.ledger.events.size(),
      state.retries,
      std::chrono::duration<double>(Clock::now() - started).count());
}

}  // namespace
}  // namespace webhooks::fault
