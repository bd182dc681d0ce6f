#include "delivery/message.h"

#include <simdjson.h>

#include "util/crypto.h"
#include "util/json_writer.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

// Whether `body` is one JSON object, fully valid: only then is it embedded
// as the message's data as it is.
bool IsJsonObject(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element document;
  return parser.parse(padded).get(document) == simdjson::SUCCESS &&
         document.is_object();
}

// A body that is not a JSON object (Slack's slash commands are form
// encoded): its content type and its text. Bytes that are not UTF-8 are
// sent in base64, with "encoding" saying so (our choice: JSON cannot hold
// them, and dropping them would change the event).
void WriteRawData(const ClaimedDelivery& delivery, JsonWriter* json) {
  json->Key("content_type");
  json->Value(delivery.content_type);
  if (IsUtf8(delivery.body)) {
    json->Key("raw");
    json->Value(delivery.body);
  } else {
    json->Key("raw");
    json->Value(Base64Encode(delivery.body));
    json->Key("encoding");
    json->Value("base64");
  }
}

// The provider's body as a value: itself when it is a JSON object, else
// the raw form above.
void WriteProviderBody(const ClaimedDelivery& delivery, bool json_body,
                       JsonWriter* json) {
  if (json_body) {
    json->RawValue(delivery.body);
    return;
  }
  json->BeginObject();
  WriteRawData(delivery, json);
  json->EndObject();
}

// The provider's fields with ours after them, as V2's data is. `object` is
// a valid JSON object's text; ours go before its closing brace. (A provider
// field with one of our names stays, and ours, later, is what parsers
// keep.)
std::string MergedObject(std::string_view object, std::string_view ours) {
  const size_t close = object.rfind('}');
  std::string_view inside = object.substr(0, close);
  const size_t open = inside.find('{');
  const bool empty =
      inside.find_first_not_of(" \t\r\n", open + 1) == std::string_view::npos;
  std::string out(inside);
  if (!empty) out += ',';
  out += ours;
  out += '}';
  return out;
}

std::string V3Body(const ClaimedDelivery& d, bool json_body) {
  JsonWriter json;
  json.Reserve(d.body.size() + 512);
  json.BeginObject();
  json.Key("id");
  json.Value(d.webhook_id);
  json.Key("timestamp");
  json.Value(FormatTime(d.event_received_at_ms));
  json.Key("type");
  json.Value(kTriggerMessageEvent);
  json.Key("metadata");
  json.BeginObject();
  json.Key("log_id");
  json.Value(d.event_id);
  json.Key("trigger_slug");
  json.Value(d.trigger_slug);
  json.Key("trigger_id");
  json.Value(d.endpoint_id);
  // No connected accounts or auth configs exist in this server: empty, as
  // the contract documents, never invented.
  json.Key("connected_account_id");
  json.Value("");
  json.Key("auth_config_id");
  json.Value("");
  json.Key("user_id");
  json.Value(d.user_id);
  json.Key("toolkit_slug");
  json.Value(d.toolkit_slug);
  json.Key("webhook_endpoint_id");
  json.Value(d.endpoint_id);
  json.EndObject();
  json.Key("data");
  WriteProviderBody(d, json_body, &json);
  json.EndObject();
  return json.Take();
}

std::string V2Body(const ClaimedDelivery& d, bool json_body) {
  JsonWriter extra;
  extra.BeginObject();
  extra.Key("connection_id");
  extra.Value("");
  extra.Key("connection_nano_id");
  extra.Value("");
  extra.Key("trigger_nano_id");
  extra.Value(d.endpoint_id);
  extra.Key("trigger_id");
  extra.Value(d.endpoint_id);
  extra.Key("user_id");
  extra.Value(d.user_id);
  extra.EndObject();
  std::string ours = extra.Take();
  ours = ours.substr(1, ours.size() - 2);  // the members, without braces

  std::string data;
  if (json_body) {
    data = MergedObject(d.body, ours);
  } else {
    JsonWriter raw;
    raw.BeginObject();
    WriteRawData(d, &raw);
    raw.EndObject();
    data = MergedObject(raw.Take(), ours);
  }
  JsonWriter json;
  json.BeginObject();
  json.Key("type");
  json.Value(kTriggerMessageEvent);
  json.Key("timestamp");
  json.Value(FormatTime(d.event_received_at_ms));
  json.Key("log_id");
  json.Value(d.event_id);
  json.Key("data");
  json.RawValue(data);
  json.EndObject();
  return json.Take();
}

std::string V1Body(const ClaimedDelivery& d, bool json_body) {
  JsonWriter json;
  json.BeginObject();
  json.Key("trigger_name");
  json.Value(d.trigger_slug);
  json.Key("connection_id");
  json.Value("");
  json.Key("trigger_id");
  json.Value(d.endpoint_id);
  json.Key("payload");
  WriteProviderBody(d, json_body, &json);
  json.Key("log_id");
  json.Value(d.event_id);
  json.EndObject();
  return json.Take();
}

}  // namespace

std::string TriggerMessageBody(const ClaimedDelivery& delivery) {
  const bool json_body = IsJsonObject(delivery.body);
  if (delivery.version == "V1") return V1Body(delivery, json_body);
  if (delivery.version == "V2") return V2Body(delivery, json_body);
  return V3Body(delivery, json_body);
}

std::string WebhookSignature(std::string_view secret,
                             std::string_view webhook_id,
                             int64_t timestamp_seconds, std::string_view body) {
  std::string signed_content;
  signed_content.reserve(webhook_id.size() + body.size() + 24);
  signed_content.append(webhook_id);
  signed_content += '.';
  signed_content += std::to_string(timestamp_seconds);
  signed_content += '.';
  signed_content.append(body);
  std::string digest;
  if (!HmacSha256(secret, signed_content, &digest)) return "";
  return "v1," + Base64Encode(digest);
}

HeaderList DeliveryHeaders(const ClaimedDelivery& delivery,
                           std::string_view body, int64_t timestamp_seconds,
                           const std::string& user_agent) {
  return {
      {"content-type", "application/json"},
      {"user-agent", user_agent},
      {"webhook-id", delivery.webhook_id},
      {"webhook-timestamp", std::to_string(timestamp_seconds)},
      {"webhook-signature",
       WebhookSignature(delivery.secret, delivery.webhook_id, timestamp_seconds,
                        body)},
      {"x-composio-webhook-version", delivery.version},
      {"x-composio-delivery-attempt", std::to_string(delivery.attempt)},
  };
}

std::string HeadersJson(const HeaderList& headers) {
  JsonWriter json;
  json.BeginObject();
  for (const auto& [name, value] : headers) {
    json.Key(Printable(name, 256));
    json.Value(Printable(value, 1024));
  }
  json.EndObject();
  return json.Take();
}

}  // namespace webhooks
