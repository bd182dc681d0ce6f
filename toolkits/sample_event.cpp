#include "toolkits/sample_event.h"

#include "util/crypto.h"
#include "util/json_writer.h"
#include "util/time.h"

namespace webhooks {

std::string SlackSampleEvent(int64_t now_seconds) {
  return R"({"token":"XXYYZZ","team_id":"T123ABC456","api_app_id":)"
         R"("A123ABC456","event":{"type":"app_mention","user":)"
         R"("U123ABC456","text":"<@U0LAN0Z89> is it everything a river )"
         R"(should be?","ts":"1515449522.000016","channel":"C123ABC456",)"
         R"("event_ts":"1515449522.000016"},"type":"event_callback",)"
         R"("event_id":"Ev)" +
         RandomToken(10) + R"(","event_time":)" + std::to_string(now_seconds) +
         "}";
}

std::string SampleEvent(const ToolkitSpec& toolkit, int64_t now_seconds) {
  const SignatureScheme scheme = toolkit.verification
                                     ? toolkit.verification->scheme
                                     : SignatureScheme::kHmacSha256;
  if (scheme == SignatureScheme::kSlackV0) return SlackSampleEvent(now_seconds);
  JsonWriter json;
  json.BeginObject();
  if (scheme == SignatureScheme::kNotion) {
    // The shape of Notion's page.created (developers.notion.com, "Event
    // types"), with made-up ids.
    json.Key("id");
    json.Value("test-" + RandomToken(16));
    json.Key("timestamp");
    json.Value(FormatTime(now_seconds * 1000));
    json.Key("workspace_id");
    json.Value("test-workspace");
    json.Key("type");
    json.Value("page.created");
    json.Key("entity");
    json.BeginObject();
    json.Key("id");
    json.Value("test-page-" + RandomToken(8));
    json.Key("type");
    json.Value("page");
    json.EndObject();
    json.Key("attempt_number");
    json.Value(1LL);
  } else {
    const std::string id_field =
        toolkit.verification && !toolkit.verification->event_id_field.empty()
            ? toolkit.verification->event_id_field
            : "id";
    json.Key(id_field);
    json.Value("evt_test_" + RandomToken(16));
    if (id_field != "type") {
      json.Key("type");
      json.Value("test_event");
    }
    json.Key("created");
    json.Value(static_cast<long long>(now_seconds));
    json.Key("data");
    json.BeginObject();
    json.Key("message");
    json.Value("A test event sent by webhooks-server.");
    json.EndObject();
  }
  json.EndObject();
  return json.Take();
}

}  // namespace webhooks
