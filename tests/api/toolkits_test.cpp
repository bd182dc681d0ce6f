// Black-box tests of the toolkit catalog against the real binary: the
// schema route, and a catalog file (--toolkits, WEBHOOKS_TOOLKITS) that adds
// toolkits or replaces the built-in ones. Catalog files the server refuses
// at start-up are in tests/cli/config_test.cpp.

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// Toolkit catalog and schema
// ===========================================================================

struct FieldSchema {
  std::string display_name;
  std::string description;
  bool is_required = false;
  bool is_secret = false;
};

class HttpSchemaTest : public HttpManageTest {
 protected:
  // Asserts a schema answer for `toolkit`: exactly {"toolkit_slug",
  // "setup_fields"}, each field exactly its four typed members. Fills
  // *fields, keyed by field name.
  static void ExpectSchema(const httplib::Result& result,
                           const std::string& toolkit,
                           std::map<std::string, FieldSchema>* fields) {
    ASSERT_TRUE(result) << "no response: "
                        << httplib::to_string(result.error());
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    ASSERT_NO_FATAL_FAILURE(
        ExpectJsonObject(ToReply(result), 200, &parser, &object));
    EXPECT_EQ(SortedKeys(object),
              (std::vector<std::string>{"setup_fields", "toolkit_slug"}))
        << result->body;
    std::string_view text;
    ASSERT_EQ(object["toolkit_slug"].get_string().get(text), simdjson::SUCCESS);
    EXPECT_EQ(text, toolkit);
    simdjson::dom::object setup;
    ASSERT_EQ(object["setup_fields"].get_object().get(setup), simdjson::SUCCESS)
        << result->body;
    fields->clear();
    for (auto member : setup) {
      simdjson::dom::object spec;
      ASSERT_EQ(member.value.get_object().get(spec), simdjson::SUCCESS);
      EXPECT_EQ(SortedKeys(spec),
                (std::vector<std::string>{"description", "display_name",
                                          "is_required", "is_secret"}))
          << result->body;
      FieldSchema field;
      ASSERT_EQ(spec["display_name"].get_string().get(text), simdjson::SUCCESS);
      field.display_name = text;
      ASSERT_EQ(spec["description"].get_string().get(text), simdjson::SUCCESS);
      field.description = text;
      ASSERT_EQ(spec["is_required"].get_bool().get(field.is_required),
                simdjson::SUCCESS);
      ASSERT_EQ(spec["is_secret"].get_bool().get(field.is_secret),
                simdjson::SUCCESS);
      fields->emplace(std::string(member.key), field);
    }
  }

  // Slack's and slackbot's two required secrets.
  static void ExpectSlackFields(
      const std::map<std::string, FieldSchema>& fields) {
    std::vector<std::string> names;
    for (const auto& [name, field] : fields) names.push_back(name);
    ASSERT_EQ(names, (std::vector<std::string>{kAppToken, kSigning}));
    EXPECT_EQ(fields.at(kSigning).display_name, "Signing Secret");
    EXPECT_EQ(fields.at(kAppToken).display_name, "App-Level Token");
    for (const auto& [name, field] : fields) {
      SCOPED_TRACE(name);
      EXPECT_FALSE(field.description.empty());
      EXPECT_TRUE(field.is_required);
      EXPECT_TRUE(field.is_secret);
    }
  }
};

TEST_F(HttpSchemaTest, SlackSchemaUnderBothPrefixes) {
  for (const char* path : {kSchemaPathV3, kSchemaPath}) {
    SCOPED_TRACE(path);
    for (const char* toolkit : {"slack", "slackbot"}) {
      SCOPED_TRACE(toolkit);
      std::map<std::string, FieldSchema> fields;
      ASSERT_NO_FATAL_FAILURE(
          ExpectSchema(Schema(std::string("toolkit_slug=") + toolkit, path),
                       toolkit, &fields));
      ExpectSlackFields(fields);
    }
  }
}

TEST_F(HttpSchemaTest, NotionHasAnEmptySetupFieldsObject) {
  std::map<std::string, FieldSchema> fields;
  ASSERT_NO_FATAL_FAILURE(
      ExpectSchema(Schema("toolkit_slug=notion"), "notion", &fields));
  EXPECT_TRUE(fields.empty());
}

TEST_F(HttpSchemaTest, ToolkitSlugIsLowerCased) {
  auto lower = Schema("toolkit_slug=slack");
  auto upper = Schema("toolkit_slug=SLACK");
  std::map<std::string, FieldSchema> fields;
  ASSERT_NO_FATAL_FAILURE(ExpectSchema(upper, "slack", &fields));
  ExpectSlackFields(fields);
  ASSERT_TRUE(lower);
  EXPECT_EQ(upper->body, lower->body);
}

TEST_F(HttpSchemaTest, MissingToolkitSlugIs400) {
  for (const char* query : {"", "toolkit_slug=", "toolkit=slack"}) {
    SCOPED_TRACE(query);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(Schema(query), 400, kValidation, &error));
    EXPECT_TRUE(SomeErrorSays(error.errors, {"toolkit_slug"}))
        << Join(error.errors);
  }
}

TEST_F(HttpSchemaTest, UnknownToolkitIs404NamingTheCatalog) {
  for (const char* query : {"toolkit_slug=nosuch", "toolkit_slug=%00%ff%22",
                            "toolkit_slug=slack%20"}) {
    SCOPED_TRACE(query);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(Schema(query), 404, "Toolkit_NotFound", &error));
    for (const char* word : {"catalog", "slack", "slackbot", "notion"}) {
      EXPECT_TRUE(Contains(Lower(error.suggested_fix), word))
          << word << " not in: " << error.suggested_fix;
    }
  }
}

TEST_F(HttpSchemaTest, NeedsAKey) {
  ExpectErrorEnvelope(
      NewClient().Get(std::string(kSchemaPath) + "?toolkit_slug=slack"), 401,
      "HTTP_Unauthorized");
  ExpectErrorEnvelope(
      NewClient().Get(std::string(kSchemaPath) + "?toolkit_slug=slack",
                      {{"x-api-key", key_}, {"x-user-api-key", key_}}),
      401, "HTTP_Unauthorized");
}

// ===========================================================================
// Toolkit catalog file (--toolkits, WEBHOOKS_TOOLKITS)
// ===========================================================================

// Adds github: a required secret and an optional clear field.
std::string GithubToolkits() {
  return std::string(R"json({"toolkits":{"github":{"setup_fields":{
    "webhook_secret":{"display_name":"Webhook Secret","is_required":true,
                      "is_secret":true},
    "label":{"display_name":"Label","is_secret":false}},
  "verification":)json") +
         kGithubVerification + "}}}";
}

// github alone, the built-in toolkits dropped.
std::string GithubOnlyToolkits() {
  return std::string(R"json({"replace":true,"toolkits":{"github":{
  "setup_fields":{"webhook_secret":{"display_name":"Webhook Secret",
                                    "is_required":true,"is_secret":true}},
  "verification":)json") +
         kGithubVerification + "}}}";
}

class HttpToolkitsTest : public HttpSchemaTest {
 protected:
  // github from GithubToolkits() is served, and the built-in toolkits still
  // are.
  void ExpectGithubAndTheBuiltIns() {
    Endpoint github;
    ASSERT_NO_FATAL_FAILURE(MustCreate("github", "c1", &github));
    ExpectNewEndpoint(github, "github", "c1", DefaultPublicBase());
    std::map<std::string, FieldSchema> fields;
    ASSERT_NO_FATAL_FAILURE(
        ExpectSchema(Schema("toolkit_slug=github"), "github", &fields));
    ASSERT_EQ(fields.size(), 2u);
    ASSERT_EQ(fields.count("webhook_secret"), 1u);
    ASSERT_EQ(fields.count("label"), 1u);
    EXPECT_EQ(fields["webhook_secret"].display_name, "Webhook Secret");
    EXPECT_TRUE(fields["webhook_secret"].is_required);
    EXPECT_TRUE(fields["webhook_secret"].is_secret);
    EXPECT_EQ(fields["label"].display_name, "Label");
    EXPECT_FALSE(fields["label"].is_required);
    EXPECT_FALSE(fields["label"].is_secret);
    for (const char* toolkit : {"slack", "slackbot", "notion"}) {
      SCOPED_TRACE(toolkit);
      Endpoint endpoint;
      ASSERT_NO_FATAL_FAILURE(MustCreate(toolkit, "c1", &endpoint));
      ASSERT_NO_FATAL_FAILURE(ExpectSchema(
          Schema(std::string("toolkit_slug=") + toolkit), toolkit, &fields));
    }
    ASSERT_NO_FATAL_FAILURE(
        ExpectSchema(Schema("toolkit_slug=slack"), "slack", &fields));
    ExpectSlackFields(fields);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Create(CreateBody("nosuch", "c1")), 404, "Toolkit_NotFound", &error));
    for (const char* slug : {"github", "slack", "notion"}) {
      EXPECT_TRUE(Contains(error.suggested_fix, slug))
          << slug << " not in: " << error.suggested_fix;
    }
  }
};

TEST_F(HttpToolkitsTest, FileAddsAToolkit) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubToolkits())}));
  ExpectGithubAndTheBuiltIns();
}

TEST_F(HttpToolkitsTest, FileFromTheEnvironment) {
  ASSERT_TRUE(
      StartServer({}, {"WEBHOOKS_TOOLKITS=" + ToolkitsFile(GithubToolkits())}));
  ExpectGithubAndTheBuiltIns();
}

TEST_F(HttpToolkitsTest, FlagWinsOverTheEnvironment) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubToolkits())},
                          {"WEBHOOKS_TOOLKITS=" + dir_.File("missing.json")}));
  ExpectGithubAndTheBuiltIns();
}

// Non-secret fields come back verbatim, mask-shaped or short; replace
// clears the unlisted optional field and needs the required one.
TEST_F(HttpToolkitsTest, NonSecretFieldsComeBackVerbatim) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubToolkits())}));
  Endpoint created, got;
  ASSERT_NO_FATAL_FAILURE(MustCreate("github", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{"webhook_secret", "ghsecret-012345"}, {"label", "abcd..."}}),
      &got));
  EXPECT_EQ(got.data,
            (Data{{"webhook_secret", "ghse..."}, {"label", "abcd..."}}));
  for (const std::string& label :
       {std::string("short"), std::string("a label of some length, \u00e9"),
        std::string("REDACTED")}) {
    SCOPED_TRACE(label);
    ASSERT_NO_FATAL_FAILURE(
        MustPatch(created.id, DataBody({{"label", label}}), &got));
    EXPECT_EQ(got.data,
              (Data{{"webhook_secret", "ghse..."}, {"label", label}}));
  }
  const Endpoint before = got;

  ErrorBody error;
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorEnvelope(Replace(created.id, DataBody({{"label", "x"}})), 400,
                          kValidation, &error));
  EXPECT_EQ(error.errors.size(), 1u) << Join(error.errors);
  EXPECT_TRUE(SomeErrorSays(error.errors, {"webhook_secret", "required"}))
      << Join(error.errors);
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &got));
  EXPECT_EQ(got.raw_body, before.raw_body);

  // The mask keeps the secret; the label, not listed, is cleared.
  ASSERT_NO_FATAL_FAILURE(
      MustReplace(created.id, DataBody({{"webhook_secret", "ghse..."}}), &got));
  EXPECT_EQ(got.data, (Data{{"webhook_secret", "ghse..."}}));
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id, DataBody({{"webhook_secret", "another-secret-0"}}), &got));
  EXPECT_EQ(got.data, (Data{{"webhook_secret", "anot..."}}));
}

// Issue 11, item 11 (2026-04): an empty optional value is refused too (our
// choice: "" never means "clear"); a replace that leaves it out clears it.
TEST_F(HttpToolkitsTest, EmptyOptionalValueIsRefusedAndReplaceClearsIt) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubToolkits())}));
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("github", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{"webhook_secret", "ghsecret-012345"}, {"label", "mine"}}),
      &before));
  const std::string empty_label =
      DataBody({{"webhook_secret", "ghsecret-012345"}, {"label", ""}});
  for (bool replace : {false, true}) {
    SCOPED_TRACE(replace ? "replace" : "patch");
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(replace ? Replace(created.id, empty_label)
                                    : Patch(created.id, empty_label),
                            400, kValidation, &error));
    EXPECT_EQ(error.errors.size(), 1u) << Join(error.errors);
    EXPECT_TRUE(SomeErrorSays(
        error.errors, {"data.label", "must not be empty", "without it"}))
        << Join(error.errors);
    Endpoint after;
    ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
    EXPECT_EQ(after.raw_body, before.raw_body);
  }
  Endpoint cleared;
  ASSERT_NO_FATAL_FAILURE(MustReplace(
      created.id, DataBody({{"webhook_secret", "ghsecret-012345"}}), &cleared));
  EXPECT_EQ(cleared.data, (Data{{"webhook_secret", "ghse..."}}));
}

TEST_F(HttpToolkitsTest, ReplaceTrueDropsTheBuiltInToolkits) {
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubOnlyToolkits())}));
  Endpoint github;
  ASSERT_NO_FATAL_FAILURE(MustCreate("github", "c1", &github));
  std::map<std::string, FieldSchema> fields;
  ASSERT_NO_FATAL_FAILURE(
      ExpectSchema(Schema("toolkit_slug=github"), "github", &fields));
  for (const char* toolkit : {"slack", "slackbot", "notion"}) {
    SCOPED_TRACE(toolkit);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(
        Create(CreateBody(toolkit, "c1")), 404, "Toolkit_NotFound", &error));
    EXPECT_TRUE(Contains(error.suggested_fix, "github")) << error.suggested_fix;
    EXPECT_FALSE(Contains(error.suggested_fix, "slack")) << error.suggested_fix;
    ExpectErrorEnvelope(Schema(std::string("toolkit_slug=") + toolkit), 404,
                        "Toolkit_NotFound");
  }
}

// An endpoint whose toolkit a later catalog drops is still served, and its
// stored values stay masked.
TEST_F(HttpToolkitsTest, EndpointOfADroppedToolkitStillHidesItsSecrets) {
  Endpoint created, before;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id,
      DataBody({{kSigning, "abcdefghijklmnop"}, {kAppToken, "short1"}}),
      &before));
  const std::string old_base = DefaultPublicBase();
  ASSERT_TRUE(StartServer({"--toolkits", ToolkitsFile(GithubOnlyToolkits())}));
  Endpoint after;
  ASSERT_NO_FATAL_FAILURE(MustRead(created.id, &after));
  EXPECT_EQ(after.raw_body,
            AsRestarted(before.raw_body, old_base, DefaultPublicBase()));
  EXPECT_EQ(after.data, (Data{{kSigning, "abcd..."}, {kAppToken, "REDACTED"}}));
  std::vector<ListItem> items;
  ASSERT_NO_FATAL_FAILURE(MustList("", &items));
  EXPECT_EQ(Ids(items), std::vector<std::string>{created.id});
}

}  // namespace
}  // namespace webhooks::testing
