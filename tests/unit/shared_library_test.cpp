// Unit tests for util/shared_library.h and the two libraries opened with it
// at run time (store/postgres_libpq.h, http/libcurl.h): what a missing library
// or symbol reports, and that the first use from many threads at once opens
// each library once and hands every thread the same working functions.

#include "util/shared_library.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "http/libcurl.h"
#include "store/postgres_libpq.h"

namespace webhooks {
namespace {

TEST(SharedLibraryTest, AMissingLibraryIsNullWithTheLoadersReason) {
  std::string error;
  EXPECT_EQ(SharedLibrary::Open("libwebhooks-not-there.so.9", &error), nullptr);
  EXPECT_NE(error.find("libwebhooks-not-there.so.9"), std::string::npos)
      << error;
}

TEST(SharedLibraryTest, FindsAFunctionAndNamesAMissingOne) {
  std::string error;
  // zlib: on every machine that runs the server (cpp-httplib needs it).
  std::unique_ptr<SharedLibrary> zlib =
      SharedLibrary::Open("libz.so.1", &error);
  ASSERT_NE(zlib, nullptr) << error;
  const char* (*version)() = nullptr;
  ASSERT_TRUE(zlib->Find("zlibVersion", &version, &error)) << error;
  EXPECT_EQ(std::string(version()).substr(0, 2), "1.");
  int (*missing)() = nullptr;
  EXPECT_FALSE(zlib->Find("webhooks_no_such_function", &missing, &error));
  EXPECT_EQ(missing, nullptr);
  EXPECT_NE(error.find("webhooks_no_such_function"), std::string::npos)
      << error;
}

// The first uses race from eight threads; all get the one table, and it
// works (each library's own version call answers).
TEST(SharedLibraryTest, LibpqAndLibcurlOpenOnceForAllThreads) {
  constexpr int kThreads = 8;
  std::vector<const postgres_internal::Libpq*> pq(kThreads);
  std::vector<const Libcurl*> curl(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([i, &pq, &curl] {
      std::string error;
      pq[i] = postgres_internal::LoadLibpq(&error);
      curl[i] = LoadLibcurl(&error);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_NE(pq[i], nullptr);
    ASSERT_NE(curl[i], nullptr);
    EXPECT_EQ(pq[i], pq[0]);
    EXPECT_EQ(curl[i], curl[0]);
  }
  char* error = nullptr;
  PQconninfoOption* options =
      pq[0]->PQconninfoParse("postgresql://u@h:5/d", &error);
  ASSERT_NE(options, nullptr);
  pq[0]->PQconninfoFree(options);
  CURL* easy = curl[0]->easy_init();
  ASSERT_NE(easy, nullptr);
  curl[0]->easy_cleanup(easy);
}

}  // namespace
}  // namespace webhooks
