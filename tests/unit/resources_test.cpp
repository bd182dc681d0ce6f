// Unit tests of api/resources: the endpoint object's verification_token
// (issue 17), whose window depends on the time, which the black-box suites
// cannot move: in clear from the handshake for kHandshakeSecretShownMs,
// masked after, absent for a toolkit whose secret the project sets.

#include "api/resources.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "store/store.h"
#include "toolkits/catalog.h"
#include "util/json_writer.h"

namespace webhooks {
namespace {

constexpr int64_t kVerifiedAt = 1'700'000'000'000;
constexpr char kToken[] = "secret_tok_0123456789abcdef";

std::string Written(const WebhookEndpoint& endpoint, int64_t now_ms) {
  const ToolkitCatalog catalog = ToolkitCatalog::Builtin();
  JsonWriter json;
  WriteEndpoint(endpoint, catalog, "https://hooks.example.com", now_ms, &json);
  return json.Take();
}

WebhookEndpoint Notion(bool with_token) {
  WebhookEndpoint endpoint;
  endpoint.id = "we_0123456789ab";
  endpoint.toolkit_slug = "notion";
  endpoint.verified_at_ms = kVerifiedAt;
  if (with_token)
    endpoint.setup_fields.push_back({"verification_token", kToken});
  return endpoint;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(HandshakeSecretTest, ShownForThirtyMinutesAfterTheHandshake) {
  EXPECT_EQ(kHandshakeSecretShownMs, 30 * 60 * 1000);
  EXPECT_TRUE(ShowsHandshakeSecret(kVerifiedAt, kVerifiedAt));
  EXPECT_TRUE(ShowsHandshakeSecret(kVerifiedAt,
                                   kVerifiedAt + kHandshakeSecretShownMs - 1));
  EXPECT_FALSE(
      ShowsHandshakeSecret(kVerifiedAt, kVerifiedAt + kHandshakeSecretShownMs));
  // A clock set back since the handshake shows nothing rather than
  // stretching the window.
  EXPECT_FALSE(ShowsHandshakeSecret(kVerifiedAt, kVerifiedAt - 1));
}

TEST(HandshakeSecretTest, EndpointShowsTheTokenThenItsMask) {
  const std::string clear =
      "\"verification_token\":\"" + std::string(kToken) + "\"";
  EXPECT_TRUE(Contains(Written(Notion(true), kVerifiedAt + 1000), clear));
  const std::string later =
      Written(Notion(true), kVerifiedAt + kHandshakeSecretShownMs);
  EXPECT_FALSE(Contains(later, kToken)) << later;
  EXPECT_TRUE(Contains(later, "\"verification_token\":\"secr...\"")) << later;
  // Not in data either way: the token is the handshake's, not a setup field.
  EXPECT_TRUE(Contains(later, "\"data\":null")) << later;
  const std::string none = Written(Notion(false), kVerifiedAt);
  EXPECT_TRUE(Contains(none, "\"verification_token\":null")) << none;
  // Unverified (a reset) with a token somehow left: masked, never clear.
  WebhookEndpoint unverified = Notion(true);
  unverified.verified_at_ms.reset();
  EXPECT_FALSE(Contains(Written(unverified, kVerifiedAt), kToken));
}

TEST(HandshakeSecretTest, SlackEndpointsHaveNoVerificationToken) {
  WebhookEndpoint slack;
  slack.id = "we_0123456789ab";
  slack.toolkit_slug = "slack";
  slack.verified_at_ms = kVerifiedAt;
  slack.setup_fields.push_back({"webhook_signing_secret", kToken});
  const std::string written = Written(slack, kVerifiedAt);
  EXPECT_FALSE(Contains(written, "verification_token")) << written;
  EXPECT_FALSE(Contains(written, kToken)) << written;
}

}  // namespace
}  // namespace webhooks
