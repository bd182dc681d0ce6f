// The fixture of the black-box suites in tests/api/ and tests/cli/: HttpTest
// starts the real webhooks-server for each test (ServerProcess: --port 0, a
// fresh database, local mode, a random API key) and sends requests over
// httplib::Client; HttpManageTest adds the management routes, and
// HttpOperationsTest the ids of a project. Beside them, what those suites
// assert of an answer, as ../shared/spec/webhook-endpoints.md states it:
// the common headers, the whole error envelope, the endpoint object, a list
// page, DELETE's answer.

#ifndef WEBHOOKS_TESTS_API_HTTP_FIXTURE_H_
#define WEBHOOKS_TESTS_API_HTTP_FIXTURE_H_

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/pg_cluster.h"
#include "tests/raw_http.h"
#include "tests/test_util.h"
#include "util/db_uri.h"

namespace webhooks::testing {

// ===========================================================================
// Answers, and a server per test
// ===========================================================================

// Every socket read or write, and every client request, gives up after this.
inline constexpr int kIoTimeoutSeconds = 5;

// `parts` on one line, for a failure message.
inline std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    out += (out.empty() ? "" : " | ") + part;
  }
  return out;
}

// Headers the spec puts on every response, success or error.
inline void ExpectCommonHeaders(const Reply& reply) {
  EXPECT_EQ(reply.Header("Cache-Control"), "no-store");
  EXPECT_EQ(reply.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(reply.Header("x-request-id").empty());
}

// The fields of an error envelope, for checks beyond the envelope itself.
struct ErrorBody {
  std::string message;
  int64_t code = 0;
  std::string slug;
  int64_t status = 0;
  std::string request_id;
  std::string suggested_fix;
  std::vector<std::string> errors;
};

// Asserts the spec's whole error envelope: HTTP status, JSON content type,
// the common headers and exactly
// {"error":{"message","code","slug","status","request_id","suggested_fix",
// "errors"}} with request_id equal to the x-request-id header. Fills *out.
inline void ExpectErrorEnvelope(const Reply& reply, int status,
                                const std::string& slug,
                                ErrorBody* out = nullptr) {
  ExpectCommonHeaders(reply);
  EXPECT_EQ(reply.status, status) << reply.body;
  EXPECT_EQ(MediaType(reply.Header("Content-Type")), "application/json");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(reply.body);
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(padded).get(root), simdjson::SUCCESS) << reply.body;
  simdjson::dom::object outer;
  ASSERT_EQ(root.get_object().get(outer), simdjson::SUCCESS) << reply.body;
  EXPECT_EQ(SortedKeys(outer), std::vector<std::string>{"error"});
  simdjson::dom::object error;
  ASSERT_EQ(outer["error"].get_object().get(error), simdjson::SUCCESS)
      << reply.body;
  EXPECT_EQ(SortedKeys(error),
            (std::vector<std::string>{"code", "errors", "message", "request_id",
                                      "slug", "status", "suggested_fix"}))
      << reply.body;
  ErrorBody body;
  std::string_view text;
  ASSERT_EQ(error["message"].get_string().get(text), simdjson::SUCCESS);
  body.message = text;
  ASSERT_EQ(error["code"].get_int64().get(body.code), simdjson::SUCCESS);
  ASSERT_EQ(error["slug"].get_string().get(text), simdjson::SUCCESS);
  body.slug = text;
  ASSERT_EQ(error["status"].get_int64().get(body.status), simdjson::SUCCESS);
  ASSERT_EQ(error["request_id"].get_string().get(text), simdjson::SUCCESS);
  body.request_id = text;
  ASSERT_EQ(error["suggested_fix"].get_string().get(text), simdjson::SUCCESS);
  body.suggested_fix = text;
  simdjson::dom::array errors;
  ASSERT_EQ(error["errors"].get_array().get(errors), simdjson::SUCCESS);
  for (simdjson::dom::element item : errors) {
    ASSERT_EQ(item.get_string().get(text), simdjson::SUCCESS) << reply.body;
    EXPECT_FALSE(text.empty()) << reply.body;
    body.errors.emplace_back(text);
  }
  EXPECT_FALSE(body.message.empty());
  EXPECT_EQ(body.slug, slug);
  EXPECT_EQ(body.status, status);
  EXPECT_EQ(body.request_id, reply.Header("x-request-id"));
  EXPECT_FALSE(body.suggested_fix.empty());
  if (out != nullptr) *out = body;
}

inline void ExpectErrorEnvelope(const httplib::Result& result, int status,
                                const std::string& slug,
                                ErrorBody* out = nullptr) {
  ASSERT_TRUE(result) << "no response: " << httplib::to_string(result.error());
  ExpectErrorEnvelope(ToReply(result), status, slug, out);
}

// The endpoint object as a client sees it.
struct Endpoint {
  std::string id;
  std::string toolkit_slug;
  std::string client_id;
  std::string webhook_url;
  std::string created_at;
  bool data_is_null = false;
  std::map<std::string, std::string> data;  // empty when data is null
  bool verified_at_is_null = false;
  // Our extension, for a toolkit whose secret a handshake brings (Notion):
  // whether the object has "verification_token", and its value (unset
  // while null).
  bool has_verification_token = false;
  std::optional<std::string> verification_token;
  std::string raw_body;
};

// Asserts a successful endpoint response with `status`: JSON, the common
// headers, exactly the spec's seven fields with the right types (data null or
// a non-empty object of strings), plus our "verification_token" (a string
// or null) for a Notion endpoint and no other. Fills *out.
inline void ExpectEndpoint(const Reply& reply, int status, Endpoint* out) {
  ExpectCommonHeaders(reply);
  ASSERT_EQ(reply.status, status) << reply.body;
  EXPECT_EQ(MediaType(reply.Header("Content-Type")), "application/json");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(reply.body);
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(padded).get(root), simdjson::SUCCESS) << reply.body;
  simdjson::dom::object object;
  ASSERT_EQ(root.get_object().get(object), simdjson::SUCCESS) << reply.body;
  Endpoint endpoint;
  std::string_view text;
  ASSERT_EQ(object["id"].get_string().get(text), simdjson::SUCCESS);
  endpoint.id = text;
  ASSERT_EQ(object["toolkit_slug"].get_string().get(text), simdjson::SUCCESS);
  endpoint.toolkit_slug = text;
  std::vector<std::string> keys = {"client_id",  "created_at",   "data",
                                   "id",         "toolkit_slug", "verified_at",
                                   "webhook_url"};
  if (endpoint.toolkit_slug == "notion") {
    keys.insert(keys.begin() + 5, "verification_token");
  }
  EXPECT_EQ(SortedKeys(object), keys) << reply.body;
  ASSERT_EQ(object["client_id"].get_string().get(text), simdjson::SUCCESS);
  endpoint.client_id = text;
  ASSERT_EQ(object["webhook_url"].get_string().get(text), simdjson::SUCCESS);
  endpoint.webhook_url = text;
  ASSERT_EQ(object["created_at"].get_string().get(text), simdjson::SUCCESS);
  endpoint.created_at = text;
  simdjson::dom::element element;
  ASSERT_EQ(object["data"].get(element), simdjson::SUCCESS);
  endpoint.data_is_null = element.is_null();
  if (!endpoint.data_is_null) {
    // An object of strings; with nothing stored, null rather than {}.
    simdjson::dom::object data;
    ASSERT_EQ(element.get_object().get(data), simdjson::SUCCESS) << reply.body;
    EXPECT_GT(data.size(), 0u) << reply.body;
    for (auto field : data) {
      ASSERT_EQ(field.value.get_string().get(text), simdjson::SUCCESS)
          << reply.body;
      endpoint.data.emplace(std::string(field.key), std::string(text));
    }
  }
  ASSERT_EQ(object["verified_at"].get(element), simdjson::SUCCESS);
  endpoint.verified_at_is_null = element.is_null();
  if (object["verification_token"].get(element) == simdjson::SUCCESS) {
    endpoint.has_verification_token = true;
    if (!element.is_null()) {
      ASSERT_EQ(element.get_string().get(text), simdjson::SUCCESS)
          << reply.body;
      endpoint.verification_token = std::string(text);
    }
  }
  endpoint.raw_body = reply.body;
  *out = endpoint;
}

inline void ExpectEndpoint(const httplib::Result& result, int status,
                           Endpoint* out) {
  ASSERT_TRUE(result) << "no response: " << httplib::to_string(result.error());
  ExpectEndpoint(ToReply(result), status, out);
}

// The endpoint object as the restarted server writes it: the same, but for
// the webhook_url's base, which is the server's current one (issue 17: our
// choice; the path never changes). `old_base` is the first server's.
inline std::string AsRestarted(std::string body, const std::string& old_base,
                               const std::string& new_base) {
  const size_t at = body.find("\"webhook_url\":\"" + old_base + "/");
  if (at != std::string::npos) {
    body.replace(at + std::string("\"webhook_url\":\"").size(), old_base.size(),
                 new_base);
  }
  return body;
}

// True for "we_" and 12 characters of A-Z, a-z, 0-9, _ and -. (Hand-written:
// std::regex trips GCC 12's -Wmaybe-uninitialized in sanitizer builds.)
inline bool IsEndpointId(std::string_view id) {
  if (id.size() != 15 || id.substr(0, 3) != "we_") return false;
  return std::all_of(id.begin() + 3, id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// True if `text` is `shape` with every '9' standing for any digit.
inline bool HasShape(std::string_view text, std::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (shape[i] == '9' ? !digit : text[i] != shape[i]) return false;
  }
  return true;
}

// Seconds between an ISO 8601 "YYYY-MM-DDTHH:MM:SS.mmmZ" time and now.
inline double SecondsFromNow(const std::string& iso) {
  std::tm utc{};
  int millis = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &utc.tm_year,
                  &utc.tm_mon, &utc.tm_mday, &utc.tm_hour, &utc.tm_min,
                  &utc.tm_sec, &millis) != 7) {
    return 1e9;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return std::difftime(::timegm(&utc), std::time(nullptr));
}

// Checks what every freshly created endpoint looks like: the id's alphabet
// and length, the time format and value, the URL, no data, not verified.
inline void ExpectNewEndpoint(const Endpoint& endpoint,
                              const std::string& toolkit_slug,
                              const std::string& client_id,
                              const std::string& public_base) {
  EXPECT_TRUE(IsEndpointId(endpoint.id)) << endpoint.id;
  EXPECT_EQ(endpoint.toolkit_slug, toolkit_slug);
  EXPECT_EQ(endpoint.client_id, client_id);
  EXPECT_EQ(endpoint.webhook_url, public_base + "/api/v3.1/webhook_ingress/" +
                                      toolkit_slug + "/" + endpoint.id +
                                      "/trigger_event");
  EXPECT_TRUE(HasShape(endpoint.created_at, "9999-99-99T99:99:99.999Z"))
      << endpoint.created_at;
  EXPECT_LE(std::abs(SecondsFromNow(endpoint.created_at)), 60.0)
      << endpoint.created_at;
  EXPECT_TRUE(endpoint.data_is_null);
  EXPECT_TRUE(endpoint.verified_at_is_null);
}

// Whether this run of the suite is against PostgreSQL: CTest runs the
// black-box suite a second time, as "pg." tests, with the cluster of
// tests/pg_cluster.h named in $WEBHOOKS_TEST_PG_DIR.
inline bool SuiteOnPostgres() { return !ClusterDir().empty(); }

// The database of one test: a SQLite file in `dir`, or on PostgreSQL a
// fresh schema of the cluster (a URI); "" if that cannot be made.
inline std::string TestDatabase(const TempDir& dir) {
  return SuiteOnPostgres() ? FreshSchemaUri("api") : dir.File("test.db");
}

// Runs `sql` (standard SQL both backends run alike) on `db` through a
// connection of the test's own, as another process would. Adds a failure
// and returns false if it fails.
inline bool ExecOnDatabase(const std::string& db, const std::string& sql) {
  if (IsDatabaseUri(db)) {
    std::unique_ptr<postgres_internal::Connection> connection;
    Status status = postgres_internal::Connection::Open(db, &connection);
    if (status.ok()) status = connection->Run(sql.c_str());
    if (!status.ok()) ADD_FAILURE() << sql << ": " << status.message();
    return status.ok();
  }
  sqlite3* handle = nullptr;
  bool ok = sqlite3_open(db.c_str(), &handle) == SQLITE_OK;
  if (ok) {
    sqlite3_busy_timeout(handle, 5000);
    ok = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, nullptr) ==
         SQLITE_OK;
    if (!ok) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(handle);
  }
  sqlite3_close(handle);
  return ok;
}

// For a test of what only a SQLite file has (its mode, its WAL, rows
// written with sqlite3): skipped in the PostgreSQL run, which has its own
// tests of the same promises (tests/pg/).
#define SQLITE_FILE_ONLY()                                               \
  if (SuiteOnPostgres())                                                 \
  GTEST_SKIP() << "a fact of the SQLite file; the PostgreSQL backend's " \
                  "own tests cover it"

// One server per test, on a free port with its own database, in local mode,
// and a random key (a project of the test's own).
class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.empty()) << "no PostgreSQL cluster for this run";
    ASSERT_TRUE(StartServer());
  }

  // (Re)starts the server with the default flags followed by `extra_args`
  // (a later flag wins over an earlier one) and `env` ("NAME=value").
  bool StartServer(const std::vector<std::string>& extra_args = {},
                   const std::vector<std::string>& env = {}) {
    std::vector<std::string> args = {"--port", "0", "--db", db_path()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return StartServerWithArgs(args, env);
  }

  bool StartServerWithArgs(const std::vector<std::string>& args,
                           const std::vector<std::string>& env = {}) {
    server_.reset();  // stops the previous one first
    server_ = std::make_unique<ServerProcess>();
    if (server_->Start(args, env)) return true;
    ADD_FAILURE() << "server did not start: " << server_->Stderr();
    return false;
  }

  // The test's database: a file, or a PostgreSQL URI (SuiteOnPostgres()).
  const std::string& db_path() const { return db_; }
  int port() const { return server_->port(); }
  std::string DefaultPublicBase() const {
    return "http://localhost:" + std::to_string(port());
  }

  httplib::Client NewClient() const {
    httplib::Client client("127.0.0.1", port());
    client.set_connection_timeout(kIoTimeoutSeconds, 0);
    client.set_read_timeout(kIoTimeoutSeconds, 0);
    client.set_write_timeout(kIoTimeoutSeconds, 0);
    return client;
  }

  // POSTs `body` with exactly `headers` (no key unless given) and
  // `content_type` (empty: no Content-Type header).
  httplib::Result Post(const std::string& path, const httplib::Headers& headers,
                       const std::string& body,
                       const std::string& content_type = "application/json") {
    return NewClient().Post(path, headers, body, content_type);
  }

  // A create with `key` (this test's key by default).
  httplib::Result Create(const std::string& body,
                         const std::string& path = kCreatePath) {
    return CreateWithKey(key_, body, path);
  }
  httplib::Result CreateWithKey(const std::string& key, const std::string& body,
                                const std::string& path = kCreatePath) {
    return Post(path, {{"x-api-key", key}}, body);
  }

  // A toolkit catalog file (for --toolkits) holding `text`.
  std::string ToolkitsFile(const std::string& text) {
    const std::string path = dir_.File("toolkits.json");
    EXPECT_TRUE(WriteTextFile(path, text)) << path;
    return path;
  }

  TempDir dir_;
  const std::string db_ = TestDatabase(dir_);
  std::unique_ptr<ServerProcess> server_;
  const std::string key_ = RandomKey();
};

// ===========================================================================
// The management routes
// ===========================================================================

inline constexpr char kSchemaPath[] = "/api/v3.1/webhook_endpoints/schema";
inline constexpr char kSchemaPathV3[] = "/api/v3/webhook_endpoints/schema";

using Data = std::map<std::string, std::string>;
using Fields = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes all but the unreserved characters, for a query value.
inline std::string QueryValue(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

// The methods of an Allow header value, sorted.
inline std::vector<std::string> AllowList(const std::string& allow) {
  std::vector<std::string> methods;
  size_t start = 0;
  for (;;) {
    const size_t comma = allow.find(',', start);
    std::string method = allow.substr(
        start, comma == std::string::npos ? std::string::npos : comma - start);
    method.erase(0, method.find_first_not_of(' '));
    method.erase(method.find_last_not_of(' ') + 1);
    if (!method.empty()) methods.push_back(method);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(methods.begin(), methods.end());
  return methods;
}

// Asserts a successful JSON answer with `status` and the common headers,
// and parses its body (an object) into *object, which lives in *parser.
inline void ExpectJsonObject(const Reply& reply, int status,
                             simdjson::dom::parser* parser,
                             simdjson::dom::object* object) {
  ExpectCommonHeaders(reply);
  ASSERT_EQ(reply.status, status) << reply.body;
  EXPECT_EQ(MediaType(reply.Header("Content-Type")), "application/json");
  simdjson::padded_string padded(reply.body);
  simdjson::dom::element root;
  ASSERT_EQ(parser->parse(padded).get(root), simdjson::SUCCESS) << reply.body;
  ASSERT_EQ(root.get_object().get(*object), simdjson::SUCCESS) << reply.body;
}

// DELETE's answer: 200 {"success": true} and nothing else.
inline void ExpectDeleted(const httplib::Result& result) {
  ASSERT_TRUE(result) << "no response: " << httplib::to_string(result.error());
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_NO_FATAL_FAILURE(
      ExpectJsonObject(ToReply(result), 200, &parser, &object));
  EXPECT_EQ(SortedKeys(object), std::vector<std::string>{"success"})
      << result->body;
  bool success = false;
  ASSERT_EQ(object["success"].get_bool().get(success), simdjson::SUCCESS)
      << result->body;
  EXPECT_TRUE(success);
}

// One item of a list answer.
struct ListItem {
  std::string id;
  std::string toolkit_slug;
  std::string client_id;
};

struct ListPage {
  std::vector<ListItem> items;
  bool next_is_null = true;
  std::string next_cursor;
};

inline std::vector<std::string> Ids(const std::vector<ListItem>& items) {
  std::vector<std::string> ids;
  for (const ListItem& item : items) ids.push_back(item.id);
  return ids;
}

// Asserts a list answer: 200, exactly {"items": [...], "next_cursor": ...},
// each item exactly {id, toolkit_slug, client_id}. Fills *out.
inline void ExpectListPage(const httplib::Result& result, ListPage* out) {
  ASSERT_TRUE(result) << "no response: " << httplib::to_string(result.error());
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_NO_FATAL_FAILURE(
      ExpectJsonObject(ToReply(result), 200, &parser, &object));
  EXPECT_EQ(SortedKeys(object),
            (std::vector<std::string>{"items", "next_cursor"}))
      << result->body;
  simdjson::dom::array items;
  ASSERT_EQ(object["items"].get_array().get(items), simdjson::SUCCESS)
      << result->body;
  ListPage page;
  std::string_view text;
  for (simdjson::dom::element element : items) {
    simdjson::dom::object item;
    ASSERT_EQ(element.get_object().get(item), simdjson::SUCCESS);
    EXPECT_EQ(SortedKeys(item),
              (std::vector<std::string>{"client_id", "id", "toolkit_slug"}))
        << result->body;
    ListItem parsed;
    ASSERT_EQ(item["id"].get_string().get(text), simdjson::SUCCESS);
    parsed.id = text;
    ASSERT_EQ(item["toolkit_slug"].get_string().get(text), simdjson::SUCCESS);
    parsed.toolkit_slug = text;
    ASSERT_EQ(item["client_id"].get_string().get(text), simdjson::SUCCESS);
    parsed.client_id = text;
    page.items.push_back(std::move(parsed));
  }
  simdjson::dom::element next;
  ASSERT_EQ(object["next_cursor"].get(next), simdjson::SUCCESS);
  page.next_is_null = next.is_null();
  if (!page.next_is_null) {
    ASSERT_EQ(next.get_string().get(text), simdjson::SUCCESS) << result->body;
    page.next_cursor = text;
    EXPECT_FALSE(page.next_cursor.empty());
  }
  *out = std::move(page);
}

// The ids of `endpoints` in the list's order: created_at, then id.
inline std::vector<std::string> InListOrder(std::vector<Endpoint> endpoints) {
  std::sort(endpoints.begin(), endpoints.end(),
            [](const Endpoint& a, const Endpoint& b) {
              return std::tie(a.created_at, a.id) <
                     std::tie(b.created_at, b.id);
            });
  std::vector<std::string> ids;
  for (const Endpoint& endpoint : endpoints) ids.push_back(endpoint.id);
  return ids;
}

// True if some entry of `errors` contains every one of `words`
// (lower-case), compared case-insensitively.
inline bool SomeErrorSays(const std::vector<std::string>& errors,
                          const std::vector<std::string>& words) {
  return std::any_of(
      errors.begin(), errors.end(), [&](const std::string& problem) {
        return std::all_of(words.begin(), words.end(),
                           [&](const std::string& word) {
                             return Contains(Lower(problem), word);
                           });
      });
}

// The identity fields of an endpoint, which no management call changes.
inline void ExpectSameIdentity(const Endpoint& got, const Endpoint& created) {
  EXPECT_EQ(got.id, created.id);
  EXPECT_EQ(got.toolkit_slug, created.toolkit_slug);
  EXPECT_EQ(got.client_id, created.client_id);
  EXPECT_EQ(got.webhook_url, created.webhook_url);
  EXPECT_EQ(got.created_at, created.created_at);
  EXPECT_TRUE(got.verified_at_is_null);
}

// The management routes, with this test's key unless a key is given.
class HttpManageTest : public HttpTest {
 protected:
  static std::string ItemPath(const std::string& id,
                              const char* collection = kCreatePath) {
    return std::string(collection) + "/" + id;
  }

  httplib::Result RetrieveAs(const std::string& key, const std::string& id,
                             const char* collection = kCreatePath) {
    return NewClient().Get(ItemPath(id, collection), KeyHeaders(key));
  }
  httplib::Result PatchAs(
      const std::string& key, const std::string& id, const std::string& body,
      const char* collection = kCreatePath,
      const std::string& content_type = "application/json") {
    return NewClient().Patch(ItemPath(id, collection), KeyHeaders(key), body,
                             content_type);
  }
  httplib::Result ReplaceAs(
      const std::string& key, const std::string& id, const std::string& body,
      const char* collection = kCreatePath,
      const std::string& content_type = "application/json") {
    return NewClient().Post(ItemPath(id, collection), KeyHeaders(key), body,
                            content_type);
  }
  httplib::Result DeleteAs(const std::string& key, const std::string& id,
                           const char* collection = kCreatePath) {
    return NewClient().Delete(ItemPath(id, collection), KeyHeaders(key));
  }
  httplib::Result ListAs(const std::string& key, const std::string& query,
                         const char* collection = kCreatePath) {
    return NewClient().Get(
        std::string(collection) + (query.empty() ? "" : "?" + query),
        KeyHeaders(key));
  }
  httplib::Result Schema(const std::string& query,
                         const char* path = kSchemaPath) {
    return NewClient().Get(
        std::string(path) + (query.empty() ? "" : "?" + query),
        KeyHeaders(key_));
  }

  httplib::Result Retrieve(const std::string& id) {
    return RetrieveAs(key_, id);
  }
  httplib::Result Patch(const std::string& id, const std::string& body) {
    return PatchAs(key_, id, body);
  }
  httplib::Result Replace(const std::string& id, const std::string& body) {
    return ReplaceAs(key_, id, body);
  }
  httplib::Result Delete(const std::string& id) { return DeleteAs(key_, id); }
  httplib::Result List(const std::string& query = "") {
    return ListAs(key_, query);
  }

  void MustCreateAs(const std::string& key, const std::string& toolkit,
                    const std::string& client_id, Endpoint* out) {
    ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
        CreateWithKey(key, CreateBody(toolkit, client_id)), 201, out));
  }
  void MustCreate(const std::string& toolkit, const std::string& client_id,
                  Endpoint* out) {
    MustCreateAs(key_, toolkit, client_id, out);
  }
  void MustReadAs(const std::string& key, const std::string& id,
                  Endpoint* out) {
    ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(RetrieveAs(key, id), 200, out));
  }
  void MustRead(const std::string& id, Endpoint* out) {
    MustReadAs(key_, id, out);
  }
  void MustPatch(const std::string& id, const std::string& body,
                 Endpoint* out) {
    ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(Patch(id, body), 200, out));
  }
  void MustReplace(const std::string& id, const std::string& body,
                   Endpoint* out) {
    ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(Replace(id, body), 200, out));
  }
  // The whole list (no limit): one page, next_cursor null.
  void MustListAs(const std::string& key, const std::string& query,
                  std::vector<ListItem>* items,
                  const char* collection = kCreatePath) {
    ListPage page;
    ASSERT_NO_FATAL_FAILURE(
        ExpectListPage(ListAs(key, query, collection), &page));
    EXPECT_TRUE(page.next_is_null) << page.next_cursor;
    *items = std::move(page.items);
  }
  void MustList(const std::string& query, std::vector<ListItem>* items) {
    MustListAs(key_, query, items);
  }
};

// ===========================================================================
// Toolkit catalog files
// ===========================================================================

// github's verification in the catalog files of the suites: the one place
// to change if the format comes to need more for hmac_sha256.
inline constexpr char kGithubVerification[] =
    R"({"scheme":"hmac_sha256","secret_field":"webhook_secret",)"
    R"("signature_header":"X-Hub-Signature-256","signature_prefix":"sha256="})";

// ===========================================================================
// Operations
// ===========================================================================

// The operations routes, and the ids of this test's project.
class HttpOperationsTest : public HttpTest {
 protected:
  // The ids of this test's project, through the list route.
  std::vector<std::string> ListedIds() {
    std::vector<std::string> ids;
    auto listed = NewClient().Get(kCreatePath, {{"x-api-key", key_}});
    if (!listed || listed->status != 200) {
      ADD_FAILURE() << "list failed";
      return ids;
    }
    std::optional<std::vector<std::string>> listed_ids =
        ParseItemIds(listed->body);
    if (!listed_ids) {
      ADD_FAILURE() << listed->body;
      return ids;
    }
    return *listed_ids;
  }
};

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_API_HTTP_FIXTURE_H_
