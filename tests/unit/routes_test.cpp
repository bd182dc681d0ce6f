// Unit tests for MatchesTemplate (api/routes.h), the regex-free matcher the
// 401 and 405 checks use: on route templates of every shape, and paths
// made from each, it must agree with the regex the library routes by
// (RoutePattern, what RegisterRoutes registers).

#include "api/routes.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace webhooks {
namespace {

// `path_template` with each {name} replaced by `value`.
std::string Fill(const std::string& path_template, const std::string& value) {
  std::string path;
  for (size_t i = 0; i < path_template.size(); ++i) {
    if (path_template[i] == '{') {
      i = path_template.find('}', i);
      path += value;
    } else {
      path += path_template[i];
    }
  }
  return path;
}

TEST(MatchesTemplateTest, AgreesWithTheLibrarysRegexOnEveryRoute) {
  const std::vector<std::string> templates = {
      "/healthz",
      "/api/v3/webhook_endpoints",
      "/api/v3.1/webhook_endpoints/{id}",
      "/api/v3/webhook_endpoints/{id}/events",
      "/api/v3.1/webhook_ingress/{toolkit_slug}/{id}/trigger_event",
      "/api/v3/webhook_subscriptions/{id}/deliveries/{delivery_id}/resend",
  };
  std::vector<std::string> paths = {"", "/", "/api",
                                    "/api/v3x1/webhook_endpoints",
                                    "/api/v3/webhook_endpoints//events"};
  for (const std::string& t : templates) {
    for (const char* value : {"we_abc", "x", "", "a/b", "{id}", "%2F"}) {
      const std::string path = Fill(t, value);
      for (const std::string& variant :
           {path, path + "/", path + "x", path.substr(0, path.size() - 1),
            "/" + path, path + "/events"}) {
        paths.push_back(variant);
      }
    }
  }
  int matched = 0;
  for (const std::string& t : templates) {
    const std::regex library(RoutePattern(t));
    for (const std::string& path : paths) {
      const bool expected = std::regex_match(path, library);
      EXPECT_EQ(MatchesTemplate(path, t), expected)
          << "template " << t << ", path '" << path << "'";
      matched += expected;
    }
  }
  EXPECT_GT(matched, 20);  // the comparison covered matches, not only misses
}

}  // namespace
}  // namespace webhooks
