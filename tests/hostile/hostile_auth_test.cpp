// Authorization and secrets of webhooks-server under attack (issue 7,
// "Authorization and secrets"), through the fixture in hostile_fixture.h:
//   - CrossProjectTest: 200 ids of another project on every {id} route;
//   - AuthMatrixTest: the 401 matrix and the time the key check takes;
//   - SecretsAtRestTest: keys and secrets in responses, the log and the
//     database files after a whole workload.
// What tests/api/ already checks once (one foreign id, the 401 envelope) is
// not repeated.

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tests/hostile/hostile_fixture.h"
#include "tests/raw_http.h"
#include "tests/signer.h"
#include "tests/test_util.h"

namespace webhooks::hostile {
namespace {

using testing::Contains;
using testing::DataBody;
using testing::ErrorField;
using testing::Hex;
using testing::HmacSha256;
using testing::kAppToken;
using testing::kCreatePathV3;
using testing::KeyLine;
using testing::kNotFound;
using testing::kSanitized;
using testing::kSigning;
using testing::Lower;
using testing::OutcomeName;
using testing::RandomEndpointId;
using testing::RandomText;
using testing::ReadFile;
using testing::ReplaceAll;
using testing::Sha256;
using testing::SlackHeaders;
using testing::Upper;

// ===========================================================================
// Helpers
// ===========================================================================

// `body` with the value of its "request_id" field emptied.
std::string WithoutRequestId(std::string body) {
  const std::string field = "\"request_id\":\"";
  size_t start = body.find(field);
  if (start == std::string::npos) return body;
  start += field.size();
  const size_t end = body.find('"', start);
  if (end != std::string::npos) body.erase(start, end - start);
  return body;
}

// A reply as text for comparing two answers: status, headers but Date and
// x-request-id (sorted by name, as httplib::Headers keeps them) and the body
// without its request_id, with `from` replaced by `to` (an id in a message).
std::string Comparable(const Reply& reply, const std::string& from = "",
                       const std::string& to = "") {
  std::string text = std::to_string(reply.status) + "\n";
  for (const auto& [name, value] : reply.headers) {
    const std::string lower = Lower(name);
    if (lower == "date" || lower == "x-request-id") continue;
    text += lower + ": " + value + "\n";
  }
  std::string body = WithoutRequestId(reply.body);
  if (!from.empty()) body = ReplaceAll(body, from, to);
  return text + "\n" + body;
}

// ===========================================================================
// Authorization: another project's ids
// ===========================================================================

class CrossProjectTest : public ServerTest {
 protected:
  void SetUp() override { ASSERT_TRUE(StartServer()); }
};

// Project B makes 200 endpoints (some with secrets, some with events);
// project A calls every {id} route on each, and on an id of the same shape
// that never existed. The answers are the same bytes, request id aside
// (and the id itself, in the message); B reads back exactly what it had.
TEST_F(CrossProjectTest, TwoHundredForeignIdsAnswerExactlyLikeMissingOnes) {
  const size_t kForeignIds = kSanitized ? 100 : 200;
  const std::string owner = RandomKey("hostile_", kAlphanumeric);
  std::vector<std::string> theirs;
  for (size_t i = 0; i < kForeignIds; ++i) {
    const char* toolkit = i % 4 == 3   ? "notion"
                          : i % 4 == 2 ? "slackbot"
                                       : "slack";
    theirs.push_back(CreateAs(owner, toolkit, "b-" + std::to_string(i)));
    ASSERT_FALSE(theirs.back().empty());
    if (i % 4 == 0) {
      const std::string secret = "b-signing-" + RandomText(20, kAlphanumeric);
      ASSERT_NO_FATAL_FAILURE(MustPatch(
          owner, theirs.back(),
          DataBody({{kSigning, secret}, {kAppToken, "xapp-b-0123456789"}})));
      if (i % 20 == 0) {
        const std::string event = ShortSlackEvent("Ev-b-" + std::to_string(i));
        ASSERT_EQ(ToReply(NewClient().Post("/api/v3.1/webhook_ingress/slack/" +
                                               theirs.back() + "/trigger_event",
                                           SlackHeaders(secret, event), event,
                                           "application/json"))
                      .status,
                  200);
      }
    }
  }
  const std::string before = Snapshot(owner);

  struct Call {
    std::string name;
    std::string method;
    std::string suffix;
    std::string body;
    std::string content_type;
  };
  const std::string good = DataBody(
      {{kSigning, "a-intruder-0123456789"}, {kAppToken, "xapp-a-0123456789"}});
  const std::vector<Call> calls = {
      {"retrieve", "GET", "", "", ""},
      {"events", "GET", "/events", "", ""},
      {"events page", "GET", "/events?limit=1", "", ""},
      {"patch", "PATCH", "", good, "application/json"},
      {"patch, empty data", "PATCH", "", R"({"data":{}})", "application/json"},
      {"patch, bad body", "PATCH", "", R"({"data":{"nope":1},"id":"x"})",
       "application/json"},
      {"replace", "POST", "", good, "application/json"},
      {"replace, bad body", "POST", "", "{", "text/plain"},
      {"delete", "DELETE", "", "", ""},  // last: it would remove B's
  };
  size_t compared = 0;
  size_t differing = 0;  // reported one by one up to kShown, then counted
  constexpr size_t kShown = 10;
  const auto start = Clock::now();
  for (size_t i = 0; i < theirs.size() && differing < kShown; ++i) {
    std::string missing = RandomEndpointId();
    while (std::find(theirs.begin(), theirs.end(), missing) != theirs.end()) {
      missing = RandomEndpointId();
    }
    const std::string collection = i % 2 == 0 ? kCreatePath : kCreatePathV3;
    // A connection per id, so no pair straddles the server's per-connection
    // request limit (its last answer says Connection: close).
    httplib::Client client = NewClient();
    client.set_keep_alive(true);
    auto send = [&](const Call& call, const std::string& id) {
      httplib::Request request;
      request.method = call.method;
      request.path = collection + "/" + id + call.suffix;
      request.headers = KeyHeaders(key_);
      if (!call.content_type.empty()) {
        request.headers.emplace("Content-Type", call.content_type);
      }
      request.body = call.body;
      return ToReply(client.send(request));
    };
    for (const Call& call : calls) {
      SCOPED_TRACE(collection + "/" + theirs[i] + " " + call.name);
      const Reply foreign = send(call, theirs[i]);
      const Reply absent = send(call, missing);
      ++compared;
      if (i == 0) ExpectErrorEnvelope(foreign, 404, kNotFound);
      const std::string foreign_text = Comparable(foreign, theirs[i], missing);
      if (foreign.status == 404 && foreign_text == Comparable(absent)) {
        continue;
      }
      ++differing;
      EXPECT_EQ(foreign.status, 404);
      EXPECT_EQ(foreign_text, Comparable(absent));
    }
  }
  EXPECT_EQ(differing, 0u) << "(stopped after " << kShown << ")";
  std::cout << "[ measured ] " << compared << " foreign/missing pairs in "
            << MillisSince(start) << " ms\n";
  // B's endpoints, data and events are as they were; A has nothing.
  EXPECT_EQ(Snapshot(owner), before);
  EXPECT_TRUE(
      ItemIds(ToReply(NewClient().Get(kCreatePath, KeyHeaders(key_))).body)
          .empty());
}

// ===========================================================================
// Authorization: the 401 matrix and the key check's timing
// ===========================================================================

class AuthMatrixTest : public ServerTest {
 protected:
  void SetUp() override {
    // The longest key accepted (256), so that a comparison that stopped at
    // the first differing byte would take the longest.
    ASSERT_TRUE(StartServer({"--api-key", real_key_}));
  }

  // A GET of the list with exactly `key_lines`.
  Reply ListWith(const std::string& key_lines) const {
    return Exchange(RawRequest("GET", kCreatePath, key_lines));
  }

  struct Attempt {
    std::string name;
    std::string key_lines;
  };

  // The issue's matrix, on the wire.
  std::vector<Attempt> Matrix() const {
    return {
        {"missing", ""},
        {"empty", "x-api-key: \r\n"},
        {"empty user key", "x-user-api-key: \r\n"},
        {"unknown", KeyLine(RandomKey("hostile_", kAlphanumeric))},
        {"wrong case", KeyLine(Upper(real_key_))},
        // A raw trailing space is optional whitespace (RFC 9110 5.5), not
        // part of the value; sent percent-encoded, the library decodes it
        // into the key (platform notes, CVE-2026-45372).
        {"trailing space (encoded)", KeyLine(real_key_ + "%20")},
        {"key cut by one", KeyLine(real_key_.substr(0, real_key_.size() - 1))},
        {"key and one more", KeyLine(real_key_ + "x")},
        {"in another header", "Authorization: Bearer " + real_key_ + "\r\n"},
        {"two x-api-key headers", KeyLine(real_key_) + KeyLine(real_key_)},
        {"two x-api-key headers, one wrong", KeyLine(real_key_) + KeyLine("x")},
        {"both headers",
         KeyLine(real_key_) + "x-user-api-key: " + real_key_ + "\r\n"},
    };
  }

  const std::string real_key_ = RandomText(256, kAlphanumeric);
};

// Every attempt is a 401 in the envelope, with one slug, code and fix; and
// every well-formed key that is not the key gets the very same answer,
// however close it comes to the real one.
TEST_F(AuthMatrixTest, EveryFailureIs401AndEveryWrongKeyGetsOneAnswer) {
  const std::vector<std::string> wrong_keys = {
      RandomKey("hostile_", kAlphanumeric),
      Upper(real_key_),
      real_key_.substr(0, real_key_.size() - 1),
      (real_key_[0] == 'a' ? "b" : "a") + real_key_.substr(1),
      real_key_.substr(0, 255) + (real_key_[255] == 'a' ? "b" : "a"),
      "k",
  };
  std::optional<std::string> wrong_key_answer;
  std::optional<std::string> suggested_fix;
  for (const std::string& key : wrong_keys) {
    SCOPED_TRACE(key);
    const Reply reply = ListWith(KeyLine(key));
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(reply, 401, kUnauthorized));
    if (!wrong_key_answer) wrong_key_answer = Comparable(reply);
    EXPECT_EQ(Comparable(reply), *wrong_key_answer);
  }
  for (const Attempt& attempt : Matrix()) {
    SCOPED_TRACE(attempt.name);
    const Reply reply = ListWith(attempt.key_lines);
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(reply, 401, kUnauthorized));
    const std::optional<std::string> fix =
        ErrorField(reply.body, "suggested_fix");
    if (!suggested_fix) suggested_fix = fix;
    EXPECT_EQ(fix, suggested_fix);
    EXPECT_FALSE(Contains(reply.body, real_key_.substr(0, 16)));
  }
  // The real key, with a raw trailing space (stripped as whitespace).
  EXPECT_EQ(ListWith(KeyLine(real_key_)).status, 200);
  EXPECT_EQ(ListWith("x-api-key: " + real_key_ + " \r\n").status, 200);
}

// One 401 body for the whole matrix (found while writing this test: the
// messages used to say which rule the key broke). Both headers keep their
// own message, which the spec requires.
TEST_F(AuthMatrixTest, EveryAuthenticationFailureHasOneBody) {
  std::map<std::string, std::vector<std::string>> bodies;
  for (const Attempt& attempt : Matrix()) {
    if (attempt.name == "both headers") continue;
    // The body only: a refusal made before the body is read also closes
    // the connection, which its headers say.
    bodies[WithoutRequestId(ListWith(attempt.key_lines).body)].push_back(
        attempt.name);
  }
  std::string listed;
  for (const auto& [body, names] : bodies) {
    listed += "\n---\n" + body + "\nfor:";
    for (const std::string& name : names) listed += " [" + name + "]";
  }
  EXPECT_EQ(bodies.size(), 1u) << listed;
}

// The key check takes the same time whatever the key. Three wrong keys are
// sent interleaved, in a random order each round, on a keep-alive
// connection (a new one every 900 requests): one right in its first 255
// characters (wrong only in the last), one wrong in its first, one of another
// length; their median latencies must agree within 20% or 50 us, whichever is
// larger.
//
// What this can and cannot show. The server hashes the key (SHA-256) and
// compares digests with CRYPTO_memcmp, then looks the digest up in SQLite:
// nothing depends on how many leading characters of the key are right. An
// early-exit memcmp over the raw 256-byte key would differ by a few tens of
// nanoseconds between the first two keys; over HTTP on 127.0.0.1, with
// requests of ~100 us and a machine shared with other tests, the medians
// are resolved to about a microsecond, so such a leak is NOT measurable
// here, and this test does not pretend to catch it. It catches what an
// attacker could measure over the network (a difference of tens of
// microseconds or more: a per-byte cost, a different code path such as a
// database look-up made for some keys only), and the same answer for all
// three keys shows they take the same path. Checked against broken builds:
// with a raw early-exit memcmp added in front of the digest check, this test
// passed (medians within 3 us: the leak is below what HTTP resolves); with
// 1 us spent per matching character it failed every attempt (spread
// ~300 us). Medians of interleaved samples cancel drift and bursts common
// to all three; three attempts, and a failure only if all three disagree,
// keep a correct server from failing.
TEST_F(AuthMatrixTest, KeyCheckTakesTheSameTimeWhateverTheKey) {
  const char flip_first = real_key_.front() == 'a' ? 'b' : 'a';
  const char flip_last = real_key_.back() == 'a' ? 'b' : 'a';
  const std::array<std::string, 3> keys = {
      real_key_.substr(0, 255) + flip_last,
      flip_first + real_key_.substr(1),
      // Near 256, so that reading a longer header (the client's own cost)
      // does not blur the comparison: under ASan, 16 characters instead
      // made a 29 us difference of its own.
      RandomText(240, kAlphanumeric),
  };
  const std::array<const char*, 3> names = {"last char wrong",
                                            "first char wrong", "240 chars"};
  const size_t rounds = kSanitized ? 400 : 1500;
  constexpr size_t kPerConnection = 900;  // the server closes after 1000
  std::mt19937 shuffle_random(std::random_device{}());
  std::string attempts;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    std::array<std::vector<double>, 3> micros;
    std::optional<std::string> answer;
    std::unique_ptr<RawConnection> connection;
    size_t on_connection = kPerConnection;
    auto measure = [&](size_t k, bool keep) {
      if (on_connection >= kPerConnection) {
        connection = std::make_unique<RawConnection>(port());
        on_connection = 0;
      }
      ++on_connection;
      const std::string request =
          RawRequest("GET", kCreatePath, KeyLine(keys[k]));
      Reply reply;
      const auto sent = Clock::now();
      const bool ok =
          connection->Send(request) && connection->ReadResponse(&reply);
      const double took = MillisSince(sent) * 1000.0;
      ASSERT_TRUE(ok) << OutcomeName(connection->last_outcome());
      ASSERT_EQ(reply.status, 401) << reply.body;
      if (!answer) answer = Comparable(reply);
      ASSERT_EQ(Comparable(reply), *answer) << names[k];
      if (keep) micros[k].push_back(took);
    };
    std::array<size_t, 3> order = {0, 1, 2};
    for (size_t round = 0; round < rounds + 100; ++round) {
      std::shuffle(order.begin(), order.end(), shuffle_random);
      for (size_t k : order) {
        ASSERT_NO_FATAL_FAILURE(measure(k, round >= 100));  // 100 to warm up
      }
    }
    std::array<double, 3> medians{};
    for (size_t k = 0; k < 3; ++k) {
      std::vector<double>& samples = micros[k];
      std::nth_element(samples.begin(), samples.begin() + samples.size() / 2,
                       samples.end());
      medians[k] = samples[samples.size() / 2];
    }
    const double low = *std::min_element(medians.begin(), medians.end());
    const double high = *std::max_element(medians.begin(), medians.end());
    const double bound = std::max(50.0, 0.2 * low);
    char line[200];
    std::snprintf(line, sizeof(line),
                  "attempt %d: medians %.1f / %.1f / %.1f us (%s / %s / %s), "
                  "spread %.1f us, bound %.1f us\n",
                  attempt, medians[0], medians[1], medians[2], names[0],
                  names[1], names[2], high - low, bound);
    attempts += line;
    if (high - low <= bound) {
      std::cout << "[ measured ] " << rounds << " rounds, " << line;
      return;
    }
  }
  ADD_FAILURE() << "the key check's time depends on the key:\n" << attempts;
}

// ===========================================================================
// Secrets: nothing in clear after a whole workload
// ===========================================================================

class SecretsAtRestTest : public ServerTest {
 protected:
  // In a folder the server makes, so its mode is the server's choice.
  std::string db_path() const override {
    return dir_.File("data") + "/secrets.db";
  }

  // Sends a request and keeps the whole answer in transcript_.
  Reply Call(const std::string& method, const std::string& path,
             httplib::Headers headers, const std::string& body = "",
             const std::string& content_type = "application/json") {
    httplib::Request request;
    request.method = method;
    request.path = path;
    request.headers = std::move(headers);
    if (method == "POST" || method == "PATCH") {
      request.headers.emplace("Content-Type", content_type);
      request.body = body;
    }
    Reply reply = ToReply(NewClient().send(request));
    transcript_ += std::to_string(reply.status) + "\n";
    for (const auto& [name, value] : reply.headers) {
      transcript_ += name + ": " + value + "\n";
    }
    transcript_ += reply.body + "\n";
    return reply;
  }
  Reply CallRaw(const std::string& request) {
    Reply reply = Exchange(request);
    transcript_ += std::to_string(reply.status) + "\n" + reply.body + "\n";
    return reply;
  }
  static std::string Item(const std::string& id) {
    return std::string(kCreatePath) + "/" + id;
  }
  static std::string Ingress(const std::string& toolkit,
                             const std::string& id) {
    return "/api/v3.1/webhook_ingress/" + toolkit + "/" + id + "/trigger_event";
  }

  std::string transcript_;
};

// One server with a file database and --secrets-key-file runs a workload
// of every kind (projects, setup secrets set, rotated, sent back masked and
// refused, Slack and Notion ingress with their secrets, keys sent where
// they do not belong, authentication failures, a delete); then no key and
// no secret appears in any response, in the log, or in the database, its
// -wal or -shm file (keys are there as SHA-256 digests); the files are
// 0600 and their folder 0700. Without --secrets-key-file, setup values are
// stored in clear by design (README, "Secrets at rest"), so the workload
// runs with one.
TEST_F(SecretsAtRestTest, NoKeyOrSecretIsInClearAfterAWholeWorkload) {
  const std::string secrets_key = RandomText(64, "0123456789abcdef");
  const std::string key_file = dir_.File("secrets.key");
  {
    std::ofstream out(key_file);
    out << secrets_key << "\n";
  }
  ::chmod(key_file.c_str(), 0600);
  ASSERT_TRUE(StartServer({"--secrets-key-file", key_file}));

  auto secret = [](const char* kind) {
    return std::string(kind) + RandomText(32, kAlphanumeric);
  };
  const std::string key_a = "keyA_" + RandomText(32, kAlphanumeric);
  const std::string key_b = "keyB_" + RandomText(32, kAlphanumeric);
  const std::string malformed_part = RandomText(32, kAlphanumeric);
  std::vector<std::string> signing, tokens;
  for (int i = 0; i < 6; ++i) {
    signing.push_back(secret("sig_"));
    tokens.push_back(secret("xapp-"));
  }
  const std::string notion_token = secret("secret_");
  const std::string bearer = secret("bearer_");
  const httplib::Headers as_a = {{"x-api-key", key_a}};
  const httplib::Headers as_b = {{"x-user-api-key", key_b}};

  // Projects and endpoints.
  auto create = [&](const httplib::Headers& who, const char* toolkit,
                    const char* client) {
    Reply reply = Call("POST", kCreatePath, who, CreateBody(toolkit, client));
    EXPECT_EQ(reply.status, 201) << reply.body;
    return StringField(reply.body, "id").value_or("");
  };
  const std::string s1 = create(as_a, "slack", "s1");
  const std::string s2 = create(as_a, "slack", "s2");
  const std::string n1 = create(as_a, "notion", "n1");
  const std::string s3 = create(as_b, "slack", "s3");
  ASSERT_FALSE(s1.empty() || s2.empty() || n1.empty() || s3.empty());

  // Setup secrets: set, rotated, replaced, sent back masked.
  EXPECT_EQ(Call("PATCH", Item(s1), as_a,
                 DataBody({{kSigning, signing[0]}, {kAppToken, tokens[0]}}))
                .status,
            200);
  EXPECT_EQ(
      Call("PATCH", Item(s1), as_a, DataBody({{kSigning, signing[1]}})).status,
      200);
  Reply replaced =
      Call("POST", Item(s1), as_a,
           DataBody({{kSigning, signing[2]}, {kAppToken, tokens[1]}}));
  EXPECT_EQ(replaced.status, 200);
  EXPECT_EQ(Call("PATCH", Item(s1), as_a,
                 DataBody({{kSigning, signing[2].substr(0, 4) + "..."},
                           {kAppToken, tokens[1].substr(0, 4) + "..."}}))
                .status,
            200);
  EXPECT_EQ(Call("PATCH", Item(s2), as_a,
                 DataBody({{kSigning, signing[3]}, {kAppToken, tokens[2]}}))
                .status,
            200);
  EXPECT_EQ(Call("PATCH", Item(s3), as_b,
                 DataBody({{kSigning, signing[4]}, {kAppToken, tokens[3]}}))
                .status,
            200);
  // Refused requests that carry secrets.
  EXPECT_EQ(Call("PATCH", Item(s1), as_a,
                 DataBody({{kSigning, signing[5]}, {"unknown", tokens[4]}}))
                .status,
            400);
  EXPECT_EQ(
      Call("PATCH", Item(s3), as_a, DataBody({{kSigning, signing[5]}})).status,
      404);
  EXPECT_EQ(
      Call("POST", Item(s2), as_a, DataBody({{kSigning, signing[5]}})).status,
      400);
  EXPECT_EQ(Call("PATCH", Item(s2), as_a,
                 "{\"data\":{\"app_token\":\"" + tokens[4] + "\"")
                .status,
            400);

  // The ingress, with keys and credentials where they do not belong.
  const std::string event = ShortSlackEvent("Ev-secrets-1");
  httplib::Headers signed_event = SlackHeaders(signing[2], event);
  signed_event.emplace("x-api-key", key_a);
  signed_event.emplace("Authorization", "Bearer " + bearer);
  signed_event.emplace("Cookie", "session=" + bearer);
  EXPECT_EQ(Call("POST", Ingress("slack", s1), signed_event, event).status,
            200);
  const std::string stale = ShortSlackEvent("Ev-secrets-2");
  EXPECT_EQ(
      Call("POST", Ingress("slack", s1), SlackHeaders(signing[0], stale), stale)
          .status,
      400);
  const std::string challenge =
      R"({"type":"url_verification","challenge":"chal-0123456789"})";
  EXPECT_EQ(Call("POST", Ingress("slack", s2),
                 SlackHeaders(signing[3], challenge), challenge)
                .status,
            200);
  EXPECT_EQ(Call("POST", Ingress("notion", n1), {},
                 R"({"verification_token":")" + notion_token + "\"}")
                .status,
            200);
  const std::string notion_event =
      R"({"id":"ntn-event-1","type":"page.created"})";
  EXPECT_EQ(Call("POST", Ingress("notion", n1),
                 {{"X-Notion-Signature",
                   "sha256=" + Hex(HmacSha256(notion_token, notion_event))}},
                 notion_event)
                .status,
            200);

  // Reads of everything.
  Call("GET", kCreatePath, as_a);
  Call("GET", kCreatePath, as_b);
  for (const std::string& id : {s1, s2, n1}) {
    EXPECT_EQ(Call("GET", Item(id), as_a).status, 200);
    EXPECT_EQ(Call("GET", Item(id) + "/events", as_a).status, 200);
  }
  Call("GET", "/api/v3.1/webhook_endpoints/schema?toolkit_slug=slack", as_a);
  Call("GET", "/metrics", {});

  // Authentication failures.
  EXPECT_EQ(CallRaw(RawRequest("GET", kCreatePath,
                               "x-api-key: bad key " + malformed_part + "\r\n"))
                .status,
            401);
  EXPECT_EQ(Call("GET", kCreatePath,
                 {{"x-api-key", key_a}, {"x-user-api-key", key_b}})
                .status,
            401);
  EXPECT_EQ(
      CallRaw(RawRequest("GET", kCreatePath, KeyLine(key_a) + KeyLine(key_b)))
          .status,
      401);
  EXPECT_EQ(Call("DELETE", Item(s2), as_a).status, 200);

  const std::vector<std::string> keys = {key_a, key_b, malformed_part};
  std::vector<std::string> secrets = signing;
  secrets.insert(secrets.end(), tokens.begin(), tokens.end());
  secrets.push_back(notion_token);
  secrets.push_back(bearer);
  secrets.push_back(secrets_key);
  auto expect_clean = [&](const std::string& where, const std::string& text) {
    for (const std::string& value : keys) {
      EXPECT_FALSE(Contains(text, value)) << "key " << value << " in " << where;
    }
    for (const std::string& value : secrets) {
      EXPECT_FALSE(Contains(text, value))
          << "secret " << value << " in " << where;
    }
  };
  auto expect_private = [](const std::string& path, mode_t mode) {
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0) << path;
    EXPECT_EQ(info.st_mode & 0777, mode) << path;
  };

  // While the server runs: the database and its -wal and -shm files.
  expect_private(dir_.File("data"), 0700);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string path = db_path() + suffix;
    ASSERT_NO_FATAL_FAILURE(expect_private(path, 0600));
    expect_clean(path, ReadFile(path));
  }
  // After SIGTERM (the WAL checkpointed into the file): the same, the whole
  // log, and every response.
  EXPECT_EQ(server_->Stop(), 0);
  const std::string database = ReadFile(db_path());
  expect_private(db_path(), 0600);
  expect_clean("the database after shutdown", database);
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string path = db_path() + suffix;
    if (::access(path.c_str(), F_OK) == 0) {
      expect_private(path, 0600);
      expect_clean(path, ReadFile(path));
    }
  }
  const std::string log = server_->Stderr();
  EXPECT_FALSE(log.empty());
  expect_clean("the log", log);
  // The one secret a response shows: Notion's verification token, to its
  // own project, in the endpoint's verification_token in the window after
  // its handshake (Notion's setup asks for it back; issue 17). Everything
  // else, and the token anywhere else, stays out.
  EXPECT_TRUE(
      Contains(transcript_, "\"verification_token\":\"" + notion_token + "\""));
  secrets.erase(std::find(secrets.begin(), secrets.end(), notion_token));
  expect_clean("the responses", transcript_);
  // And the keys are there, as their SHA-256 digests.
  for (const std::string& key : {key_a, key_b}) {
    EXPECT_TRUE(Contains(database, Sha256(key)))
        << "no SHA-256 digest of " << key << " in the database";
  }
}

}  // namespace
}  // namespace webhooks::hostile
