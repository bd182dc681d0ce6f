// Unit tests for verify.h. First the published known-answer vectors
// (shared/spec/test-vectors.md for Slack and GitHub, RFC 4231 for
// HMAC-SHA256, RFC 8032 for Ed25519), then the signature matrix issue 4 asks
// for, run over every scheme: valid; one body byte changed; missing, empty,
// non-hex, wrong-length, over-long, repeated and wrongly prefixed headers; a
// signature made with another secret; and, for schemes that sign a time,
// the -301/-299/+299/+301 s window and non-numeric timestamps.
//
// The signing side here calls OpenSSL directly (tests/signer.h) rather than
// the functions under test, so a bug shared by signer and verifier cannot
// hide itself.
//
// It stays one file past issue 13's 800 lines on purpose: the matrix and the
// scheme-specific edges after it are built on the known-answer vectors
// (SlackSpec, GitHubSpec, the GitHub example's secret and body) and check
// through the same Headers double and HasStatus, so a change to a verifier is
// read against all of them at once.

#include "toolkits/verify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/signer.h"
#include "tests/test_util.h"
#include "toolkits/catalog.h"
#include "util/crypto.h"

namespace webhooks {
namespace {

using testing::Base64Decode;
using testing::Base64Encode;
using testing::Ed25519KeyPair;
using testing::Ed25519Sign;
using testing::GenerateEd25519KeyPair;
using testing::Hex;
using testing::HmacSha256;
using testing::Upper;

// ---------------------------------------------------------------------------
// Helpers

char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// A request's headers. Names compare case-insensitively, as HTTP's do; adding
// a name twice models a header the client sent twice.
class Headers {
 public:
  Headers& Add(std::string name, std::string value) {
    pairs_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Headers& Remove(std::string_view name) {
    std::vector<std::pair<std::string, std::string>> kept;
    for (auto& pair : pairs_) {
      if (!EqualsIgnoreCase(pair.first, name)) kept.push_back(std::move(pair));
    }
    pairs_ = std::move(kept);
    return *this;
  }
  Headers& Set(std::string name, std::string value) {
    Remove(name);
    return Add(std::move(name), std::move(value));
  }

  // A lookup over a copy of the headers, so it outlives this object.
  HeaderLookup Lookup() const {
    return
        [pairs = pairs_](std::string_view name) -> std::optional<HeaderValue> {
          std::optional<HeaderValue> found;
          for (const auto& [key, value] : pairs) {
            if (!EqualsIgnoreCase(key, name)) continue;
            if (found) {
              found->repeated = true;
            } else {
              found = HeaderValue{value, false};
            }
          }
          return found;
        };
  }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

const char* StatusName(VerifyStatus status) {
  switch (status) {
    case VerifyStatus::kOk:
      return "kOk";
    case VerifyStatus::kMissingHeader:
      return "kMissingHeader";
    case VerifyStatus::kMalformedHeader:
      return "kMalformedHeader";
    case VerifyStatus::kStaleTimestamp:
      return "kStaleTimestamp";
    case VerifyStatus::kBadSignature:
      return "kBadSignature";
    case VerifyStatus::kBadSecret:
      return "kBadSecret";
  }
  return "unknown";
}

// Succeeds when `result` has status `want`; a failure must also explain
// itself, since the message becomes the client's errors[] entry.
::testing::AssertionResult HasStatus(const VerifyResult& result,
                                     VerifyStatus want) {
  if (result.status != want) {
    return ::testing::AssertionFailure()
           << "got " << StatusName(result.status) << " (\"" << result.message
           << "\"), want " << StatusName(want);
  }
  if (want != VerifyStatus::kOk && result.message.empty()) {
    return ::testing::AssertionFailure()
           << StatusName(want) << " came without a message";
  }
  return ::testing::AssertionSuccess() << StatusName(want);
}

// ---------------------------------------------------------------------------
// Known-answer vectors

// Slack's "Verifying requests from Slack" example (test-vectors.md).
constexpr char kSlackSecret[] = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr char kSlackTimestamp[] = "1531420618";
constexpr int64_t kSlackTime = 1531420618;
constexpr char kSlackBody[] =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain="
    "testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&"
    "user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url="
    "https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%"
    "2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
constexpr char kSlackExpectedSignature[] =
    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

// GitHub's "Validating webhook deliveries" example (test-vectors.md).
constexpr char kGitHubSecret[] = "It's a Secret to Everybody";
constexpr char kGitHubBody[] = "Hello, World!";
constexpr char kGitHubExpectedHex[] =
    "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

VerificationSpec SlackSpec() {
  VerificationSpec spec;
  spec.scheme = SignatureScheme::kSlackV0;
  spec.secret_field = "webhook_signing_secret";
  return spec;
}

VerificationSpec GitHubSpec() {
  VerificationSpec spec;
  spec.scheme = SignatureScheme::kHmacSha256;
  spec.secret_field = "webhook_secret";
  spec.signature_header = "X-Hub-Signature-256";
  spec.signature_prefix = "sha256=";
  spec.encoding = SignatureEncoding::kHex;
  return spec;
}

// Header names in lower case, as an HTTP/2 client or a proxy may send them.
Headers SlackExampleHeaders(std::string signature = kSlackExpectedSignature) {
  return Headers()
      .Add("x-slack-signature", std::move(signature))
      .Add("x-slack-request-timestamp", kSlackTimestamp);
}

TEST(SlackKnownAnswerTest, SlackSignatureReproducesSlacksExample) {
  EXPECT_EQ(SlackSignature(kSlackSecret, kSlackTimestamp, kSlackBody),
            kSlackExpectedSignature);
}

TEST(SlackKnownAnswerTest, VerifiesSlacksExampleAtItsOwnTime) {
  EXPECT_TRUE(HasStatus(
      VerifySignature(SlackSpec(), kSlackSecret, SlackExampleHeaders().Lookup(),
                      kSlackBody, kSlackTime),
      VerifyStatus::kOk));
}

TEST(SlackKnownAnswerTest, WindowIsThreeHundredSecondsEachWay) {
  const struct {
    int64_t offset;
    VerifyStatus want;
  } kCases[] = {
      {-301, VerifyStatus::kStaleTimestamp},
      {-300, VerifyStatus::kOk},
      {-299, VerifyStatus::kOk},
      {299, VerifyStatus::kOk},
      {300, VerifyStatus::kOk},
      {301, VerifyStatus::kStaleTimestamp},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE("now = published timestamp + " + std::to_string(c.offset));
    EXPECT_TRUE(HasStatus(VerifySignature(SlackSpec(), kSlackSecret,
                                          SlackExampleHeaders().Lookup(),
                                          kSlackBody, kSlackTime + c.offset),
                          c.want));
  }
}

TEST(SlackKnownAnswerTest, RealClockRejectsThe2018Example) {
  EXPECT_TRUE(HasStatus(
      VerifySignature(SlackSpec(), kSlackSecret, SlackExampleHeaders().Lookup(),
                      kSlackBody, static_cast<int64_t>(std::time(nullptr))),
      VerifyStatus::kStaleTimestamp));
}

TEST(SlackKnownAnswerTest, UpperCaseHexIsAccepted) {
  const std::string upper =
      "v0=" + Upper(std::string(kSlackExpectedSignature).substr(3));
  EXPECT_TRUE(HasStatus(VerifySignature(SlackSpec(), kSlackSecret,
                                        SlackExampleHeaders(upper).Lookup(),
                                        kSlackBody, kSlackTime),
                        VerifyStatus::kOk));
}

TEST(SlackKnownAnswerTest, SignatureForAnotherSecretIsRejected) {
  EXPECT_TRUE(HasStatus(
      VerifySignature(SlackSpec(), "another-signing-secret",
                      SlackExampleHeaders().Lookup(), kSlackBody, kSlackTime),
      VerifyStatus::kBadSignature));
}

TEST(GitHubKnownAnswerTest, HmacSha256HexReproducesGitHubsExample) {
  EXPECT_EQ(HmacSha256Hex(kGitHubSecret, kGitHubBody), kGitHubExpectedHex);
}

TEST(GitHubKnownAnswerTest, GenericHmacSchemeVerifiesGitHubsExample) {
  const Headers headers = Headers().Add(
      "X-Hub-Signature-256", std::string("sha256=") + kGitHubExpectedHex);
  // No timestamp header: the scheme has no window, so any clock will do.
  for (const int64_t now :
       {int64_t{0}, static_cast<int64_t>(std::time(nullptr))}) {
    EXPECT_TRUE(HasStatus(VerifySignature(GitHubSpec(), kGitHubSecret,
                                          headers.Lookup(), kGitHubBody, now),
                          VerifyStatus::kOk));
  }
}

TEST(HmacSha256HexTest, MatchesRfc4231TestCase2) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256HexTest, EmptyKeyAndDataGiveTheKnownDigest) {
  EXPECT_EQ(HmacSha256Hex("", ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte).
TEST(Ed25519KnownAnswerTest, VerifiesRfc8032Vectors) {
  const struct {
    const char* public_key;
    std::string message;
    const char* signature;
  } kVectors[] = {
      {"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
       "\x72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  VerificationSpec spec;
  spec.scheme = SignatureScheme::kEd25519;
  spec.signature_header = "X-Signature-Ed25519";
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.public_key);
    const Headers headers = Headers().Add("X-Signature-Ed25519", v.signature);
    EXPECT_TRUE(HasStatus(
        VerifySignature(spec, v.public_key, headers.Lookup(), v.message, 0),
        VerifyStatus::kOk));
    EXPECT_TRUE(
        HasStatus(VerifySignature(spec, v.public_key, headers.Lookup(), "x", 0),
                  VerifyStatus::kBadSignature));
  }
}

// ---------------------------------------------------------------------------
// The signature matrix, run over every scheme

using PayloadFunction = std::string (*)(std::string_view timestamp,
                                        std::string_view body);

std::string SlackPayload(std::string_view timestamp, std::string_view body) {
  return "v0:" + std::string(timestamp) + ":" + std::string(body);
}
std::string BodyPayload(std::string_view, std::string_view body) {
  return std::string(body);
}
std::string DottedPayload(std::string_view timestamp, std::string_view body) {
  return std::string(timestamp) + "." + std::string(body);
}
std::string ConcatenatedPayload(std::string_view timestamp,
                                std::string_view body) {
  return std::string(timestamp) + std::string(body);
}

// One scheme, with what the test needs to sign for it independently of
// the code under test.
struct SchemeCase {
  std::string name;
  VerificationSpec spec;
  std::string signature_header;
  std::string signature_prefix;
  SignatureEncoding encoding = SignatureEncoding::kHex;
  std::string timestamp_header;  // empty: the scheme signs no time
  PayloadFunction payload = BodyPayload;
  bool ed25519 = false;
  std::string secret;             // what VerifySignature is given
  std::string signing_key;        // HMAC key, or raw Ed25519 private key
  std::string other_signing_key;  // a different key of the same kind
};

// Names the case in failure output instead of dumping its bytes.
void PrintTo(const SchemeCase& c, std::ostream* os) { *os << c.name; }

std::vector<SchemeCase> AllSchemes() {
  std::vector<SchemeCase> cases;

  SchemeCase slack;
  slack.name = "slack_v0";
  slack.spec = SlackSpec();
  slack.signature_header = "X-Slack-Signature";
  slack.signature_prefix = "v0=";
  slack.timestamp_header = "X-Slack-Request-Timestamp";
  slack.payload = SlackPayload;
  slack.secret = slack.signing_key = "slack-signing-secret-0123456789";
  slack.other_signing_key = "slack-signing-secret-9876543210";
  cases.push_back(slack);

  SchemeCase notion;
  notion.name = "notion";
  notion.spec.scheme = SignatureScheme::kNotion;
  notion.spec.secret_field = "verification_token";
  notion.signature_header = "X-Notion-Signature";
  notion.signature_prefix = "sha256=";
  notion.secret = notion.signing_key = "secret_notionVerificationToken42";
  notion.other_signing_key = "secret_notionVerificationToken43";
  cases.push_back(notion);

  SchemeCase hex;
  hex.name = "hmac_sha256_hex";
  hex.spec = GitHubSpec();
  hex.signature_header = "X-Hub-Signature-256";
  hex.signature_prefix = "sha256=";
  hex.secret = hex.signing_key = "github-webhook-secret";
  hex.other_signing_key = "github-webhook-secreT";
  cases.push_back(hex);

  SchemeCase base64;
  base64.name = "hmac_sha256_base64";
  base64.spec.scheme = SignatureScheme::kHmacSha256;
  base64.spec.secret_field = "signing_secret";
  base64.spec.signature_header = "X-Signature";
  base64.spec.signature_prefix = "v1,";
  base64.spec.encoding = SignatureEncoding::kBase64;
  base64.spec.timestamp_header = "X-Timestamp";
  base64.spec.tolerance_seconds = 300;
  base64.spec.signed_payload = "{timestamp}.{body}";
  base64.signature_header = "X-Signature";
  base64.signature_prefix = "v1,";
  base64.encoding = SignatureEncoding::kBase64;
  base64.timestamp_header = "X-Timestamp";
  base64.payload = DottedPayload;
  base64.secret = base64.signing_key = "whsec_base64SchemeSecret";
  base64.other_signing_key = "whsec_anotherSchemeSecret";
  cases.push_back(base64);

  const Ed25519KeyPair key = GenerateEd25519KeyPair();
  const Ed25519KeyPair other_key = GenerateEd25519KeyPair();
  SchemeCase ed25519;
  ed25519.name = "ed25519";
  ed25519.spec.scheme = SignatureScheme::kEd25519;
  ed25519.spec.secret_field = "public_key";
  ed25519.spec.signature_header = "X-Signature-Ed25519";
  ed25519.spec.timestamp_header = "X-Signature-Timestamp";
  ed25519.spec.tolerance_seconds = 300;
  ed25519.spec.signed_payload = "{timestamp}{body}";  // as catalog.cpp sets
  ed25519.signature_header = "X-Signature-Ed25519";
  ed25519.timestamp_header = "X-Signature-Timestamp";
  ed25519.payload = ConcatenatedPayload;
  ed25519.ed25519 = true;
  ed25519.secret = Hex(key.public_key);
  ed25519.signing_key = key.private_key;
  ed25519.other_signing_key = other_key.private_key;
  cases.push_back(ed25519);

  return cases;
}

std::vector<SchemeCase> TimestampSchemes() {
  std::vector<SchemeCase> cases;
  for (SchemeCase& c : AllSchemes()) {
    if (!c.timestamp_header.empty()) cases.push_back(std::move(c));
  }
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<SchemeCase>& info) {
  return info.param.name;
}

class SignatureMatrixTest : public ::testing::TestWithParam<SchemeCase> {
 protected:
  static constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
  static constexpr char kBody[] =
      R"({"type":"event_callback","event_id":"Ev0123456789"})";

  static std::string Timestamp(int64_t seconds) {
    return std::to_string(seconds);
  }

  // The raw signature bytes over `body` at `timestamp`, made with `key`.
  static std::string RawSignature(std::string_view key,
                                  std::string_view timestamp,
                                  std::string_view body) {
    const SchemeCase& c = GetParam();
    const std::string payload = c.payload(timestamp, body);
    return c.ed25519 ? Ed25519Sign(key, payload) : HmacSha256(key, payload);
  }

  // Bytes encoded as the scheme sends them, after its prefix.
  static std::string Encode(std::string_view raw) {
    return GetParam().encoding == SignatureEncoding::kHex ? Hex(raw)
                                                          : Base64Encode(raw);
  }

  // The signature header's value for `body` at `timestamp`.
  static std::string Signature(std::string_view timestamp,
                               std::string_view body = kBody) {
    return GetParam().signature_prefix +
           Encode(RawSignature(GetParam().signing_key, timestamp, body));
  }

  // A correctly signed request's headers, with `signature` in place of the
  // right one if given.
  static Headers SignedHeaders(std::string_view timestamp = Timestamp(kNow),
                               std::optional<std::string> signature = {}) {
    const SchemeCase& c = GetParam();
    Headers headers;
    headers.Add(c.signature_header,
                signature ? *signature : Signature(timestamp));
    if (!c.timestamp_header.empty()) {
      headers.Add(c.timestamp_header, std::string(timestamp));
    }
    return headers;
  }

  static VerifyResult Verify(const Headers& headers,
                             std::string_view body = kBody,
                             int64_t now = kNow) {
    return VerifySignature(GetParam().spec, GetParam().secret, headers.Lookup(),
                           body, now);
  }
};

TEST_P(SignatureMatrixTest, ValidSignatureIsAccepted) {
  EXPECT_TRUE(HasStatus(Verify(SignedHeaders()), VerifyStatus::kOk));
}

TEST_P(SignatureMatrixTest, OneChangedBodyByteIsBadSignature) {
  std::string body = kBody;
  body[10] = static_cast<char>(body[10] ^ 0x01);
  EXPECT_TRUE(
      HasStatus(Verify(SignedHeaders(), body), VerifyStatus::kBadSignature));
  EXPECT_TRUE(HasStatus(Verify(SignedHeaders(), std::string(kBody) + " "),
                        VerifyStatus::kBadSignature));
}

TEST_P(SignatureMatrixTest, SignatureMadeWithAnotherSecretIsBadSignature) {
  const SchemeCase& c = GetParam();
  const std::string other =
      c.signature_prefix +
      Encode(RawSignature(c.other_signing_key, Timestamp(kNow), kBody));
  EXPECT_TRUE(HasStatus(Verify(SignedHeaders(Timestamp(kNow), other)),
                        VerifyStatus::kBadSignature));
}

TEST_P(SignatureMatrixTest, EveryByteOfTheSignatureCounts) {
  const SchemeCase& c = GetParam();
  const std::string raw = RawSignature(c.signing_key, Timestamp(kNow), kBody);
  for (const size_t at : {size_t{0}, raw.size() / 2, raw.size() - 1}) {
    SCOPED_TRACE("byte " + std::to_string(at));
    std::string flipped = raw;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x80);
    EXPECT_TRUE(
        HasStatus(Verify(SignedHeaders(Timestamp(kNow),
                                       c.signature_prefix + Encode(flipped))),
                  VerifyStatus::kBadSignature));
  }
}

TEST_P(SignatureMatrixTest, MissingSignatureHeaderIsMissing) {
  Headers headers = SignedHeaders();
  headers.Remove(GetParam().signature_header);
  const VerifyResult result = Verify(headers);
  EXPECT_TRUE(HasStatus(result, VerifyStatus::kMissingHeader));
  EXPECT_NE(result.message.find(GetParam().signature_header), std::string::npos)
      << result.message;
}

TEST_P(SignatureMatrixTest, EmptySignatureHeaderIsMissing) {
  EXPECT_TRUE(HasStatus(Verify(SignedHeaders(Timestamp(kNow), "")),
                        VerifyStatus::kMissingHeader));
}

TEST_P(SignatureMatrixTest, NonHexSignatureIsMalformed) {
  const SchemeCase& c = GetParam();
  std::string signature = Signature(Timestamp(kNow));
  // Same length, one character outside the encoding's alphabet.
  const std::string_view bad_characters =
      c.encoding == SignatureEncoding::kHex ? "gGxZ* -=" : "* -_.=";
  const size_t at = c.signature_prefix.size() + 5;
  for (const char bad : bad_characters) {
    signature[at] = bad;
    SCOPED_TRACE(std::string("character '") + bad + "'");
    EXPECT_TRUE(HasStatus(Verify(SignedHeaders(Timestamp(kNow), signature)),
                          VerifyStatus::kMalformedHeader));
  }
}

TEST_P(SignatureMatrixTest, WrongLengthSignatureIsMalformed) {
  const SchemeCase& c = GetParam();
  const std::string valid = Signature(Timestamp(kNow));
  const std::string raw = RawSignature(c.signing_key, Timestamp(kNow), kBody);
  const std::string filler = c.encoding == SignatureEncoding::kHex ? "0" : "A";
  std::vector<std::string> variants = {
      valid.substr(0, valid.size() - 1),  // 63 hex digits for HMAC
      valid + filler,                     // 65 hex digits for HMAC
      // Well-formed encodings of one byte too few and one too many.
      c.signature_prefix + Encode(raw.substr(0, raw.size() - 1)),
      c.signature_prefix + Encode(raw + "\x01"),
  };
  // The prefix alone (without one, that would be an empty header).
  if (!c.signature_prefix.empty()) variants.push_back(c.signature_prefix);
  for (const std::string& signature : variants) {
    SCOPED_TRACE(signature);
    EXPECT_TRUE(HasStatus(Verify(SignedHeaders(Timestamp(kNow), signature)),
                          VerifyStatus::kMalformedHeader));
  }
}

TEST_P(SignatureMatrixTest, OverlongSignatureHeaderIsMalformed) {
  const std::string filler =
      GetParam().encoding == SignatureEncoding::kHex ? "0" : "A";
  std::string signature = GetParam().signature_prefix;
  while (signature.size() < 2000) signature += filler;
  EXPECT_TRUE(HasStatus(Verify(SignedHeaders(Timestamp(kNow), signature)),
                        VerifyStatus::kMalformedHeader));
}

TEST_P(SignatureMatrixTest, RepeatedSignatureHeaderIsMalformed) {
  // Both copies are valid: the repeat alone is the problem.
  Headers headers = SignedHeaders();
  headers.Add(GetParam().signature_header, Signature(Timestamp(kNow)));
  EXPECT_TRUE(HasStatus(Verify(headers), VerifyStatus::kMalformedHeader));
}

TEST_P(SignatureMatrixTest, WrongPrefixIsMalformed) {
  const SchemeCase& c = GetParam();
  const std::string encoded =
      Encode(RawSignature(c.signing_key, Timestamp(kNow), kBody));
  std::vector<std::string> variants = {"sha1=" + encoded, "v9=" + encoded};
  if (!c.signature_prefix.empty()) {
    variants.push_back(encoded);  // prefix left out
    variants.push_back(Upper(c.signature_prefix) + encoded);
  }
  for (const std::string& signature : variants) {
    SCOPED_TRACE(signature);
    EXPECT_TRUE(HasStatus(Verify(SignedHeaders(Timestamp(kNow), signature)),
                          VerifyStatus::kMalformedHeader));
  }
}

TEST_P(SignatureMatrixTest, MessagesNeverContainTheSecretOrTheSignature) {
  const SchemeCase& c = GetParam();
  const std::string valid = Signature(Timestamp(kNow));
  const std::string encoded = valid.substr(c.signature_prefix.size());
  Headers missing = SignedHeaders();
  missing.Remove(c.signature_header);
  Headers repeated = SignedHeaders();
  repeated.Add(c.signature_header, valid);
  std::vector<VerifyResult> results = {
      Verify(SignedHeaders(), "tampered body"),
      Verify(missing),
      Verify(repeated),
      Verify(SignedHeaders(Timestamp(kNow), valid + "0")),
      Verify(SignedHeaders(Timestamp(kNow), "x" + valid)),
      VerifySignature(c.spec, c.secret + "zz", SignedHeaders().Lookup(), kBody,
                      kNow),
  };
  if (!c.timestamp_header.empty()) {
    results.push_back(Verify(SignedHeaders(Timestamp(kNow - 301))));
    results.push_back(Verify(SignedHeaders("soon")));
  }
  for (const VerifyResult& result : results) {
    EXPECT_NE(result.status, VerifyStatus::kOk);
    EXPECT_FALSE(result.message.empty());
    EXPECT_EQ(result.message.find(c.secret), std::string::npos)
        << result.message;
    EXPECT_EQ(result.message.find(encoded), std::string::npos)
        << result.message;
  }
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, SignatureMatrixTest,
                         ::testing::ValuesIn(AllSchemes()), CaseName);

// The same fixture, for the schemes that sign a timestamp.
class TimestampWindowTest : public SignatureMatrixTest {};

TEST_P(TimestampWindowTest, WindowIsThreeHundredSecondsEachWay) {
  const struct {
    int64_t offset;
    VerifyStatus want;
  } kCases[] = {
      {-301, VerifyStatus::kStaleTimestamp},
      {-300, VerifyStatus::kOk},
      {-299, VerifyStatus::kOk},
      {0, VerifyStatus::kOk},
      {299, VerifyStatus::kOk},
      {300, VerifyStatus::kOk},
      {301, VerifyStatus::kStaleTimestamp},
  };
  for (const auto& c : kCases) {
    // A request signed (validly) for a time `offset` seconds from now.
    SCOPED_TRACE("timestamp = now + " + std::to_string(c.offset));
    EXPECT_TRUE(
        HasStatus(Verify(SignedHeaders(Timestamp(kNow + c.offset))), c.want));
  }
}

TEST_P(TimestampWindowTest, NonNumericTimestampIsMalformed) {
  const std::string kBadTimestamps[] = {
      "abc",
      "-1767225600",
      "+1767225600",
      "1767225600.5",
      " 1767225600",
      "1767225600 ",
      "0x69558000",
      "1767225600s",
      "00000000001767225600",  // now, but in 20 digits
      "17672256000000000000",  // 20 digits
      "9999999999999999999",   // 19 digits, past int64_t
  };
  for (const std::string& timestamp : kBadTimestamps) {
    SCOPED_TRACE(timestamp);
    // Signed over the bad text, so only the timestamp's form is at fault.
    EXPECT_TRUE(HasStatus(Verify(SignedHeaders(timestamp)),
                          VerifyStatus::kMalformedHeader));
  }
}

TEST_P(TimestampWindowTest, MissingOrEmptyTimestampIsMissing) {
  Headers missing = SignedHeaders();
  missing.Remove(GetParam().timestamp_header);
  EXPECT_TRUE(HasStatus(Verify(missing), VerifyStatus::kMissingHeader));
  Headers empty = SignedHeaders();
  empty.Set(GetParam().timestamp_header, "");
  EXPECT_TRUE(HasStatus(Verify(empty), VerifyStatus::kMissingHeader));
}

TEST_P(TimestampWindowTest, RepeatedOrOverlongTimestampIsMalformed) {
  Headers repeated = SignedHeaders();
  repeated.Add(GetParam().timestamp_header, Timestamp(kNow));
  EXPECT_TRUE(HasStatus(Verify(repeated), VerifyStatus::kMalformedHeader));
  Headers overlong = SignedHeaders();
  overlong.Set(GetParam().timestamp_header, std::string(2000, '1'));
  EXPECT_TRUE(HasStatus(Verify(overlong), VerifyStatus::kMalformedHeader));
}

TEST_P(TimestampWindowTest, TimestampIsPartOfWhatIsSigned) {
  // Signed for now, but sent claiming a second later (inside the window).
  EXPECT_TRUE(HasStatus(
      Verify(SignedHeaders(Timestamp(kNow + 1), Signature(Timestamp(kNow)))),
      VerifyStatus::kBadSignature));
}

TEST_P(TimestampWindowTest, ChecksHeadersThenWindowThenSignature) {
  const SchemeCase& c = GetParam();
  const std::string stale = Timestamp(kNow - 301);
  const std::string forged =
      c.signature_prefix +
      Encode(RawSignature(c.other_signing_key, stale, kBody));
  // Stale and forged: the window speaks first.
  EXPECT_TRUE(HasStatus(Verify(SignedHeaders(stale, forged)),
                        VerifyStatus::kStaleTimestamp));
  // Stale and without a well-formed signature: the header speaks first.
  EXPECT_TRUE(HasStatus(Verify(SignedHeaders(stale, forged + "00")),
                        VerifyStatus::kMalformedHeader));
  Headers no_timestamp = SignedHeaders(Timestamp(kNow), forged);
  no_timestamp.Remove(c.timestamp_header);
  EXPECT_TRUE(HasStatus(Verify(no_timestamp), VerifyStatus::kMissingHeader));
}

INSTANTIATE_TEST_SUITE_P(TimestampSchemes, TimestampWindowTest,
                         ::testing::ValuesIn(TimestampSchemes()), CaseName);

// ---------------------------------------------------------------------------
// Scheme-specific edges

TEST(HmacSchemeTest, EmptySecretIsBadSecret) {
  const Headers headers = Headers().Add(
      "X-Hub-Signature-256", "sha256=" + HmacSha256Hex("", kGitHubBody));
  EXPECT_TRUE(HasStatus(
      VerifySignature(GitHubSpec(), "", headers.Lookup(), kGitHubBody, 0),
      VerifyStatus::kBadSecret));
}

TEST(HmacSchemeTest, LiteralTextInSignedPayloadIsSigned) {
  VerificationSpec spec = GitHubSpec();
  spec.timestamp_header = "X-Timestamp";
  spec.signed_payload = "{timestamp}.{body}";
  const std::string timestamp = "1767225600";
  const auto verify = [&](const std::string& signed_text) {
    const Headers headers =
        Headers()
            .Add("X-Hub-Signature-256",
                 "sha256=" + Hex(HmacSha256(kGitHubSecret, signed_text)))
            .Add("X-Timestamp", timestamp);
    return VerifySignature(spec, kGitHubSecret, headers.Lookup(), kGitHubBody,
                           1767225600);
  };
  EXPECT_TRUE(
      HasStatus(verify(timestamp + "." + kGitHubBody), VerifyStatus::kOk));
  EXPECT_TRUE(
      HasStatus(verify(timestamp + kGitHubBody), VerifyStatus::kBadSignature));
  EXPECT_TRUE(HasStatus(verify(kGitHubBody), VerifyStatus::kBadSignature));
}

TEST(HmacSchemeTest, ZeroToleranceAcceptsAnyTime) {
  VerificationSpec spec = GitHubSpec();
  spec.timestamp_header = "X-Timestamp";
  spec.tolerance_seconds = 0;
  spec.signed_payload = "{timestamp}.{body}";
  const Headers headers =
      Headers()
          .Add("X-Hub-Signature-256",
               "sha256=" + Hex(HmacSha256(kGitHubSecret,
                                          std::string("1000.") + kGitHubBody)))
          .Add("X-Timestamp", "1000");
  EXPECT_TRUE(HasStatus(VerifySignature(spec, kGitHubSecret, headers.Lookup(),
                                        kGitHubBody, 1767225600),
                        VerifyStatus::kOk));
}

TEST(HmacSchemeTest, SizeLimitCoversTheWholeHeaderValue) {
  // A correct signature behind a long prefix: the prefix counts too.
  VerificationSpec spec = GitHubSpec();
  spec.signature_prefix = std::string(kMaxSignatureHeaderBytes - 64, 'p');
  const auto verify = [&](const std::string& signature) {
    const Headers headers =
        Headers().Add("X-Hub-Signature-256", signature + kGitHubExpectedHex);
    return VerifySignature(spec, kGitHubSecret, headers.Lookup(), kGitHubBody,
                           0);
  };
  EXPECT_TRUE(HasStatus(verify(spec.signature_prefix), VerifyStatus::kOk));
  spec.signature_prefix += "p";
  EXPECT_TRUE(
      HasStatus(verify(spec.signature_prefix), VerifyStatus::kMalformedHeader));
}

TEST(HmacSchemeTest, Base64MustBeCanonical) {
  VerificationSpec spec = GitHubSpec();
  spec.signature_prefix = "";
  spec.encoding = SignatureEncoding::kBase64;
  const std::string valid =
      Base64Encode(HmacSha256(kGitHubSecret, kGitHubBody));
  ASSERT_EQ(valid.size(), 44u);
  ASSERT_EQ(valid[43], '=');
  const auto verify = [&](const std::string& signature) {
    const Headers headers = Headers().Add("X-Hub-Signature-256", signature);
    return VerifySignature(spec, kGitHubSecret, headers.Lookup(), kGitHubBody,
                           0);
  };
  EXPECT_TRUE(HasStatus(verify(valid), VerifyStatus::kOk));
  // 32 bytes leave two unused bits in the last character; setting one
  // decodes to the same bytes but is not the encoding of them.
  std::string non_canonical = valid;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  non_canonical[42] = kAlphabet[kAlphabet.find(valid[42]) ^ 1];
  EXPECT_TRUE(HasStatus(verify(non_canonical), VerifyStatus::kMalformedHeader));
  EXPECT_TRUE(
      HasStatus(verify(valid.substr(0, 43)), VerifyStatus::kMalformedHeader));
  EXPECT_TRUE(HasStatus(verify(" " + valid.substr(0, 43)),
                        VerifyStatus::kMalformedHeader));
  EXPECT_TRUE(HasStatus(verify(valid.substr(0, 42) + "=="),
                        VerifyStatus::kMalformedHeader));
}

TEST(Ed25519SchemeTest, InvalidPublicKeyIsBadSecret) {
  const Ed25519KeyPair key = GenerateEd25519KeyPair();
  ASSERT_EQ(key.private_key.size(), 32u);
  VerificationSpec spec;
  spec.scheme = SignatureScheme::kEd25519;
  spec.signature_header = "X-Signature-Ed25519";
  const Headers headers = Headers().Add(
      "X-Signature-Ed25519", Hex(Ed25519Sign(key.private_key, kGitHubBody)));
  const std::string public_hex = Hex(key.public_key);
  ASSERT_TRUE(HasStatus(
      VerifySignature(spec, public_hex, headers.Lookup(), kGitHubBody, 0),
      VerifyStatus::kOk));
  const std::string kBadKeys[] = {
      "",
      public_hex.substr(0, 63),
      public_hex + "0",
      public_hex.substr(0, 62) + "zz",
      Base64Encode(key.public_key),
      Hex(key.public_key + key.private_key),
  };
  for (const std::string& secret : kBadKeys) {
    SCOPED_TRACE(secret);
    const VerifyResult result =
        VerifySignature(spec, secret, headers.Lookup(), kGitHubBody, 0);
    EXPECT_TRUE(HasStatus(result, VerifyStatus::kBadSecret));
    if (!secret.empty()) {
      EXPECT_EQ(result.message.find(secret), std::string::npos);
    }
  }
}

TEST(Ed25519SchemeTest, SmallOrderPublicKeyIsBadSecret) {
  // Without this refusal, OpenSSL accepts the all-zero signature on any
  // message under the all-zero key: a placeholder key would let anyone in.
  VerificationSpec spec;
  spec.scheme = SignatureScheme::kEd25519;
  spec.signature_header = "X-Signature-Ed25519";
  const Headers headers =
      Headers().Add("X-Signature-Ed25519", std::string(128, '0'));
  const std::string kWeakKeys[] = {
      std::string(64, '0'),
      "0100000000000000000000000000000000000000000000000000000000000000",
      // An order-8 point, with and without the x sign bit set.
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
      "26E8958FC2B227B045C3F489F2EF98F0D5DFAC05D3C63339B13802886D53FC85",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  };
  for (const std::string& secret : kWeakKeys) {
    SCOPED_TRACE(secret);
    EXPECT_TRUE(HasStatus(
        VerifySignature(spec, secret, headers.Lookup(), "forged event", 0),
        VerifyStatus::kBadSecret));
  }
}

TEST(Ed25519SchemeTest, Base64SignatureIsAccepted) {
  const Ed25519KeyPair key = GenerateEd25519KeyPair();
  ASSERT_EQ(key.private_key.size(), 32u);
  VerificationSpec spec;
  spec.scheme = SignatureScheme::kEd25519;
  spec.signature_header = "X-Signature";
  spec.signature_prefix = "ed25519=";
  spec.encoding = SignatureEncoding::kBase64;
  const Headers headers = Headers().Add(
      "X-Signature",
      "ed25519=" + Base64Encode(Ed25519Sign(key.private_key, kGitHubBody)));
  EXPECT_TRUE(HasStatus(VerifySignature(spec, Hex(key.public_key),
                                        headers.Lookup(), kGitHubBody, 0),
                        VerifyStatus::kOk));
  EXPECT_TRUE(HasStatus(VerifySignature(spec, Hex(key.public_key),
                                        headers.Lookup(), "Hello, World?", 0),
                        VerifyStatus::kBadSignature));
}

TEST(HeaderLookupTest, EmptyLookupMeansEveryHeaderIsMissing) {
  EXPECT_TRUE(HasStatus(VerifySignature(SlackSpec(), kSlackSecret,
                                        HeaderLookup(), kSlackBody, kSlackTime),
                        VerifyStatus::kMissingHeader));
}

// ---------------------------------------------------------------------------
// Issue 17: Stripe's scheme, with test-vectors.md's Stripe-Signature vector

constexpr char kStripeSecret[] = "whsec_test_secret_for_vectors";
constexpr char kStripeBody[] = R"({"id":"evt_test_webhook","object":"event",)"
                               R"("type":"payment_intent.succeeded"})";
constexpr int64_t kStripeTime = 1767225600;
constexpr char kStripeV1[] =
    "b354fc066519fb6902b57f7e1072e37ede8dd7bf3a3ab446c63a553e87e3e51e";

VerificationSpec StripeSpec() {
  VerificationSpec spec;
  spec.scheme = SignatureScheme::kStripe;
  spec.secret_field = "webhook_secret";
  return spec;
}

VerifyResult VerifyStripe(const std::string& header_value, int64_t now,
                          std::string_view body = kStripeBody,
                          std::string_view secret = kStripeSecret) {
  return VerifySignature(
      StripeSpec(), secret,
      Headers().Add("Stripe-Signature", header_value).Lookup(), body, now);
}

std::string StripeV1(std::string_view secret, const std::string& timestamp,
                     std::string_view body) {
  return Hex(HmacSha256(secret, timestamp + "." + std::string(body)));
}

TEST(StripeKnownAnswerTest, IndependentHmacReproducesTheVector) {
  EXPECT_EQ(StripeV1(kStripeSecret, "1767225600", kStripeBody), kStripeV1);
}

TEST(StripeKnownAnswerTest, VerifiesTheVectorAtItsOwnTime) {
  EXPECT_TRUE(HasStatus(
      VerifyStripe(std::string("t=1767225600,v1=") + kStripeV1, kStripeTime),
      VerifyStatus::kOk));
}

TEST(StripeKnownAnswerTest, RealClockRejectsTheVectorsTimestamp) {
  EXPECT_TRUE(
      HasStatus(VerifyStripe(std::string("t=1767225600,v1=") + kStripeV1,
                             static_cast<int64_t>(std::time(nullptr))),
                VerifyStatus::kStaleTimestamp));
}

TEST(StripeKnownAnswerTest, WindowIsThreeHundredSecondsAndZeroMeansNone) {
  const std::string header = std::string("t=1767225600,v1=") + kStripeV1;
  for (const int64_t offset : {-300, 300}) {
    EXPECT_TRUE(HasStatus(VerifyStripe(header, kStripeTime + offset),
                          VerifyStatus::kOk));
  }
  for (const int64_t offset : {-301, 301}) {
    EXPECT_TRUE(HasStatus(VerifyStripe(header, kStripeTime + offset),
                          VerifyStatus::kStaleTimestamp));
  }
  VerificationSpec spec = StripeSpec();
  spec.tolerance_seconds = 0;
  EXPECT_TRUE(HasStatus(
      VerifySignature(spec, kStripeSecret,
                      Headers().Add("Stripe-Signature", header).Lookup(),
                      kStripeBody, kStripeTime + 86400 * 365),
      VerifyStatus::kOk));
}

// While a secret is rolled, Stripe signs with each: any v1 may match. v0
// (test-mode legacy) and unknown keys are ignored, as Stripe's libraries
// ignore them; so is the order of the items.
TEST(StripeSchemeTest, AnyV1MatchesAndOtherKeysAreIgnored) {
  const std::string other =
      StripeV1("whsec_the_old_secret", "1767225600", kStripeBody);
  const std::string cases[] = {
      "t=1767225600,v1=" + other + ",v1=" + kStripeV1,
      std::string("t=1767225600,v1=") + kStripeV1 + ",v1=" + other,
      std::string("v1=") + kStripeV1 + ",t=1767225600",
      "t=1767225600,v0=" + std::string(64, 'a') + ",v1=" + kStripeV1 +
          ",x=1,novalue",
      "t=1767225600,v1=" + std::string(10, 'a') + ",v1=" + kStripeV1,
      std::string("t=1767225600,v1=") + Upper(kStripeV1),
  };
  for (const std::string& header : cases) {
    SCOPED_TRACE(header);
    EXPECT_TRUE(
        HasStatus(VerifyStripe(header, kStripeTime), VerifyStatus::kOk));
  }
  EXPECT_TRUE(HasStatus(VerifyStripe("t=1767225600,v1=" + other, kStripeTime),
                        VerifyStatus::kBadSignature));
  // The signature in v0 does not count.
  EXPECT_TRUE(HasStatus(
      VerifyStripe("t=1767225600,v0=" + std::string(kStripeV1) + ",v1=" + other,
                   kStripeTime),
      VerifyStatus::kBadSignature));
}

TEST(StripeSchemeTest, MalformedHeadersAreRefusedBeforeTheMac) {
  const std::string v1 = std::string("v1=") + kStripeV1;
  const struct {
    std::string header;
    VerifyStatus want;
  } kCases[] = {
      {"", VerifyStatus::kMissingHeader},
      {v1, VerifyStatus::kMalformedHeader},
      {"t=1767225600", VerifyStatus::kMalformedHeader},
      {"t=1767225600,v1=", VerifyStatus::kMalformedHeader},
      {"t=1767225600,v1=" + std::string(kStripeV1).substr(2),
       VerifyStatus::kMalformedHeader},
      {"t=1767225600,t=1767225600," + v1, VerifyStatus::kMalformedHeader},
      {"t=17672256OO," + v1, VerifyStatus::kMalformedHeader},
      {"t=-1767225600," + v1, VerifyStatus::kMalformedHeader},
      {"t=," + v1, VerifyStatus::kMalformedHeader},
      {"t = 1767225600, " + v1, VerifyStatus::kMalformedHeader},
      {"t=1767225600," + v1 + std::string(kMaxSignatureHeaderBytes, 'x'),
       VerifyStatus::kMalformedHeader},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.header);
    const VerifyResult result = VerifyStripe(c.header, kStripeTime);
    EXPECT_TRUE(HasStatus(result, c.want));
    EXPECT_TRUE(result.message.find("Stripe-Signature") != std::string::npos)
        << result.message;
    EXPECT_EQ(result.message.find(kStripeV1), std::string::npos);
  }
  EXPECT_TRUE(
      HasStatus(VerifySignature(StripeSpec(), kStripeSecret, Headers().Lookup(),
                                kStripeBody, kStripeTime),
                VerifyStatus::kMissingHeader));
  const Headers twice =
      Headers()
          .Add("Stripe-Signature", std::string("t=1767225600,v1=") + kStripeV1)
          .Add("Stripe-Signature", std::string("t=1767225600,v1=") + kStripeV1);
  EXPECT_TRUE(
      HasStatus(VerifySignature(StripeSpec(), kStripeSecret, twice.Lookup(),
                                kStripeBody, kStripeTime),
                VerifyStatus::kMalformedHeader));
}

TEST(StripeSchemeTest, BodyTimestampAndWholeSecretAreSigned) {
  const std::string header = std::string("t=1767225600,v1=") + kStripeV1;
  std::string body = kStripeBody;
  body.back() = ' ';
  EXPECT_TRUE(HasStatus(VerifyStripe(header, kStripeTime, body),
                        VerifyStatus::kBadSignature));
  EXPECT_TRUE(HasStatus(
      VerifyStripe(std::string("t=1767225601,v1=") + kStripeV1, kStripeTime),
      VerifyStatus::kBadSignature));
  // The whsec_ prefix is part of the key: Stripe does not decode it.
  const std::string unprefixed =
      StripeV1("test_secret_for_vectors", "1767225600", kStripeBody);
  EXPECT_TRUE(
      HasStatus(VerifyStripe("t=1767225600,v1=" + unprefixed, kStripeTime),
                VerifyStatus::kBadSignature));
  EXPECT_TRUE(HasStatus(VerifyStripe(header, kStripeTime, kStripeBody, ""),
                        VerifyStatus::kBadSecret));
}

// ---------------------------------------------------------------------------
// Issue 17: Standard Webhooks (Svix), with the example the standard's
// reference libraries test ("sign function works",
// standard-webhooks/libraries/javascript/src/webhook.test.ts)

constexpr char kStandardSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kStandardId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr char kStandardTimestamp[] = "1614265330";
constexpr int64_t kStandardTime = 1614265330;
constexpr char kStandardBody[] = R"({"test": 2432232314})";
constexpr char kStandardSignature[] =
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

VerificationSpec StandardSpec() {
  VerificationSpec spec;
  spec.scheme = SignatureScheme::kStandardWebhooks;
  spec.secret_field = "webhook_secret";
  return spec;
}

Headers StandardHeaders(std::string signature = kStandardSignature,
                        std::string id = kStandardId,
                        std::string prefix = "webhook-") {
  return Headers()
      .Add(prefix + "id", std::move(id))
      .Add(prefix + "timestamp", kStandardTimestamp)
      .Add(prefix + "signature", std::move(signature));
}

VerifyResult VerifyStandard(const Headers& headers, int64_t now = kStandardTime,
                            std::string_view secret = kStandardSecret,
                            std::string_view body = kStandardBody) {
  return VerifySignature(StandardSpec(), secret, headers.Lookup(), body, now);
}

TEST(StandardWebhooksKnownAnswerTest, IndependentHmacReproducesTheExample) {
  const std::optional<std::string> key =
      Base64Decode(std::string(kStandardSecret).substr(6));
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ("v1," + Base64Encode(HmacSha256(*key, std::string(kStandardId) +
                                                      "." + kStandardTimestamp +
                                                      "." + kStandardBody)),
            kStandardSignature);
}

TEST(StandardWebhooksKnownAnswerTest, VerifiesTheExampleAndReturnsItsId) {
  const VerifyResult result = VerifyStandard(StandardHeaders());
  EXPECT_TRUE(HasStatus(result, VerifyStatus::kOk));
  EXPECT_EQ(result.event_id, kStandardId);
  // Without the whsec_ prefix the secret is the same base64, as the
  // reference libraries read it.
  EXPECT_TRUE(HasStatus(VerifyStandard(StandardHeaders(), kStandardTime,
                                       std::string(kStandardSecret).substr(6)),
                        VerifyStatus::kOk));
}

TEST(StandardWebhooksKnownAnswerTest, RealClockRejectsTheExample) {
  const VerifyResult result = VerifyStandard(
      StandardHeaders(), static_cast<int64_t>(std::time(nullptr)));
  EXPECT_TRUE(HasStatus(result, VerifyStatus::kStaleTimestamp));
  EXPECT_TRUE(result.event_id.empty());
}

TEST(StandardWebhooksKnownAnswerTest, WindowIsThreeHundredSecondsEachWay) {
  for (const int64_t offset : {-300, 300}) {
    EXPECT_TRUE(
        HasStatus(VerifyStandard(StandardHeaders(), kStandardTime + offset),
                  VerifyStatus::kOk));
  }
  for (const int64_t offset : {-301, 301}) {
    EXPECT_TRUE(
        HasStatus(VerifyStandard(StandardHeaders(), kStandardTime + offset),
                  VerifyStatus::kStaleTimestamp));
  }
}

// Svix sends svix-id, svix-timestamp and svix-signature unless
// white-labelled; its libraries accept both families.
TEST(StandardWebhooksKnownAnswerTest, SvixHeadersAreAcceptedToo) {
  const VerifyResult result =
      VerifyStandard(StandardHeaders(kStandardSignature, kStandardId, "svix-"));
  EXPECT_TRUE(HasStatus(result, VerifyStatus::kOk));
  EXPECT_EQ(result.event_id, kStandardId);
}

// During a key rotation the provider signs with the old key and the new
// one. Computed independently with Node's crypto:
//   key_old = "old-key-before-rotation!"
//   (whsec_b2xkLWtleS1iZWZvcmUtcm90YXRpb24h) content =
//   msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.1674087231.<body> createHmac("sha256",
//   key).update(content).digest("base64")
constexpr char kRotationId[] = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
constexpr int64_t kRotationTime = 1674087231;
constexpr char kRotationBody[] =
    R"({"type":"user.created","data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC"}})";
constexpr char kRotationOldSecret[] = "whsec_b2xkLWtleS1iZWZvcmUtcm90YXRpb24h";
constexpr char kRotationOldSignature[] =
    "v1,8w1y71xp3Ki5R1iEOyTi0JaSMghcz2wAkQ7f6Qqn+d4=";
constexpr char kRotationNewSignature[] =
    "v1,xFVmQEjPHj+BQ1+3SRdZRE6xMVo78G8SFR8+ATfAv1E=";

VerifyResult VerifyRotation(const std::string& signatures,
                            std::string_view secret) {
  const Headers headers = Headers()
                              .Add("webhook-id", kRotationId)
                              .Add("webhook-timestamp", "1674087231")
                              .Add("webhook-signature", signatures);
  return VerifySignature(StandardSpec(), secret, headers.Lookup(),
                         kRotationBody, kRotationTime);
}

TEST(StandardWebhooksRotationTest, OnlyTheSecondSignatureIsValid) {
  const std::string both =
      std::string(kRotationOldSignature) + " " + kRotationNewSignature;
  EXPECT_TRUE(
      HasStatus(VerifyRotation(both, kStandardSecret), VerifyStatus::kOk));
  // The same header still passes for a receiver not yet rotated.
  EXPECT_TRUE(
      HasStatus(VerifyRotation(both, kRotationOldSecret), VerifyStatus::kOk));
  EXPECT_TRUE(HasStatus(VerifyRotation(kRotationOldSignature, kStandardSecret),
                        VerifyStatus::kBadSignature));
  EXPECT_TRUE(HasStatus(VerifyRotation(kRotationNewSignature, kStandardSecret),
                        VerifyStatus::kOk));
}

TEST(StandardWebhooksRotationTest, OtherVersionsAndJunkEntriesAreIgnored) {
  const std::string valid = kRotationNewSignature;
  const std::string payload = valid.substr(3);  // the base64 alone
  EXPECT_TRUE(HasStatus(
      VerifyRotation("v2," + payload + "  v1a," + payload + " " + valid,
                     kStandardSecret),
      VerifyStatus::kOk));
  EXPECT_TRUE(HasStatus(VerifyRotation("v1,short " + std::string("v1,") +
                                           payload.substr(0, 43) + " " + valid,
                                       kStandardSecret),
                        VerifyStatus::kOk));
  // No v1 entry at all: nothing to check.
  for (const std::string& header :
       {"v2," + payload, payload, std::string("v1,"), std::string("v1")}) {
    SCOPED_TRACE(header);
    const VerifyResult result = VerifyRotation(header, kStandardSecret);
    EXPECT_TRUE(HasStatus(result, VerifyStatus::kMalformedHeader));
    EXPECT_EQ(result.message.find(payload), std::string::npos);
  }
}

TEST(StandardWebhooksSchemeTest, IdTimestampAndBodyAreSigned) {
  EXPECT_TRUE(HasStatus(
      VerifyStandard(StandardHeaders(kStandardSignature, "msg_another")),
      VerifyStatus::kBadSignature));
  EXPECT_TRUE(HasStatus(VerifyStandard(StandardHeaders(), kStandardTime,
                                       kStandardSecret, R"({"test": 1})"),
                        VerifyStatus::kBadSignature));
  Headers later = StandardHeaders();
  later.Set("webhook-timestamp", "1614265331");
  EXPECT_TRUE(HasStatus(VerifyStandard(later), VerifyStatus::kBadSignature));
}

TEST(StandardWebhooksSchemeTest, MissingOrMalformedHeaders) {
  for (const char* name :
       {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
    SCOPED_TRACE(name);
    Headers headers = StandardHeaders();
    const VerifyResult missing = VerifyStandard(headers.Remove(name));
    EXPECT_TRUE(HasStatus(missing, VerifyStatus::kMissingHeader));
    EXPECT_TRUE(missing.message.find(name) != std::string::npos)
        << missing.message;
    Headers repeated = StandardHeaders();
    EXPECT_TRUE(HasStatus(VerifyStandard(repeated.Add(name, "x")),
                          VerifyStatus::kMalformedHeader));
  }
  Headers words = StandardHeaders();
  EXPECT_TRUE(HasStatus(VerifyStandard(words.Set("webhook-timestamp", "now")),
                        VerifyStatus::kMalformedHeader));
}

// Composio's own secrets (whsec_ + text) are not Standard Webhooks secrets:
// the key would be undefined, so the endpoint's secret is reported unusable.
TEST(StandardWebhooksSchemeTest, SecretThatIsNotBase64IsBadSecret) {
  for (const char* secret :
       {"whsec_local_test_secret_0123456789", "whsec_", "", "whsec_abc",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
        "whsec_ MfKQ9r8GKYqrTwjUPD8IL"}) {
    SCOPED_TRACE(secret);
    const VerifyResult result =
        VerifyStandard(StandardHeaders(), kStandardTime, secret);
    EXPECT_TRUE(HasStatus(result, VerifyStatus::kBadSecret));
  }
}

// ---------------------------------------------------------------------------
// Issue 17: the built-in entries, read from the built-in catalog

const VerificationSpec& BuiltinSpec(const ToolkitCatalog& catalog,
                                    const char* slug) {
  const ToolkitSpec* toolkit = catalog.Find(slug);
  EXPECT_NE(toolkit, nullptr) << slug;
  static const VerificationSpec kNone;
  if (toolkit == nullptr || !toolkit->verification) return kNone;
  return *toolkit->verification;
}

TEST(BuiltinCatalogTest, GitHubEntryVerifiesGitHubsExample) {
  const ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  const VerificationSpec& spec = BuiltinSpec(catalog, "github");
  EXPECT_EQ(spec.event_id_header, "X-GitHub-Delivery");
  const Headers headers = Headers().Add(
      "X-Hub-Signature-256", std::string("sha256=") + kGitHubExpectedHex);
  EXPECT_TRUE(HasStatus(
      VerifySignature(spec, kGitHubSecret, headers.Lookup(), kGitHubBody,
                      static_cast<int64_t>(std::time(nullptr))),
      VerifyStatus::kOk));
  EXPECT_TRUE(HasStatus(VerifySignature(spec, kGitHubSecret, headers.Lookup(),
                                        "Hello, World?", 0),
                        VerifyStatus::kBadSignature));
}

TEST(BuiltinCatalogTest, StripeEntryVerifiesTheStripeVector) {
  const ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  const VerificationSpec& spec = BuiltinSpec(catalog, "stripe");
  const Headers headers = Headers().Add(
      "Stripe-Signature", std::string("t=1767225600,v1=") + kStripeV1);
  EXPECT_TRUE(HasStatus(VerifySignature(spec, kStripeSecret, headers.Lookup(),
                                        kStripeBody, kStripeTime),
                        VerifyStatus::kOk));
  EXPECT_TRUE(HasStatus(VerifySignature(spec, kStripeSecret, headers.Lookup(),
                                        kStripeBody, kStripeTime + 301),
                        VerifyStatus::kStaleTimestamp));
}

// Discord: Ed25519 of X-Signature-Timestamp followed by the body, hex in
// X-Signature-Ed25519, with the application's public key.
TEST(BuiltinCatalogTest, DiscordEntrySignsTimestampThenBody) {
  const ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  const VerificationSpec& spec = BuiltinSpec(catalog, "discord");
  const Ed25519KeyPair key = GenerateEd25519KeyPair();
  ASSERT_EQ(key.private_key.size(), 32u);
  const std::string body = R"({"type":1})";
  const int64_t now = 1767225600;
  const std::string stamp = std::to_string(now);
  auto verify = [&](const std::string& signed_text, int64_t at) {
    const Headers headers =
        Headers()
            .Add("x-signature-ed25519",
                 Hex(Ed25519Sign(key.private_key, signed_text)))
            .Add("x-signature-timestamp", stamp);
    return VerifySignature(spec, Hex(key.public_key), headers.Lookup(), body,
                           at);
  };
  EXPECT_TRUE(HasStatus(verify(stamp + body, now), VerifyStatus::kOk));
  EXPECT_TRUE(HasStatus(verify(body, now), VerifyStatus::kBadSignature));
  EXPECT_TRUE(
      HasStatus(verify(stamp + "." + body, now), VerifyStatus::kBadSignature));
  EXPECT_TRUE(HasStatus(verify(stamp + body, now + 301),
                        VerifyStatus::kStaleTimestamp));
  EXPECT_FALSE(CanSignAsProvider(spec));
}

TEST(BuiltinCatalogTest, HasTheProvidersPeopleTryFirstWithDescribedFields) {
  const ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  EXPECT_EQ(catalog.Slugs(),
            (std::vector<std::string>{"discord", "github", "notion", "slack",
                                      "slackbot", "stripe"}));
  for (const char* slug : {"discord", "github", "stripe"}) {
    SCOPED_TRACE(slug);
    const ToolkitSpec* toolkit = catalog.Find(slug);
    ASSERT_NE(toolkit, nullptr);
    ASSERT_TRUE(toolkit->verification.has_value());
    const SetupFieldSpec* field =
        toolkit->FindField(toolkit->verification->secret_field);
    ASSERT_NE(field, nullptr);
    EXPECT_TRUE(field->is_required);
    EXPECT_FALSE(field->display_name.empty());
    EXPECT_FALSE(field->description.empty());
    // A public key is not a secret; the HMAC secrets are.
    EXPECT_EQ(field->is_secret, std::string(slug) != "discord");
  }
  const ToolkitSpec* github = catalog.Find("github");
  ASSERT_NE(github, nullptr);
  EXPECT_EQ(github->triggers.event_type_header, "X-GitHub-Event");
  EXPECT_NE(std::find(github->keep_headers.begin(), github->keep_headers.end(),
                      "X-GitHub-Event"),
            github->keep_headers.end());
}

// ---------------------------------------------------------------------------
// Issue 17: signed-payload placeholders and the catalog's checks

TEST(HmacSchemeTest, IdPlaceholderSignsTheEventIdHeader) {
  VerificationSpec spec = GitHubSpec();
  spec.event_id_header = "X-Delivery";
  spec.signed_payload = "{id}:{body}";
  const auto verify = [&](const std::string& signed_text,
                          std::optional<std::string> id) {
    Headers headers =
        Headers().Add("X-Hub-Signature-256",
                      "sha256=" + Hex(HmacSha256(kGitHubSecret, signed_text)));
    if (id) headers.Add("X-Delivery", *id);
    return VerifySignature(spec, kGitHubSecret, headers.Lookup(), kGitHubBody,
                           0);
  };
  EXPECT_TRUE(HasStatus(verify(std::string("d-1:") + kGitHubBody, "d-1"),
                        VerifyStatus::kOk));
  EXPECT_TRUE(HasStatus(verify(std::string("d-1:") + kGitHubBody, "d-2"),
                        VerifyStatus::kBadSignature));
  EXPECT_TRUE(HasStatus(verify(std::string(":") + kGitHubBody, std::nullopt),
                        VerifyStatus::kMissingHeader));
}

// Applies a catalog with one hmac_sha256 toolkit 'acme' whose verification
// has `extra` keys; returns the loader's error ("" if it was accepted).
std::string ApplyAcme(const std::string& extra,
                      const std::string& toolkit_extra = "") {
  ToolkitCatalog catalog;
  std::string error;
  const std::string json =
      R"({"toolkits":{"acme":{"setup_fields":{"secret":{"display_name":"S"}},)"
      R"("verification":{"scheme":"hmac_sha256","secret_field":"secret",)"
      R"("signature_header":"X-Acme-Signature")" +
      extra + "}" + toolkit_extra + "}}}";
  return catalog.Apply(json, &error) ? "" : error;
}

TEST(CatalogPlaceholderTest,
     UnknownPlaceholderNamesToolkitFieldAndPlaceholder) {
  for (const char* placeholder : {"{ts}", "{nonce}", "{Body}", "{id_}"}) {
    SCOPED_TRACE(placeholder);
    const std::string error = ApplyAcme(std::string(R"(,"signed_payload":")") +
                                        placeholder + R"(.{body}")");
    EXPECT_NE(error.find("acme"), std::string::npos) << error;
    EXPECT_NE(error.find("signed_payload"), std::string::npos) << error;
    EXPECT_NE(error.find(placeholder), std::string::npos) << error;
  }
  // Braces that are not a placeholder stay literal text.
  EXPECT_EQ(ApplyAcme(R"(,"signed_payload":"{ {}{body}{\"a\":1}{")"), "");
  EXPECT_EQ(ApplyAcme(R"(,"event_id_header":"X-Id",)"
                      R"("signed_payload":"{id}.{body}")"),
            "");
  const std::string no_header = ApplyAcme(R"(,"signed_payload":"{id}.{body}")");
  EXPECT_NE(no_header.find("event_id_header"), std::string::npos) << no_header;
}

TEST(CatalogKeepHeadersTest, SignatureAndCredentialHeadersAreRefused) {
  for (const char* header :
       {"X-Acme-Signature", "x-acme-signature", "Stripe-Signature",
        "webhook-signature", "X-Shopify-Hmac-Sha256", "Authorization", "Cookie",
        "x-api-key", "X-User-Api-Key"}) {
    SCOPED_TRACE(header);
    const std::string error =
        ApplyAcme("", std::string(R"(,"keep_headers":[")") + header + R"("])");
    EXPECT_NE(error.find("acme"), std::string::npos) << error;
    EXPECT_NE(error.find("keep_headers"), std::string::npos) << error;
    EXPECT_NE(error.find(header), std::string::npos) << error;
  }
  EXPECT_EQ(ApplyAcme("", R"(,"keep_headers":["X-Acme-Event","X-Request-Id"])"),
            "");
  for (const char* bad :
       {R"(,"keep_headers":"X-Acme-Event")", R"(,"keep_headers":[1])",
        R"(,"keep_headers":["X Acme"])"}) {
    SCOPED_TRACE(bad);
    EXPECT_NE(ApplyAcme("", bad).find("keep_headers"), std::string::npos);
  }
}

TEST(CatalogSchemeTest, FixedSchemesRefuseKeysTheyWouldIgnore) {
  for (const char* scheme : {"stripe", "standard_webhooks", "discord"}) {
    SCOPED_TRACE(scheme);
    ToolkitCatalog catalog;
    std::string error;
    const std::string json =
        R"({"toolkits":{"p":{"setup_fields":{"k":{"display_name":"K"}},)"
        R"("verification":{"scheme":")" +
        std::string(scheme) + R"(","secret_field":"k"%s}}}})";
    const auto with = [&](const std::string& extra) {
      std::string text = json;
      text.replace(text.find("%s"), 2, extra);
      return text;
    };
    EXPECT_TRUE(catalog.Apply(with(""), &error)) << error;
    EXPECT_TRUE(catalog.Apply(with(R"(,"tolerance_seconds":0)"), &error))
        << error;
    EXPECT_FALSE(catalog.Apply(with(R"(,"signature_header":"X-Sig")"), &error));
    EXPECT_NE(error.find("signature_header"), std::string::npos) << error;
  }
}

TEST(SignAsProviderTest, StripeAndStandardWebhooksSignaturesVerify) {
  const int64_t now = 1767225600;
  const std::string body = R"({"id":"evt_1","type":"test_event"})";
  for (const auto& [spec, secret] :
       {std::pair{StripeSpec(), std::string(kStripeSecret)},
        std::pair{StandardSpec(), std::string(kStandardSecret)}}) {
    ASSERT_TRUE(CanSignAsProvider(spec));
    std::vector<std::pair<std::string, std::string>> signed_headers;
    ASSERT_TRUE(SignAsProvider(spec, secret, body, now, &signed_headers));
    Headers headers;
    for (const auto& [name, value] : signed_headers) headers.Add(name, value);
    EXPECT_TRUE(
        HasStatus(VerifySignature(spec, secret, headers.Lookup(), body, now),
                  VerifyStatus::kOk));
  }
  std::vector<std::pair<std::string, std::string>> unused;
  EXPECT_FALSE(
      SignAsProvider(StandardSpec(), "whsec_not base64", body, now, &unused));
}

}  // namespace
}  // namespace webhooks
