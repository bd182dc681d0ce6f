// Black-box tests of the route table against the real binary: both
// prefixes, unknown paths (404), and wrong methods on known paths (405 with
// the exact Allow list).

#include <gtest/gtest.h>
#include <httplib.h>

#include <string>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// Prefixes and routes
// ===========================================================================

class HttpRoutingTest : public HttpTest {};

TEST_F(HttpRoutingTest, UnknownPathIs404) {
  const httplib::Headers with_key = {{"x-api-key", key_}};
  ExpectErrorEnvelope(NewClient().Get("/nope"), 404, "HTTP_NotFound");
  ExpectErrorEnvelope(NewClient().Get("/api/v3.1/nope", with_key), 404,
                      "HTTP_NotFound");
  ExpectErrorEnvelope(NewClient().Get("/api/v2/webhook_endpoints", with_key),
                      404, "HTTP_NotFound");
  ExpectErrorEnvelope(
      Post("/api/v3.1/webhook_endpoint", with_key, CreateBody("slack", "c")),
      404, "HTTP_NotFound");
  ExpectErrorEnvelope(
      Post("/api/v3.1/webhook_endpointsx", with_key, CreateBody("slack", "c")),
      404, "HTTP_NotFound");
}

TEST_F(HttpRoutingTest, PutAndDeleteOnTheCollectionAre405WithAllow) {
  const httplib::Headers with_key = {{"x-api-key", key_}};
  for (const char* path : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(path);
    auto put = NewClient().Put(path, with_key, CreateBody("slack", "c"),
                               "application/json");
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(put, 405, "HTTP_MethodNotAllowed"));
    EXPECT_TRUE(Contains(put->get_header_value("Allow"), "POST"))
        << put->get_header_value("Allow");
    auto del = NewClient().Delete(path, with_key);
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(del, 405, "HTTP_MethodNotAllowed"));
    EXPECT_TRUE(Contains(del->get_header_value("Allow"), "POST"))
        << del->get_header_value("Allow");
  }
  // Neither created anything.
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c")), 201, &endpoint);
}

// ===========================================================================
// Wrong methods on the management paths
// ===========================================================================

class HttpMethodTest : public HttpManageTest {};

TEST_F(HttpMethodTest, WrongMethodOnAKnownPathIs405WithTheExactAllowList) {
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &endpoint));
  const std::vector<std::string> item_methods = {"DELETE", "GET", "PATCH",
                                                 "POST"};
  const std::vector<std::string> collection_methods = {"GET", "POST"};
  const httplib::Headers with_key = KeyHeaders(key_);
  const std::string body = DataBody({{kSigning, "abcdefghijklmnop"}});
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    for (const std::string& id : {endpoint.id, RandomEndpointId()}) {
      SCOPED_TRACE(ItemPath(id, collection));
      auto put = NewClient().Put(ItemPath(id, collection), with_key, body,
                                 "application/json");
      ASSERT_NO_FATAL_FAILURE(
          ExpectErrorEnvelope(put, 405, "HTTP_MethodNotAllowed"));
      EXPECT_EQ(AllowList(put->get_header_value("Allow")), item_methods)
          << put->get_header_value("Allow");
    }
    SCOPED_TRACE(collection);
    std::vector<std::pair<std::string, httplib::Result>> wrong;
    wrong.emplace_back(
        "PUT", NewClient().Put(collection, with_key, body, "application/json"));
    wrong.emplace_back("PATCH", NewClient().Patch(collection, with_key, body,
                                                  "application/json"));
    wrong.emplace_back("DELETE", NewClient().Delete(collection, with_key));
    for (const auto& [method, result] : wrong) {
      SCOPED_TRACE(method);
      ASSERT_NO_FATAL_FAILURE(
          ExpectErrorEnvelope(result, 405, "HTTP_MethodNotAllowed"));
      EXPECT_EQ(AllowList(result->get_header_value("Allow")),
                collection_methods)
          << result->get_header_value("Allow");
    }
  }
  // None of them changed or removed anything.
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(endpoint.id, &read));
  EXPECT_EQ(read.raw_body, endpoint.raw_body);
}

}  // namespace
}  // namespace webhooks::testing
