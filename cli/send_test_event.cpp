#include "cli/send_test_event.h"

#include <httplib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "config.h"
#include "toolkits/sample_event.h"
#include "toolkits/verify.h"
#include "util/time.h"

namespace webhooks {
namespace {

// webhooks-server send-test-event --url URL --secret SECRET [--file FILE]:
// signs a Slack-style event the way Slack does and posts it, so the whole
// ingress path can be tried without a Slack app. Prints the status and body
// it got back; exits 0 on a 2xx, 1 otherwise, 2 on a usage error.
constexpr char kSendTestEventUsage[] =
    "usage: webhooks-server send-test-event --url WEBHOOK_URL --secret "
    "SECRET [--file event.json]\n";

}  // namespace

int SendTestEvent(int argc, char** argv) {
  CommandSyntax syntax;
  syntax.name = "webhooks-server send-test-event";
  syntax.options = {"url", "secret", "file"};  // no settings
  Config unused;
  CommandLine given;
  std::string error;
  switch (ParseCommand(
      argc, argv, 1, syntax, [](const char*) -> const char* { return nullptr; },
      &unused, &given, &error)) {
    case ParseOutcome::kHelp:
      std::fputs(kSendTestEventUsage, stdout);
      return 0;
    case ParseOutcome::kVersion:
      std::fputs(VersionLine().c_str(), stdout);
      return 0;
    case ParseOutcome::kError:
      std::fprintf(stderr, "send-test-event: %s\n%s", error.c_str(),
                   kSendTestEventUsage);
      return 2;
    case ParseOutcome::kRun:
      break;
  }
  const std::string url = given.Option("url");
  const std::string secret = given.Option("secret");
  const std::string file = given.Option("file");
  const size_t scheme_end = url.find("://");
  const size_t path_start = scheme_end == std::string::npos
                                ? std::string::npos
                                : url.find('/', scheme_end + 3);
  if (url.rfind("http", 0) != 0 || path_start == std::string::npos ||
      secret.empty()) {
    std::fprintf(stderr,
                 "send-test-event: --url must be an http(s) webhook_url and "
                 "--secret the endpoint's signing secret\n%s",
                 kSendTestEventUsage);
    return 2;
  }
  const int64_t now = NowMillis() / 1000;
  std::string body;
  if (!file.empty()) {
    std::FILE* in = std::fopen(file.c_str(), "rb");
    if (in == nullptr) {
      std::fprintf(stderr, "send-test-event: cannot read '%s': %s\n",
                   file.c_str(), std::strerror(errno));
      return 2;
    }
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), in)) > 0;) {
      body.append(buffer, n);
    }
    std::fclose(in);
  } else {
    body = SlackSampleEvent(now);
  }
  const std::string timestamp = std::to_string(now);
  httplib::Client client(url.substr(0, path_start));
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto result = client.Post(
      url.substr(path_start),
      {{"X-Slack-Request-Timestamp", timestamp},
       {"X-Slack-Signature", SlackSignature(secret, timestamp, body)}},
      body, "application/json");
  if (!result) {
    std::fprintf(stderr, "send-test-event: %s\n",
                 httplib::to_string(result.error()).c_str());
    return 1;
  }
  std::printf("HTTP %d\n%s\n", result->status, result->body.c_str());
  return result->status >= 200 && result->status < 300 ? 0 : 1;
}

}  // namespace webhooks
