// The conformance suite for any Store, run against every backend: a SQLite
// file and SQLite :memory: now, PostgreSQL later (one more factory below).
// Plus the SQLite-specific facts: durability settings, file mode, and
// refusing files it cannot trust.

#include "store/sqlite_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <set>
#include <thread>
#include <tuple>

#include "store/store.h"
#include "tests/test_util.h"

namespace webhooks {
namespace {

using testing::ReadFile;
using testing::TempDir;

struct Backend {
  const char* name;
  // Opens a fresh database (in `dir` where the backend uses files).
  std::function<Status(const TempDir& dir, std::unique_ptr<Store>*)> open;
};

const Backend kBackends[] = {
    {"SqliteFile",
     [](const TempDir& dir, std::unique_ptr<Store>* store) {
       return OpenSqliteStore(dir.File("store.db"), store);
     }},
    {"SqliteMemory",
     [](const TempDir&, std::unique_ptr<Store>* store) {
       return OpenSqliteStore(":memory:", store);
     }},
};

std::string Digest(char fill) { return std::string(32, fill); }

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { ASSERT_OK(GetParam().open(dir_, &store_)); }

  // Registers a key (one byte repeated as its digest) and returns its
  // project.
  std::string Project(char key) {
    NewApiKey new_key;
    new_key.key_digest = Digest(key);
    new_key.key_id = std::string("key_") + key;
    new_key.project_id = std::string("proj_") + key;
    new_key.project_name = "test";
    new_key.created_at_ms = 1;
    std::string project_id;
    Status status = store_->RegisterKey(new_key, &project_id);
    EXPECT_TRUE(status.ok()) << status.message();
    return project_id;
  }

  static NewEndpoint Endpoint(const std::string& project, std::string id,
                              std::string client = "client-1") {
    NewEndpoint endpoint;
    endpoint.id = std::move(id);
    endpoint.project_id = project;
    endpoint.toolkit_slug = "slack";
    endpoint.client_id = std::move(client);
    endpoint.webhook_url = "http://hooks.test/" + endpoint.id;
    endpoint.created_at_ms = 1'777'000'000'123;
    return endpoint;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, CreateThenCreateAgainReturnsTheSameEndpoint) {
  const std::string project = Project('a');
  WebhookEndpoint first;
  bool created = false;
  ASSERT_OK(
      store_->CreateEndpoint(Endpoint(project, "we_first"), &first, &created));
  EXPECT_TRUE(created);
  EXPECT_EQ(first.id, "we_first");
  EXPECT_EQ(first.project_id, project);
  EXPECT_EQ(first.toolkit_slug, "slack");
  EXPECT_EQ(first.client_id, "client-1");
  EXPECT_EQ(first.webhook_url, "http://hooks.test/we_first");
  EXPECT_EQ(first.created_at_ms, 1'777'000'000'123);
  EXPECT_FALSE(first.verified_at_ms.has_value());
  EXPECT_TRUE(first.setup_fields.empty());

  // A second create offers another id, URL and time: none of them is used.
  NewEndpoint again = Endpoint(project, "we_second");
  again.created_at_ms = 5;
  WebhookEndpoint second;
  ASSERT_OK(store_->CreateEndpoint(again, &second, &created));
  EXPECT_FALSE(created);
  EXPECT_EQ(second.id, "we_first");
  EXPECT_EQ(second.webhook_url, "http://hooks.test/we_first");
  EXPECT_EQ(second.created_at_ms, 1'777'000'000'123);
}

TEST_P(StoreTest, EachPartOfTheTripleMakesADifferentEndpoint) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  bool created = false;
  WebhookEndpoint out;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1", "c"), &out, &created));
  EXPECT_TRUE(created);
  // Another client id; client ids are compared byte for byte.
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_2", "C"), &out, &created));
  EXPECT_TRUE(created);
  // Another toolkit.
  NewEndpoint notion = Endpoint(a, "we_3", "c");
  notion.toolkit_slug = "notion";
  ASSERT_OK(store_->CreateEndpoint(notion, &out, &created));
  EXPECT_TRUE(created);
  // Another project.
  ASSERT_OK(store_->CreateEndpoint(Endpoint(b, "we_4", "c"), &out, &created));
  EXPECT_TRUE(created);
  EXPECT_EQ(out.id, "we_4");
}

TEST_P(StoreTest, GetIsScopedToTheProject) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  WebhookEndpoint created_endpoint;
  bool created = false;
  ASSERT_OK(
      store_->CreateEndpoint(Endpoint(a, "we_a"), &created_endpoint, &created));

  WebhookEndpoint got;
  ASSERT_OK(store_->GetEndpoint(a, "we_a", &got));
  EXPECT_EQ(got.id, "we_a");
  EXPECT_EQ(got.client_id, "client-1");

  WebhookEndpoint untouched;
  untouched.id = "unchanged";
  Status other = store_->GetEndpoint(b, "we_a", &untouched);
  EXPECT_EQ(other.code(), Status::Code::kNotFound);
  EXPECT_EQ(untouched.id, "unchanged");
  Status missing = store_->GetEndpoint(a, "we_missing", &untouched);
  EXPECT_EQ(missing.code(), Status::Code::kNotFound);
}

TEST_P(StoreTest, ConcurrentCreatesOfOneTripleCreateExactlyOnce) {
  const std::string project = Project('a');
  constexpr int kThreads = 16;
  std::atomic<int> created_count{0};
  std::atomic<int> failures{0};
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      WebhookEndpoint out;
      bool created = false;
      Status status = store_->CreateEndpoint(
          Endpoint(project, "we_" + std::to_string(i)), &out, &created);
      if (!status.ok()) {
        ++failures;
        return;
      }
      if (created) ++created_count;
      ids[static_cast<size_t>(i)] = out.id;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(created_count.load(), 1);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
}

TEST_P(StoreTest, RegisterKeyIsIdempotentAndFindKeyResolvesIt) {
  NewApiKey key;
  key.key_digest = Digest('k');
  key.origin = KeyOrigin::kConfig;
  key.key_id = "key_1";
  key.project_id = "proj_1";
  key.project_name = "one";
  key.created_at_ms = 10;
  std::string project;
  ASSERT_OK(store_->RegisterKey(key, &project));
  EXPECT_EQ(project, "proj_1");

  // Registering the same digest again keeps the first project.
  key.key_id = "key_2";
  key.project_id = "proj_2";
  ASSERT_OK(store_->RegisterKey(key, &project));
  EXPECT_EQ(project, "proj_1");

  ApiKeyRecord record;
  ASSERT_OK(store_->FindKey(Digest('k'), &record));
  EXPECT_EQ(record.key_id, "key_1");
  EXPECT_EQ(record.project_id, "proj_1");
  EXPECT_EQ(record.origin, KeyOrigin::kConfig);

  EXPECT_EQ(store_->FindKey(Digest('x'), &record).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->FindKey("short", &record).code(), Status::Code::kNotFound);
}

TEST_P(StoreTest, RegisterKeyRejectsADigestOfTheWrongSize) {
  NewApiKey key;
  key.key_digest = "not a digest";
  key.key_id = "key_1";
  key.project_id = "proj_1";
  std::string project = "unchanged";
  EXPECT_EQ(store_->RegisterKey(key, &project).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(project, "unchanged");
}

TEST_P(StoreTest, ConcurrentRegistrationsOfOneKeyShareOneProject) {
  constexpr int kThreads = 12;
  std::vector<std::string> projects(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      NewApiKey key;
      key.key_digest = Digest('z');
      key.key_id = "key_" + std::to_string(i);
      key.project_id = "proj_" + std::to_string(i);
      key.project_name = "race";
      if (!store_->RegisterKey(key, &projects[static_cast<size_t>(i)]).ok()) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(std::set<std::string>(projects.begin(), projects.end()).size(), 1u);
}

TEST_P(StoreTest, ListIsOrderedScopedFilteredAndPaged) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  WebhookEndpoint out;
  bool created = false;
  // Created out of id order, two sharing a time: order is (created_at, id).
  const std::vector<std::tuple<std::string, std::string, int64_t>> rows = {
      {"we_c", "slack", 30},
      {"we_a", "notion", 10},
      {"we_b", "slack", 20},
      {"we_e", "slack", 20},
      {"we_d", "slack", 40}};
  for (const auto& [id, toolkit, time] : rows) {
    NewEndpoint endpoint = Endpoint(a, id, "client-" + id);
    endpoint.toolkit_slug = toolkit;
    endpoint.created_at_ms = time;
    ASSERT_OK(store_->CreateEndpoint(endpoint, &out, &created));
  }
  ASSERT_OK(store_->CreateEndpoint(Endpoint(b, "we_other"), &out, &created));

  auto ids = [](const std::vector<EndpointListItem>& endpoints) {
    std::vector<std::string> result;
    for (const auto& endpoint : endpoints) result.push_back(endpoint.id);
    return result;
  };
  ListQuery query;
  query.project_id = a;
  std::vector<EndpointListItem> page;
  bool more = true;
  ASSERT_OK(store_->ListEndpoints(query, &page, &more));
  EXPECT_EQ(ids(page),
            (std::vector<std::string>{"we_a", "we_b", "we_e", "we_c", "we_d"}));
  EXPECT_FALSE(more);
  EXPECT_EQ(page[0].client_id, "client-we_a");
  EXPECT_EQ(page[0].toolkit_slug, "notion");

  query.toolkit_slug = "slack";
  ASSERT_OK(store_->ListEndpoints(query, &page, &more));
  EXPECT_EQ(ids(page),
            (std::vector<std::string>{"we_b", "we_e", "we_c", "we_d"}));

  // Pages of two, each continuing after the last item of the previous one.
  query.toolkit_slug.reset();
  query.limit = 2;
  std::vector<std::string> seen;
  int pages = 0;
  do {
    ASSERT_OK(store_->ListEndpoints(query, &page, &more));
    ASSERT_LE(page.size(), 2u);
    for (const auto& endpoint : page) seen.push_back(endpoint.id);
    if (!page.empty()) {
      query.after = EndpointCursor{page.back().created_at_ms, page.back().id};
    }
    ++pages;
  } while (more && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen,
            (std::vector<std::string>{"we_a", "we_b", "we_e", "we_c", "we_d"}));

  ListQuery other;
  other.project_id = b;
  ASSERT_OK(store_->ListEndpoints(other, &page, &more));
  EXPECT_EQ(ids(page), (std::vector<std::string>{"we_other"}));
  other.project_id = "proj_nobody";
  ASSERT_OK(store_->ListEndpoints(other, &page, &more));
  EXPECT_TRUE(page.empty());
}

TEST_P(StoreTest, UpdateSetupFieldsMergesOrReplaces) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));

  ASSERT_OK(store_->UpdateSetupFields(
      a, "we_1", {{"webhook_signing_secret", "s1"}}, false, &out));
  ASSERT_EQ(out.setup_fields.size(), 1u);
  ASSERT_OK(
      store_->UpdateSetupFields(a, "we_1", {{"app_token", "t1"}}, false, &out));
  ASSERT_EQ(out.setup_fields.size(), 2u);
  EXPECT_EQ(out.setup_fields[0].name, "app_token");  // sorted by name
  EXPECT_EQ(out.setup_fields[0].value, "t1");
  EXPECT_EQ(out.setup_fields[1].value, "s1");

  // Rotating one value keeps the other.
  ASSERT_OK(store_->UpdateSetupFields(
      a, "we_1", {{"webhook_signing_secret", "s2"}}, false, &out));
  WebhookEndpoint got;
  ASSERT_OK(store_->GetEndpoint(a, "we_1", &got));
  ASSERT_EQ(got.setup_fields.size(), 2u);
  EXPECT_EQ(got.setup_fields[1].value, "s2");

  // Replace clears what is not listed.
  ASSERT_OK(store_->UpdateSetupFields(
      a, "we_1", {{"webhook_signing_secret", "s3"}}, true, &out));
  ASSERT_OK(store_->GetEndpoint(a, "we_1", &got));
  ASSERT_EQ(got.setup_fields.size(), 1u);
  EXPECT_EQ(got.setup_fields[0].value, "s3");

  // A create of the same triple returns the stored fields unchanged.
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_x"), &out, &created));
  EXPECT_FALSE(created);
  ASSERT_EQ(out.setup_fields.size(), 1u);
  EXPECT_EQ(out.setup_fields[0].value, "s3");
}

TEST_P(StoreTest, UpdateOfAnotherProjectsEndpointIsNotFoundAndChangesNothing) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  ASSERT_OK(store_->UpdateSetupFields(a, "we_1", {{"f", "mine"}}, false, &out));

  EXPECT_EQ(store_->UpdateSetupFields(b, "we_1", {{"f", "theirs"}}, true, &out)
                .code(),
            Status::Code::kNotFound);
  EXPECT_EQ(
      store_->UpdateSetupFields(a, "we_none", {{"f", "x"}}, false, &out).code(),
      Status::Code::kNotFound);
  EXPECT_EQ(store_->DeleteEndpoint(b, "we_1").code(), Status::Code::kNotFound);

  WebhookEndpoint got;
  ASSERT_OK(store_->GetEndpoint(a, "we_1", &got));
  ASSERT_EQ(got.setup_fields.size(), 1u);
  EXPECT_EQ(got.setup_fields[0].value, "mine");
}

TEST_P(StoreTest, DeleteRemovesTheEndpointAndFreesItsTriple) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  ASSERT_OK(store_->UpdateSetupFields(a, "we_1", {{"f", "v"}}, false, &out));

  ASSERT_OK(store_->DeleteEndpoint(a, "we_1"));
  EXPECT_EQ(store_->GetEndpoint(a, "we_1", &out).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->DeleteEndpoint(a, "we_1").code(), Status::Code::kNotFound);

  // The triple can be created again, as a new endpoint without fields.
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_2"), &out, &created));
  EXPECT_TRUE(created);
  EXPECT_EQ(out.id, "we_2");
  EXPECT_TRUE(out.setup_fields.empty());
}

TEST_P(StoreTest, IngressLookupFindsAnEndpointOfAnyProject) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  ASSERT_OK(store_->UpdateSetupFields(a, "we_1", {{"f", "v"}}, false, &out));
  WebhookEndpoint got;
  ASSERT_OK(store_->GetEndpointForIngress("we_1", &got));
  EXPECT_EQ(got.project_id, a);
  ASSERT_EQ(got.setup_fields.size(), 1u);
  EXPECT_EQ(got.setup_fields[0].value, "v");
  EXPECT_EQ(store_->GetEndpointForIngress("we_2", &got).code(),
            Status::Code::kNotFound);
}

TEST_P(StoreTest, MarkVerifiedSetsTheTimeOnceWithItsSecret) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  bool verified = false;
  ASSERT_OK(store_->MarkVerified(
      "we_1", 1000, SetupField{"verification_token", "tok-1"}, &verified));
  EXPECT_TRUE(verified);
  // A second handshake changes nothing: neither the time nor the secret.
  ASSERT_OK(store_->MarkVerified(
      "we_1", 2000, SetupField{"verification_token", "tok-2"}, &verified));
  EXPECT_FALSE(verified);
  WebhookEndpoint got;
  ASSERT_OK(store_->GetEndpoint(a, "we_1", &got));
  EXPECT_EQ(got.verified_at_ms, 1000);
  ASSERT_EQ(got.setup_fields.size(), 1u);
  EXPECT_EQ(got.setup_fields[0].value, "tok-1");
  EXPECT_EQ(store_->MarkVerified("we_none", 1, std::nullopt, &verified).code(),
            Status::Code::kNotFound);
}

TEST_P(StoreTest, EventsAreStoredOnceAndListedNewestFirst) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  auto event = [](std::string id, std::string provider_id) {
    NewEvent e;
    e.id = std::move(id);
    e.endpoint_id = "we_1";
    e.provider_event_id = std::move(provider_id);
    e.received_at_ms = 5;
    e.headers_json = "{}";
    e.body = std::string("body\0with nul", 13);
    return e;
  };
  bool stored = false;
  ASSERT_OK(store_->RecordEvent(event("ev_1", "P1"), {}, &stored));
  EXPECT_TRUE(stored);
  ASSERT_OK(store_->RecordEvent(event("ev_2", "P1"), {}, &stored));
  EXPECT_FALSE(stored);  // a retry of P1
  ASSERT_OK(store_->RecordEvent(event("ev_3", "P2"), {}, &stored));
  EXPECT_TRUE(stored);

  std::vector<StoredEvent> events;
  bool more = true;
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, &events, &more));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, "ev_3");
  EXPECT_EQ(events[1].id, "ev_1");
  EXPECT_EQ(events[1].body, std::string("body\0with nul", 13));
  EXPECT_FALSE(more);

  ASSERT_OK(store_->ListEvents(a, "we_1", 1, 0, &events, &more));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(more);
  ASSERT_OK(
      store_->ListEvents(a, "we_1", 1, events[0].sequence, &events, &more));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "ev_1");
  EXPECT_FALSE(more);

  EXPECT_EQ(store_->ListEvents(b, "we_1", 0, 0, &events, &more).code(),
            Status::Code::kNotFound);
}

// Issue 12, 2026: a page of events is bounded in bytes as well as in
// count; the first event comes back whatever its size, so paging always
// makes progress.
TEST_P(StoreTest, EventPagesStopAtTheByteBound) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  bool stored = false;
  for (int i = 1; i <= 5; ++i) {  // bodies of 100 bytes, the third of 1000
    NewEvent e;
    e.id = "ev_" + std::to_string(i);
    e.endpoint_id = "we_1";
    e.provider_event_id = "p" + std::to_string(i);
    e.headers_json = "{}";  // 2 bytes
    e.body = std::string(i == 3 ? 1000 : 100, 'x');
    ASSERT_OK(store_->RecordEvent(e, {}, &stored));
  }
  std::vector<StoredEvent> events;
  bool more = false;
  auto ids = [&] {
    std::vector<std::string> out_ids;
    for (const StoredEvent& event : events) out_ids.push_back(event.id);
    return out_ids;
  };
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, 204, &events, &more));
  EXPECT_EQ(ids(), (std::vector<std::string>{"ev_5", "ev_4"}));
  EXPECT_TRUE(more);
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, events.back().sequence, 204,
                               &events, &more));
  EXPECT_EQ(ids(), std::vector<std::string>{"ev_3"});  // alone, over it
  EXPECT_TRUE(more);
  ASSERT_OK(store_->ListEvents(a, "we_1", 1, events.back().sequence, 204,
                               &events, &more));
  EXPECT_EQ(ids(), std::vector<std::string>{"ev_2"});  // the count bound
  EXPECT_TRUE(more);
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, events.back().sequence, 204,
                               &events, &more));
  EXPECT_EQ(ids(), std::vector<std::string>{"ev_1"});
  EXPECT_FALSE(more);
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, 0, &events, &more));
  EXPECT_EQ(events.size(), 5u);  // 0: no byte bound
  EXPECT_FALSE(more);
}

TEST_P(StoreTest, ConcurrentCopiesOfOneEventAreStoredOnce) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  std::atomic<int> stored_count{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      NewEvent e;
      e.id = "ev_" + std::to_string(i);
      e.endpoint_id = "we_1";
      e.provider_event_id = "same";
      e.headers_json = "{}";
      bool stored = false;
      if (!store_->RecordEvent(e, {}, &stored).ok()) ++failures;
      if (stored) ++stored_count;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(stored_count.load(), 1);
}

TEST_P(StoreTest, RetentionKeepsTheNewestEventsAndDropsOldOnes) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  EventRetention keep_three;
  keep_three.max_count_per_endpoint = 3;
  bool stored = false;
  for (int i = 1; i <= 5; ++i) {
    NewEvent e;
    e.id = "ev_" + std::to_string(i);
    e.endpoint_id = "we_1";
    e.provider_event_id = "p" + std::to_string(i);
    e.received_at_ms = i * 1000;
    e.headers_json = "{}";
    ASSERT_OK(store_->RecordEvent(e, keep_three, &stored));
  }
  std::vector<StoredEvent> events;
  bool more = false;
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, &events, &more));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].id, "ev_5");
  EXPECT_EQ(events[2].id, "ev_3");

  // The age bound is PruneEvents's, whether or not events arrive.
  EventRetention two_seconds;
  two_seconds.max_age_ms = 2000;
  bool pruned = false;
  ASSERT_OK(store_->PruneEvents(two_seconds, 6000, 100, &pruned));
  EXPECT_TRUE(pruned);
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, &events, &more));
  ASSERT_EQ(events.size(), 2u);  // received at 5000 and 4000
  EXPECT_EQ(events[1].id, "ev_4");
  ASSERT_OK(store_->PruneEvents(two_seconds, 6000, 100, &pruned));
  EXPECT_FALSE(pruned);
}

// Issue 12 (2026-12): a deleted endpoint's events are deleted afterwards, a
// bounded slice per PruneEvents call, and what is left survives a reopen.
TEST_P(StoreTest, DeletedEndpointEventsGoInSlices) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_big"), &out, &created));
  ASSERT_OK(
      store_->CreateEndpoint(Endpoint(a, "we_kept", "c2"), &out, &created));
  for (int i = 0; i < 25; ++i) {
    for (const char* endpoint : {"we_big", "we_kept"}) {
      NewEvent e;
      e.id = std::string("ev_") + endpoint + std::to_string(i);
      e.endpoint_id = endpoint;
      e.provider_event_id = "p" + std::to_string(i);
      e.headers_json = "{}";
      bool stored = false;
      ASSERT_OK(store_->RecordEvent(e, {}, &stored));
    }
  }
  ASSERT_OK(store_->DeleteEndpoint(a, "we_big"));
  WebhookEndpoint gone;
  EXPECT_EQ(store_->GetEndpoint(a, "we_big", &gone).code(),
            Status::Code::kNotFound);
  int64_t endpoints = 0, events = 0;
  ASSERT_OK(store_->CountRows(&endpoints, &events));
  EXPECT_EQ(events, 50);  // none deleted yet
  bool more = false;
  ASSERT_OK(store_->PruneEvents({}, 0, 10, &more));
  EXPECT_TRUE(more);
  ASSERT_OK(store_->CountRows(&endpoints, &events));
  EXPECT_EQ(events, 40);  // one slice of 10
  int calls = 0;
  do {
    ASSERT_OK(store_->PruneEvents({}, 0, 10, &more));
  } while (more && ++calls < 10);
  ASSERT_OK(store_->CountRows(&endpoints, &events));
  EXPECT_EQ(events, 25);  // we_kept's, untouched
  EXPECT_FALSE(more);
}

// Count retention deletes at most kMaxPrunedPerEvent per stored event, so a
// lowered bound costs a bounded amount per event and is reached over a few.
TEST_P(StoreTest, LoweredCountBoundIsReachedInBoundedSteps) {
  const std::string a = Project('a');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  auto record = [&](int i, const EventRetention& retention) {
    NewEvent e;
    e.id = "ev_" + std::to_string(i);
    e.endpoint_id = "we_1";
    e.provider_event_id = "p" + std::to_string(i);
    e.headers_json = "{}";
    bool stored = false;
    return store_->RecordEvent(e, retention, &stored);
  };
  for (int i = 0; i < 40; ++i) ASSERT_OK(record(i, {}));
  EventRetention keep_five;
  keep_five.max_count_per_endpoint = 5;
  ASSERT_OK(record(40, keep_five));
  int64_t endpoints = 0, events = 0;
  ASSERT_OK(store_->CountRows(&endpoints, &events));
  EXPECT_EQ(events, 41 - static_cast<int64_t>(kMaxPrunedPerEvent));
  for (int i = 41; i < 45; ++i) ASSERT_OK(record(i, keep_five));
  std::vector<StoredEvent> kept;
  bool more = false;
  ASSERT_OK(store_->ListEvents(a, "we_1", 0, 0, &kept, &more));
  ASSERT_EQ(kept.size(), 5u);
  EXPECT_EQ(kept[0].id, "ev_44");
  EXPECT_EQ(kept[4].id, "ev_40");
}

TEST_P(StoreTest, AdminKeysJoinTheirProjectByNameAndCanBeRevoked) {
  bool any = true;
  ASSERT_OK(store_->HasAdminKeys(&any));
  EXPECT_FALSE(any);
  auto admin_key = [](char fill, std::string key_id, std::string project_id) {
    NewApiKey key;
    key.key_digest = Digest(fill);
    key.origin = KeyOrigin::kAdmin;
    key.key_id = std::move(key_id);
    key.project_id = std::move(project_id);
    key.project_name = "acme";
    key.created_at_ms = 7;
    return key;
  };
  std::string first, second;
  ASSERT_OK(store_->AddKeyToProject(admin_key('1', "key_1", "proj_1"), &first));
  ASSERT_OK(
      store_->AddKeyToProject(admin_key('2', "key_2", "proj_2"), &second));
  EXPECT_EQ(first, "proj_1");
  EXPECT_EQ(second, "proj_1");  // the same name: the same project
  ASSERT_OK(store_->HasAdminKeys(&any));
  EXPECT_TRUE(any);

  std::vector<ApiKeyInfo> keys;
  ASSERT_OK(store_->ListKeys(&keys));
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].key_id, "key_1");
  EXPECT_EQ(keys[0].project_name, "acme");
  EXPECT_EQ(keys[0].origin, KeyOrigin::kAdmin);
  EXPECT_FALSE(keys[0].revoked_at_ms.has_value());

  ASSERT_OK(store_->RevokeKey("key_1", 99));
  EXPECT_EQ(store_->RevokeKey("key_1", 100).code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->RevokeKey("key_none", 100).code(), Status::Code::kNotFound);
  ApiKeyRecord record;
  ASSERT_OK(store_->FindKey(Digest('1'), &record));
  EXPECT_TRUE(record.revoked);
  ASSERT_OK(store_->FindKey(Digest('2'), &record));
  EXPECT_FALSE(record.revoked);
  ASSERT_OK(store_->ListKeys(&keys));
  EXPECT_EQ(keys[0].revoked_at_ms, 99);
  // Revoking every admin key does not reopen local mode.
  ASSERT_OK(store_->RevokeKey("key_2", 101));
  ASSERT_OK(store_->HasAdminKeys(&any));
  EXPECT_TRUE(any);
}

// Writes from many threads share commits (group commit). Each must still be
// all-or-nothing on its own: a write that fails in the middle of a shared
// transaction (here, a key whose digest exists, after its new project row
// was inserted) undoes only its own changes, and every other write of the
// batch is kept.
TEST_P(StoreTest, ConcurrentWritesShareCommitsYetFailAlone) {
  const std::string project = Project('a');
  constexpr int kThreads = 16;
  constexpr int kPerThread = 40;
  std::atomic<int> create_failures{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> other_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string tag = std::to_string(t) + "-" + std::to_string(i);
        if (i % 8 == 7) {
          // Digest('a') belongs to Project('a'): this add must fail.
          NewApiKey key;
          key.key_digest = Digest('a');
          key.origin = KeyOrigin::kAdmin;
          key.key_id = "key_dup_" + tag;
          key.project_id = "proj_ghost_" + tag;
          key.project_name = "ghost-" + tag;
          std::string ignored;
          Status status = store_->AddKeyToProject(key, &ignored);
          if (status.code() == Status::Code::kConflict) {
            ++conflicts;
          } else {
            ++other_failures;
          }
          continue;
        }
        WebhookEndpoint out;
        bool created = false;
        Status status = store_->CreateEndpoint(
            Endpoint(project, "we_" + tag, "client-" + tag), &out, &created);
        if (!status.ok() || !created || out.id != "we_" + tag) {
          ++create_failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(create_failures.load(), 0);
  EXPECT_EQ(other_failures.load(), 0);
  EXPECT_EQ(conflicts.load(), kThreads * (kPerThread / 8));

  ListQuery query;
  query.project_id = project;
  std::vector<EndpointListItem> listed;
  bool more = true;
  ASSERT_OK(store_->ListEndpoints(query, &listed, &more));
  EXPECT_EQ(listed.size(), static_cast<size_t>(kThreads * (kPerThread - 5)));
  // No failed add left its project behind: a new key naming one of those
  // projects creates it afresh instead of joining a leftover.
  NewApiKey key;
  key.key_digest = Digest('z');
  key.origin = KeyOrigin::kAdmin;
  key.key_id = "key_z";
  key.project_id = "proj_fresh";
  key.project_name = "ghost-0-7";
  std::string joined;
  ASSERT_OK(store_->AddKeyToProject(key, &joined));
  EXPECT_EQ(joined, "proj_fresh");
  std::vector<ApiKeyInfo> keys;
  ASSERT_OK(store_->ListKeys(&keys));
  EXPECT_EQ(keys.size(), 2u);  // Project('a')'s key and key_z
}

TEST_P(StoreTest, PingAndCheckpointAnswer) {
  EXPECT_OK(store_->Ping());
  EXPECT_OK(store_->Checkpoint());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(kBackends),
                         [](const auto& param_info) {
                           return param_info.param.name;
                         });

// --- SQLite specifics -------------------------------------------------------

// The first column of the first row of `sql`, run read-only through a
// second, independent connection; empty if there is none.
std::string FirstValueOf(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return value;
}

std::string PragmaOf(const std::string& path, const std::string& pragma) {
  return FirstValueOf(path, "PRAGMA " + pragma);
}

TEST(SqliteStoreTest, FileIsPrivateAndInWalMode) {
  TempDir dir;
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenSqliteStore(dir.File("private.db"), &store));
  struct stat info {};
  ASSERT_EQ(::stat(dir.File("private.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(PragmaOf(dir.File("private.db"), "journal_mode"), "wal");
  EXPECT_EQ(PragmaOf(dir.File("private.db"), "user_version"), "2");
}

// Issue 12 (2026-12): a version 1 database (events deleted with their
// endpoint by a foreign key, no event counts) opens as version 2 with its
// events, their counts, and deletes that no longer cascade.
TEST(SqliteStoreTest, VersionOneDatabaseIsMigrated) {
  TempDir dir;
  const std::string path = dir.File("v1.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    // The version 1 tables that matter here, as schema.sql had them.
    const char* v1 =
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
        "CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "created_at INTEGER NOT NULL) STRICT;"
        "CREATE TABLE webhook_endpoints (id TEXT PRIMARY KEY, project_id "
        "TEXT NOT NULL REFERENCES projects (id), toolkit_slug TEXT NOT NULL, "
        "client_id TEXT NOT NULL, webhook_url TEXT NOT NULL, created_at "
        "INTEGER NOT NULL, verified_at INTEGER, UNIQUE (project_id, "
        "toolkit_slug, client_id)) STRICT;"
        "CREATE TABLE webhook_events (seq INTEGER PRIMARY KEY, id TEXT NOT "
        "NULL UNIQUE, endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints "
        "(id) ON DELETE CASCADE, provider_event_id TEXT NOT NULL, "
        "received_at INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT "
        "NULL, UNIQUE (endpoint_id, provider_event_id)) STRICT;"
        "CREATE INDEX webhook_events_by_endpoint ON webhook_events "
        "(endpoint_id, seq);"
        "INSERT INTO projects VALUES ('proj_a', 'test', 1);"
        "INSERT INTO webhook_endpoints VALUES ('we_1', 'proj_a', 'slack', "
        "'c1', 'http://x/we_1', 1, NULL), ('we_2', 'proj_a', 'slack', 'c2', "
        "'http://x/we_2', 2, NULL);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
        "WHERE i < 30) INSERT INTO webhook_events (id, endpoint_id, "
        "provider_event_id, received_at, headers, body) SELECT 'ev_' || i, "
        "CASE WHEN i <= 20 THEN 'we_1' ELSE 'we_2' END, 'p' || i, i, '{}', "
        "x'00' FROM n;"
        "PRAGMA user_version = 1;";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenSqliteStore(path, &store));
  EXPECT_EQ(PragmaOf(path, "user_version"), "2");
  EXPECT_EQ(FirstValueOf(path,
                         "SELECT group_concat(endpoint_id || '=' || events) "
                         "FROM endpoint_event_counts"),
            "we_1=20,we_2=10");
  // The counts drive count retention at once.
  NewEvent e;
  e.id = "ev_new";
  e.endpoint_id = "we_1";
  e.provider_event_id = "p_new";
  e.headers_json = "{}";
  EventRetention keep_twenty;
  keep_twenty.max_count_per_endpoint = 20;
  bool stored = false;
  ASSERT_OK(store->RecordEvent(e, keep_twenty, &stored));
  std::vector<StoredEvent> events;
  bool more = false;
  ASSERT_OK(store->ListEvents("proj_a", "we_1", 0, 0, &events, &more));
  ASSERT_EQ(events.size(), 20u);
  EXPECT_EQ(events.back().id, "ev_2");
  // A delete no longer takes the events with it; the pruner does.
  ASSERT_OK(store->DeleteEndpoint("proj_a", "we_2"));
  int64_t endpoints = 0, count = 0;
  ASSERT_OK(store->CountRows(&endpoints, &count));
  EXPECT_EQ(count, 30);
  do {
    ASSERT_OK(store->PruneEvents({}, 0, 1000, &more));
  } while (more);
  ASSERT_OK(store->CountRows(&endpoints, &count));
  EXPECT_EQ(count, 20);
  // And an event for the deleted endpoint is refused, as the foreign key
  // refused it before.
  e.id = "ev_late";
  e.endpoint_id = "we_2";
  EXPECT_FALSE(store->RecordEvent(e, {}, &stored).ok());
}

TEST(SqliteStoreTest, EndpointsAndKeysSurviveReopening) {
  TempDir dir;
  const std::string path = dir.File("reopen.db");
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenSqliteStore(path, &store));
  NewApiKey key;
  key.key_digest = Digest('a');
  key.key_id = "key_a";
  key.project_id = "proj_a";
  key.project_name = "test";
  std::string project;
  ASSERT_OK(store->RegisterKey(key, &project));
  NewEndpoint endpoint;
  endpoint.id = "we_kept";
  endpoint.project_id = project;
  endpoint.toolkit_slug = "slack";
  endpoint.client_id = "c";
  endpoint.webhook_url = "u";
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store->CreateEndpoint(endpoint, &out, &created));
  store.reset();

  ASSERT_OK(OpenSqliteStore(path, &store));
  endpoint.id = "we_new";
  ASSERT_OK(store->CreateEndpoint(endpoint, &out, &created));
  EXPECT_FALSE(created);
  EXPECT_EQ(out.id, "we_kept");
  ApiKeyRecord record;
  ASSERT_OK(store->FindKey(Digest('a'), &record));
  EXPECT_EQ(record.project_id, "proj_a");
}

// Two stores on one file are two connections, as two processes would be:
// the UNIQUE constraint, not a mutex, keeps create idempotent between them.
TEST(SqliteStoreTest, TwoConnectionsOnOneFileCreateOnce) {
  TempDir dir;
  std::unique_ptr<Store> one, two;
  ASSERT_OK(OpenSqliteStore(dir.File("shared.db"), &one));
  ASSERT_OK(OpenSqliteStore(dir.File("shared.db"), &two));
  NewApiKey key;
  key.key_digest = Digest('s');
  key.key_id = "key_s";
  key.project_id = "proj_s";
  key.project_name = "shared";
  std::string project_one, project_two;
  ASSERT_OK(one->RegisterKey(key, &project_one));
  key.project_id = "proj_other";
  ASSERT_OK(two->RegisterKey(key, &project_two));
  EXPECT_EQ(project_one, project_two);

  std::atomic<int> created_count{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Store& store = i % 2 ? *one : *two;
      NewEndpoint endpoint;
      endpoint.id = "we_" + std::to_string(i);
      endpoint.project_id = project_one;
      endpoint.toolkit_slug = "slack";
      endpoint.client_id = "shared";
      endpoint.webhook_url = "u";
      WebhookEndpoint out;
      bool created = false;
      if (!store.CreateEndpoint(endpoint, &out, &created).ok()) ++failures;
      if (created) ++created_count;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(created_count.load(), 1);
}

TEST(SqliteStoreTest, RefusesAPathInAMissingFolder) {
  TempDir dir;
  std::unique_ptr<Store> store;
  Status status = OpenSqliteStore(dir.File("missing/x.db"), &store);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(store, nullptr);
  EXPECT_NE(status.message().find("missing/x.db"), std::string::npos)
      << status.message();
}

TEST(SqliteStoreTest, RefusesADirectory) {
  TempDir dir;
  std::unique_ptr<Store> store;
  Status status = OpenSqliteStore(dir.path(), &store);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(store, nullptr);
}

TEST(SqliteStoreTest, RefusesAFileThatIsNotADatabaseAndLeavesItAlone) {
  TempDir dir;
  const std::string path = dir.File("garbage.db");
  std::string garbage(8192, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) {
    garbage[i] = static_cast<char>('a' + i % 26);
  }
  {
    std::ofstream out(path, std::ios::binary);
    out << garbage;
  }
  std::unique_ptr<Store> store;
  Status status = OpenSqliteStore(path, &store);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(store, nullptr);
  EXPECT_EQ(ReadFile(path), garbage);
}

TEST(SqliteStoreTest, BackupIsACompleteCopyThatPassesTheCheck) {
  TempDir dir;
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenSqliteStore(dir.File("live.db"), &store));
  NewApiKey key;
  key.key_digest = Digest('b');
  key.key_id = "key_b";
  key.project_id = "proj_b";
  key.project_name = "b";
  std::string project;
  ASSERT_OK(store->RegisterKey(key, &project));
  // The store stays open: the backup reads a live database.
  ASSERT_OK(BackupSqliteDatabase(dir.File("live.db"), dir.File("copy.db")));
  struct stat info {};
  ASSERT_EQ(::stat(dir.File("copy.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::vector<std::string> problems = {"stale"};
  ASSERT_OK(CheckSqliteDatabase(dir.File("copy.db"), &problems));
  EXPECT_TRUE(problems.empty());
  std::unique_ptr<Store> copy;
  ASSERT_OK(OpenSqliteStore(dir.File("copy.db"), &copy));
  ApiKeyRecord record;
  ASSERT_OK(copy->FindKey(Digest('b'), &record));
  EXPECT_EQ(record.project_id, "proj_b");
  // Never over an existing file.
  EXPECT_FALSE(
      BackupSqliteDatabase(dir.File("live.db"), dir.File("copy.db")).ok());
}

TEST(SqliteStoreTest, CheckReportsAFileThatIsNotADatabaseAndLeavesItAlone) {
  TempDir dir;
  const std::string path = dir.File("bad.db");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(4096, 'x');
  }
  std::vector<std::string> problems;
  ASSERT_OK(CheckSqliteDatabase(path, &problems));
  EXPECT_FALSE(problems.empty());
  EXPECT_EQ(ReadFile(path), std::string(4096, 'x'));
  EXPECT_FALSE(CheckSqliteDatabase(dir.File("missing.db"), &problems).ok());
}

// --- Setup values encrypted at rest ------------------------------------------

// Holds SQLite's write lock on `path` from a connection of its own, as
// another process would, until Release() or destruction.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) ==
        SQLITE_OK) {
      held_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) ==
              SQLITE_OK;
    }
  }
  WriteLockHolder(const WriteLockHolder&) = delete;
  WriteLockHolder& operator=(const WriteLockHolder&) = delete;
  ~WriteLockHolder() {
    Release();
    sqlite3_close(db_);
  }
  bool held() const { return held_; }
  void Release() {
    if (held_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    held_ = false;
  }

 private:
  sqlite3* db_ = nullptr;
  bool held_ = false;
};

NewApiKey TestKey(char fill) {
  NewApiKey key;
  key.key_digest = Digest(fill);
  key.key_id = std::string("key_") + fill;
  key.project_id = std::string("proj_") + fill;
  key.project_name = "test";
  return key;
}

NewEndpoint TestEndpoint(const std::string& project, const std::string& id) {
  NewEndpoint endpoint;
  endpoint.id = id;
  endpoint.project_id = project;
  endpoint.toolkit_slug = "slack";
  endpoint.client_id = "client-" + id;
  endpoint.webhook_url = "http://hooks.test/" + id;
  endpoint.created_at_ms = 1;
  return endpoint;
}

// Opens a fresh file store, dir/name, with one project (of key `fill`).
void OpenWithProject(const TempDir& dir, const std::string& name, char fill,
                     const StoreOptions& options, std::unique_ptr<Store>* store,
                     std::string* project) {
  ASSERT_OK(OpenSqliteStore(dir.File(name), options, store));
  ASSERT_OK((*store)->RegisterKey(TestKey(fill), project));
}

// Reads run on connections of their own: while a write waits for the write
// lock (held here by another connection, as another process could), reads
// of committed rows are still answered.
TEST(SqliteStoreTest, ReadsAreAnsweredWhileAWriteWaitsForTheLock) {
  TempDir dir;
  const std::string path = dir.File("readers.db");
  std::unique_ptr<Store> store;
  std::string project;
  ASSERT_NO_FATAL_FAILURE(
      OpenWithProject(dir, "readers.db", 'r', {}, &store, &project));
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store->CreateEndpoint(TestEndpoint(project, "we_before"), &out,
                                  &created));

  WriteLockHolder lock(path);
  ASSERT_TRUE(lock.held());
  std::atomic<bool> write_done{false};
  Status write_status = Status::Internal("not run");
  std::thread writer([&] {
    WebhookEndpoint written;
    bool was_created = false;
    write_status = store->CreateEndpoint(TestEndpoint(project, "we_during"),
                                         &written, &was_created);
    write_done = true;
  });
  // The write cannot finish while the lock is held (the busy timeout is
  // 5 s); these reads must not queue behind it.
  for (int i = 0; i < 20; ++i) {
    WebhookEndpoint read;
    ASSERT_OK(store->GetEndpoint(project, "we_before", &read));
    ApiKeyRecord record;
    ASSERT_OK(store->FindKey(Digest('r'), &record));
  }
  EXPECT_FALSE(write_done.load());
  lock.Release();
  writer.join();
  EXPECT_OK(write_status);
  ASSERT_OK(store->GetEndpoint(project, "we_during", &out));
}

// Checkpoints run off the request path once the WAL holds 1000 pages
// (4 MiB), and the WAL starts over even while writes go on, so the file
// stays within a few times that size however much is written. SQLite's own
// automatic checkpoint is off: without ours, or with only the background
// half of it, this WAL grows past 64 MiB (measured).
TEST(SqliteStoreTest, TheWalStaysBoundedUnderSustainedWrites) {
  TempDir dir;
  const std::string path = dir.File("wal.db");
  std::unique_ptr<Store> store;
  std::string project;
  ASSERT_NO_FATAL_FAILURE(
      OpenWithProject(dir, "wal.db", 'w', {}, &store, &project));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  // 2,400 writes of a 3,000-byte value: each dirties at least one page of
  // its own, so at least 2,400 pages (9.4 MiB) go through the WAL.
  const std::string value(3000, 'v');
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id =
            "we_" + std::to_string(t) + "_" + std::to_string(i);
        WebhookEndpoint out;
        bool created = false;
        if (!store->CreateEndpoint(TestEndpoint(project, id), &out, &created)
                 .ok() ||
            !store
                 ->UpdateSetupFields(project, id, {{"payload", value}},
                                     /*replace=*/false, &out)
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  struct stat wal {};
  ASSERT_EQ(::stat((path + "-wal").c_str(), &wal), 0);
  EXPECT_LT(wal.st_size, 16 * 1024 * 1024) << "the WAL was never checkpointed";
}

// One read connection serves any number of concurrent readers, in turn.
TEST(SqliteStoreTest, OneReadConnectionServesManyThreads) {
  TempDir dir;
  StoreOptions options;
  options.read_connections = 1;
  std::unique_ptr<Store> store;
  std::string project;
  ASSERT_NO_FATAL_FAILURE(
      OpenWithProject(dir, "one-reader.db", 'o', options, &store, &project));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string id =
            "we_" + std::to_string(t) + "_" + std::to_string(i);
        WebhookEndpoint out;
        bool created = false;
        if (!store->CreateEndpoint(TestEndpoint(project, id), &out, &created)
                 .ok() ||
            !store->GetEndpoint(project, id, &out).ok() || out.id != id) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

class EncryptedStoreTest : public ::testing::Test {
 protected:
  // Opens the store at path_ with `key` (32 bytes, or empty for none).
  Status Open(const std::string& key) {
    store_.reset();
    StoreOptions options;
    options.secrets_key = key;
    return OpenSqliteStore(path_, options, &store_);
  }

  // Creates endpoint we_1 with a key and project of its own.
  void CreateEndpoint() {
    NewApiKey key;
    key.key_digest = Digest('e');
    key.key_id = "key_e";
    key.project_id = "proj_e";
    key.project_name = "enc";
    std::string project;
    ASSERT_OK(store_->RegisterKey(key, &project));
    NewEndpoint endpoint;
    endpoint.id = "we_1";
    endpoint.project_id = project;
    endpoint.toolkit_slug = "slack";
    endpoint.client_id = "c";
    endpoint.webhook_url = "u";
    WebhookEndpoint out;
    bool created = false;
    ASSERT_OK(store_->CreateEndpoint(endpoint, &out, &created));
  }

  // Opens the store with key_ and stores "value" in field f of we_1.
  void StoreValueWithTheKey() {
    ASSERT_OK(Open(key_));
    ASSERT_NO_FATAL_FAILURE(CreateEndpoint());
    WebhookEndpoint out;
    ASSERT_OK(store_->UpdateSetupFields("proj_e", "we_1", {{"f", "value"}},
                                        false, &out));
  }

  TempDir dir_;
  const std::string path_ = dir_.File("enc.db");
  const std::string key_ = std::string(32, '\x42');
  std::unique_ptr<Store> store_;
};

TEST_F(EncryptedStoreTest, ValuesRoundTripAndNeverReachTheFileInClear) {
  ASSERT_OK(Open(key_));
  ASSERT_NO_FATAL_FAILURE(CreateEndpoint());
  const std::string secret = "very-secret-signing-value-0123456789";
  WebhookEndpoint out;
  ASSERT_OK(store_->UpdateSetupFields(
      "proj_e", "we_1", {{"webhook_signing_secret", secret}}, false, &out));
  ASSERT_EQ(out.setup_fields.size(), 1u);
  EXPECT_EQ(out.setup_fields[0].value, secret);
  store_.reset();  // closes the database: the WAL is checkpointed

  std::string bytes = ReadFile(path_) + ReadFile(path_ + "-wal");
  EXPECT_EQ(bytes.find("very-secret"), std::string::npos);
  EXPECT_EQ(bytes.find("0123456789"), std::string::npos);

  ASSERT_OK(Open(key_));
  WebhookEndpoint got;
  ASSERT_OK(store_->GetEndpoint("proj_e", "we_1", &got));
  ASSERT_EQ(got.setup_fields.size(), 1u);
  EXPECT_EQ(got.setup_fields[0].value, secret);
}

TEST_F(EncryptedStoreTest, AnotherKeyOrNoKeyFailsInsteadOfReturningGarbage) {
  ASSERT_NO_FATAL_FAILURE(StoreValueWithTheKey());

  ASSERT_OK(Open(std::string(32, '\x43')));
  WebhookEndpoint got;
  EXPECT_EQ(store_->GetEndpoint("proj_e", "we_1", &got).code(),
            Status::Code::kInternal);
  ASSERT_OK(Open(""));
  EXPECT_EQ(store_->GetEndpoint("proj_e", "we_1", &got).code(),
            Status::Code::kInternal);
  // The row itself is intact: the right key reads it again.
  ASSERT_OK(Open(key_));
  ASSERT_OK(store_->GetEndpoint("proj_e", "we_1", &got));
  EXPECT_EQ(got.setup_fields[0].value, "value");
}

TEST_F(EncryptedStoreTest, ValuesStoredInClearBeforeAKeyAreStillRead) {
  ASSERT_OK(Open(""));
  ASSERT_NO_FATAL_FAILURE(CreateEndpoint());
  WebhookEndpoint out;
  ASSERT_OK(store_->UpdateSetupFields("proj_e", "we_1", {{"old", "clear"}},
                                      false, &out));
  ASSERT_OK(Open(key_));
  ASSERT_OK(store_->UpdateSetupFields("proj_e", "we_1", {{"new", "sealed"}},
                                      false, &out));
  ASSERT_EQ(out.setup_fields.size(), 2u);
  EXPECT_EQ(out.setup_fields[0].value, "sealed");  // "new" < "old"
  EXPECT_EQ(out.setup_fields[1].value, "clear");
}

// Issue 11, item 10 (2026-04): a wrong --secrets-key-file started a server
// whose every read of a setup value failed. CheckSecretsKey finds it first.
TEST_F(EncryptedStoreTest, CheckFindsAnotherKeyOrAMissingOne) {
  ASSERT_NO_FATAL_FAILURE(StoreValueWithTheKey());
  ASSERT_OK(store_->CheckSecretsKey());

  ASSERT_OK(Open(std::string(32, '\x43')));
  Status other = store_->CheckSecretsKey();
  EXPECT_EQ(other.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(other.message().find("does not decrypt"), std::string::npos)
      << other.message();
  ASSERT_OK(Open(""));
  Status none = store_->CheckSecretsKey();
  EXPECT_EQ(none.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(none.message().find("no secrets key"), std::string::npos)
      << none.message();
  ASSERT_OK(Open(key_));
  EXPECT_OK(store_->CheckSecretsKey());
  EXPECT_OK(store_->CheckSecretsKey());  // again: from the record
}

// A database sealed before the check was recorded is judged by a sealed
// value, and records the check once the right key is given.
TEST_F(EncryptedStoreTest, CheckJudgesAnOlderDatabaseByItsSealedValues) {
  ASSERT_NO_FATAL_FAILURE(StoreValueWithTheKey());
  store_.reset();
  const std::string records = "SELECT count(*) FROM store_settings";
  ASSERT_EQ(FirstValueOf(path_, records), "0");

  ASSERT_OK(Open(std::string(32, '\x43')));
  EXPECT_EQ(store_->CheckSecretsKey().code(), Status::Code::kInvalidArgument);
  ASSERT_OK(Open(""));
  EXPECT_EQ(store_->CheckSecretsKey().code(), Status::Code::kInvalidArgument);
  store_.reset();
  EXPECT_EQ(FirstValueOf(path_, records), "0");  // a refusal records nothing
  ASSERT_OK(Open(key_));
  ASSERT_OK(store_->CheckSecretsKey());
  store_.reset();
  EXPECT_EQ(FirstValueOf(path_, records), "1");
}

// Our choice: a key given for a database that stored values in clear seals
// them, and from then on the database needs that key.
TEST_F(EncryptedStoreTest, AKeyGivenLaterSealsTheValuesStoredInClear) {
  ASSERT_OK(Open(""));
  ASSERT_OK(store_->CheckSecretsKey());
  ASSERT_NO_FATAL_FAILURE(CreateEndpoint());
  WebhookEndpoint out;
  ASSERT_OK(store_->UpdateSetupFields(
      "proj_e", "we_1", {{"f", "clear-value"}, {"g", "other-value"}}, false,
      &out));
  ASSERT_OK(Open(key_));
  ASSERT_OK(store_->CheckSecretsKey());
  WebhookEndpoint got;
  ASSERT_OK(store_->GetEndpoint("proj_e", "we_1", &got));
  ASSERT_EQ(got.setup_fields.size(), 2u);
  EXPECT_EQ(got.setup_fields[0].value, "clear-value");
  EXPECT_EQ(got.setup_fields[1].value, "other-value");
  store_.reset();
  EXPECT_EQ(FirstValueOf(path_,
                         "SELECT count(*) FROM endpoint_setup_fields WHERE "
                         "value LIKE '%-value'"),
            "0");
  ASSERT_OK(Open(""));
  EXPECT_EQ(store_->CheckSecretsKey().code(), Status::Code::kInvalidArgument);
}

TEST_F(EncryptedStoreTest, AKeyOfTheWrongSizeIsRefused) {
  EXPECT_EQ(Open("short").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store_, nullptr);
}

}  // namespace
}  // namespace webhooks
