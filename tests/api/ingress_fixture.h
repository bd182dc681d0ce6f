// The fixture of the ingress suites (tests/api/ingress_test.cpp,
// ingress_catalog_test.cpp, events_test.cpp,
// tests/cli/send_test_event_test.cpp): HttpIngressTest posts as a provider
// would (signed with tests/signer.h, never with the server's own code) and
// reads the events listing; beside it, the providers' bodies and what the
// ingress answers: the acknowledgement, Slack's challenge, an events page.

#ifndef WEBHOOKS_TESTS_API_INGRESS_FIXTURE_H_
#define WEBHOOKS_TESTS_API_INGRESS_FIXTURE_H_

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/raw_http.h"
#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks::testing {

// ===========================================================================
// The ingress and its events
// ===========================================================================

inline constexpr char kInvalidSignature[] = "WebhookIngress_InvalidSignature";
inline constexpr char kAlreadyVerified[] = "WebhookIngress_AlreadyVerified";
inline constexpr char kSlackSignatureHeader[] = "X-Slack-Signature";
inline constexpr char kSlackTimestampHeader[] = "X-Slack-Request-Timestamp";
inline constexpr char kNotionSignatureHeader[] = "X-Notion-Signature";
inline constexpr char kSlackSecret[] = "slack-signing-secret-0123456789ab";
inline constexpr char kOtherSecret[] = "another-signing-secret-987654321";
// The challenge of the url_verification example in Slack's Events API
// documentation.
inline constexpr char kSlackChallenge[] =
    "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P";

// Replaces (or with nullopt removes) every `name` header.
inline httplib::Headers WithHeader(httplib::Headers headers,
                                   const std::string& name,
                                   const std::optional<std::string>& value) {
  headers.erase(name);
  if (value) headers.emplace(name, *value);
  return headers;
}

// Slack's url_verification handshake (the example from its documentation,
// with this challenge).
inline std::string UrlVerification(const std::string& challenge) {
  return R"({"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":)" +
         JsonString(challenge) + R"(,"type":"url_verification"})";
}

// A Notion webhook event with this id.
inline std::string NotionEvent(const std::string& id) {
  return R"({"id":)" + JsonString(id) +
         R"(,"timestamp":"2024-12-05T23:55:34.285Z","workspace_id":)"
         R"("13950b26-c203-4f3b-b97d-93ec06319565","subscription_id":)"
         R"("29d75c0d-5546-4414-8459-7b7a92f1fc4b","integration_id":)"
         R"("18bf6a9a-3a30-4db2-bbe6-2e1c3ab23d50","type":"page.created",)"
         R"("entity":{"id":"153104cd-477e-809d-8dc4-ff2d96ae3090",)"
         R"("type":"page"},"api_version":"2022-06-28"})";
}

// 200 {} with the common headers: how the ingress acknowledges an event.
inline void ExpectAck(const Reply& reply) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_NO_FATAL_FAILURE(ExpectJsonObject(reply, 200, &parser, &object));
  EXPECT_EQ(object.size(), 0u) << reply.body;
}

inline void ExpectAck(const httplib::Result& result) {
  ASSERT_TRUE(result) << "no response: " << httplib::to_string(result.error());
  ExpectAck(ToReply(result));
}

// 200 {"challenge": challenge} and nothing else: Slack's handshake answer.
inline void ExpectChallenge(const httplib::Result& result,
                            const std::string& challenge) {
  ASSERT_TRUE(result) << "no response: " << httplib::to_string(result.error());
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_NO_FATAL_FAILURE(
      ExpectJsonObject(ToReply(result), 200, &parser, &object));
  EXPECT_EQ(SortedKeys(object), std::vector<std::string>{"challenge"})
      << result->body;
  std::string_view value;
  ASSERT_EQ(object["challenge"].get_string().get(value), simdjson::SUCCESS)
      << result->body;
  EXPECT_EQ(value, challenge);
}

// An endpoint's verified_at: "" while null.
inline std::string VerifiedAt(const Endpoint& endpoint) {
  return StringField(endpoint.raw_body, "verified_at").value_or("");
}

// One item of the events listing.
struct EventItem {
  std::string id;
  std::string provider_event_id;
  std::string received_at;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body_encoding;
  std::string body;   // as listed
  std::string bytes;  // the body decoded: what the provider sent

  // The header `name` (lower-case) as kept, or "" if it was not.
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct EventPage {
  std::vector<EventItem> items;
  bool next_is_null = true;
  std::string next_cursor;
  std::string raw_body;
};

inline std::vector<std::string> ProviderIds(
    const std::vector<EventItem>& items) {
  std::vector<std::string> ids;
  for (const EventItem& item : items) ids.push_back(item.provider_event_id);
  return ids;
}

// Asserts an events listing: 200, exactly {"items", "next_cursor"}, each
// item exactly its six fields with the right types, a received_at time,
// headers an object of strings, body_encoding utf-8 or base64 (decodable).
// Fills *out.
inline void ExpectEventPage(const httplib::Result& result, EventPage* out) {
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
  EventPage page;
  std::string_view text;
  for (simdjson::dom::element element : items) {
    simdjson::dom::object item;
    ASSERT_EQ(element.get_object().get(item), simdjson::SUCCESS);
    EXPECT_EQ(SortedKeys(item), (std::vector<std::string>{
                                    "body", "body_encoding", "headers", "id",
                                    "provider_event_id", "received_at"}))
        << result->body;
    EventItem parsed;
    ASSERT_EQ(item["id"].get_string().get(text), simdjson::SUCCESS);
    parsed.id = text;
    EXPECT_FALSE(parsed.id.empty());
    ASSERT_EQ(item["provider_event_id"].get_string().get(text),
              simdjson::SUCCESS);
    parsed.provider_event_id = text;
    EXPECT_FALSE(parsed.provider_event_id.empty());
    ASSERT_EQ(item["received_at"].get_string().get(text), simdjson::SUCCESS);
    parsed.received_at = text;
    EXPECT_TRUE(HasShape(parsed.received_at, "9999-99-99T99:99:99.999Z"))
        << parsed.received_at;
    simdjson::dom::object headers;
    ASSERT_EQ(item["headers"].get_object().get(headers), simdjson::SUCCESS)
        << result->body;
    for (auto header : headers) {
      ASSERT_EQ(header.value.get_string().get(text), simdjson::SUCCESS)
          << result->body;
      parsed.headers.emplace(Lower(std::string(header.key)), std::string(text));
    }
    ASSERT_EQ(item["body_encoding"].get_string().get(text), simdjson::SUCCESS);
    parsed.body_encoding = text;
    ASSERT_EQ(item["body"].get_string().get(text), simdjson::SUCCESS);
    parsed.body = text;
    if (parsed.body_encoding == "base64") {
      std::optional<std::string> bytes = Base64Decode(parsed.body);
      ASSERT_TRUE(bytes.has_value()) << parsed.body;
      parsed.bytes = *bytes;
    } else {
      EXPECT_EQ(parsed.body_encoding, "utf-8");
      parsed.bytes = parsed.body;
    }
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
  page.raw_body = result->body;
  *out = std::move(page);
}

// Signature-bearing and credential headers: never kept with an event.
inline void ExpectNoSecretHeaders(const EventItem& item) {
  for (const char* name :
       {"x-slack-signature", "x-notion-signature", "x-hub-signature-256",
        "x-signature-ed25519", "x-signature", "x-api-key", "x-user-api-key",
        "authorization", "cookie"}) {
    EXPECT_EQ(item.headers.count(name), 0u) << name;
  }
}

// The ingress, with this test's key for the management calls around it.
class HttpIngressTest : public HttpManageTest {
 protected:
  // The ingress path of `endpoint`, from its webhook_url, under `prefix`
  // ("/api/v3.1/" or its "/api/v3/" twin).
  static std::string IngressPath(const Endpoint& endpoint,
                                 const std::string& prefix = "/api/v3.1/") {
    const std::string v31 = "/api/v3.1/";
    const size_t start = endpoint.webhook_url.find(v31);
    EXPECT_NE(start, std::string::npos) << endpoint.webhook_url;
    if (start == std::string::npos) return "";
    return prefix + endpoint.webhook_url.substr(start + v31.size());
  }

  // A provider's POST: exactly `headers`, never an API key unless given.
  httplib::Result Ingress(
      const std::string& path, const httplib::Headers& headers,
      const std::string& body,
      const std::string& content_type = "application/json") {
    return Post(path, headers, body, content_type);
  }

  // `body` signed as Slack signs it, `offset` seconds from now, plus
  // `extra` headers.
  httplib::Result SendSlack(
      const std::string& path, std::string_view secret, const std::string& body,
      int64_t offset = 0, const httplib::Headers& extra = {},
      const std::string& content_type = "application/json") {
    httplib::Headers headers = SlackHeadersAt(secret, UnixNow() + offset, body);
    headers.insert(extra.begin(), extra.end());
    return Ingress(path, headers, body, content_type);
  }

  // A slack endpoint with both setup fields stored, the signing secret
  // being `secret`. *out is the endpoint as created.
  void MustCreateSlack(const std::string& client_id, Endpoint* out,
                       const std::string& secret = kSlackSecret) {
    ASSERT_NO_FATAL_FAILURE(MustCreate("slack", client_id, out));
    Endpoint patched;
    ASSERT_NO_FATAL_FAILURE(MustPatch(
        out->id,
        DataBody({{kSigning, secret}, {kAppToken, "xapp-1-A0123456789-tok"}}),
        &patched));
  }

  httplib::Result EventsAs(const std::string& key, const std::string& id,
                           const std::string& query = "",
                           const char* collection = kCreatePath) {
    return NewClient().Get(ItemPath(id, collection) + "/events" +
                               (query.empty() ? "" : "?" + query),
                           KeyHeaders(key));
  }
  httplib::Result Events(const std::string& id, const std::string& query = "") {
    return EventsAs(key_, id, query);
  }

  // Every stored event of `id` (no limit: one page, next_cursor null).
  void MustListEvents(const std::string& id, std::vector<EventItem>* items) {
    EventPage page;
    ASSERT_NO_FATAL_FAILURE(ExpectEventPage(Events(id), &page));
    EXPECT_TRUE(page.next_is_null) << page.next_cursor;
    *items = std::move(page.items);
  }

  // Sends `count` requests at once, each from its own thread on its own
  // connection, released together; `send(i, client)` makes request i.
  // Replies of requests that got no answer keep status 0.
  std::vector<Reply> SendConcurrently(
      size_t count,
      const std::function<httplib::Result(size_t, httplib::Client&)>& send) {
    std::vector<Reply> replies(count);
    std::mutex mutex;
    std::condition_variable start;
    bool go = false;
    std::vector<std::thread> threads;
    for (size_t i = 0; i < count; ++i) {
      threads.emplace_back([&, i] {
        httplib::Client client = NewClient();
        {
          std::unique_lock<std::mutex> lock(mutex);
          start.wait(lock, [&] { return go; });
        }
        auto result = send(i, client);
        if (result) replies[i] = ToReply(result);
      });
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      go = true;
    }
    start.notify_all();
    for (std::thread& thread : threads) thread.join();
    return replies;
  }
};

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_API_INGRESS_FIXTURE_H_
