// Black-box tests of the ingress (issue 4,
// webhook_ingress/{toolkit}/{id}/trigger_event) against the real binary: the
// spec's check order step by step (404, not configured, bad signature,
// handshake, event), Slack's signature matrix and published example, and
// Notion's token handshake and concurrent handshakes. Signatures are made
// with OpenSSL directly (tests/signer.h), never with the server's own code.
// The schemes a catalog file adds (hmac_sha256, Ed25519) are in
// ingress_catalog_test.cpp; what the ingress stores, and the events listing,
// in events_test.cpp.

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
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
// Ingress: the spec's check order, step by step
// ===========================================================================

class HttpIngressOrderTest : public HttpIngressTest {};

// Step 1: an unknown id (valid format or not), a deleted one, or a toolkit
// in the path that is not the endpoint's: 404, even for a request correctly
// signed for the endpoint; nothing stored.
TEST_F(HttpIngressOrderTest, UnknownMalformedOrForeignToolkitIdsAre404) {
  Endpoint slack;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &slack));
  std::string missing = RandomEndpointId();
  while (missing == slack.id) missing = RandomEndpointId();
  const std::string body = SlackEvent("Ev404000001");
  for (const char* prefix : {"/api/v3/", "/api/v3.1/"}) {
    const std::string paths[] = {
        IngressPathFor("slack", missing, prefix),
        IngressPathFor("slack", "nope", prefix),
        IngressPathFor("slack", "we_short", prefix),
        IngressPathFor("slack", slack.id + "x", prefix),
        IngressPathFor("slack", slack.id.substr(0, 14), prefix),
        IngressPathFor("slack", "WE_" + slack.id.substr(3), prefix),
        IngressPathFor("slack", "we_%00%ff%fe%01abcdefgh", prefix),
        IngressPathFor("slack", "we_%22%5c%0d%0aabcdef", prefix),
        IngressPathFor("notion", slack.id, prefix),
        IngressPathFor("slackbot", slack.id, prefix),
        IngressPathFor("nosuch", slack.id, prefix),
    };
    for (const std::string& path : paths) {
      SCOPED_TRACE(path);
      ExpectErrorEnvelope(SendSlack(path, kSlackSecret, body), 404, kNotFound);
    }
  }

  // A toolkit that is not the endpoint's answers exactly like a missing id:
  // nothing tells a prober that the id exists.
  httplib::Headers headers = SlackHeadersAt(kSlackSecret, UnixNow(), body);
  headers.emplace("x-request-id", "ingress-404-check");
  auto foreign = Ingress(IngressPathFor("notion", slack.id), headers, body);
  auto absent = Ingress(IngressPathFor("notion", missing), headers, body);
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(foreign, 404, kNotFound));
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(absent, 404, kNotFound));
  EXPECT_EQ(ReplaceAll(foreign->body, slack.id, missing), absent->body);

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(slack.id, &events));
  EXPECT_TRUE(events.empty());
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(slack.id, &read));
  EXPECT_TRUE(read.verified_at_is_null);

  // Once deleted, its URL is a 404 too.
  ExpectDeleted(Delete(slack.id));
  ExpectErrorEnvelope(SendSlack(IngressPath(slack), kSlackSecret, body), 404,
                      kNotFound);
}

TEST_F(HttpIngressOrderTest, WrongMethodOnTheIngressIs405WithAllowPost) {
  Endpoint slack;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &slack));
  const std::string path = IngressPath(slack);
  httplib::Client client = NewClient();
  auto get = client.Get(path);
  auto put = client.Put(path, "{}", "application/json");
  auto patch = client.Patch(path, "{}", "application/json");
  auto del = client.Delete(path);
  for (const httplib::Result* result : {&get, &put, &patch, &del}) {
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(*result, 405, "HTTP_MethodNotAllowed"));
    EXPECT_EQ(AllowList((*result)->get_header_value("Allow")),
              std::vector<std::string>{"POST"});
  }
}

// Step 2: no verification secret stored yet is 400 NotConfigured for every
// request, signed (as Slack would, with the secret the endpoint will get)
// or not, event or handshake.
TEST_F(HttpIngressOrderTest, NoSecretStoredYetIs400NotConfigured) {
  Endpoint slack;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &slack));
  const std::string bodies[] = {SlackEvent("EvNoSecret01"),
                                UrlVerification(kSlackChallenge)};
  for (const std::string& body : bodies) {
    for (const char* prefix : {"/api/v3/", "/api/v3.1/"}) {
      SCOPED_TRACE(std::string(prefix) + " " + body);
      ErrorBody error;
      ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
          SendSlack(IngressPath(slack, prefix), kSlackSecret, body), 400,
          kNotConfigured, &error));
      EXPECT_TRUE(Contains(error.message, kSigning)) << error.message;
      ExpectErrorEnvelope(Ingress(IngressPath(slack, prefix), {}, body), 400,
                          kNotConfigured);
    }
  }
  // The app token is not the signing secret.
  Endpoint patched;
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      slack.id, DataBody({{kAppToken, "xapp-1-A0123456789-tok"}}), &patched));
  ExpectErrorEnvelope(
      SendSlack(IngressPath(slack), kSlackSecret, SlackEvent("EvNoSecret02")),
      400, kNotConfigured);

  // Notion: before its verification_token handshake, an event (even one
  // that looks signed) is refused the same way.
  Endpoint notion;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &notion));
  const std::string event = NotionEvent("evt-before-handshake");
  ExpectErrorEnvelope(
      Ingress(IngressPath(notion),
              {{kNotionSignatureHeader,
                "sha256=" + Hex(HmacSha256("secret_guess", event))}},
              event),
      400, kNotConfigured);
  // A verification_token that cannot be a token is no handshake.
  ExpectErrorEnvelope(
      Ingress(IngressPath(notion), {}, R"({"verification_token":""})"), 400,
      kNotConfigured);

  for (const Endpoint* endpoint : {&slack, &notion}) {
    std::vector<EventItem> events;
    ASSERT_NO_FATAL_FAILURE(MustListEvents(endpoint->id, &events));
    EXPECT_TRUE(events.empty());
    Endpoint read;
    ASSERT_NO_FATAL_FAILURE(MustRead(endpoint->id, &read));
    EXPECT_TRUE(read.verified_at_is_null);
  }
}

// Step 3: a signature made with another secret is 400 InvalidSignature,
// with errors[0] naming the header (and never echoing a secret), for
// events and handshakes alike; nothing is stored or verified.
TEST_F(HttpIngressOrderTest, BadSignatureIs400WithAUsefulError) {
  Endpoint slack;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &slack));
  const std::string bodies[] = {SlackEvent("EvBadSig0001"),
                                UrlVerification(kSlackChallenge)};
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    const httplib::Headers headers =
        SlackHeadersAt(kOtherSecret, UnixNow(), body);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(Ingress(IngressPath(slack), headers, body), 400,
                            kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u) << Join(error.errors);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), "x-slack-signature"))
        << error.errors[0];
    const std::string sent = headers.find(kSlackSignatureHeader)->second;
    for (const std::string& secret :
         {std::string(kSlackSecret), std::string(kOtherSecret), sent,
          sent.substr(3)}) {
      EXPECT_FALSE(Contains(error.message + Join(error.errors), secret));
    }
  }
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(slack.id, &events));
  EXPECT_TRUE(events.empty());
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(slack.id, &read));
  EXPECT_TRUE(read.verified_at_is_null);
}

// Step 4: Slack's url_verification, signed, answers the challenge and sets
// verified_at once. Slack sends it again whenever someone re-enters the
// Request URL (issue 17, 2026-12-02: the repeat used to be refused for good,
// so the URL could never be saved again): every repeat is answered with its
// own challenge, and verified_at keeps its first time.
TEST_F(HttpIngressOrderTest, SlackHandshakeAnswersTheChallengeAndVerifiesOnce) {
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &before));
  EXPECT_TRUE(before.verified_at_is_null);

  ExpectChallenge(SendSlack(IngressPath(created), kSlackSecret,
                            UrlVerification(kSlackChallenge)),
                  kSlackChallenge);
  Endpoint verified;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &verified));
  ASSERT_FALSE(verified.verified_at_is_null) << verified.raw_body;
  const std::string verified_at = VerifiedAt(verified);
  EXPECT_TRUE(HasShape(verified_at, "9999-99-99T99:99:99.999Z")) << verified_at;
  EXPECT_LE(std::abs(SecondsFromNow(verified_at)), 60.0) << verified_at;
  EXPECT_GE(verified_at, created.created_at);
  // Nothing else about the endpoint changed.
  EXPECT_EQ(ReplaceAll(verified.raw_body, JsonString(verified_at), "null"),
            before.raw_body);

  // Repeats, under both prefixes, each with a challenge of its own: each
  // answered with its own, and the endpoint unchanged (verified_at first).
  for (const char* prefix : {"/api/v3/", "/api/v3.1/"}) {
    SCOPED_TRACE(prefix);
    const std::string challenge =
        "again-" + std::to_string(std::string(prefix).size()) + "-0123";
    ExpectChallenge(SendSlack(IngressPath(created, prefix), kSlackSecret,
                              UrlVerification(challenge)),
                    challenge);
    Endpoint again;
    ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &again));
    EXPECT_EQ(VerifiedAt(again), verified_at);
    EXPECT_EQ(again.raw_body, verified.raw_body);
  }
  // Unsigned or badly signed, a repeat is still refused.
  ExpectErrorEnvelope(Ingress(IngressPath(created), {},
                              UrlVerification("unsigned-challenge-0123")),
                      400, kInvalidSignature);
  ExpectErrorEnvelope(SendSlack(IngressPath(created), kOtherSecret,
                                UrlVerification("forged-challenge-0123")),
                      400, kInvalidSignature);

  // Handshakes are not events; events are accepted after one.
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_TRUE(events.empty());
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret,
                      SlackEvent("EvAfterHandshake")));
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_EQ(ProviderIds(events), std::vector<std::string>{"EvAfterHandshake"});
}

// Step 5: a signed event is answered 200 {} under both prefixes and stored
// with what the provider sent.
TEST_F(HttpIngressOrderTest,
       SignedEventIsAcknowledgedWithEmptyObjectAndStored) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string first = SlackEvent("EvFirst00001", "caf\u00e9 \u6f22");
  const std::string second = SlackEvent("EvSecond0002");
  const int64_t now = UnixNow();
  ExpectAck(Ingress(IngressPath(created, "/api/v3.1/"),
                    SlackHeadersAt(kSlackSecret, now, first), first));
  ExpectAck(Ingress(IngressPath(created, "/api/v3/"),
                    SlackHeadersAt(kSlackSecret, now, second), second));

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  ASSERT_EQ(ProviderIds(events),
            (std::vector<std::string>{"EvSecond0002", "EvFirst00001"}));
  EXPECT_NE(events[0].id, events[1].id);
  EXPECT_EQ(events[0].bytes, second);
  EXPECT_EQ(events[1].bytes, first);
  for (const EventItem& event : events) {
    SCOPED_TRACE(event.provider_event_id);
    EXPECT_EQ(event.body_encoding, "utf-8");
    EXPECT_LE(std::abs(SecondsFromNow(event.received_at)), 60.0)
        << event.received_at;
    EXPECT_EQ(event.Header("x-slack-request-timestamp"), std::to_string(now));
    EXPECT_EQ(MediaType(event.Header("content-type")), "application/json");
    ExpectNoSecretHeaders(event);
  }
}

// The ingress is authenticated by the signature alone: no key is needed,
// and a key sent (any key, both key headers) neither stands in for a
// signature nor gets the request refused.
TEST_F(HttpIngressOrderTest, NeedsNoApiKeyAndIgnoresOneSent) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const httplib::Headers keys[] = {
      {},
      {{"x-api-key", key_}},
      {{"x-api-key", RandomKey()}},
      {{"x-api-key", key_}, {"x-user-api-key", RandomKey()}},
  };
  std::vector<std::string> stored;
  for (size_t i = 0; i < std::size(keys); ++i) {
    SCOPED_TRACE(i);
    const std::string good = SlackEvent("EvKey" + std::to_string(i));
    ExpectAck(SendSlack(IngressPath(created), kSlackSecret, good, 0, keys[i]));
    stored.insert(stored.begin(), "EvKey" + std::to_string(i));
    const std::string bad = SlackEvent("EvKeyBad" + std::to_string(i));
    ExpectErrorEnvelope(
        SendSlack(IngressPath(created), kOtherSecret, bad, 0, keys[i]), 400,
        kInvalidSignature);
  }
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_EQ(ProviderIds(events), stored);
}

// With configured keys, the ingress still needs none (a provider has no
// key), while the events listing needs a configured one.
TEST_F(HttpIngressOrderTest, ConfiguredKeysAreNotNeededByTheIngress) {
  ASSERT_TRUE(StartServer({"--api-key", "k-one"}));
  Endpoint created, patched;
  ASSERT_NO_FATAL_FAILURE(MustCreateAs("k-one", "slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      PatchAs("k-one", created.id, DataBody({{kSigning, kSlackSecret}})), 200,
      &patched));
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret, SlackEvent("EvC1")));
  ExpectAck(SendSlack(IngressPath(created), kSlackSecret, SlackEvent("EvC2"), 0,
                      {{"x-api-key", "not-a-configured-key"}}));
  EventPage page;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEventPage(EventsAs("k-one", created.id), &page));
  EXPECT_EQ(ProviderIds(page.items),
            (std::vector<std::string>{"EvC2", "EvC1"}));
  ExpectErrorEnvelope(EventsAs("not-a-configured-key", created.id), 401,
                      "HTTP_Unauthorized");
}

// ===========================================================================
// Ingress: the Slack signature matrix over HTTP
// ===========================================================================

class HttpIngressSlackTest : public HttpIngressTest {};

// test-vectors.md: Slack's "Verifying requests from Slack" example. The
// test's signer reproduces it; over HTTP the real clock refuses its 2018
// timestamp, and the same body signed now passes.
TEST_F(HttpIngressSlackTest, SlacksPublishedExampleIsStaleOnTheRealClock) {
  const std::string secret = "8f742231b10e8888abcd99yyyzzz85a5";
  const std::string timestamp = "1531420618";
  const std::string body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain="
      "testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id="
      "U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
      "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
      "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015."
      "47445629121.803a0bc887a14d10d2c447fce8b6703c";
  const std::string signature =
      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
  ASSERT_EQ(SlackSignatureOf(secret, timestamp, body), signature);

  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created, secret));
  const std::string form = "application/x-www-form-urlencoded";
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(Ingress(IngressPath(created),
                                  {{kSlackTimestampHeader, timestamp},
                                   {kSlackSignatureHeader, signature}},
                                  body, form),
                          400, kInvalidSignature, &error));
  ASSERT_EQ(error.errors.size(), 1u) << Join(error.errors);
  EXPECT_TRUE(Contains(Lower(error.errors[0]), "x-slack-request-timestamp"))
      << error.errors[0];

  ExpectAck(SendSlack(IngressPath(created), secret, body, 0, {}, form));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].bytes, body);
  EXPECT_EQ(MediaType(events[0].Header("content-type")), form);
}

// Every way a Slack request can fail its check is 400 InvalidSignature
// (never 5xx) naming the header at fault; only the timestamps within 300 s
// pass; and exactly the requests answered 200 are stored.
TEST_F(HttpIngressSlackTest, SlackSignatureMatrix) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string path = IngressPath(created);
  int counter = 0;
  auto next_event = [&counter] {
    return SlackEvent("EvMatrix" + std::to_string(++counter));
  };
  std::vector<std::string> answered_200;

  struct Rejected {
    std::string name;
    httplib::Headers headers;
    std::string body;
    std::string mentions;  // lower-case, in errors[0]
  };
  std::vector<Rejected> cases;
  auto add = [&](std::string name, const std::string& header,
                 std::optional<std::string> value) {
    const std::string body = next_event();
    httplib::Headers headers = SlackHeadersAt(kSlackSecret, UnixNow(), body);
    cases.push_back({std::move(name), WithHeader(headers, header, value), body,
                     Lower(header)});
  };
  {
    const std::string body = next_event();
    std::string changed = body;
    changed[changed.find("hello")] = 'j';
    cases.push_back({"OneBodyByteChanged",
                     SlackHeadersAt(kSlackSecret, UnixNow(), body), changed,
                     "x-slack-signature"});
  }
  {
    const std::string body = next_event();
    cases.push_back({"AnotherSecret",
                     SlackHeadersAt(kOtherSecret, UnixNow(), body), body,
                     "x-slack-signature"});
  }
  {
    // Signed for one second, sent as another.
    const std::string body = next_event();
    const int64_t now = UnixNow();
    cases.push_back({"TimestampChangedAfterSigning",
                     WithHeader(SlackHeadersAt(kSlackSecret, now, body),
                                kSlackTimestampHeader, std::to_string(now - 1)),
                     body, "x-slack-signature"});
  }
  add("MissingSignature", kSlackSignatureHeader, std::nullopt);
  add("MissingTimestamp", kSlackTimestampHeader, std::nullopt);
  add("EmptySignature", kSlackSignatureHeader, "");
  add("EmptyTimestamp", kSlackTimestampHeader, "");
  add("NonHexSignature", kSlackSignatureHeader, "v0=" + std::string(64, 'g'));
  add("ShortSignature", kSlackSignatureHeader, "v0=" + std::string(62, 'a'));
  add("SignatureWithoutPrefix", kSlackSignatureHeader, std::string(64, 'a'));
  add("SignatureWithV1Prefix", kSlackSignatureHeader,
      "v1=" + std::string(64, 'a'));
  add("OverLongSignature", kSlackSignatureHeader,
      "v0=" + std::string(1997, 'a'));
  add("OverLongTimestamp", kSlackTimestampHeader, std::string(2000, '1'));
  add("NonNumericTimestamp", kSlackTimestampHeader, "yesterday");
  add("NegativeTimestamp", kSlackTimestampHeader, "-1531420618");
  add("HugeTimestamp", kSlackTimestampHeader, "99999999999999999999999");
  add("FractionalTimestamp", kSlackTimestampHeader,
      std::to_string(UnixNow()) + ".5");

  for (const Rejected& c : cases) {
    SCOPED_TRACE(c.name);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(path, c.headers, c.body), 400, kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u) << Join(error.errors);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), c.mentions))
        << error.errors[0];
  }

  // The ±300 s window. The server reads its clock while the request is in
  // flight, so an attempt decides only if the second did not change
  // meanwhile (else it is repeated, at most five times).
  for (const int64_t offset :
       {int64_t{-301}, int64_t{-299}, int64_t{0}, int64_t{299}, int64_t{301}}) {
    SCOPED_TRACE(offset);
    bool decided = false;
    for (int attempt = 0; attempt < 5 && !decided; ++attempt) {
      const std::string body = next_event();
      const int64_t before = UnixNow();
      auto result = Ingress(
          path, SlackHeadersAt(kSlackSecret, before + offset, body), body);
      const int64_t after = UnixNow();
      ASSERT_TRUE(result) << httplib::to_string(result.error());
      if (result->status == 200) {
        answered_200.push_back("EvMatrix" + std::to_string(counter));
      }
      if (before != after) continue;
      decided = true;
      if (offset > -300 && offset < 300) {
        ExpectAck(result);
      } else {
        ErrorBody error;
        ASSERT_NO_FATAL_FAILURE(
            ExpectErrorEnvelope(result, 400, kInvalidSignature, &error));
        ASSERT_EQ(error.errors.size(), 1u) << Join(error.errors);
        EXPECT_TRUE(
            Contains(Lower(error.errors[0]), "x-slack-request-timestamp"))
            << error.errors[0];
      }
    }
    EXPECT_TRUE(decided);
  }

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  std::vector<std::string> stored = ProviderIds(events);
  std::sort(stored.begin(), stored.end());
  std::sort(answered_200.begin(), answered_200.end());
  EXPECT_EQ(stored, answered_200);
  EXPECT_GE(answered_200.size(), 3u);
}

// Odd bytes and sizes in the signature headers, sent raw: 400 (or 431 for
// a header line past the server's limit), never 5xx, and the server keeps
// serving.
TEST_F(HttpIngressSlackTest, MalformedOrOversizedSignatureHeadersNeverCrashIt) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string path = IngressPath(created);
  const std::string body = SlackEvent("EvRawHeaders");
  const std::string stamp = std::to_string(UnixNow());
  const std::string good = SlackSignatureOf(kSlackSecret, stamp, body);
  const std::string signatures[] = {
      "v0=\xff\xfe" + std::string(62, 'a'),
      "v0=" + good.substr(3, 32) + " " + good.substr(35),
      "v0=" + good.substr(3, 32) + "\t" + good.substr(35),
      "v0=" + Repeat("%00", 64),
      "v0=" + Repeat("%41", 64),
      "v0=" + good.substr(3) + "00",
      good + "," + good,
      std::string(20000, 'a'),
  };
  for (const std::string& signature : signatures) {
    SCOPED_TRACE(signature.substr(0, 80));
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    connection.Send(
        RawRequest("POST", path,
                   "Content-Type: application/json\r\n"
                   "X-Slack-Request-Timestamp: " +
                       stamp + "\r\nX-Slack-Signature: " + signature + "\r\n",
                   body));
    Reply reply;
    ASSERT_TRUE(connection.ReadResponse(&reply));
    EXPECT_TRUE(reply.status == 400 || reply.status == 431) << reply.status;
    if (reply.status == 400) {
      ErrorBody error;
      ExpectErrorEnvelope(
          reply, 400,
          reply.body.find(kInvalidSignature) == std::string::npos
              ? "HTTP_BadRequest"
              : kInvalidSignature,
          &error);
    }
  }
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_TRUE(events.empty());
  ExpectAck(SendSlack(path, kSlackSecret, body));
}

// A body over the limit is 413 before anything is verified or stored; one
// at the limit is stored whole; the server keeps serving.
TEST_F(HttpIngressSlackTest, BodyOverTheLimitIs413AndOneAtTheLimitIsStored) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string path = IngressPath(created);
  auto padded_event = [](const std::string& event_id, size_t size) {
    std::string body = SlackEvent(event_id);
    body.insert(body.size() - 1, ",\"pad\":\"\"");
    body.insert(body.size() - 2, size - body.size(), 'p');
    return body;
  };
  const std::string over = padded_event("EvTooBig0001", 65537);
  ASSERT_EQ(over.size(), 65537u);
  {
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    const std::string stamp = std::to_string(UnixNow());
    // The server may answer and close before reading the body.
    connection.Send(RawRequest(
        "POST", path,
        "Content-Type: application/json\r\nX-Slack-Request-Timestamp: " +
            stamp + "\r\nX-Slack-Signature: " +
            SlackSignatureOf(kSlackSecret, stamp, over) + "\r\n",
        over));
    Reply reply;
    ASSERT_TRUE(connection.ReadResponse(&reply));
    ExpectErrorEnvelope(reply, 413, "HTTP_PayloadTooLarge");
  }
  const std::string at_limit = padded_event("EvAtLimit001", 65536);
  ASSERT_EQ(at_limit.size(), 65536u);
  ExpectAck(SendSlack(path, kSlackSecret, at_limit));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  ASSERT_EQ(ProviderIds(events), std::vector<std::string>{"EvAtLimit001"});
  EXPECT_EQ(events[0].bytes, at_limit);
}

// ===========================================================================
// Ingress: handshakes (Notion's token, concurrent handshakes)
// ===========================================================================

class HttpIngressHandshakeTest : public HttpIngressTest {};

// The first request carries the verification token, unsigned; it becomes
// the endpoint's secret (masked whenever read), and later events are signed
// with it. A second handshake is refused and changes nothing.
TEST_F(HttpIngressHandshakeTest, NotionHandshakeThenEventsSignedWithTheToken) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  const std::string path = IngressPath(created);
  const std::string token = "secret_tok_" + RandomKey().substr(5);
  auto sign = [](const std::string& key, const std::string& body) {
    return httplib::Headers{
        {kNotionSignatureHeader, "sha256=" + Hex(HmacSha256(key, body))}};
  };

  auto handshake =
      Ingress(path, {}, R"({"verification_token":)" + JsonString(token) + "}");
  ASSERT_TRUE(handshake) << httplib::to_string(handshake.error());
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_NO_FATAL_FAILURE(
      ExpectJsonObject(ToReply(handshake), 200, &parser, &object));
  EXPECT_FALSE(Contains(handshake->body, token));

  Endpoint verified;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &verified));
  ASSERT_FALSE(verified.verified_at_is_null) << verified.raw_body;
  EXPECT_LE(std::abs(SecondsFromNow(VerifiedAt(verified))), 60.0);
  // The token is the handshake's, not a setup field: data does not show
  // it; our verification_token does, right after the handshake, for the
  // owner to paste into Notion's setup (issue 17).
  EXPECT_TRUE(verified.data_is_null) << verified.raw_body;
  EXPECT_EQ(verified.verification_token, token) << verified.raw_body;

  const std::string first = NotionEvent("evt-notion-0001");
  ExpectAck(Ingress(path, sign(token, first), first));
  // Wrong key, no header, no prefix, upper-case prefix: 400.
  const std::string second = NotionEvent("evt-notion-0002");
  const std::string hex = Hex(HmacSha256(token, second));
  const httplib::Headers bad[] = {
      sign("secret_not_the_token_0123", second),
      {},
      {{kNotionSignatureHeader, hex}},
      {{kNotionSignatureHeader, "sha256=" + hex.substr(2)}},
      {{kNotionSignatureHeader, "sha1=" + hex}},
  };
  for (const httplib::Headers& headers : bad) {
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Ingress(path, headers, second), 400, kInvalidSignature, &error));
    ASSERT_EQ(error.errors.size(), 1u);
    EXPECT_TRUE(Contains(Lower(error.errors[0]), "x-notion-signature"))
        << error.errors[0];
  }

  // A second handshake, signed with the token it already has, carrying a
  // new one: AlreadyVerified. Unsigned, it fails the signature check,
  // which the spec puts before handshakes. Either way nothing changes: the
  // old token still signs, the new one does not.
  const std::string again =
      R"({"verification_token":"secret_tok_the_second_one_0123"})";
  ExpectErrorEnvelope(Ingress(path, sign(token, again), again), 400,
                      kAlreadyVerified);
  ExpectErrorEnvelope(Ingress(path, {}, again), 400, kInvalidSignature);
  Endpoint after;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
  EXPECT_EQ(after.raw_body, verified.raw_body);
  ExpectErrorEnvelope(
      Ingress(path, sign("secret_tok_the_second_one_0123", second), second),
      400, kInvalidSignature);
  ExpectAck(Ingress(path, sign(token, second), second));

  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_EQ(ProviderIds(events),
            (std::vector<std::string>{"evt-notion-0002", "evt-notion-0001"}));
  EXPECT_EQ(events[0].bytes, second);
  EXPECT_EQ(events[1].bytes, first);
  for (const EventItem& event : events) ExpectNoSecretHeaders(event);
  server_->Stop();  // the log is complete once the server has exited
  EXPECT_FALSE(Contains(server_->Stderr(), token));
}

// Ten url_verification handshakes at once: every one is answered with its
// own challenge, and the endpoint is verified (once: one time stays).
TEST_F(HttpIngressHandshakeTest, ConcurrentSlackHandshakesVerifyOnce) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  const std::string path = IngressPath(created);
  const std::vector<Reply> replies =
      SendConcurrently(10, [&](size_t i, httplib::Client& client) {
        const std::string body =
            UrlVerification("challenge-" + std::to_string(i));
        return client.Post(path, SlackHeadersAt(kSlackSecret, UnixNow(), body),
                           body, "application/json");
      });
  for (size_t i = 0; i < replies.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(replies[i].status, 200) << replies[i].body;
    EXPECT_EQ(replies[i].body,
              R"({"challenge":"challenge-)" + std::to_string(i) + "\"}");
  }
  Endpoint first, later;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &first));
  ASSERT_FALSE(first.verified_at_is_null) << first.raw_body;
  ExpectChallenge(SendSlack(path, kSlackSecret, UrlVerification("late-0123")),
                  "late-0123");
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &later));
  EXPECT_EQ(VerifiedAt(later), VerifiedAt(first));
}

// Ten Notion handshakes at once, each with its own token: exactly one is
// accepted, and its token, alone, signs events afterwards. A loser that
// finds the winner's token stored is an unsigned request to a configured
// endpoint, which the spec's order refuses as a bad signature; one that
// raced the winner to the store is AlreadyVerified. Either way, 400.
TEST_F(HttpIngressHandshakeTest, ConcurrentNotionHandshakesKeepOneToken) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  const std::string path = IngressPath(created);
  auto token = [](size_t i) {
    return "secret_concurrent_token_" + std::to_string(i);
  };
  const std::vector<Reply> replies =
      SendConcurrently(10, [&](size_t i, httplib::Client& client) {
        return client.Post(
            path, R"({"verification_token":)" + JsonString(token(i)) + "}",
            "application/json");
      });
  std::vector<size_t> accepted;
  for (size_t i = 0; i < replies.size(); ++i) {
    SCOPED_TRACE(i);
    if (replies[i].status == 200) {
      accepted.push_back(i);
    } else {
      const bool raced = Contains(replies[i].body, kAlreadyVerified);
      ExpectErrorEnvelope(replies[i], 400,
                          raced ? kAlreadyVerified : kInvalidSignature);
    }
  }
  ASSERT_EQ(accepted.size(), 1u);
  const std::string event = NotionEvent("evt-after-race");
  for (size_t i = 0; i < replies.size(); ++i) {
    SCOPED_TRACE(i);
    auto result = Ingress(path,
                          {{kNotionSignatureHeader,
                            "sha256=" + Hex(HmacSha256(token(i), event))}},
                          event);
    if (i == accepted[0]) {
      ExpectAck(result);
    } else {
      ExpectErrorEnvelope(result, 400, kInvalidSignature);
    }
  }
}

// A replace with no data on a verified Notion endpoint must not leave it
// unable to receive anything: the token came from the handshake, not from
// setup data (Notion has no setup fields), so either it is kept, or the
// endpoint can be verified again.
TEST_F(HttpIngressHandshakeTest,
       NotionEndpointStaysUsableAfterAReplaceWithNoData) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  const std::string path = IngressPath(created);
  const std::string token = "secret_tok_replace_0123456789";
  ASSERT_NO_FATAL_FAILURE(ExpectAck(Ingress(
      path, {}, R"({"verification_token":)" + JsonString(token) + "}")));
  Endpoint replaced;
  ASSERT_NO_FATAL_FAILURE(MustReplace(created.id, R"({"data":{}})", &replaced));

  const std::string event = NotionEvent("evt-after-replace");
  auto signed_event = Ingress(
      path,
      {{kNotionSignatureHeader, "sha256=" + Hex(HmacSha256(token, event))}},
      event);
  ASSERT_TRUE(signed_event);
  if (signed_event->status == 200) {
    ExpectAck(signed_event);  // the token was kept
    return;
  }
  // Else the token is gone, and a new handshake must be possible.
  const std::string fresh = "secret_tok_second_0123456789";
  auto handshake =
      Ingress(path, {}, R"({"verification_token":)" + JsonString(fresh) + "}");
  ASSERT_TRUE(handshake);
  EXPECT_EQ(handshake->status, 200)
      << "after the replace, events signed with the handshake token got "
      << signed_event->status << " " << signed_event->body
      << "\nand a new handshake got " << handshake->status << " "
      << handshake->body;
  ExpectAck(Ingress(
      path,
      {{kNotionSignatureHeader, "sha256=" + Hex(HmacSha256(fresh, event))}},
      event));
}

// ===========================================================================
// Issue 17: the providers' lifecycles (reset_verification, Notion's token),
// the ingress's log lines, and 25 MiB events
// ===========================================================================

class HttpIngressLifecycleTest : public HttpIngressTest {
 protected:
  httplib::Result ResetAs(const std::string& key, const std::string& id,
                          const char* collection = kCreatePath) {
    return NewClient().Post(ItemPath(id, collection) + "/reset_verification",
                            KeyHeaders(key), "", "application/json");
  }
  httplib::Result Reset(const std::string& id) { return ResetAs(key_, id); }

  static httplib::Headers NotionSigned(const std::string& token,
                                       const std::string& body) {
    return {{kNotionSignatureHeader, "sha256=" + Hex(HmacSha256(token, body))}};
  }
  httplib::Result NotionHandshake(const std::string& path,
                                  const std::string& token) {
    return Ingress(path, {},
                   R"({"verification_token":)" + JsonString(token) + "}");
  }

  // The lines of the server's log that contain `needle`; the server is
  // stopped first, so the log is complete.
  std::vector<std::string> LogLinesWith(const std::string& needle) {
    server_->Stop();
    std::vector<std::string> lines;
    std::string log = server_->Stderr();
    size_t start = 0;
    while (start < log.size()) {
      size_t end = log.find('\n', start);
      if (end == std::string::npos) end = log.size();
      std::string line = log.substr(start, end - start);
      if (Contains(line, needle)) lines.push_back(std::move(line));
      start = end + 1;
    }
    return lines;
  }
};

// Notion: whoever posts the first token owns the endpoint, so its project
// must see the token (Notion's setup asks for it back) and be able to start
// over. The token shows in verification_token after the handshake; reset
// clears it with verified_at, events signed with it are refused from then
// on, and a new handshake verifies the endpoint again under the same URL.
// Another project's reset is a 404 that changes nothing.
TEST_F(HttpIngressLifecycleTest, NotionTokenShownThenResetForANewHandshake) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  EXPECT_TRUE(created.has_verification_token) << created.raw_body;
  EXPECT_FALSE(created.verification_token.has_value()) << created.raw_body;
  const std::string path = IngressPath(created);
  const std::string first = "secret_tok_first_" + RandomKey().substr(5);
  const std::string second = "secret_tok_second_" + RandomKey().substr(5);

  ExpectAck(NotionHandshake(path, first));
  Endpoint verified;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &verified));
  EXPECT_FALSE(verified.verified_at_is_null);
  EXPECT_EQ(verified.verification_token, first) << verified.raw_body;
  EXPECT_TRUE(verified.data_is_null) << verified.raw_body;
  const std::string event = NotionEvent("evt-lifecycle-1");
  ExpectAck(Ingress(path, NotionSigned(first, event), event));

  // Another project: its reset and its read are 404, and nothing changes.
  const std::string other = RandomKey();
  for (const char* collection : {kCreatePath, "/api/v3/webhook_endpoints"}) {
    ExpectErrorEnvelope(ResetAs(other, created.id, collection), 404,
                        "WebhookEndpoint_NotFound");
  }
  ExpectErrorEnvelope(RetrieveAs(other, created.id), 404,
                      "WebhookEndpoint_NotFound");
  Endpoint unchanged;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &unchanged));
  EXPECT_EQ(unchanged.raw_body, verified.raw_body);
  const std::string event2 = NotionEvent("evt-lifecycle-2");
  ExpectAck(Ingress(path, NotionSigned(first, event2), event2));

  // The owner's reset, under the v3 twin: verified_at and the token gone.
  Endpoint reset;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      ResetAs(key_, created.id, "/api/v3/webhook_endpoints"), 200, &reset));
  EXPECT_TRUE(reset.verified_at_is_null) << reset.raw_body;
  EXPECT_FALSE(reset.verification_token.has_value()) << reset.raw_body;
  EXPECT_EQ(reset.webhook_url, created.webhook_url);
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.raw_body, reset.raw_body);
  const std::string event3 = NotionEvent("evt-lifecycle-3");
  ExpectErrorEnvelope(Ingress(path, NotionSigned(first, event3), event3), 400,
                      "WebhookIngress_NotConfigured");

  // A new handshake, with a new token: verified again, the new token shown,
  // and only it signs.
  ExpectAck(NotionHandshake(path, second));
  Endpoint again;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &again));
  EXPECT_FALSE(again.verified_at_is_null);
  EXPECT_GE(VerifiedAt(again), VerifiedAt(verified));
  EXPECT_EQ(again.verification_token, second) << again.raw_body;
  ExpectErrorEnvelope(Ingress(path, NotionSigned(first, event3), event3), 400,
                      kInvalidSignature);
  ExpectAck(Ingress(path, NotionSigned(second, event3), event3));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(created.id, &events));
  EXPECT_EQ(ProviderIds(events),
            (std::vector<std::string>{"evt-lifecycle-3", "evt-lifecycle-2",
                                      "evt-lifecycle-1"}));
  // Never in the log.
  for (const std::string& token : {first, second}) {
    EXPECT_TRUE(LogLinesWith(token).empty()) << token;
  }
}

// Slack: reset clears verified_at and keeps the signing secret the project
// set, so Slack's next url_verification, signed with it, verifies again.
TEST_F(HttpIngressLifecycleTest, SlackResetKeepsTheSigningSecret) {
  Endpoint created, verified, reset, again;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &created));
  ExpectChallenge(SendSlack(IngressPath(created), kSlackSecret,
                            UrlVerification("first-0123")),
                  "first-0123");
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &verified));
  ASSERT_FALSE(verified.verified_at_is_null);
  EXPECT_FALSE(verified.has_verification_token) << verified.raw_body;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(Reset(created.id), 200, &reset));
  EXPECT_TRUE(reset.verified_at_is_null) << reset.raw_body;
  EXPECT_EQ(reset.data, verified.data);
  ExpectChallenge(SendSlack(IngressPath(created), kSlackSecret,
                            UrlVerification("second-0123")),
                  "second-0123");
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &again));
  EXPECT_FALSE(again.verified_at_is_null);
  EXPECT_GE(VerifiedAt(again), VerifiedAt(verified));
  // A missing or malformed id is 404 like another project's.
  ExpectErrorEnvelope(Reset(RandomEndpointId()), 404,
                      "WebhookEndpoint_NotFound");
  ExpectErrorEnvelope(Reset("nope"), 404, "WebhookEndpoint_NotFound");
  ExpectErrorEnvelope(ResetAs("", created.id), 401, "HTTP_Unauthorized");
}

// A refused ingress request logs one line naming the endpoint and why;
// never the signature, the secret or the body.
TEST_F(HttpIngressLifecycleTest, RefusalsLogTheEndpointAndTheReason) {
  Endpoint slack, bare;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &slack));
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c2", &bare));
  const std::string body = SlackEvent("EvLogged1", "body-text-not-for-logs");
  const httplib::Headers forged = SlackHeadersAt(kOtherSecret, UnixNow(), body);
  const std::string signature = forged.find(kSlackSignatureHeader)->second;
  ExpectErrorEnvelope(Ingress(IngressPath(slack), forged, body), 400,
                      kInvalidSignature);
  ExpectErrorEnvelope(
      SendSlack(IngressPath(slack), kSlackSecret, body, /*offset=*/-400), 400,
      kInvalidSignature);
  ExpectErrorEnvelope(SendSlack(IngressPath(bare), kSlackSecret, body), 400,
                      "WebhookIngress_NotConfigured");

  const std::vector<std::string> refused =
      LogLinesWith("ingress " + slack.id + " refused");
  ASSERT_EQ(refused.size(), 2u) << server_->Stderr();
  EXPECT_TRUE(Contains(refused[0], "X-Slack-Signature header does not match"))
      << refused[0];
  // How far, and which way (a second may tick between send and check).
  EXPECT_TRUE(Contains(refused[1], "is 400 seconds behind") ||
              Contains(refused[1], "is 401 seconds behind"))
      << refused[1];
  const std::vector<std::string> unconfigured =
      LogLinesWith("ingress " + bare.id + " refused");
  ASSERT_EQ(unconfigured.size(), 1u) << server_->Stderr();
  EXPECT_TRUE(Contains(unconfigured[0], "no secret stored")) << unconfigured[0];
  const std::string log = server_->Stderr();
  for (const std::string& secret :
       {signature, signature.substr(3), std::string(kSlackSecret),
        std::string(kOtherSecret), std::string("body-text-not-for-logs")}) {
    EXPECT_FALSE(Contains(log, secret)) << secret;
  }
}

// At --log-level debug an accepted event logs its ids, its size and
// whether it was a retry; at the default level it does not.
TEST_F(HttpIngressLifecycleTest, DebugLevelLogsAcceptedEvents) {
  Endpoint slack;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &slack));
  const std::string body = SlackEvent("EvDebug1");
  ExpectAck(SendSlack(IngressPath(slack), kSlackSecret, body));
  EXPECT_TRUE(LogLinesWith("ingress " + slack.id + " accepted").empty());

  ASSERT_TRUE(StartServer({"--log-level", "debug"}));
  const std::string body2 = SlackEvent("EvDebug2");
  ExpectAck(SendSlack(IngressPath(slack), kSlackSecret, body2));
  ExpectAck(SendSlack(IngressPath(slack), kSlackSecret, body2));
  std::vector<EventItem> events;
  ASSERT_NO_FATAL_FAILURE(MustListEvents(slack.id, &events));
  ASSERT_EQ(ProviderIds(events),
            (std::vector<std::string>{"EvDebug2", "EvDebug1"}));
  const std::vector<std::string> accepted =
      LogLinesWith("ingress " + slack.id + " accepted");
  ASSERT_EQ(accepted.size(), 2u) << server_->Stderr();
  for (const std::string& line : accepted) {
    EXPECT_TRUE(Contains(line, "\"provider_event_id\":\"EvDebug2\"")) << line;
    EXPECT_TRUE(Contains(line, "\"bytes\":" + std::to_string(body2.size())))
        << line;
  }
  EXPECT_TRUE(Contains(accepted[0], "\"event_id\":\"" + events[0].id + "\""))
      << accepted[0];
  EXPECT_TRUE(Contains(accepted[0], "\"duplicate\":false")) << accepted[0];
  EXPECT_TRUE(Contains(accepted[1], "\"duplicate\":true")) << accepted[1];
}

// --max-body reaches 25 MiB, GitHub's limit: an event just under it is
// accepted, stored and listed byte for byte (on SQLite and, in the pg.
// run, PostgreSQL); one over it is a 413 in the error format, refused
// before its body is read.
TEST_F(HttpIngressLifecycleTest, TwentyFiveMebibyteEventsAreStored) {
  constexpr size_t kLimit = 25 * 1024 * 1024;
  ASSERT_TRUE(StartServer({"--max-body", std::to_string(kLimit)}));
  Endpoint slack;
  ASSERT_NO_FATAL_FAILURE(MustCreateSlack("c1", &slack));
  const size_t overhead = SlackEvent("EvHuge1", "").size();
  const std::string body =
      SlackEvent("EvHuge1", std::string(kLimit - 64 - overhead, 'x'));
  ASSERT_EQ(body.size(), kLimit - 64);
  ExpectAck(SendSlack(IngressPath(slack), kSlackSecret, body));
  EventPage page;
  ASSERT_NO_FATAL_FAILURE(ExpectEventPage(Events(slack.id, "limit=1"), &page));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].provider_event_id, "EvHuge1");
  EXPECT_EQ(page.items[0].bytes.size(), body.size());
  EXPECT_TRUE(page.items[0].bytes == body);

  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  // The head alone: the limit is judged on Content-Length, before a byte
  // of the body is read.
  connection.Send("POST " + IngressPath(slack) +
                  " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                  "application/json\r\nContent-Length: " +
                  std::to_string(kLimit + 1) + "\r\n\r\n");
  Reply reply;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ExpectErrorEnvelope(reply, 413, "HTTP_PayloadTooLarge");
}

}  // namespace
}  // namespace webhooks::testing
