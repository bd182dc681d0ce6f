// The conformance suite for any Store, run against every backend
// (store_test.cpp, fixture in store_fixture.h): API keys. Registering one is
// idempotent, also from many threads at once, and FindKey resolves it; admin
// keys join their project by name and can be revoked.

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/store.h"
#include "tests/test_util.h"
#include "tests/unit/store_fixture.h"

namespace webhooks {
namespace {

using testing::Digest;
using testing::StoreTest;

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
  ASSERT_OK(store_->AddKeyToProject(admin_key('1', "key_1", "proj_1"),
                                    ProjectChoice::kJoinOrCreate, &first));
  ASSERT_OK(store_->AddKeyToProject(admin_key('2', "key_2", "proj_2"),
                                    ProjectChoice::kJoinOrCreate, &second));
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

// Issue 17: `keys create` must not join a project of the same name
// silently, --join must not create one, and a name that several projects
// share (every configured key's project is "configured") joins none.
TEST_P(StoreTest, AddKeyToProjectCreatesJoinsOrRefusesAsAsked) {
  auto key_of = [](char fill, std::string project_name) {
    NewApiKey key;
    key.key_digest = Digest(fill);
    key.origin = KeyOrigin::kAdmin;
    key.key_id = std::string("key_") + fill;
    key.project_id = std::string("proj_") + fill;
    key.project_name = std::move(project_name);
    key.created_at_ms = 7;
    return key;
  };
  std::string project;
  EXPECT_EQ(
      store_
          ->AddKeyToProject(key_of('1', "shop"), ProjectChoice::kJoin, &project)
          .code(),
      Status::Code::kNotFound);
  ASSERT_OK(store_->AddKeyToProject(key_of('1', "shop"), ProjectChoice::kCreate,
                                    &project));
  EXPECT_EQ(project, "proj_1");
  EXPECT_EQ(store_
                ->AddKeyToProject(key_of('2', "shop"), ProjectChoice::kCreate,
                                  &project)
                .code(),
            Status::Code::kConflict);
  ASSERT_OK(store_->AddKeyToProject(key_of('2', "shop"), ProjectChoice::kJoin,
                                    &project));
  EXPECT_EQ(project, "proj_1");
  // By id, as `keys list` shows it.
  ASSERT_OK(store_->AddKeyToProject(key_of('3', "proj_1"), ProjectChoice::kJoin,
                                    &project));
  EXPECT_EQ(project, "proj_1");

  NewApiKey configured = key_of('4', "configured");
  configured.origin = KeyOrigin::kConfig;
  ASSERT_OK(store_->RegisterKey(configured, &project));
  configured = key_of('5', "configured");
  configured.origin = KeyOrigin::kConfig;
  ASSERT_OK(store_->RegisterKey(configured, &project));
  EXPECT_EQ(store_
                ->AddKeyToProject(key_of('6', "configured"),
                                  ProjectChoice::kJoinOrCreate, &project)
                .code(),
            Status::Code::kInvalidArgument);
  ASSERT_OK(store_->AddKeyToProject(key_of('6', "proj_5"),
                                    ProjectChoice::kJoinOrCreate, &project));
  EXPECT_EQ(project, "proj_5");
  std::vector<ApiKeyInfo> keys;
  ASSERT_OK(store_->ListKeys(&keys));
  EXPECT_EQ(keys.size(), 6u);  // nothing refused left a key or a project
}

}  // namespace
}  // namespace webhooks
