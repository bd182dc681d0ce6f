// Black-box tests of the PostgreSQL backend as a deploy sees it (issue 16,
// "Tests"): the real binary, twice on one database of the test cluster
// (tests/pg_cluster.h), over real HTTP to a real receiver. Two instances
// race on one endpoint and share the ingress and the delivery queue; one
// is killed with attempts in flight; PostgreSQL restarts under load (on a
// cluster of the test's own) or is not there at start; and the admin
// commands on a URI. Nothing waits on a sleep: each test polls what it can
// observe (answers, the receiver, the deliveries listing) under a deadline.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/api/ingress_fixture.h"
#include "tests/delivery/delivery_fixture.h"
#include "tests/delivery/receiver.h"
#include "tests/pg_cluster.h"
#include "tests/raw_http.h"
#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

inline constexpr char kStorageUnavailable[] = "Storage_Unavailable";

// ===========================================================================
// Helpers
// ===========================================================================

// A client of `server` with the suites' I/O timeouts.
httplib::Client ClientOf(const ServerProcess& server) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(kIoTimeoutSeconds, 0);
  client.set_read_timeout(kIoTimeoutSeconds, 0);
  client.set_write_timeout(kIoTimeoutSeconds, 0);
  return client;
}

// Runs `count` calls of `work(i)`, each on a thread of its own, released
// together so that they overlap.
void RunTogether(size_t count, const std::function<void(size_t)>& work) {
  std::mutex mutex;
  std::condition_variable start;
  bool go = false;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock<std::mutex> lock(mutex);
        start.wait(lock, [&] { return go; });
      }
      work(i);
    });
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    go = true;
  }
  start.notify_all();
  for (std::thread& thread : threads) thread.join();
}

size_t LineCount(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A folder with nothing listening in it: a PostgreSQL socket folder that
// no server uses. Removed when the object goes.
class EmptySocketDir {
 public:
  EmptySocketDir() {
    path_ = "/tmp/webhooks-pg-none-XXXXXX";
    if (::mkdtemp(path_.data()) == nullptr) path_.clear();
  }
  EmptySocketDir(const EmptySocketDir&) = delete;
  EmptySocketDir& operator=(const EmptySocketDir&) = delete;
  ~EmptySocketDir() {
    if (!path_.empty()) ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ===========================================================================
// Two instances on one database
// ===========================================================================

// The delivery fixture's server (server_, "A") and a second instance ("B")
// on the same fresh schema of the test cluster, both in local mode: the
// same key is the same project on both.
class PgInstancesTest : public DeliveryTest {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_path().empty()) << "no PostgreSQL cluster for this run";
    ASSERT_TRUE(IsDatabaseUri(db_path()))
        << "these tests need $WEBHOOKS_TEST_PG_DIR: " << db_path();
  }

  // Starts A (unless it runs) and B with `flags`.
  void StartBoth(const std::vector<std::string>& flags) {
    if (server_ == nullptr) {
      ASSERT_TRUE(StartServer(flags));
    }
    ASSERT_TRUE(StartSecond(flags));
  }

  bool StartSecond(const std::vector<std::string>& flags) {
    second_ = std::make_unique<ServerProcess>();
    std::vector<std::string> args = {"--port", "0", "--db", db_path()};
    args.insert(args.end(), flags.begin(), flags.end());
    if (second_->Start(args)) return true;
    ADD_FAILURE() << "second instance did not start: " << second_->Stderr();
    return false;
  }

  // A (i even) or B (i odd).
  const ServerProcess& Instance(size_t i) const {
    return i % 2 == 0 ? *server_ : *second_;
  }

  std::unique_ptr<ServerProcess> second_;
};

// 48 creates of one (project, toolkit, client id) at once, half on each
// instance: the database decides, so exactly one is created (201) and the
// other 47 answer the same endpoint (200), whichever instance they reached.
// The key is new to both, so its local-mode project is registered in the
// same race.
TEST_F(PgInstancesTest, RaceOnOneEndpointAcrossTwoInstancesCreatesOne) {
  ASSERT_NO_FATAL_FAILURE(StartBoth({}));
  constexpr size_t kRacers = 48;
  std::vector<Reply> replies(kRacers);
  RunTogether(kRacers, [&](size_t i) {
    httplib::Client client = ClientOf(Instance(i));
    replies[i] = ToReply(client.Post(kCreatePath, KeyHeaders(key_),
                                     CreateBody("slack", "race-client"),
                                     "application/json"));
  });
  std::map<int, int> statuses;
  std::set<std::string> ids;
  for (size_t i = 0; i < kRacers; ++i) {
    ++statuses[replies[i].status];
    ids.insert(StringField(replies[i].body, "id").value_or(""));
    if (replies[i].status == 201 || replies[i].status == 200) {
      Endpoint endpoint;
      ASSERT_NO_FATAL_FAILURE(
          ExpectEndpoint(replies[i], replies[i].status, &endpoint));
      EXPECT_EQ(endpoint.client_id, "race-client");
    } else {
      ADD_FAILURE() << "request " << i << " (instance "
                    << "AB"[i % 2] << "): " << replies[i].status << " "
                    << replies[i].body;
    }
  }
  EXPECT_EQ(statuses[201], 1);
  EXPECT_EQ(statuses[200], 47);
  ASSERT_EQ(ids.size(), 1u) << "answers named different endpoints";
  EXPECT_TRUE(IsEndpointId(*ids.begin())) << *ids.begin();

  // Either instance lists that one endpoint.
  for (size_t i = 0; i < 2; ++i) {
    httplib::Client client = ClientOf(Instance(i));
    ListPage page;
    ASSERT_NO_FATAL_FAILURE(
        ExpectListPage(client.Get(kCreatePath, KeyHeaders(key_)), &page));
    ASSERT_EQ(page.items.size(), 1u) << "instance "
                                     << "AB"[i];
    EXPECT_EQ(page.items[0].id, *ids.begin());
  }
}

// 1,000 signed events through both ingresses in turn, from 16 senders at
// once, for one endpoint subscribed to a real receiver that answers 200:
// both instances' workers share one queue, and every event reaches the
// receiver exactly once (one request per webhook-id, one webhook-id per
// event), each delivery succeeded at its first attempt.
TEST_F(PgInstancesTest, ThousandEventsThroughBothIngressesEachDeliveredOnce) {
  // A long attempt timeout: a slow answer must not turn into a retry,
  // which at-least-once allows and this count would not.
  ASSERT_NO_FATAL_FAILURE(
      StartBoth({"--retry-schedule", "50ms,50ms,50ms", "--delivery-timeout",
                 "20000", "--delivery-concurrency", "8"}));
  Receiver receiver;
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  const std::string path = IngressPath(endpoint);

  constexpr size_t kEvents = 1000;
  constexpr size_t kSenders = 16;
  std::vector<int> statuses(kEvents, 0);
  RunTogether(kSenders, [&](size_t sender) {
    httplib::Client clients[2] = {ClientOf(*server_), ClientOf(*second_)};
    for (size_t i = sender; i < kEvents; i += kSenders) {
      const std::string body = SlackEvent("Ev" + std::to_string(i));
      auto result = clients[i % 2].Post(
          path, SlackHeadersAt(kSlackSecret, UnixNow(), body), body,
          "application/json");
      statuses[i] = result ? result->status : 0;
    }
  });
  for (size_t i = 0; i < kEvents; ++i) {
    ASSERT_EQ(statuses[i], 200) << "event " << i << " through instance "
                                << "AB"[i % 2];
  }

  // Until every event arrived (or the deadline).
  std::map<std::string, int> per_webhook_id;
  std::map<std::string, std::set<std::string>> ids_of_event;
  const auto deadline = steady_clock::now() + seconds(45);
  for (;;) {
    receiver.WaitFor(kEvents, milliseconds(200));
    per_webhook_id.clear();
    ids_of_event.clear();
    for (const Received& got : receiver.Requests()) {
      ++per_webhook_id[got.Header("webhook-id")];
      ids_of_event[StringAt(got.body, {"data", "event_id"}).value_or("")]
          .insert(got.Header("webhook-id"));
    }
    if (ids_of_event.size() >= kEvents || steady_clock::now() >= deadline) {
      break;
    }
  }
  RecordProperty("receiver_requests", static_cast<int>(receiver.Count()));
  EXPECT_EQ(ids_of_event.size(), kEvents) << "events that reached the receiver";
  EXPECT_EQ(per_webhook_id.size(), kEvents) << "distinct webhook-ids";
  for (const auto& [webhook_id, count] : per_webhook_id) {
    EXPECT_EQ(count, 1) << "webhook-id " << webhook_id << " sent " << count
                        << " times";
  }
  for (const auto& [event_id, webhook_ids] : ids_of_event) {
    EXPECT_EQ(webhook_ids.size(), 1u) << "event " << event_id;
  }
  EXPECT_EQ(receiver.Count(), kEvents);

  // The store agrees: one delivery per event, succeeded, one attempt.
  std::vector<DeliveryItem> deliveries;
  ASSERT_TRUE(PollUntil(
      [&] {
        deliveries = AllDeliveries(subscription.id);
        return deliveries.size() == kEvents &&
               std::all_of(deliveries.begin(), deliveries.end(),
                           [](const DeliveryItem& item) {
                             return item.status == "succeeded";
                           });
      },
      seconds(10)))
      << deliveries.size() << " deliveries";
  std::set<std::string> events;
  for (const DeliveryItem& item : deliveries) {
    EXPECT_TRUE(events.insert(item.event_id).second) << item.event_id;
    EXPECT_EQ(item.attempts, 1) << item.id;
  }
}

// kill -9 of the instance whose attempts the receiver is holding: the
// other instance, already running, leaves those leases alone (on a shared
// database a lease may be a live attempt) and delivers the events once
// the lease ends (attempt timeout + 5 s), and the listing shows them
// succeeded.
TEST_F(PgInstancesTest, KillNineWithAttemptsInFlightOtherInstanceDelivers) {
  constexpr int64_t kAttemptTimeoutMs = 4000;
  constexpr int64_t kLeaseMs = kAttemptTimeoutMs + 5000;  // worker.h margin
  const std::vector<std::string> flags = {"--retry-schedule", "50ms,50ms,50ms",
                                          "--delivery-timeout",
                                          std::to_string(kAttemptTimeoutMs)};
  // The receiver holds what arrives until the test lets go, then answers
  // 200 to everything.
  Receiver* self = nullptr;
  Receiver receiver([&](const httplib::Request&, httplib::Response& res, int) {
    self->Hold(seconds(60));
    res.set_content("{}", "application/json");
  });
  self = &receiver;

  // Only A runs while the events arrive, so the attempts in flight are
  // A's.
  ASSERT_TRUE(StartServer(flags));
  Subscription subscription;
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(
      MustSubscribeWithSlack(receiver, &subscription, &endpoint));
  constexpr size_t kEvents = 4;
  for (size_t i = 0; i < kEvents; ++i) {
    ASSERT_NO_FATAL_FAILURE(
        MustSendSlackEvent(endpoint, "EvKill" + std::to_string(i)));
  }
  ASSERT_TRUE(receiver.WaitFor(kEvents, seconds(kAttemptTimeoutMs / 2000)))
      << receiver.Count() << " attempts reached the receiver";
  // B starts with A's attempts in flight, then A dies with them.
  ASSERT_TRUE(StartSecond(flags));
  ::kill(server_->pid(), SIGKILL);
  server_->Wait();
  const auto killed_at = steady_clock::now();
  // From here on the fixture's calls go to B.
  server_ = std::move(second_);
  for (const DeliveryItem& item : Deliveries(subscription.id)) {
    EXPECT_EQ(item.status, "in_flight") << item.id;
  }
  receiver.Release();  // the held answers go to a dead process

  // B sends each event again after its lease: a second request per event.
  std::map<std::string, std::vector<steady_clock::time_point>> arrivals;
  const auto deadline = killed_at + milliseconds(kLeaseMs) + seconds(15);
  for (;;) {
    receiver.WaitFor(receiver.Count() + 1, milliseconds(200));
    arrivals.clear();
    for (const Received& got : receiver.Requests()) {
      arrivals[StringAt(got.body, {"data", "event_id"}).value_or("")].push_back(
          got.at);
    }
    const bool all =
        arrivals.size() == kEvents &&
        std::all_of(arrivals.begin(), arrivals.end(),
                    [](const auto& entry) { return entry.second.size() >= 2; });
    if (all || steady_clock::now() >= deadline) break;
  }
  ASSERT_EQ(arrivals.size(), kEvents);
  for (const auto& [event_id, times] : arrivals) {
    ASSERT_GE(times.size(), 2u) << "event " << event_id << " not redelivered";
    EXPECT_EQ(times.size(), 2u) << "event " << event_id;
    // Not before the lease (less the time between claim and arrival): B
    // did not take attempts that might still have been running.
    EXPECT_GE(
        std::chrono::duration_cast<milliseconds>(times[1] - times[0]).count(),
        kLeaseMs - 1000)
        << "event " << event_id;
  }
  // Through B, the deliveries listing shows each succeeded, on its second
  // attempt, with the receiver's 200.
  std::vector<DeliveryItem> deliveries;
  ASSERT_TRUE(PollUntil(
      [&] {
        deliveries = Deliveries(subscription.id);
        return deliveries.size() == kEvents &&
               std::all_of(deliveries.begin(), deliveries.end(),
                           [](const DeliveryItem& item) {
                             return item.status == "succeeded";
                           });
      },
      seconds(10)));
  for (const DeliveryItem& item : deliveries) {
    EXPECT_EQ(item.attempts, 2) << item.id;
    EXPECT_EQ(item.last_status_code, 200) << item.id;
  }
}

// ===========================================================================
// PostgreSQL going away
// ===========================================================================

// Creates endpoints one after another on a thread of its own until
// stopped, and keeps every answer: the ids acknowledged with 201, the 503s
// that carried Storage_Unavailable and Retry-After, and anything else.
class Writer {
 public:
  Writer(const ServerProcess& server, std::string key)
      : server_(server), key_(std::move(key)), thread_([this] { Run(); }) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() { Stop(); }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }
  // Waits up to 20 s until at least `count` creates were acknowledged.
  bool WaitForAcknowledged(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, seconds(20),
                             [&] { return acknowledged_.size() >= count; });
  }
  // Waits up to 20 s until at least `count` answers were 503s.
  bool WaitForUnavailable(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, seconds(20),
                             [&] { return unavailable_ >= count; });
  }
  std::vector<std::string> acknowledged() {
    std::lock_guard<std::mutex> lock(mu_);
    return acknowledged_;
  }
  std::vector<std::string> unexpected() {
    std::lock_guard<std::mutex> lock(mu_);
    return unexpected_;
  }
  size_t unavailable() {
    std::lock_guard<std::mutex> lock(mu_);
    return unavailable_;
  }

 private:
  void Run() {
    httplib::Client client = ClientOf(server_);
    for (int i = 0;; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
      }
      Reply reply = ToReply(
          client.Post(kCreatePath, KeyHeaders(key_),
                      CreateBody("slack", "writer-" + std::to_string(i)),
                      "application/json"));
      std::lock_guard<std::mutex> lock(mu_);
      if (reply.status == 201) {
        acknowledged_.push_back(StringField(reply.body, "id").value_or(""));
      } else if (reply.status == 503 &&
                 ErrorField(reply.body, "slug") == kStorageUnavailable &&
                 !reply.Header("Retry-After").empty()) {
        ++unavailable_;
      } else {
        unexpected_.push_back(std::to_string(reply.status) + " " +
                              reply.Header("Retry-After") + " " + reply.body);
      }
      changed_.notify_all();
    }
  }

  const ServerProcess& server_;
  const std::string key_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool stop_ = false;                      // guarded by mu_
  std::vector<std::string> acknowledged_;  // guarded by mu_
  std::vector<std::string> unexpected_;    // guarded by mu_
  size_t unavailable_ = 0;                 // guarded by mu_
  std::thread thread_;                     // last: starts after the rest
};

// A server on a cluster of the test's own, with a writer creating
// endpoints all along: while PostgreSQL is stopped, writes answer 503
// Storage_Unavailable with Retry-After; once it is back, creates succeed
// again with the same server process; nothing else but 201 and 503 is
// answered, and every endpoint acknowledged with 201 is there afterwards.
TEST(PgRestart, WritesAnswer503WhileDownThenSucceedWithoutARestartOfOurs) {
  PrivateCluster cluster;
  ASSERT_FALSE(cluster.uri().empty()) << "no private cluster";
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--port", "0", "--db", cluster.uri()}))
      << server.Stderr();
  const pid_t pid = server.pid();
  const std::string key = RandomKey();
  Writer writer(server, key);

  ASSERT_TRUE(writer.WaitForAcknowledged(20));
  ASSERT_TRUE(cluster.Stop());
  EXPECT_TRUE(writer.WaitForUnavailable(5))
      << "no 503 from the writer while PostgreSQL was down";
  // A write of our own while it is down: the whole error envelope.
  {
    httplib::Client client = ClientOf(server);
    auto result =
        client.Post(kCreatePath, KeyHeaders(key),
                    CreateBody("slack", "while-down"), "application/json");
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(result, 503, kStorageUnavailable));
    EXPECT_FALSE(result->get_header_value("Retry-After").empty());
  }
  const size_t before_start = writer.acknowledged().size();
  ASSERT_TRUE(cluster.Start());
  EXPECT_TRUE(writer.WaitForAcknowledged(before_start + 20))
      << "creates did not succeed again after PostgreSQL came back";
  writer.Stop();
  EXPECT_EQ(server.pid(), pid);  // the same process all along
  RecordProperty("acknowledged", static_cast<int>(before_start));
  RecordProperty("unavailable", static_cast<int>(writer.unavailable()));

  EXPECT_TRUE(writer.unexpected().empty())
      << writer.unexpected().size()
      << " answers neither 201 nor 503, first: " << writer.unexpected().front();
  httplib::Client client = ClientOf(server);
  for (const std::string& id : writer.acknowledged()) {
    auto result =
        client.Get(std::string(kCreatePath) + "/" + id, KeyHeaders(key));
    ASSERT_TRUE(result) << id;
    EXPECT_EQ(result->status, 200) << id << ": " << result->body;
  }
}

// Nothing listening where the URI points, and a password in it: the server
// says so on one line of standard error, without the password, and exits
// with 2 (a configuration error) rather than serving.
TEST(PgUnreachable, AtStartOneLineWithoutPasswordAndExitCode2) {
  EmptySocketDir socket_dir;
  ASSERT_FALSE(socket_dir.path().empty());
  const std::string uri =
      "postgresql://u:hunter2@/webhooks?host=" + socket_dir.path() +
      "&port=5999";
  ServerProcess server;
  const auto started = steady_clock::now();
  EXPECT_FALSE(server.Start({"--port", "0", "--db", uri}));
  server.Wait();
  EXPECT_EQ(server.ExitCode(), 2);
  EXPECT_LT(steady_clock::now() - started, seconds(10));
  const std::string err = server.Stderr();
  EXPECT_EQ(LineCount(err), 1u) << err;
  EXPECT_TRUE(EndsWith(err, "\n")) << err;
  EXPECT_FALSE(Contains(err, "hunter2")) << err;
  EXPECT_TRUE(Contains(err, "PostgreSQL")) << err;
  EXPECT_TRUE(Contains(err, "***")) << err;
  EXPECT_TRUE(server.first_line().empty()) << server.first_line();
}

// ===========================================================================
// The admin commands on a URI
// ===========================================================================

class PgCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(ClusterUri().empty()) << "no cluster"; }
};

// (With a password in the URI, which the trusting test cluster ignores:
// what migrate prints shows *** in its place.)
TEST_F(PgCommandTest, MigrateAppliesTheSchemaOnceThenIsUpToDate) {
  const std::string uri = WithPassword(FreshSchemaUri("cli"), "hunter2");
  ASSERT_TRUE(Contains(uri, ":hunter2@")) << uri;
  const std::string shown = RedactDatabaseUri(uri);
  EXPECT_TRUE(Contains(shown, ":***@")) << shown;
  Ran first = RunBinary({"migrate", "--db", uri});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, shown + ": schema version 1 (was 0)\n");
  Ran again = RunBinary({"migrate", "--db", uri});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, shown + ": schema version 1 (up to date)\n");
  // A server starts on the migrated schema.
  ServerProcess server;
  EXPECT_TRUE(server.Start({"--port", "0", "--db", uri})) << server.Stderr();
}

// Two deploys migrating one new schema at once: the advisory lock makes
// one wait for the other, so both succeed and exactly one applied it.
TEST_F(PgCommandTest, TwoMigratesAtOnceBothSucceedOneApplies) {
  const std::string uri = FreshSchemaUri("cli");
  ASSERT_FALSE(uri.empty());
  const std::string shown = RedactDatabaseUri(uri);
  std::vector<Ran> runs(2);
  RunTogether(2, [&](size_t i) {
    runs[i] = RunBinary({"migrate", "--db", uri});
  });
  std::multiset<std::string> outs;
  for (const Ran& run : runs) {
    EXPECT_EQ(run.exit_code, 0) << run.err;
    outs.insert(run.out);
  }
  EXPECT_EQ(outs, (std::multiset<std::string>{
                      shown + ": schema version 1 (up to date)\n",
                      shown + ": schema version 1 (was 0)\n"}));
}

TEST_F(PgCommandTest, BackupAndCheckNameThePostgresToolsWithoutPassword) {
  const std::string uri = WithPassword(FreshSchemaUri("cli"), "hunter2");
  ASSERT_TRUE(Contains(uri, ":hunter2@")) << uri;
  Ran backup =
      RunBinary({"backup", "--db", uri, "--to", "/tmp/never-written.db"});
  EXPECT_EQ(backup.exit_code, 2);
  EXPECT_TRUE(Contains(backup.err, "pg_dump")) << backup.err;
  EXPECT_FALSE(Contains(backup.err + backup.out, "hunter2")) << backup.err;
  Ran check = RunBinary({"check", "--db", uri});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_TRUE(Contains(check.err, "amcheck")) << check.err;
  EXPECT_FALSE(Contains(check.err + check.out, "hunter2")) << check.err;
}

// An admin key made with `keys create` on the URI is what a server on that
// database with --require-keys accepts; any other key it refuses.
TEST_F(PgCommandTest, KeysCreateThenServerRequiringKeysAcceptsIt) {
  const std::string uri = FreshSchemaUri("cli");
  ASSERT_FALSE(uri.empty());
  Ran created = RunBinary({"keys", "create", "--project", "p", "--db", uri});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string key = created.out.substr(0, created.out.find('\n'));
  ASSERT_FALSE(key.empty());
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--port", "0", "--db", uri, "--require-keys"}))
      << server.Stderr();
  httplib::Client client = ClientOf(server);
  auto accepted = client.Post(kCreatePath, KeyHeaders(key),
                              CreateBody("slack", "keyed"), "application/json");
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 201) << accepted->body;
  auto refused = client.Post(kCreatePath, KeyHeaders(RandomKey()),
                             CreateBody("slack", "keyed"), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401) << refused->body;
}

// A password in the URI, given by flag or by WEBHOOKS_DB, is shown as ***
// in --help and on the start-up line. (The test cluster trusts local
// connections, so the password is ignored and the server starts.)
TEST_F(PgCommandTest, HelpAndStartUpLineNeverPrintThePassword) {
  const std::string uri = WithPassword(FreshSchemaUri("cli"), "hunter2");
  ASSERT_TRUE(Contains(uri, ":hunter2@")) << uri;
  for (const Ran& help : {RunBinary({"--db", uri, "--help"}),
                          RunBinary({"--help"}, {"WEBHOOKS_DB=" + uri})}) {
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_FALSE(help.out.empty());
    EXPECT_FALSE(Contains(help.out + help.err, "hunter2")) << help.out;
  }
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--port", "0", "--db", uri})) << server.Stderr();
  ASSERT_TRUE(server.WaitForStderr(RedactDatabaseUri(uri))) << server.Stderr();
  EXPECT_TRUE(Contains(server.Stderr(), "***")) << server.Stderr();
  EXPECT_FALSE(Contains(server.Stderr(), "hunter2")) << server.Stderr();
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_FALSE(Contains(server.Stderr(), "hunter2")) << server.Stderr();
}

}  // namespace
}  // namespace webhooks::testing
