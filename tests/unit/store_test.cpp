// The conformance suite for any Store, run against every backend of
// ConformanceBackends() (store_fixture.h): a SQLite file and SQLite
// :memory: in the unit binary, PostgreSQL in the PostgreSQL one.
// This file holds the endpoints (create and its idempotency,
// get, list, update, delete, the ingress lookup, verification) and the
// shared write path (group commit, ping, checkpoint); the keys are in
// store_keys_test.cpp, the events and their retention in
// store_events_test.cpp, the fixture in store_fixture.h. The SQLite-specific
// facts are in sqlite_store_test.cpp.

#include "store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/test_util.h"
#include "tests/unit/store_fixture.h"

namespace webhooks {
namespace {

using testing::Digest;
using testing::StoreTest;
using testing::TempDir;

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

// Issue 17: reset_verification. Clears verified_at and the named secret,
// keeps every other field, and lets the next handshake verify again with a
// new secret. Another project's id is NotFound and changes nothing.
TEST_P(StoreTest, ResetVerificationMakesRoomForANewHandshake) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  WebhookEndpoint out;
  bool created = false;
  ASSERT_OK(store_->CreateEndpoint(Endpoint(a, "we_1"), &out, &created));
  ASSERT_OK(store_->UpdateSetupFields(a, "we_1", {{"kept", "v"}}, false, &out));
  bool verified = false;
  ASSERT_OK(store_->MarkVerified(
      "we_1", 1000, SetupField{"verification_token", "tok-1"}, &verified));
  ASSERT_TRUE(verified);

  EXPECT_EQ(
      store_->ResetVerification(b, "we_1", "verification_token", &out).code(),
      Status::Code::kNotFound);
  EXPECT_EQ(store_->ResetVerification(a, "we_none", std::nullopt, &out).code(),
            Status::Code::kNotFound);
  WebhookEndpoint got;
  ASSERT_OK(store_->GetEndpoint(a, "we_1", &got));
  EXPECT_EQ(got.verified_at_ms, 1000);
  EXPECT_EQ(got.setup_fields.size(), 2u);

  WebhookEndpoint reset;
  ASSERT_OK(store_->ResetVerification(a, "we_1", "verification_token", &reset));
  EXPECT_FALSE(reset.verified_at_ms.has_value());
  ASSERT_EQ(reset.setup_fields.size(), 1u);
  EXPECT_EQ(reset.setup_fields[0].name, "kept");
  EXPECT_EQ(reset.project_id, a);
  ASSERT_OK(store_->GetEndpoint(a, "we_1", &got));
  EXPECT_FALSE(got.verified_at_ms.has_value());
  ASSERT_EQ(got.setup_fields.size(), 1u);
  EXPECT_EQ(got.setup_fields[0].value, "v");

  ASSERT_OK(store_->MarkVerified(
      "we_1", 3000, SetupField{"verification_token", "tok-2"}, &verified));
  EXPECT_TRUE(verified);
  ASSERT_OK(store_->GetEndpointForIngress("we_1", &got));
  EXPECT_EQ(got.verified_at_ms, 3000);
  ASSERT_EQ(got.setup_fields.size(), 2u);
  EXPECT_EQ(got.setup_fields[0].name, "kept");
  EXPECT_EQ(got.setup_fields[1].value, "tok-2");

  // Without a field name only the time goes (Slack's secret is the
  // project's own); an endpoint never verified stays as it is.
  ASSERT_OK(store_->ResetVerification(a, "we_1", std::nullopt, &reset));
  EXPECT_FALSE(reset.verified_at_ms.has_value());
  EXPECT_EQ(reset.setup_fields.size(), 2u);
  ASSERT_OK(store_->ResetVerification(a, "we_1", std::nullopt, &reset));
  EXPECT_EQ(reset.setup_fields.size(), 2u);
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
          Status status = store_->AddKeyToProject(
              key, ProjectChoice::kJoinOrCreate, &ignored);
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
  ASSERT_OK(store_->AddKeyToProject(key, ProjectChoice::kCreate, &joined));
  EXPECT_EQ(joined, "proj_fresh");
  std::vector<ApiKeyInfo> keys;
  ASSERT_OK(store_->ListKeys(&keys));
  EXPECT_EQ(keys.size(), 2u);  // Project('a')'s key and key_z
}

TEST_P(StoreTest, PingAndCheckpointAnswer) {
  EXPECT_OK(store_->Ping());
  EXPECT_OK(store_->Checkpoint());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::ValuesIn(testing::ConformanceBackends()),
                         [](const auto& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace webhooks
