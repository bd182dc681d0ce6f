// The fixture of the delivery suites (tests/delivery/*): a server started
// with a fast retry schedule, a real Receiver, and the API calls a test
// needs to subscribe, send provider events and read deliveries back.
// Signatures are checked with tests/signer.h, never with the server's code.

#ifndef WEBHOOKS_TESTS_DELIVERY_DELIVERY_FIXTURE_H_
#define WEBHOOKS_TESTS_DELIVERY_DELIVERY_FIXTURE_H_

#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <simdjson.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "tests/api/ingress_fixture.h"
#include "tests/delivery/receiver.h"
#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks::testing {

inline constexpr char kSubscriptionsPath[] = "/api/v3.1/webhook_subscriptions";

struct Subscription {
  std::string id;
  std::string secret;
};

// A delivery as the deliveries listing shows it.
struct DeliveryItem {
  std::string id;
  std::string webhook_id;
  std::string event_id;
  std::string status;
  int64_t attempts = 0;
  std::optional<int64_t> last_status_code;
  std::string last_error;  // "" for null
};

struct AttemptItem {
  int64_t attempt = 0;
  std::optional<int64_t> status_code;
  std::string error_class;  // "" for null
  int64_t duration_ms = 0;
  std::string response_body;
  std::string request_headers_json;
};

// Whether `signature` ("v1,<base64>") is Composio's signature of `body`
// with `secret`, `webhook_id` and `timestamp`: computed here, independently.
inline bool SignatureVerifies(const std::string& secret,
                              const std::string& webhook_id,
                              const std::string& timestamp,
                              const std::string& body,
                              const std::string& signature) {
  const std::string expected =
      "v1," + Base64Encode(HmacSha256(
                  secret, webhook_id + "." + timestamp + "." + body));
  return signature == expected;
}

// Now plus `offset_seconds`, as an ISO 8601 UTC time ("...Z").
inline std::string FormatTimeForTest(int64_t offset_seconds) {
  const std::time_t at = static_cast<std::time_t>(UnixNow() + offset_seconds);
  std::tm utc{};
  ::gmtime_r(&at, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

class DeliveryTest : public HttpIngressTest {
 protected:
  // Servers start with a fast schedule unless a test restarts them.
  void SetUp() override {
    ASSERT_TRUE(StartServer(
        {"--retry-schedule", "50ms,50ms,50ms", "--delivery-timeout", "2000"}));
  }

  httplib::Result PostJsonAs(const std::string& key, const std::string& path,
                             const std::string& body) {
    return NewClient().Post(path, KeyHeaders(key), body, "application/json");
  }
  httplib::Result GetAs(const std::string& key, const std::string& path) {
    return NewClient().Get(path, KeyHeaders(key));
  }

  // Creates this project's subscription to `url`.
  void MustSubscribe(const std::string& url, Subscription* out,
                     const std::string& version = "V3") {
    auto result = PostJsonAs(
        key_, kSubscriptionsPath,
        R"({"webhook_url":)" + JsonString(url) +
            R"(,"enabled_events":["composio.trigger.message"],"version":")" +
            version + R"("})");
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 201) << result->body;
    out->id = StringField(result->body, "id").value_or("");
    out->secret = StringField(result->body, "secret").value_or("");
    ASSERT_FALSE(out->id.empty()) << result->body;
    ASSERT_FALSE(out->secret.empty()) << result->body;
  }

  std::string SubscriptionPath(const std::string& id) const {
    return std::string(kSubscriptionsPath) + "/" + id;
  }

  // A Slack endpoint with its signing secret, and one signed event sent to
  // it (acknowledged with 200).
  void MustSendSlackEvent(const Endpoint& endpoint, const std::string& event_id,
                          const std::string& text = "hello") {
    auto result = SendSlack(IngressPath(endpoint), kSlackSecret,
                            SlackEvent(event_id, text));
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
  }

  // The subscription's deliveries, newest first (one page).
  std::vector<DeliveryItem> Deliveries(const std::string& subscription_id,
                                       const std::string& query = "") {
    std::vector<DeliveryItem> items;
    auto result =
        GetAs(key_, SubscriptionPath(subscription_id) + "/deliveries" +
                        (query.empty() ? "" : "?" + query));
    EXPECT_TRUE(result);
    if (!result) return items;
    EXPECT_EQ(result->status, 200) << result->body;
    simdjson::dom::parser parser;
    simdjson::padded_string padded(result->body);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS) {
      ADD_FAILURE() << result->body;
      return items;
    }
    simdjson::dom::array array;
    EXPECT_EQ(root["items"].get_array().get(array), simdjson::SUCCESS);
    for (simdjson::dom::element item : array) items.push_back(ReadItem(item));
    return items;
  }

  // Every delivery of the subscription, following next_cursor.
  std::vector<DeliveryItem> AllDeliveries(const std::string& subscription_id) {
    std::vector<DeliveryItem> all;
    std::string cursor;
    for (int page = 0; page < 1000; ++page) {
      auto result = GetAs(
          key_, SubscriptionPath(subscription_id) + "/deliveries?limit=100" +
                    (cursor.empty() ? "" : "&cursor=" + cursor));
      if (!result || result->status != 200) {
        ADD_FAILURE() << "list: " << (result ? result->body : "no answer");
        break;
      }
      std::vector<DeliveryItem> items =
          Deliveries(subscription_id,
                     "limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor));
      all.insert(all.end(), items.begin(), items.end());
      auto next = StringField(result->body, "next_cursor");
      if (!next) break;
      cursor = *next;
    }
    return all;
  }

  // One delivery with its attempts.
  DeliveryItem Delivery(const std::string& subscription_id,
                        const std::string& delivery_id,
                        std::vector<AttemptItem>* attempts = nullptr) {
    auto result = GetAs(
        key_, SubscriptionPath(subscription_id) + "/deliveries/" + delivery_id);
    EXPECT_TRUE(result);
    if (!result) return {};
    EXPECT_EQ(result->status, 200) << result->body;
    simdjson::dom::parser parser;
    simdjson::padded_string padded(result->body);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS) {
      ADD_FAILURE() << result->body;
      return {};
    }
    if (attempts != nullptr) {
      attempts->clear();
      simdjson::dom::array log;
      EXPECT_EQ(root["attempt_log"].get_array().get(log), simdjson::SUCCESS);
      for (simdjson::dom::element a : log) {
        AttemptItem item;
        EXPECT_EQ(a["attempt"].get_int64().get(item.attempt),
                  simdjson::SUCCESS);
        int64_t code = 0;
        if (a["status_code"].get_int64().get(code) == simdjson::SUCCESS) {
          item.status_code = code;
        }
        std::string_view text;
        if (a["error_class"].get_string().get(text) == simdjson::SUCCESS) {
          item.error_class = std::string(text);
        }
        EXPECT_EQ(a["duration_ms"].get_int64().get(item.duration_ms),
                  simdjson::SUCCESS);
        EXPECT_EQ(a["response_body"].get_string().get(text), simdjson::SUCCESS);
        item.response_body = std::string(text);
        item.request_headers_json =
            simdjson::minify(a["request_headers"].value_unsafe());
        attempts->push_back(std::move(item));
      }
    }
    return ReadItem(root);
  }

  // Polls `done` (10 ms apart) until it holds or `timeout` passes: the
  // store is what a test waits on, never a fixed sleep.
  template <typename Condition>
  static bool PollUntil(Condition done, std::chrono::milliseconds timeout =
                                            std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (done()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      pollfd none{-1, 0, 0};
      ::poll(&none, 1, 10);
    }
  }

  // Until the delivery's status is `status`.
  bool WaitForStatus(
      const std::string& subscription_id, const std::string& delivery_id,
      const std::string& status,
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return PollUntil(
        [&] { return Delivery(subscription_id, delivery_id).status == status; },
        timeout);
  }

  // Until the subscription has `count` deliveries.
  bool WaitForDeliveries(
      const std::string& subscription_id, size_t count,
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return PollUntil(
        [&] { return Deliveries(subscription_id).size() >= count; }, timeout);
  }

  // The usual start of a test: this project's subscription to `receiver`
  // and a Slack endpoint that accepts signed events.
  void MustSubscribeWithSlack(const Receiver& receiver,
                              Subscription* subscription, Endpoint* endpoint) {
    ASSERT_NO_FATAL_FAILURE(MustSubscribe(receiver.Url(), subscription));
    ASSERT_NO_FATAL_FAILURE(MustCreateSlack("client-1", endpoint));
  }

 private:
  static DeliveryItem ReadItem(simdjson::dom::element item) {
    DeliveryItem out;
    std::string_view text;
    if (item["id"].get_string().get(text) == simdjson::SUCCESS) out.id = text;
    if (item["webhook_id"].get_string().get(text) == simdjson::SUCCESS) {
      out.webhook_id = text;
    }
    if (item["event_id"].get_string().get(text) == simdjson::SUCCESS) {
      out.event_id = text;
    }
    if (item["status"].get_string().get(text) == simdjson::SUCCESS) {
      out.status = text;
    }
    if (item["attempts"].get_int64().get(out.attempts) != simdjson::SUCCESS) {
      out.attempts = -1;
    }
    int64_t code = 0;
    if (item["last_status_code"].get_int64().get(code) == simdjson::SUCCESS) {
      out.last_status_code = code;
    }
    if (item["last_error"].get_string().get(text) == simdjson::SUCCESS) {
      out.last_error = text;
    }
    return out;
  }
};

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_DELIVERY_DELIVERY_FIXTURE_H_
