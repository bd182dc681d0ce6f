// Setup values encrypted at rest by the SQLite store (--secrets-key-file):
// sealed values never reach the file in clear, another key or none fails
// instead of returning garbage, values stored in clear before a key are
// read and sealed once a key is given, the store's check judges the key, and
// a key of the wrong size is refused.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/sqlite_store.h"
#include "store/store.h"
#include "tests/test_util.h"
#include "tests/unit/store_fixture.h"

namespace webhooks {
namespace {

using testing::Digest;
using testing::FirstValueOf;
using testing::ReadFile;
using testing::TempDir;

// --- Setup values encrypted at rest ------------------------------------------

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
