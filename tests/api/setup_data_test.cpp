// Black-box tests of an endpoint's setup data against the real binary:
// PATCH (merge), replace (POST webhook_endpoints/{id}), masking of secrets
// and masks sent back, and the validation of setup data on both routes;
// secrets kept out of responses and the log.

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// PATCH: merge
// ===========================================================================

class HttpPatchTest : public HttpManageTest {};

TEST_F(HttpPatchTest, MergesOneFieldAtATime) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "abcd..."}}));

  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kAppToken, "xapp-1-A0123456789"}}), &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "abcd..."}, {kAppToken, "xapp..."}}));

  // Rotating the signing secret: a new mask, the token kept.
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      PatchAs(key_, created.id, DataBody({{kSigning, "wxyz0123456789"}}),
              kCreatePathV3),
      200, &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "wxyz..."}, {kAppToken, "xapp..."}}));

  // Retrieve shows what the last PATCH answered.
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.raw_body, got.raw_body);
}

TEST_F(HttpPatchTest, SetsBothFieldsAtOnce) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slackbot", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(PatchAs(key_, created.id,
                             DataBody({{kAppToken, "tok1-0123456789"},
                                       {kSigning, "sig1-0123456789"}}),
                             kCreatePathV3),
                     200, &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "sig1..."}, {kAppToken, "tok1..."}}));
  // And both again, rotated together.
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "sig2-0123456789"}, {kAppToken, "tok2-0123456789"}}),
      &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "sig2..."}, {kAppToken, "tok2..."}}));
}

TEST_F(HttpPatchTest, EmptyPatchChangesNothing) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  // With nothing stored: data stays null.
  ASSERT_NO_FATAL_FAILURE(MustPatch(created.id, R"({"data":{}})", &got));
  EXPECT_EQ(got.raw_body, created.raw_body);
  // With a secret stored: kept as it was.
  Endpoint set;
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &set));
  ASSERT_NO_FATAL_FAILURE(MustPatch(created.id, R"({"data":{}})", &got));
  EXPECT_EQ(got.raw_body, set.raw_body);
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.raw_body, set.raw_body);
}

// 12 characters or more: the first 4 and "..."; fewer: REDACTED.
// Characters, not bytes.
TEST_F(HttpPatchTest, MaskCountsCharactersNotBytes) {
  const std::string e_acute = "\u00e9";
  const std::string kanji = "\u6f22";
  const std::string smile = "\U0001F600";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"abcdefghijk", "REDACTED"},
      {"abcdefghijkl", "abcd..."},
      {"a", "REDACTED"},
      {Repeat(e_acute, 11), "REDACTED"},  // 22 bytes, 11 characters
      {Repeat(e_acute, 11) + "1", Repeat(e_acute, 4) + "..."},
      {"ab" + Repeat(e_acute, 10), "ab" + Repeat(e_acute, 2) + "..."},
      {Repeat(kanji, 11), "REDACTED"},  // 33 bytes
      {Repeat(kanji, 12), Repeat(kanji, 4) + "..."},
      {Repeat(smile, 11), "REDACTED"},  // 44 bytes
      {Repeat(smile, 12), Repeat(smile, 4) + "..."},
      {"abc" + smile + "defghijk", "abc" + smile + "..."},
  };
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  for (const auto& [value, mask] : cases) {
    SCOPED_TRACE(value);
    Endpoint got, read;
    ASSERT_NO_FATAL_FAILURE(
        MustPatch(created.id, DataBody({{kSigning, value}}), &got));
    EXPECT_EQ(got.data, (Data{{kSigning, mask}}));
    ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
    EXPECT_EQ(read.raw_body, got.raw_body);
  }
}

TEST_F(HttpPatchTest, ValuesUpTo4096BytesAreAccepted) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id,
                DataBody({{kSigning, "sgnx" + std::string(4092, 'a')},
                          {kAppToken, Repeat("\u00e9", 2048)}}),
                &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "sgnx..."},
                            {kAppToken, Repeat("\u00e9", 4) + "..."}}));
}

TEST_F(HttpPatchTest, NotionAcceptsOnlyEmptyData) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(created.id, R"({"data":{}})", &got));
  EXPECT_EQ(got.raw_body, created.raw_body);
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      Patch(created.id, DataBody({{"verification_token", "abc"}})), 400,
      kValidation, &error));
  EXPECT_EQ(error.errors.size(), 1u) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"verification_token"}))
      << Join(error.errors);
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &got));
  EXPECT_EQ(got.raw_body, created.raw_body);
}

// No secret value, stored or refused, comes back in any response (the
// create repeat, retrieve, PATCH, replace, list, errors) or reaches the log.
TEST_F(HttpPatchTest, SecretsNeverAppearInResponsesOrTheLog) {
  const std::string signing1 = "sig1-" + RandomKey();
  const std::string token1 = "tok1-" + RandomKey();
  const std::string signing2 = "sig2-" + RandomKey();
  const std::string token2 = "tok2-" + RandomKey();
  const std::string refused = "refu-" + RandomKey();
  const std::string short_token = "s" + RandomKey().substr(5, 9);  // 10 chars
  const std::vector<std::string> secrets = {signing1, token1,  signing2,
                                            token2,   refused, short_token};
  std::vector<Reply> replies;
  auto keep = [&](const httplib::Result& result) {
    if (result) {
      replies.push_back(ToReply(result));
    } else {
      ADD_FAILURE() << "no response: " << httplib::to_string(result.error());
    }
  };
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &endpoint));
  const std::string& id = endpoint.id;
  keep(Patch(id, DataBody({{kSigning, signing1}})));
  keep(Patch(id, DataBody({{kAppToken, token1}})));
  keep(Retrieve(id));
  keep(RetrieveAs(key_, id, kCreatePathV3));
  keep(Create(CreateBody("slack", "c1")));
  keep(List());
  keep(List("toolkit_slug=slack&limit=1"));
  keep(Replace(id, DataBody({{kSigning, signing2}, {kAppToken, token2}})));
  keep(Patch(id, DataBody({{kAppToken, short_token}})));
  // Refused requests carrying a secret.
  keep(Patch(id, DataBody({{kSigning, refused}, {"nope", refused}})));
  keep(Replace(id, DataBody({{kAppToken, refused}})));
  keep(PatchAs(key_, id, DataBody({{kSigning, refused}}), kCreatePath,
               "text/plain"));
  keep(Patch(id, "{\"data\":{\"app_token\":\"" + refused + "\\u0001\"}}"));
  keep(PatchAs(RandomKey(), id, DataBody({{kSigning, refused}})));
  keep(Patch(RandomEndpointId(), DataBody({{kSigning, refused}})));
  keep(Retrieve(id));

  // The calls did what they should: the last read shows the masks.
  ASSERT_FALSE(replies.empty());
  Endpoint last;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(replies.back(), 200, &last));
  EXPECT_EQ(last.data, (Data{{kSigning, "sig2..."}, {kAppToken, "REDACTED"}}));
  for (const Reply& reply : replies) {
    for (const std::string& secret : secrets) {
      EXPECT_FALSE(Contains(reply.body, secret))
          << secret << " in: " << reply.body;
      for (const auto& [name, value] : reply.headers) {
        EXPECT_FALSE(Contains(value, secret)) << name << ": " << value;
      }
    }
  }
  server_->Stop();  // the log is complete once the server has exited
  const std::string log = server_->Stderr();
  EXPECT_FALSE(log.empty());
  for (const std::string& secret : secrets) {
    EXPECT_FALSE(Contains(log, secret)) << secret << " in the log:\n" << log;
  }
}

// ===========================================================================
// Replace (POST webhook_endpoints/{id})
// ===========================================================================

class HttpReplaceTest : public HttpManageTest {};

TEST_F(HttpReplaceTest, NeedsEveryRequiredFieldAndKeepsTheRowOnFailure) {
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "sig1-0123456789"}, {kAppToken, "tok1-0123456789"}}),
      &before));
  struct Case {
    std::string body;
    std::vector<std::string> missing;
  };
  const Case cases[] = {
      {DataBody({{kAppToken, "tok2-0123456789"}}), {kSigning}},
      {DataBody({{kSigning, "sig2-0123456789"}}), {kAppToken}},
      {R"({"data":{}})", {kSigning, kAppToken}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(Replace(created.id, c.body),
                                                400, kValidation, &error));
    EXPECT_EQ(error.errors.size(), c.missing.size()) << Join(error.errors);
    for (const std::string& field : c.missing) {
      EXPECT_TRUE(SomeErrorSays(error.errors, {field, "required"}))
          << field << " not in: " << Join(error.errors);
    }
    Endpoint after;
    ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
    EXPECT_EQ(after.raw_body, before.raw_body);
  }
}

TEST_F(HttpReplaceTest, ReplacesEveryValueUnderBothPrefixes) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  // From nothing stored.
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id,
      DataBody({{kSigning, "sig1-0123456789"}, {kAppToken, "tok1-0123456789"}}),
      &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "sig1..."}, {kAppToken, "tok1..."}}));
  // Both changed.
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(ReplaceAs(key_, created.id,
                               DataBody({{kAppToken, "tok2-0123456789"},
                                         {kSigning, "sig2-0123456789"}}),
                               kCreatePathV3),
                     200, &got));
  ExpectSameIdentity(got, created);
  EXPECT_EQ(got.data, (Data{{kSigning, "sig2..."}, {kAppToken, "tok2..."}}));
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.raw_body, got.raw_body);
}

TEST_F(HttpReplaceTest, NotionReplacedWithNothingHasNullData) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("notion", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustReplace(created.id, R"({"data":{}})", &got));
  EXPECT_TRUE(got.data_is_null);
  EXPECT_EQ(got.raw_body, created.raw_body);
}

// "Every problem in errors": a replace body is checked whole, so an unknown
// field does not hide the missing required ones, and an unknown field does
// not hide a refused mask.
TEST_F(HttpReplaceTest, ProblemsOfDifferentKindsAreListedTogether) {
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "sig1-0123456789"}}), &before));
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(Replace(created.id, DataBody({{"nope", "x"}})), 400,
                          kValidation, &error));
  EXPECT_EQ(error.errors.size(), 3u) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"nope"})) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {kSigning, "required"}))
      << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {kAppToken, "required"}))
      << Join(error.errors);

  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      Patch(created.id, DataBody({{"nope", "x"}, {kSigning, "zzzz..."}})), 400,
      kValidation, &error));
  EXPECT_EQ(error.errors.size(), 2u) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"nope"})) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"data." + std::string(kSigning)}))
      << Join(error.errors);
  Endpoint after;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
  EXPECT_EQ(after.raw_body, before.raw_body);
}

// ===========================================================================
// Masked values sent back
// ===========================================================================

class HttpMaskedValueTest : public HttpManageTest {};

// Our choice (README): a secret sent back as exactly the mask of its stored
// value keeps the stored value. Proof that the secret, not the text
// "abcd...", is kept: the mask of "abcd..." would be REDACTED, and sending
// "abcd..." again is accepted only while it is the stored value's mask.
TEST_F(HttpMaskedValueTest, ExactMaskKeepsTheStoredSecret) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "abcdefghijklmnop"}, {kAppToken, "xapp-1-0123456"}}),
      &got));
  const Data stored = {{kSigning, "abcd..."}, {kAppToken, "xapp..."}};
  EXPECT_EQ(got.data, stored);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    ASSERT_NO_FATAL_FAILURE(
        MustPatch(created.id, DataBody({{kSigning, "abcd..."}}), &got));
    EXPECT_EQ(got.data, stored);
  }
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.data, stored);

  // A PATCH of the other field leaves it alone.
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kAppToken, "xoxb-9876543210"}}), &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "abcd..."}, {kAppToken, "xoxb..."}}));
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kSigning, "abcd..."}}), &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "abcd..."}, {kAppToken, "xoxb..."}}));

  // A real new secret changes the mask, and the old mask is then foreign.
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kSigning, "qrstuvwxyz0123"}}), &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "qrst..."}, {kAppToken, "xoxb..."}}));
  ExpectErrorEnvelope(Patch(created.id, DataBody({{kSigning, "abcd..."}})), 400,
                      kValidation);
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &read));
  EXPECT_EQ(read.raw_body, got.raw_body);
}

TEST_F(HttpMaskedValueTest, MaskOfAMultiByteSecretIsRecognised) {
  const std::string e_acute = "\u00e9";
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kSigning, Repeat(e_acute, 12)}}), &got));
  const Data stored = {{kSigning, Repeat(e_acute, 4) + "..."}};
  EXPECT_EQ(got.data, stored);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    ASSERT_NO_FATAL_FAILURE(MustPatch(
        created.id, DataBody({{kSigning, Repeat(e_acute, 4) + "..."}}), &got));
    EXPECT_EQ(got.data, stored);
  }
}

TEST_F(HttpMaskedValueTest, ReplaceWithBothMasksKeepsBothSecrets) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "abcdefghijklmnop"}, {kAppToken, "xapp-1-0123456"}}),
      &got));
  const Data stored = {{kSigning, "abcd..."}, {kAppToken, "xapp..."}};
  // Twice: the second is accepted only if the first kept the secrets.
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    ASSERT_NO_FATAL_FAILURE(MustReplace(
        created.id, DataBody({{kSigning, "abcd..."}, {kAppToken, "xapp..."}}),
        &got));
    EXPECT_EQ(got.data, stored);
  }
  // One mask and one new secret: the masked one kept, the other changed.
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id,
      DataBody({{kSigning, "abcd..."}, {kAppToken, "newtoken-0123456"}}),
      &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "abcd..."}, {kAppToken, "newt..."}}));
  // Two new secrets: both masks change.
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id,
      DataBody({{kSigning, "sig9-0123456789"}, {kAppToken, "tok9-0123456789"}}),
      &got));
  EXPECT_EQ(got.data, (Data{{kSigning, "sig9..."}, {kAppToken, "tok9..."}}));
}

// A short secret shows REDACTED; sending REDACTED back keeps it.
TEST_F(HttpMaskedValueTest, RedactedSentBackForAShortSecretKeepsIt) {
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "abcdefghijklmnop"}, {kAppToken, "short1"}}), &got));
  const Data stored = {{kSigning, "abcd..."}, {kAppToken, "REDACTED"}};
  EXPECT_EQ(got.data, stored);
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(created.id, DataBody({{kAppToken, "REDACTED"}}), &got));
  EXPECT_EQ(got.data, stored);
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id, DataBody({{kSigning, "abcd..."}, {kAppToken, "REDACTED"}}),
      &got));
  EXPECT_EQ(got.data, stored);
}

// A mask-shaped value that is not the stored value's mask is refused, and
// nothing changes.
TEST_F(HttpMaskedValueTest, ForeignMaskIs400AndChangesNothing) {
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &before));
  struct Case {
    bool replace;
    std::string body;
    std::vector<std::string> fields;  // each named in its own error
  };
  const Case cases[] = {
      {false, DataBody({{kSigning, "zzzz..."}}), {kSigning}},
      {false, DataBody({{kSigning, "ABCD..."}}), {kSigning}},
      {false, DataBody({{kSigning, "REDACTED"}}), {kSigning}},
      {false, DataBody({{kSigning, "\u00e9bcd..."}}), {kSigning}},
      {false, DataBody({{kAppToken, "REDACTED"}}), {kAppToken}},  // none
      {false, DataBody({{kAppToken, "xapp..."}}), {kAppToken}},   // stored
      {false,
       DataBody({{kSigning, "abcd..."}, {kAppToken, "REDACTED"}}),
       {kAppToken}},
      {false,
       DataBody({{kSigning, "new-secret-0123"}, {kAppToken, "REDACTED"}}),
       {kAppToken}},
      {true,
       DataBody({{kSigning, "zzzz..."}, {kAppToken, "REDACTED"}}),
       {kSigning, kAppToken}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        c.replace ? Replace(created.id, c.body) : Patch(created.id, c.body),
        400, kValidation, &error));
    EXPECT_EQ(error.errors.size(), c.fields.size()) << Join(error.errors);
    for (const std::string& field : c.fields) {
      EXPECT_TRUE(SomeErrorSays(error.errors, {"data." + field}))
          << field << " not in: " << Join(error.errors);
    }
    Endpoint after;
    ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
    EXPECT_EQ(after.raw_body, before.raw_body);
  }
}

// ===========================================================================
// PATCH and replace: validation
// ===========================================================================

struct BadSetup {
  std::string name;
  std::string body;
  std::string content_type;           // empty: no Content-Type header
  size_t error_count;                 // for PATCH; 0: at least one
  std::vector<std::string> mentions;  // each in some entry of errors
};

BadSetup BadData(std::string name, size_t error_count,
                 std::vector<std::string> mentions, std::string body,
                 std::string content_type = "application/json") {
  return BadSetup{std::move(name), std::move(body), std::move(content_type),
                  error_count, std::move(mentions)};
}

std::vector<BadSetup> BadSetups() {
  const std::string good = DataBody({{kAppToken, "tok2-0123456789"}});
  const std::string fixed = "cannot be changed";
  return {
      // Unknown field names: the error names the allowed ones.
      BadData("UnknownSetupField", 1, {"signing_secret", kSigning, kAppToken},
              DataBody({{"signing_secret", "abcdefghijklmnop"}})),
      BadData("UnknownTopLevelField", 1, {"extra"},
              R"({"data":{},"extra":"x"})"),
      // Values that are not strings.
      BadData("NumberValue", 1, {kAppToken}, R"({"data":{"app_token":12}})"),
      BadData("NullValue", 1, {kAppToken}, R"({"data":{"app_token":null}})"),
      BadData("ObjectValue", 1, {kAppToken},
              R"({"data":{"app_token":{"v":"x"}}})"),
      BadData("ArrayValue", 1, {kAppToken}, R"({"data":{"app_token":["x"]}})"),
      BadData("BoolValue", 1, {kAppToken}, R"({"data":{"app_token":true}})"),
      // data missing or not an object.
      BadData("DataMissing", 1, {"data"}, "{}"),
      BadData("DataArray", 1, {"data"}, R"({"data":[]})"),
      BadData("DataString", 1, {"data"}, R"({"data":"x"})"),
      BadData("DataNull", 1, {"data"}, R"({"data":null})"),
      BadData("DataNumber", 1, {"data"}, R"({"data":1})"),
      // Endpoint fields that cannot be set.
      BadData("SetsId", 1, {"id", fixed},
              R"({"data":{},"id":"we_aaaaaaaaaaaa"})"),
      BadData("SetsWebhookUrl", 1, {"webhook_url", fixed},
              R"({"data":{},"webhook_url":"https://evil.example.com/"})"),
      BadData("SetsToolkitSlug", 1, {"toolkit_slug", fixed},
              R"({"data":{},"toolkit_slug":"notion"})"),
      BadData("SetsClientId", 1, {"client_id", fixed},
              R"({"data":{},"client_id":"other"})"),
      BadData("SetsCreatedAt", 1, {"created_at", fixed},
              R"({"data":{},"created_at":"2020-01-01T00:00:00.000Z"})"),
      BadData("SetsVerifiedAt", 1, {"verified_at", fixed},
              R"({"data":{},"verified_at":"2020-01-01T00:00:00.000Z"})"),
      BadData("SetsIdWithoutData", 2, {"id", "data"}, R"({"id":"we_x"})"),
      // Several problems at once, all listed.
      BadData("SeveralProblems", 5,
              {"id", "client_id", "nope", kAppToken, kSigning},
              R"({"id":"we_x","client_id":"c","data":{"nope":"x",)"
              R"("app_token":5,"webhook_signing_secret":null}})"),
      BadData("SeveralProblemsAndTextPlain", 3,
              {"content-type", "webhook_url", kAppToken},
              R"({"webhook_url":"x","data":{"app_token":[]}})", "text/plain"),
      // Duplicate keys.
      BadData("DuplicateSetupField", 1, {kAppToken},
              R"({"data":{"app_token":"aaaaaaaaaaaaaaaa",)"
              R"("app_token":"bbbbbbbbbbbbbbbb"}})"),
      BadData("DuplicateData", 1, {"data"},
              R"({"data":{},"data":{"app_token":"tok2-0123456789"}})"),
      // Not a JSON object.
      BadData("MalformedJson", 0, {}, R"({"data":{"app_token":"x")"),
      BadData("EmptyBody", 0, {}, ""),
      BadData("ArrayBody", 0, {}, "[]"),
      BadData("TrailingGarbage", 0, {}, good + " x"),
      BadData("InvalidUtf8", 0, {},
              "{\"data\":{\"app_token\":\"tok2-0123456789\xff\"}}"),
      BadData("RawControlCharacter", 0, {},
              "{\"data\":{\"app_token\":\"tok2-0123456789\x01\"}}"),
      // The content type.
      BadData("TextPlain", 1, {"content-type"}, good, "text/plain"),
      BadData("MissingContentType", 1, {"content-type"}, good, ""),
      // Values: at most 4096 bytes, UTF-8 without control characters.
      BadData("ValueOf4097Bytes", 1, {kAppToken, "4096"},
              DataBody({{kAppToken, std::string(4097, 'a')}})),
      BadData("ValueOf2049TwoByteCharacters", 1, {kAppToken, "4096"},
              DataBody({{kAppToken, Repeat("\u00e9", 2049)}})),
      BadData("EscapedControlCharacter", 1, {kAppToken},
              R"({"data":{"app_token":"tok2-0123456789\u0001"}})"),
      BadData("Newline", 1, {kAppToken},
              R"({"data":{"app_token":"tok2-0123456789\n"}})"),
      BadData("Nul", 1, {kAppToken},
              R"({"data":{"app_token":"tok2-0123456789\u0000"}})"),
      BadData("Del", 1, {kAppToken},
              R"({"data":{"app_token":"tok2-0123456789\u007f"}})"),
      BadData("C1Control", 1, {kAppToken},
              R"({"data":{"app_token":"tok2-0123456789\u0085"}})"),
      BadData("LoneSurrogate", 0, {},
              R"({"data":{"app_token":"tok2-0123456789\ud800"}})"),
      // Issue 11, item 11 (2026-04): an empty required value was stored and
      // read back as REDACTED, so the endpoint looked configured.
      BadData("EmptyRequiredSecret", 1, {kSigning, "must not be empty"},
              DataBody({{kSigning, ""}})),
      BadData("EmptyBesideAGoodValue", 1, {kAppToken, "must not be empty"},
              DataBody({{kSigning, "sig2-0123456789"}, {kAppToken, ""}})),
  };
}

void PrintTo(const BadSetup& bad, std::ostream* out) { *out << bad.name; }

class HttpSetupValidationTest
    : public HttpManageTest,
      public ::testing::WithParamInterface<std::tuple<BadSetup, bool>> {};

// The row holds a signing secret before and must hold exactly it after.
TEST_P(HttpSetupValidationTest, Is400ListingEveryProblemAndChangesNothing) {
  const auto& [bad, replace] = GetParam();
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "sig1-0123456789"}}), &before));
  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
      replace
          ? ReplaceAs(key_, created.id, bad.body, kCreatePath, bad.content_type)
          : PatchAs(key_, created.id, bad.body, kCreatePath, bad.content_type),
      400, kValidation, &error));
  if (bad.error_count == 0) {
    EXPECT_FALSE(error.errors.empty());
  } else if (replace) {
    // A replace may add the required fields it lacks.
    EXPECT_GE(error.errors.size(), bad.error_count) << Join(error.errors);
  } else {
    EXPECT_EQ(error.errors.size(), bad.error_count) << Join(error.errors);
  }
  for (const std::string& mention : bad.mentions) {
    EXPECT_TRUE(SomeErrorSays(error.errors, {mention}))
        << mention << " not in: " << Join(error.errors);
  }
  Endpoint after;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
  EXPECT_EQ(after.raw_body, before.raw_body);
}

INSTANTIATE_TEST_SUITE_P(
    Http, HttpSetupValidationTest,
    ::testing::Combine(::testing::ValuesIn(BadSetups()), ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<BadSetup, bool>>& param) {
      return std::get<0>(param.param).name +
             (std::get<1>(param.param) ? "Replace" : "Patch");
    });

}  // namespace
}  // namespace webhooks::testing
