// Black-box tests of issue 17: the built-in providers people try first
// (discord, github, stripe), the standard_webhooks scheme and catalog
// keep_headers, through the real ingress
// (webhook_ingress/{toolkit}/{id}/trigger_event) of the real binary.
// Signatures are made with OpenSSL directly (tests/signer.h), never with the
// server's code; the published vectors are in shared/spec/test-vectors.md
// and the unit KATs in tests/unit/verify_test.cpp.

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/api/ingress_fixture.h"
#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

class HttpProvidersTest : public HttpIngressTest {
 protected:
  // An endpoint of `toolkit` with `field` stored.
  void MustCreateWith(const std::string& toolkit, const std::string& field,
                      const std::string& value, Endpoint* out) {
    ASSERT_NO_FATAL_FAILURE(MustCreate(toolkit, "c1", out));
    Endpoint patched;
    ASSERT_NO_FATAL_FAILURE(
        MustPatch(out->id, DataBody({{field, value}}), &patched));
  }
};

// ===========================================================================
// The built-in catalog
// ===========================================================================

// The API reference's own example (toolkit_slug "discord") and the other
// new built-ins are created, and their schema describes each field.
TEST_F(HttpProvidersTest, NewBuiltInsAreCreatedAndDescribed) {
  const struct {
    const char* toolkit;
    const char* field;
    bool is_secret;
  } kCases[] = {{"discord", "public_key", false},
                {"github", "webhook_secret", true},
                {"stripe", "webhook_secret", true}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.toolkit);
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(MustCreate(c.toolkit, "my-app", &endpoint));
    ExpectNewEndpoint(endpoint, c.toolkit, "my-app", DefaultPublicBase());
    auto schema = Schema(std::string("toolkit_slug=") + c.toolkit);
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    ASSERT_NO_FATAL_FAILURE(
        ExpectJsonObject(ToReply(schema), 200, &parser, &object));
    simdjson::dom::object fields;
    ASSERT_EQ(object["setup_fields"].get_object().get(fields),
              simdjson::SUCCESS);
    EXPECT_EQ(fields.size(), 1u) << schema->body;
    std::string_view display_name, description;
    bool is_required = false, is_secret = !c.is_secret;
    ASSERT_EQ(fields[c.field]["display_name"].get_string().get(display_name),
              simdjson::SUCCESS)
        << schema->body;
    ASSERT_EQ(fields[c.field]["description"].get_string().get(description),
              simdjson::SUCCESS);
    ASSERT_EQ(fields[c.field]["is_required"].get_bool().get(is_required),
              simdjson::SUCCESS);
    ASSERT_EQ(fields[c.field]["is_secret"].get_bool().get(is_secret),
              simdjson::SUCCESS);
    EXPECT_FALSE(display_name.empty());
    EXPECT_GT(description.size(), 20u);
    EXPECT_TRUE(is_required);
    EXPECT_EQ(is_secret, c.is_secret);
  }
}

// ===========================================================================
// stripe
// ===========================================================================

constexpr char kStripeSecret[] = "whsec_test_secret_for_vectors";
constexpr char kStripeBody[] = R"({"id":"evt_test_webhook","object":"event",)"
                               R"("type":"payment_intent.succeeded"})";

// test-vectors.md's header is from 2026-01-01: the server's real clock
// refuses it as stale; the same body signed now is stored once under its
// Stripe event id, however often Stripe retries it.
TEST_F(HttpProvidersTest, StripeVectorIsStaleAndAFreshSignatureIsStored) {
  Endpoint stripe;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("stripe", "webhook_secret", kStripeSecret, &stripe));
  const std::string path = IngressPath(stripe);
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      Ingress(path,
              {{"Stripe-Signature",
                "t=1767225600,v1=b354fc066519fb6902b57f7e1072e37ede8dd7bf3a3ab"
                "446c63a553e87e3e51e"}},
              kStripeBody),
      400, kInvalidSignature, &error));
  ASSERT_EQ(error.errors.size(), 1u);
  EXPECT_TRUE(Contains(error.errors[0], "seconds behind the server's clock"))
      << error.errors[0];

  const std::string fresh =
      StripeSignatureOf(kStripeSecret, UnixNow(), kStripeBody);
  ExpectAck(Ingress(path, {{"Stripe-Signature", fresh}}, kStripeBody));
  ExpectAck(Ingress(path, {{"Stripe-Signature", fresh}}, kStripeBody));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(stripe.id, &events));
  ASSERT_EQ(ProviderIds(events), std::vector<std::string>{"evt_test_webhook"});
  EXPECT_EQ(events[0].bytes, kStripeBody);
  EXPECT_EQ(events[0].Header("stripe-signature"), "");
  ExpectNoSecretHeaders(events[0]);
}

// While a secret is rolled, Stripe sends one v1 per secret; the one made
// with the stored secret may come second. A header whose only valid
// signature is in v0, or made with another secret, is refused.
TEST_F(HttpProvidersTest, StripeAcceptsAnyV1AndRefusesTheRest) {
  Endpoint stripe;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("stripe", "webhook_secret", kStripeSecret, &stripe));
  const std::string path = IngressPath(stripe);
  const std::string body =
      R"({"id":"evt_rolled","object":"event","type":"charge.refunded"})";
  const int64_t now = UnixNow();
  const std::string stamp = std::to_string(now);
  const std::string mine = Hex(HmacSha256(kStripeSecret, stamp + "." + body));
  const std::string old =
      Hex(HmacSha256("whsec_the_rolled_secret", stamp + "." + body));
  const httplib::Headers refused[] = {
      {{"Stripe-Signature", "t=" + stamp + ",v1=" + old}},
      {{"Stripe-Signature", "t=" + stamp + ",v0=" + mine + ",v1=" + old}},
      {{"Stripe-Signature", "v1=" + mine}},
      {{"Stripe-Signature",
        "t=" + std::to_string(now - 301) + ",v1=" +
            Hex(HmacSha256(kStripeSecret,
                           std::to_string(now - 301) + "." + body))}},
      {},
  };
  for (const httplib::Headers& headers : refused) {
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(path, headers, body), 400, kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), "stripe-signature"))
        << error.errors[0];
    EXPECT_FALSE(Contains(error.errors[0], mine));
  }
  ExpectAck(Ingress(
      path, {{"Stripe-Signature", "t=" + stamp + ",v1=" + old + ",v1=" + mine}},
      body));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(stripe.id, &events));
  EXPECT_EQ(ProviderIds(events), std::vector<std::string>{"evt_rolled"});
}

// The dashboard's test event is signed as Stripe signs (our SignAsProvider)
// and goes through the whole ingress: stored under the sample's id.
TEST_F(HttpProvidersTest, StripeTestEventPassesTheIngress) {
  Endpoint stripe;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("stripe", "webhook_secret", kStripeSecret, &stripe));
  auto sent = Post("/api/v3.1/webhook_endpoints/" + stripe.id + "/test_event",
                   KeyHeaders(key_), "{}");
  ASSERT_TRUE(sent);
  ASSERT_EQ(sent->status, 200) << sent->body;
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(stripe.id, &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].provider_event_id.rfind("evt_test_", 0), 0u)
      << events[0].provider_event_id;
}

// ===========================================================================
// github
// ===========================================================================

// The built-in entry verifies GitHub's published example, keeps
// X-GitHub-Event (keep_headers) and X-GitHub-Delivery (the event id), and
// never the signature.
TEST_F(HttpProvidersTest, GitHubBuiltInKeepsTheEventTypeHeader) {
  const std::string secret = "It's a Secret to Everybody";
  const std::string body = "Hello, World!";
  const std::string signature =
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  Endpoint github;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("github", "webhook_secret", secret, &github));
  const std::string delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
  ExpectAck(Ingress(IngressPath(github),
                    {{"X-Hub-Signature-256", signature},
                     {"X-GitHub-Delivery", delivery},
                     {"X-GitHub-Event", "ping"},
                     {"X-GitHub-Hook-ID", "292430182"},
                     {"X-Unlisted-Header", "dropped"}},
                    body));
  ExpectErrorEnvelope(
      Ingress(IngressPath(github),
              {{"X-Hub-Signature-256", signature}, {"X-GitHub-Event", "push"}},
              "Hello, World?"),
      400, kInvalidSignature);
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(github.id, &events));
  ASSERT_EQ(ProviderIds(events), std::vector<std::string>{delivery});
  EXPECT_EQ(events[0].Header("x-github-event"), "ping");
  EXPECT_EQ(events[0].Header("x-github-hook-id"), "292430182");
  EXPECT_EQ(events[0].Header("x-github-delivery"), delivery);
  EXPECT_EQ(events[0].Header("x-unlisted-header"), "");
  ExpectNoSecretHeaders(events[0]);
}

// ===========================================================================
// discord
// ===========================================================================

class HttpDiscordTest : public HttpProvidersTest {
 protected:
  void SetUp() override {
    HttpProvidersTest::SetUp();
    ASSERT_NE(key_pair_.key, nullptr);
    ASSERT_NO_FATAL_FAILURE(MustCreateWith(
        "discord", "public_key", Hex(key_pair_.public_key), &discord_));
  }

  // `body` signed with this test's key at `at` (timestamp then body).
  httplib::Result SendSigned(const std::string& body, int64_t at) {
    const std::string stamp = std::to_string(at);
    return Ingress(
        IngressPath(discord_),
        {{"X-Signature-Timestamp", stamp},
         {"X-Signature-Ed25519", Hex(Ed25519Sign(key_pair_, stamp + body))}},
        body);
  }

  const Ed25519Key key_pair_ = NewEd25519Key();
  Endpoint discord_;
};

// Discord's PING, verified, is answered 200 {"type":1} as JSON, sets
// verified_at, is answered again each time, and is never an event.
TEST_F(HttpDiscordTest, PingIsAnsweredAndNotStored) {
  const std::string ping = R"({"application_id":"1191174393539346433",)"
                           R"("type":1,"version":1})";
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    auto reply = SendSigned(ping, UnixNow());
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << reply->body;
    EXPECT_EQ(reply->body, R"({"type":1})");
    EXPECT_EQ(MediaType(reply->get_header_value("Content-Type")),
              "application/json");
  }
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(discord_.id, &read));
  EXPECT_FALSE(read.verified_at_is_null);
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(discord_.id, &events));
  EXPECT_TRUE(events.empty());
}

// Discord checks that badly signed requests are refused with 401 before it
// saves the URL: a PING signed with another key, without the timestamp, with
// no signature at all, or stale.
TEST_F(HttpDiscordTest, BadSignaturesAre401) {
  const std::string ping = R"({"type":1})";
  const Ed25519Key other = NewEd25519Key();
  ASSERT_NE(other.key, nullptr);
  const int64_t now = UnixNow();
  const std::string stamp = std::to_string(now);
  const httplib::Headers refused[] = {
      {{"X-Signature-Timestamp", stamp},
       {"X-Signature-Ed25519", Hex(Ed25519Sign(other, stamp + ping))}},
      {{"X-Signature-Timestamp", stamp},
       {"X-Signature-Ed25519", Hex(Ed25519Sign(key_pair_, ping))}},
      {{"X-Signature-Timestamp", stamp}},
      {{"X-Signature-Timestamp", std::to_string(now - 400)},
       {"X-Signature-Ed25519",
        Hex(Ed25519Sign(key_pair_, std::to_string(now - 400) + ping))}},
      {},
  };
  for (const httplib::Headers& headers : refused) {
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(Ingress(IngressPath(discord_), headers, ping), 401,
                            kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), "x-signature"))
        << error.errors[0];
  }
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(discord_.id, &read));
  EXPECT_TRUE(read.verified_at_is_null);
}

// An interaction other than PING is an event, stored once under its id.
TEST_F(HttpDiscordTest, InteractionIsStoredOnceUnderItsId) {
  const std::string command =
      R"({"id":"1191174393539346432","application_id":"1191174393539346433",)"
      R"("type":2,"data":{"name":"hello"},"token":"aW50ZXJhY3Rpb24"})";
  ExpectAck(SendSigned(command, UnixNow()));
  ExpectAck(SendSigned(command, UnixNow()));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(discord_.id, &events));
  ASSERT_EQ(ProviderIds(events),
            std::vector<std::string>{"1191174393539346432"});
  EXPECT_EQ(events[0].bytes, command);
  EXPECT_FALSE(events[0].Header("x-signature-timestamp").empty());
  ExpectNoSecretHeaders(events[0]);
}

// ===========================================================================
// Catalog files: standard_webhooks and keep_headers
// ===========================================================================

// A Standard Webhooks provider (Svix, Resend, Clerk...) and a generic
// toolkit that keeps one of its headers.
std::string ProvidersToolkits() {
  return R"json({"toolkits":{
  "svixish":{
    "setup_fields":{"signing_secret":{"display_name":"Signing Secret",
                                      "is_required":true,"is_secret":true}},
    "verification":{"scheme":"standard_webhooks",
                    "secret_field":"signing_secret"},
    "triggers":{"event_type_pointer":"/type"}},
  "acme":{
    "setup_fields":{"secret":{"display_name":"Secret","is_secret":true}},
    "verification":{"scheme":"hmac_sha256","secret_field":"secret",
                    "signature_header":"X-Acme-Signature",
                    "event_id_header":"X-Acme-Delivery",
                    "signed_payload":"{id}.{body}"},
    "keep_headers":["X-Acme-Event"]}}})json";
}

class HttpCatalogProvidersTest : public HttpProvidersTest {
 protected:
  void SetUp() override {
    HttpProvidersTest::SetUp();
    ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(ProvidersToolkits())}));
  }
};

constexpr char kStandardSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// The standard's published example is refused by the real clock; a fresh
// delivery during a key rotation (the valid signature second) is stored
// under its webhook-id, and a retry with the same id is not stored again.
// Svix's svix-* headers work the same way.
TEST_F(HttpCatalogProvidersTest, StandardWebhooksRotationAndRetry) {
  Endpoint svixish;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("svixish", "signing_secret", kStandardSecret, &svixish));
  const std::string path = IngressPath(svixish);
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      Ingress(path,
              {{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
               {"webhook-timestamp", "1614265330"},
               {"webhook-signature",
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}},
              R"({"test": 2432232314})"),
      400, kInvalidSignature, &error));
  ASSERT_EQ(error.errors.size(), 1u);
  EXPECT_TRUE(Contains(error.errors[0], "webhook-timestamp"))
      << error.errors[0];

  const std::optional<std::string> key =
      Base64Decode(std::string(kStandardSecret).substr(6));
  ASSERT_TRUE(key.has_value());
  const std::string body = R"({"type":"email.sent","data":{"to":"a@b.c"}})";
  auto send = [&](const std::string& id, const std::string& prefix) {
    const int64_t now = UnixNow();
    const std::string rotated =
        StandardWebhooksSignatureOf("the key before rotation", id, now, body);
    return Ingress(
        path,
        {{prefix + "id", id},
         {prefix + "timestamp", std::to_string(now)},
         {prefix + "signature",
          rotated + " " + StandardWebhooksSignatureOf(*key, id, now, body)}},
        body);
  };
  ExpectAck(send("msg_first", "webhook-"));
  ExpectAck(send("msg_first", "webhook-"));
  ExpectAck(send("msg_second", "svix-"));
  // Only the old key's signature: refused.
  const int64_t now = UnixNow();
  ExpectErrorEnvelope(
      Ingress(path,
              {{"webhook-id", "msg_third"},
               {"webhook-timestamp", std::to_string(now)},
               {"webhook-signature",
                StandardWebhooksSignatureOf("the key before rotation",
                                            "msg_third", now, body)}},
              body),
      400, kInvalidSignature);
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(svixish.id, &events));
  EXPECT_EQ(ProviderIds(events),
            (std::vector<std::string>{"msg_second", "msg_first"}));
  EXPECT_EQ(events[1].Header("webhook-id"), "msg_first");
  EXPECT_EQ(events[0].Header("svix-id"), "msg_second");
  for (const EventItem& event : events) {
    EXPECT_EQ(event.Header("webhook-signature"), "");
    EXPECT_EQ(event.Header("svix-signature"), "");
  }
}

// The test event is signed with webhook-* headers from the decoded key and
// stored under the webhook-id it was given.
TEST_F(HttpCatalogProvidersTest, StandardWebhooksTestEventPassesTheIngress) {
  Endpoint svixish;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("svixish", "signing_secret", kStandardSecret, &svixish));
  auto sent = Post("/api/v3.1/webhook_endpoints/" + svixish.id + "/test_event",
                   KeyHeaders(key_), "{}");
  ASSERT_TRUE(sent);
  ASSERT_EQ(sent->status, 200) << sent->body;
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(svixish.id, &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].provider_event_id.rfind("msg_test_", 0), 0u)
      << events[0].provider_event_id;
  EXPECT_EQ(events[0].Header("webhook-id"), events[0].provider_event_id);
}

// A secret that is not whsec_ + base64 cannot verify anything: every request
// is refused with a message about the endpoint's secret.
TEST_F(HttpCatalogProvidersTest, StandardWebhooksSecretMustBeBase64) {
  Endpoint svixish;
  ASSERT_NO_FATAL_FAILURE(MustCreateWith(
      "svixish", "signing_secret", "whsec_local_test_secret_0123", &svixish));
  const int64_t now = UnixNow();
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      Ingress(IngressPath(svixish),
              {{"webhook-id", "msg_1"},
               {"webhook-timestamp", std::to_string(now)},
               {"webhook-signature",
                StandardWebhooksSignatureOf("whsec_local_test_secret_0123",
                                            "msg_1", now, "{}")}},
              "{}"),
      400, kInvalidSignature, &error));
  ASSERT_EQ(error.errors.size(), 1u);
  EXPECT_TRUE(Contains(error.errors[0], "base64")) << error.errors[0];
}

// keep_headers: the header a catalog entry names is kept with the event and
// shown by the events route; {id} in signed_payload signs the delivery id.
TEST_F(HttpCatalogProvidersTest, KeepHeadersAreShownWithTheEvent) {
  const std::string secret = "acme-webhook-secret-0123";
  Endpoint acme;
  ASSERT_NO_FATAL_FAILURE(MustCreateWith("acme", "secret", secret, &acme));
  const std::string body = R"({"kind":"order.paid"})";
  auto headers = [&](const std::string& signed_id, const std::string& id) {
    return httplib::Headers{
        {"X-Acme-Signature", Hex(HmacSha256(secret, signed_id + "." + body))},
        {"X-Acme-Delivery", id},
        {"X-Acme-Event", "order.paid"},
        {"X-Acme-Other", "not kept"}};
  };
  ExpectErrorEnvelope(Ingress(IngressPath(acme), headers("d-1", "d-2"), body),
                      400, kInvalidSignature);
  ExpectAck(Ingress(IngressPath(acme), headers("d-1", "d-1"), body));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(acme.id, &events));
  ASSERT_EQ(ProviderIds(events), std::vector<std::string>{"d-1"});
  EXPECT_EQ(events[0].Header("x-acme-event"), "order.paid");
  EXPECT_EQ(events[0].Header("x-acme-delivery"), "d-1");
  EXPECT_EQ(events[0].Header("x-acme-other"), "");
  EXPECT_EQ(events[0].Header("x-acme-signature"), "");
}

}  // namespace
}  // namespace webhooks::testing
