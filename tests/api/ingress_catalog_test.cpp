// Black-box tests of the ingress (issue 4,
// webhook_ingress/{toolkit}/{id}/trigger_event) for the schemes a catalog
// file adds (--toolkits): hmac_sha256, with GitHub's published example and a
// base64 + timestamp variant, and Ed25519 (Discord's model), against the
// real binary. Signatures are made with OpenSSL directly (tests/signer.h),
// never with the server's own code. Slack's and Notion's schemes and the
// spec's check order are in ingress_test.cpp.

#include <gtest/gtest.h>
#include <httplib.h>

#include <string>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/api/ingress_fixture.h"
#include "tests/raw_http.h"
#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// Ingress: schemes from a --toolkits file (hmac_sha256, ed25519)
// ===========================================================================

// github: GitHub's X-Hub-Signature-256 (hex, "sha256=" prefix, delivery id
// header). stamped: the same scheme in base64 over "{timestamp}.{body}".
// discord: Ed25519 over timestamp + body, Discord's interactions model.
std::string IngressToolkits() {
  return R"json({"toolkits":{
  "github":{
    "setup_fields":{"webhook_secret":{"display_name":"Webhook Secret",
                                      "is_required":true,"is_secret":true}},
    "verification":{"scheme":"hmac_sha256","secret_field":"webhook_secret",
                    "signature_header":"X-Hub-Signature-256",
                    "signature_prefix":"sha256=","encoding":"hex",
                    "event_id_header":"X-GitHub-Delivery"}},
  "stamped":{
    "setup_fields":{"webhook_secret":{"display_name":"Webhook Secret",
                                      "is_required":true,"is_secret":true}},
    "verification":{"scheme":"hmac_sha256","secret_field":"webhook_secret",
                    "signature_header":"X-Signature","encoding":"base64",
                    "timestamp_header":"X-Timestamp",
                    "signed_payload":"{timestamp}.{body}"}},
  "discord":{
    "setup_fields":{"public_key":{"display_name":"Public Key",
                                  "is_required":true,"is_secret":false}},
    "verification":{"scheme":"ed25519","secret_field":"public_key",
                    "signature_header":"X-Signature-Ed25519",
                    "timestamp_header":"X-Signature-Timestamp"}}}})json";
}

class HttpIngressCatalogTest : public HttpIngressTest {
 protected:
  void SetUp() override {
    HttpIngressTest::SetUp();
    ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(IngressToolkits())}));
  }

  // An endpoint of `toolkit` with `field` stored.
  void MustCreateWith(const std::string& toolkit, const std::string& field,
                      const std::string& value, Endpoint* out) {
    ASSERT_NO_FATAL_FAILURE(MustCreate(toolkit, "c1", out));
    Endpoint patched;
    ASSERT_NO_FATAL_FAILURE(
        MustPatch(out->id, DataBody({{field, value}}), &patched));
  }
};

// test-vectors.md: GitHub's "Validating webhook deliveries" example,
// accepted over HTTP exactly as published; any change to it is refused.
TEST_F(HttpIngressCatalogTest, GitHubsPublishedExampleIsAccepted) {
  const std::string secret = "It's a Secret to Everybody";
  const std::string body = "Hello, World!";
  const std::string signature =
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  ASSERT_EQ("sha256=" + Hex(HmacSha256(secret, body)), signature);
  Endpoint github;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("github", "webhook_secret", secret, &github));
  const std::string delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
  ExpectAck(Ingress(IngressPath(github),
                    {{"X-Hub-Signature-256", signature},
                     {"X-GitHub-Delivery", delivery},
                     {"X-GitHub-Event", "ping"}},
                    body));

  const httplib::Headers bad[] = {
      {{"X-Hub-Signature-256", signature.substr(7)}},
      {{"X-Hub-Signature-256", "sha1=" + signature.substr(7)}},
      {{"X-Hub-Signature-256",
        "sha256=" + Hex(HmacSha256("It's a Secret to Nobody", body))}},
      {{"X-Hub-Signature-256", "sha256=" + std::string(64, '0')}},
      {},
  };
  for (const httplib::Headers& headers : bad) {
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(IngressPath(github, "/api/v3/"), headers, body), 400,
        kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), "x-hub-signature-256"))
        << error.errors[0];
  }
  // One byte changed.
  ExpectErrorEnvelope(
      Ingress(IngressPath(github), {{"X-Hub-Signature-256", signature}},
              "Hello, World?"),
      400, kInvalidSignature);

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(github.id, &events));
  ASSERT_EQ(ProviderIds(events), std::vector<std::string>{delivery});
  EXPECT_EQ(events[0].bytes, body);
  EXPECT_EQ(events[0].Header("x-github-delivery"), delivery);
  ExpectNoSecretHeaders(events[0]);
  auto listing = Events(github.id);
  ASSERT_TRUE(listing);
  EXPECT_FALSE(Contains(listing->body, signature.substr(7)));
}

// X-GitHub-Delivery is the event's id: a redelivery (even of other bytes)
// is acknowledged and not stored again; another delivery of the same bytes
// is a new event.
TEST_F(HttpIngressCatalogTest, GitHubDeliveryHeaderDeduplicates) {
  const std::string secret = "github-webhook-secret-0123";
  Endpoint github;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("github", "webhook_secret", secret, &github));
  auto send = [&](const std::string& delivery, const std::string& body) {
    return Ingress(
        IngressPath(github),
        {{"X-Hub-Signature-256", "sha256=" + Hex(HmacSha256(secret, body))},
         {"X-GitHub-Delivery", delivery}},
        body);
  };
  const std::string body = R"({"zen":"Design for failure.","hook_id":1})";
  ExpectAck(send("delivery-a", body));
  ExpectAck(send("delivery-a", body));
  ExpectAck(send("delivery-a", R"({"zen":"Other bytes.","hook_id":1})"));
  ExpectAck(send("delivery-b", body));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(github.id, &events));
  EXPECT_EQ(ProviderIds(events),
            (std::vector<std::string>{"delivery-b", "delivery-a"}));
  for (const EventItem& event : events) EXPECT_EQ(event.bytes, body);
}

// hmac_sha256 in base64 over "{timestamp}.{body}" with a timestamp header:
// a fresh request passes; a stale or future one, or one signed over other
// bytes or in the other encoding, does not.
TEST_F(HttpIngressCatalogTest, Base64TimestampedVariantRejectsStaleRequests) {
  const std::string secret = "stamped-webhook-secret-0123";
  Endpoint stamped;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("stamped", "webhook_secret", secret, &stamped));
  const std::string path = IngressPath(stamped);
  const std::string body = R"({"id":"stamped-1","kind":"created"})";
  auto mac = [&](const std::string& signed_text) {
    return HmacSha256(secret, signed_text);
  };
  auto headers = [](int64_t at, const std::string& signature) {
    return httplib::Headers{{"X-Timestamp", std::to_string(at)},
                            {"X-Signature", signature}};
  };
  const int64_t now = UnixNow();
  auto payload = [&](int64_t at) { return std::to_string(at) + "." + body; };

  struct Case {
    const char* name;
    httplib::Headers headers;
    const char* mentions;
  };
  const Case rejected[] = {
      {"Stale", headers(now - 301, Base64Encode(mac(payload(now - 301)))),
       "x-timestamp"},
      {"AnHourOld", headers(now - 3600, Base64Encode(mac(payload(now - 3600)))),
       "x-timestamp"},
      {"TenMinutesAhead",
       headers(now + 600, Base64Encode(mac(payload(now + 600)))),
       "x-timestamp"},
      {"HexInsteadOfBase64", headers(now, Hex(mac(payload(now)))),
       "x-signature"},
      {"BodyOnlySigned", headers(now, Base64Encode(mac(body))), "x-signature"},
      {"TimestampChanged", headers(now - 1, Base64Encode(mac(payload(now)))),
       "x-signature"},
      {"NoTimestamp",
       {{"X-Signature", Base64Encode(mac(payload(now)))}},
       "x-timestamp"},
      {"UnpaddedBase64",
       headers(now, Base64Encode(mac(payload(now))).substr(0, 43)),
       "x-signature"},
  };
  for (const Case& c : rejected) {
    SCOPED_TRACE(c.name);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(path, c.headers, body), 400, kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), c.mentions))
        << error.errors[0];
  }
  const int64_t fresh = UnixNow();
  ExpectAck(
      Ingress(path, headers(fresh, Base64Encode(mac(payload(fresh)))), body));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(stamped.id, &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].bytes, body);
  EXPECT_EQ(events[0].Header("x-timestamp"), std::to_string(fresh));
  ExpectNoSecretHeaders(events[0]);
}

// Ed25519 with the public key in a setup field (Discord's model: hex
// signature of timestamp + body): valid passes; a tampered body, another
// key, a signature without the timestamp, or a stale one, do not.
TEST_F(HttpIngressCatalogTest, Ed25519ValidPassesAndTamperedIsRejected) {
  const Ed25519Key key = NewEd25519Key();
  const Ed25519Key other = NewEd25519Key();
  ASSERT_NE(key.key, nullptr);
  ASSERT_NE(other.key, nullptr);
  Endpoint discord;
  ASSERT_NO_FATAL_FAILURE(
      MustCreateWith("discord", "public_key", Hex(key.public_key), &discord));
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(discord.id, &read));
  EXPECT_EQ(read.data, (Data{{"public_key", Hex(key.public_key)}}));

  const std::string path = IngressPath(discord);
  const std::string body =
      R"({"id":"1191174393539346432","application_id":"1191174393539346433",)"
      R"("type":2,"data":{"name":"ping"},"token":"aW50ZXJhY3Rpb24"})";
  auto headers = [](int64_t at, const std::string& signature) {
    return httplib::Headers{{"X-Signature-Timestamp", std::to_string(at)},
                            {"X-Signature-Ed25519", Hex(signature)}};
  };
  const int64_t now = UnixNow();
  const std::string stamp = std::to_string(now);
  std::string tampered = body;
  tampered[tampered.find("ping")] = 'q';

  struct Case {
    const char* name;
    httplib::Headers headers;
    std::string body;
    const char* mentions;
  };
  const Case rejected[] = {
      {"TamperedBody", headers(now, Ed25519Sign(key, stamp + body)), tampered,
       "x-signature-ed25519"},
      {"AnotherKey", headers(now, Ed25519Sign(other, stamp + body)), body,
       "x-signature-ed25519"},
      {"BodyOnlySigned", headers(now, Ed25519Sign(key, body)), body,
       "x-signature-ed25519"},
      {"TimestampChanged", headers(now - 1, Ed25519Sign(key, stamp + body)),
       body, "x-signature-ed25519"},
      {"Stale",
       headers(now - 301, Ed25519Sign(key, std::to_string(now - 301) + body)),
       body, "x-signature-timestamp"},
      {"NoSignature",
       {{"X-Signature-Timestamp", stamp}},
       body,
       "x-signature-ed25519"},
      {"TruncatedSignature",
       {{"X-Signature-Timestamp", stamp},
        {"X-Signature-Ed25519",
         Hex(Ed25519Sign(key, stamp + body)).substr(0, 126)}},
       body,
       "x-signature-ed25519"},
  };
  for (const Case& c : rejected) {
    SCOPED_TRACE(c.name);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(path, c.headers, c.body), 400, kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), c.mentions))
        << error.errors[0];
  }
  ExpectAck(Ingress(path, headers(now, Ed25519Sign(key, stamp + body)), body));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(discord.id, &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].bytes, body);
  EXPECT_EQ(events[0].Header("x-signature-timestamp"), stamp);
  ExpectNoSecretHeaders(events[0]);
}

}  // namespace
}  // namespace webhooks::testing
