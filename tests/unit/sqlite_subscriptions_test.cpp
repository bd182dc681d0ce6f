// The SQLite facts of subscriptions (the conformance part is in
// store_subscriptions_test.cpp): the database file holds no secret once
// the store closes, and a delete cancels the deliveries not made yet, seen
// in rows written behind the store.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/secret_box.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "tests/test_util.h"
#include "tests/unit/store_fixture.h"

namespace webhooks {
namespace {

using testing::Digest;
using testing::ExecSql;
using testing::FirstValueOf;
using testing::Subscription;
using testing::TempDir;

class SqliteSubscriptionTest : public ::testing::Test {
 protected:
  // Opens the store at path_ with `key` (32 bytes, or empty for none).
  Status Open(const std::string& key) {
    store_.reset();
    StoreOptions options;
    options.secrets_key = key;
    return OpenSqliteStore(path_, options, &store_);
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

  std::string StoredSecret() const {
    return FirstValueOf(path_,
                        "SELECT secret FROM webhook_subscriptions WHERE id = "
                        "'whs_1'");
  }

  TempDir dir_;
  const std::string path_ = dir_.File("subs.db");
  const std::string key_ = std::string(32, '\x42');
  const std::string secret_ = "secret-of-whs_1";
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteSubscriptionTest, TheFileHoldsNoSecretOnceClosed) {
  ASSERT_OK(Open(key_));
  ASSERT_NO_FATAL_FAILURE(CreateSubscription());
  WebhookSubscription got;
  ASSERT_OK(store_->RotateSubscriptionSecret("proj_s", "whs_1",
                                             "rotated-secret-value", 5, &got));
  store_.reset();  // closes the database: the WAL is checkpointed
  const std::string file = testing::ReadFile(path_);
  EXPECT_EQ(file.find("rotated-secret"), std::string::npos);
  EXPECT_EQ(file.find(secret_), std::string::npos);
}

TEST_F(SqliteSubscriptionTest, DeleteCancelsTheDeliveriesNotMadeYet) {
  ASSERT_OK(Open(""));
  ASSERT_NO_FATAL_FAILURE(CreateSubscription());
  std::string rows;
  for (const char* status : {"pending", "retrying", "held", "in_flight",
                             "succeeded", "failed", "cancelled"}) {
    const std::string due = std::string(status) == "pending" ||
                                    std::string(status) == "retrying" ||
                                    std::string(status) == "in_flight"
                                ? "100"
                                : "NULL";
    rows += std::string(rows.empty() ? "" : ", ") + "('dlv_" + status +
            "', 'whs_1', 'proj_s', 'msg_1', 'ev_1', 'we_1', 'slack', 'S', '', "
            "'application/json', 1, 1, X'7B7D', '" +
            status + "', " + due + ", " + due + ", 1, 1)";
  }
  // One of another subscription, which must not change.
  rows +=
      ", ('dlv_other', 'whs_2', 'proj_t', 'msg_2', 'ev_2', 'we_2', 'slack', "
      "'S', '', 'application/json', 1, 1, X'7B7D', 'pending', 100, 100, 1, "
      "1)";
  ASSERT_TRUE(ExecSql(
      path_,
      "INSERT INTO webhook_deliveries (id, subscription_id, project_id, "
      "message_id, event_id, endpoint_id, toolkit_slug, trigger_slug, "
      "user_id, content_type, event_received_at, event_seq, body, status, "
      "due_at, next_attempt_at, created_at, updated_at) VALUES " +
          rows));

  ASSERT_OK(store_->DeleteSubscription("proj_s", "whs_1", 777));
  EXPECT_EQ(FirstValueOf(path_,
                         "SELECT group_concat(id || '=' || status || '/' || "
                         "coalesce(due_at, '-') || '/' || "
                         "coalesce(next_attempt_at, '-') || '/' || "
                         "updated_at, ' ') FROM (SELECT * FROM "
                         "webhook_deliveries ORDER BY id)"),
            "dlv_cancelled=cancelled/-/-/1 dlv_failed=failed/-/-/1 "
            "dlv_held=cancelled/-/-/777 dlv_in_flight=in_flight/100/100/1 "
            "dlv_other=pending/100/100/1 dlv_pending=cancelled/-/-/777 "
            "dlv_retrying=cancelled/-/-/777 dlv_succeeded=succeeded/-/-/1");
}

}  // namespace
}  // namespace webhooks
