// The conformance suite for any Store, run against every backend
// (store_test.cpp, fixture in store_fixture.h): webhook subscriptions (issue
// 14). One per project, a second create is a Conflict that returns the
// first, also from many threads at once; every method is scoped to its
// project; an update applies what is set and enables; rotation replaces the
// secret. Then, where a test can read the database behind the store: the
// secret sealed at rest, a wrong key failing, and a key adopted sealing
// secrets stored in clear. The SQLite facts (the file holds no secret, a
// delete cancels the deliveries not made yet) are in
// sqlite_subscriptions_test.cpp.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/secret_box.h"
#include "store/store.h"
#include "tests/test_util.h"
#include "tests/unit/store_fixture.h"

namespace webhooks {
namespace {

using testing::Digest;
using testing::StoreTest;
using testing::Subscription;
using testing::TempDir;

void ExpectSameSubscription(const WebhookSubscription& got,
                            const WebhookSubscription& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.project_id, want.project_id);
  EXPECT_EQ(got.webhook_url, want.webhook_url);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.enabled_events, want.enabled_events);
  EXPECT_EQ(got.secret, want.secret);
  EXPECT_EQ(got.enabled, want.enabled);
  EXPECT_EQ(got.created_at_ms, want.created_at_ms);
  EXPECT_EQ(got.updated_at_ms, want.updated_at_ms);
}

TEST_P(StoreTest, SubscriptionCreateGetAndListRoundTrip) {
  const std::string project = Project('a');
  WebhookSubscription subscription = Subscription(project, "whs_1");
  // Text that JSON must escape survives the enabled_events encoding.
  subscription.enabled_events.push_back("q\"uote\\back\nline \u00e9");
  WebhookSubscription created;
  ASSERT_OK(store_->CreateSubscription(subscription, &created));
  ExpectSameSubscription(created, subscription);

  WebhookSubscription got;
  ASSERT_OK(store_->GetSubscription(project, "whs_1", &got));
  ExpectSameSubscription(got, subscription);

  std::vector<WebhookSubscription> listed;
  ASSERT_OK(store_->ListSubscriptions(project, &listed));
  ASSERT_EQ(listed.size(), 1u);
  ExpectSameSubscription(listed[0], subscription);
}

TEST_P(StoreTest, ASecondSubscriptionIsAConflictThatReturnsTheFirst) {
  const std::string project = Project('a');
  WebhookSubscription first;
  ASSERT_OK(store_->CreateSubscription(Subscription(project, "whs_1"), &first));
  WebhookSubscription second = Subscription(project, "whs_2");
  second.webhook_url = "https://other.test/";
  WebhookSubscription out;
  Status status = store_->CreateSubscription(second, &out);
  EXPECT_EQ(status.code(), Status::Code::kConflict) << status.message();
  ExpectSameSubscription(out, first);
  std::vector<WebhookSubscription> listed;
  ASSERT_OK(store_->ListSubscriptions(project, &listed));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, "whs_1");
}

TEST_P(StoreTest, ConcurrentSubscriptionCreatesStoreExactlyOne) {
  const std::string project = Project('a');
  constexpr int kThreads = 16;
  std::atomic<int> created{0}, conflicts{0}, failures{0};
  std::vector<std::string> seen(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      WebhookSubscription out;
      Status status = store_->CreateSubscription(
          Subscription(project, "whs_" + std::to_string(i)), &out);
      if (status.ok()) {
        ++created;
      } else if (status.code() == Status::Code::kConflict) {
        ++conflicts;
      } else {
        ++failures;
      }
      seen[static_cast<size_t>(i)] = out.id;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), kThreads - 1);
  EXPECT_EQ(failures.load(), 0);
  std::vector<WebhookSubscription> listed;
  ASSERT_OK(store_->ListSubscriptions(project, &listed));
  ASSERT_EQ(listed.size(), 1u);
  // Every caller was told the one stored id.
  for (const std::string& id : seen) EXPECT_EQ(id, listed[0].id);
}

TEST_P(StoreTest, SubscriptionsAreScopedToTheirProject) {
  const std::string a = Project('a');
  const std::string b = Project('b');
  WebhookSubscription out;
  ASSERT_OK(store_->CreateSubscription(Subscription(a, "whs_a"), &out));

  EXPECT_EQ(store_->GetSubscription(b, "whs_a", &out).code(),
            Status::Code::kNotFound);
  SubscriptionChanges changes;
  changes.webhook_url = "https://b.test/";
  changes.updated_at_ms = 5;
  EXPECT_EQ(store_->UpdateSubscription(b, "whs_a", changes, &out).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(
      store_->RotateSubscriptionSecret(b, "whs_a", "stolen", 5, &out).code(),
      Status::Code::kNotFound);
  EXPECT_EQ(store_->DeleteSubscription(b, "whs_a", 5).code(),
            Status::Code::kNotFound);
  std::vector<WebhookSubscription> listed;
  ASSERT_OK(store_->ListSubscriptions(b, &listed));
  EXPECT_TRUE(listed.empty());

  // Nothing B tried changed A's; and B may have one of its own.
  ASSERT_OK(store_->GetSubscription(a, "whs_a", &out));
  ExpectSameSubscription(out, Subscription(a, "whs_a"));
  ASSERT_OK(store_->CreateSubscription(Subscription(b, "whs_b"), &out));
  EXPECT_EQ(out.id, "whs_b");
}

TEST_P(StoreTest, UnknownSubscriptionIdsAreNotFound) {
  const std::string project = Project('a');
  WebhookSubscription out;
  EXPECT_EQ(store_->GetSubscription(project, "whs_none", &out).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->UpdateSubscription(project, "whs_none", {}, &out).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->RotateSubscriptionSecret(project, "whs_none", "s", 1, &out)
                .code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->DeleteSubscription(project, "whs_none", 1).code(),
            Status::Code::kNotFound);
}

TEST_P(StoreTest, UpdateAppliesTheFieldsSetAndEnables) {
  const std::string project = Project('a');
  WebhookSubscription subscription = Subscription(project, "whs_1");
  subscription.enabled = false;  // as after a 410 Gone
  WebhookSubscription out;
  ASSERT_OK(store_->CreateSubscription(subscription, &out));
  EXPECT_FALSE(out.enabled);

  // Nothing set: only enabled and updated_at change.
  SubscriptionChanges none;
  none.updated_at_ms = 2'000'000'000'000;
  ASSERT_OK(store_->UpdateSubscription(project, "whs_1", none, &out));
  subscription.enabled = true;
  subscription.updated_at_ms = none.updated_at_ms;
  ExpectSameSubscription(out, subscription);

  SubscriptionChanges changes;
  changes.webhook_url = "http://localhost:3000/new";
  changes.version = "V1";
  changes.enabled_events = std::vector<std::string>{"composio.trigger.message"};
  changes.updated_at_ms = 2'000'000'000'001;
  ASSERT_OK(store_->UpdateSubscription(project, "whs_1", changes, &out));
  subscription.webhook_url = *changes.webhook_url;
  subscription.version = "V1";
  subscription.enabled_events = *changes.enabled_events;
  subscription.updated_at_ms = changes.updated_at_ms;
  ExpectSameSubscription(out, subscription);
  ASSERT_OK(store_->GetSubscription(project, "whs_1", &out));
  ExpectSameSubscription(out, subscription);
}

TEST_P(StoreTest, RotationReplacesTheSecret) {
  const std::string project = Project('a');
  WebhookSubscription subscription = Subscription(project, "whs_1");
  WebhookSubscription out;
  ASSERT_OK(store_->CreateSubscription(subscription, &out));
  ASSERT_OK(store_->RotateSubscriptionSecret(project, "whs_1", "new-secret",
                                             2'000'000'000'000, &out));
  subscription.secret = "new-secret";
  subscription.updated_at_ms = 2'000'000'000'000;
  ExpectSameSubscription(out, subscription);
  ASSERT_OK(store_->GetSubscription(project, "whs_1", &out));
  ExpectSameSubscription(out, subscription);
}

TEST_P(StoreTest, DeletedSubscriptionIsGoneAndTheProjectMayCreateAgain) {
  const std::string project = Project('a');
  WebhookSubscription out;
  ASSERT_OK(store_->CreateSubscription(Subscription(project, "whs_1"), &out));
  ASSERT_OK(store_->DeleteSubscription(project, "whs_1", 10));
  EXPECT_EQ(store_->GetSubscription(project, "whs_1", &out).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->DeleteSubscription(project, "whs_1", 11).code(),
            Status::Code::kNotFound);
  std::vector<WebhookSubscription> listed;
  ASSERT_OK(store_->ListSubscriptions(project, &listed));
  EXPECT_TRUE(listed.empty());
  ASSERT_OK(store_->CreateSubscription(Subscription(project, "whs_2"), &out));
  EXPECT_EQ(out.id, "whs_2");
}

// --- The secret at rest (backends a test can read behind the store) -------

class SubscriptionAtRestTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!Reopenable())
      GTEST_SKIP() << "needs a database that outlives its store";
  }

  // Opens the database again with `key` (32 bytes, or empty for none).
  Status Open(const std::string& key) {
    StoreOptions options;
    options.secrets_key = key;
    return Reopen(options);
  }

  // Registers project proj_s and stores subscription whs_1 in it.
  void CreateSubscription() {
    NewApiKey key;
    key.key_digest = Digest('s');
    key.key_id = "key_s";
    key.project_id = "proj_s";
    key.project_name = "subs";
    std::string project;
    ASSERT_OK(store_->RegisterKey(key, &project));
    WebhookSubscription out;
    ASSERT_OK(store_->CreateSubscription(Subscription(project, "whs_1"), &out));
  }

  std::string StoredSecret() {
    return Sql("SELECT secret FROM webhook_subscriptions WHERE id = 'whs_1'");
  }

  const std::string key_ = std::string(32, '\x42');
  const std::string secret_ = "secret-of-whs_1";
};

TEST_P(SubscriptionAtRestTest, TheSecretIsSealedAtRestWithAKey) {
  ASSERT_OK(Open(key_));
  ASSERT_NO_FATAL_FAILURE(CreateSubscription());
  const std::string stored = StoredSecret();
  EXPECT_EQ(stored.rfind(SecretBox::SealedPrefix(), 0), 0u) << stored;
  EXPECT_EQ(stored.find(secret_), std::string::npos);
  WebhookSubscription got;
  ASSERT_OK(store_->GetSubscription("proj_s", "whs_1", &got));
  EXPECT_EQ(got.secret, secret_);

  // A rotated secret is sealed too.
  ASSERT_OK(store_->RotateSubscriptionSecret("proj_s", "whs_1",
                                             "rotated-secret-value", 5, &got));
  EXPECT_EQ(got.secret, "rotated-secret-value");
  EXPECT_EQ(StoredSecret().find("rotated-secret"), std::string::npos);
}

TEST_P(SubscriptionAtRestTest, WithoutAKeyTheSecretIsStoredInClear) {
  ASSERT_OK(Open(""));
  ASSERT_NO_FATAL_FAILURE(CreateSubscription());
  EXPECT_EQ(StoredSecret(), secret_);
}

TEST_P(SubscriptionAtRestTest, AnotherKeyOrNoKeyFailsInsteadOfGarbage) {
  ASSERT_OK(Open(key_));
  ASSERT_NO_FATAL_FAILURE(CreateSubscription());
  for (const std::string& key : {std::string(32, '\x43'), std::string()}) {
    ASSERT_OK(Open(key));
    WebhookSubscription got;
    EXPECT_EQ(store_->GetSubscription("proj_s", "whs_1", &got).code(),
              Status::Code::kInternal);
    std::vector<WebhookSubscription> listed;
    EXPECT_EQ(store_->ListSubscriptions("proj_s", &listed).code(),
              Status::Code::kInternal);
    // No key check was recorded and no setup value is sealed: the sealed
    // secret is what tells that the key is wrong.
    EXPECT_EQ(store_->CheckSecretsKey().code(), Status::Code::kInvalidArgument);
  }
  ASSERT_OK(Open(key_));
  WebhookSubscription got;
  ASSERT_OK(store_->GetSubscription("proj_s", "whs_1", &got));
  EXPECT_EQ(got.secret, secret_);
}

TEST_P(SubscriptionAtRestTest, AdoptingAKeySealsSecretsStoredInClear) {
  ASSERT_OK(Open(""));
  ASSERT_NO_FATAL_FAILURE(CreateSubscription());
  ASSERT_OK(store_->CheckSecretsKey());  // records "in clear"
  EXPECT_EQ(StoredSecret(), secret_);

  ASSERT_OK(Open(key_));
  ASSERT_OK(store_->CheckSecretsKey());
  const std::string stored = StoredSecret();
  EXPECT_EQ(stored.rfind(SecretBox::SealedPrefix(), 0), 0u) << stored;
  WebhookSubscription got;
  ASSERT_OK(store_->GetSubscription("proj_s", "whs_1", &got));
  EXPECT_EQ(got.secret, secret_);
  // Now no key is refused, as for setup values.
  ASSERT_OK(Open(""));
  EXPECT_EQ(store_->CheckSecretsKey().code(), Status::Code::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, SubscriptionAtRestTest,
                         ::testing::ValuesIn(testing::ConformanceBackends()),
                         [](const auto& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace webhooks
