#include "api/resources.h"

#include <algorithm>

#include "util/text.h"
#include "util/time.h"

namespace webhooks {

bool IsSecretField(const ToolkitSpec* toolkit, std::string_view name) {
  const SetupFieldSpec* field =
      toolkit == nullptr ? nullptr : toolkit->FindField(name);
  return field == nullptr || field->is_secret;
}

bool IsHandshakeSecret(const ToolkitSpec* toolkit, std::string_view name) {
  return toolkit != nullptr && toolkit->verification &&
         toolkit->verification->secret_field == name &&
         toolkit->FindField(name) == nullptr;
}

std::string MaskSecret(std::string_view value) {
  size_t characters = 0;
  size_t prefix_bytes = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if ((static_cast<unsigned char>(value[i]) & 0xC0) != 0x80) {
      ++characters;
      if (characters == 5) prefix_bytes = i;
    }
  }
  if (characters < 12) return "REDACTED";
  return std::string(value.substr(0, prefix_bytes)) + "...";
}

bool LooksMasked(std::string_view value) {
  if (value == "REDACTED") return true;
  if (value.size() < 4 || value.substr(value.size() - 3) != "...") {
    return false;
  }
  std::string_view prefix = value.substr(0, value.size() - 3);
  size_t characters = 0;
  for (char c : prefix) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
  }
  return characters == 4;
}

std::string WebhookUrlOf(std::string_view public_base,
                         std::string_view toolkit_slug, std::string_view id) {
  std::string url(public_base);
  url.append("/api/v3.1/webhook_ingress/")
      .append(toolkit_slug)
      .append("/")
      .append(id)
      .append("/trigger_event");
  return url;
}

const std::string* HandshakeSecretField(const ToolkitSpec* toolkit) {
  if (toolkit == nullptr || !toolkit->verification) return nullptr;
  const std::string& name = toolkit->verification->secret_field;
  return IsHandshakeSecret(toolkit, name) ? &name : nullptr;
}

bool ShowsHandshakeSecret(int64_t verified_at_ms, int64_t now_ms) {
  return now_ms >= verified_at_ms &&
         now_ms - verified_at_ms < kHandshakeSecretShownMs;
}

void WriteEndpoint(const WebhookEndpoint& endpoint,
                   const ToolkitCatalog& catalog, std::string_view public_base,
                   int64_t now_ms, JsonWriter* json) {
  const ToolkitSpec* toolkit = catalog.Find(endpoint.toolkit_slug);
  json->BeginObject();
  json->Key("id");
  json->Value(endpoint.id);
  json->Key("toolkit_slug");
  json->Value(endpoint.toolkit_slug);
  json->Key("client_id");
  json->Value(endpoint.client_id);
  json->Key("webhook_url");
  json->Value(WebhookUrlOf(public_base, endpoint.toolkit_slug, endpoint.id));
  json->Key("data");
  bool any = false;
  for (const SetupField& field : endpoint.setup_fields) {
    if (IsHandshakeSecret(toolkit, field.name)) continue;
    if (!any) json->BeginObject();
    any = true;
    json->Key(field.name);
    json->Value(IsSecretField(toolkit, field.name) ? MaskSecret(field.value)
                                                   : field.value);
  }
  if (any) {
    json->EndObject();
  } else {
    json->Null();
  }
  json->Key("created_at");
  json->Value(FormatTime(endpoint.created_at_ms));
  json->Key("verified_at");
  if (endpoint.verified_at_ms) {
    json->Value(FormatTime(*endpoint.verified_at_ms));
  } else {
    json->Null();
  }
  if (const std::string* name = HandshakeSecretField(toolkit)) {
    json->Key("verification_token");
    auto stored = std::find_if(
        endpoint.setup_fields.begin(), endpoint.setup_fields.end(),
        [name](const SetupField& field) { return field.name == *name; });
    if (stored == endpoint.setup_fields.end()) {
      json->Null();
    } else if (endpoint.verified_at_ms &&
               ShowsHandshakeSecret(*endpoint.verified_at_ms, now_ms)) {
      json->Value(stored->value);
    } else {
      json->Value(MaskSecret(stored->value));
    }
  }
  json->EndObject();
}

void WriteListItems(const std::vector<EndpointListItem>& items,
                    JsonWriter* json) {
  for (const EndpointListItem& item : items) {
    json->BeginObject();
    json->Key("id");
    json->Value(item.id);
    json->Key("toolkit_slug");
    json->Value(item.toolkit_slug);
    json->Key("client_id");
    json->Value(item.client_id);
    json->EndObject();
  }
}

void EndPage(const std::optional<std::string>& next_cursor, JsonWriter* json) {
  json->Key("next_cursor");
  if (next_cursor) {
    json->Value(*next_cursor);
  } else {
    json->Null();
  }
  json->EndObject();
}

void WriteSchema(const ToolkitSpec& toolkit, JsonWriter* json) {
  json->BeginObject();
  json->Key("toolkit_slug");
  json->Value(toolkit.slug);
  json->Key("setup_fields");
  WriteSetupFieldSpecs(toolkit, json);
  json->EndObject();
}

void WriteSetupFieldSpecs(const ToolkitSpec& toolkit, JsonWriter* json) {
  json->BeginObject();
  for (const SetupFieldSpec& field : toolkit.setup_fields) {
    json->Key(field.name);
    json->BeginObject();
    json->Key("display_name");
    json->Value(field.display_name);
    json->Key("description");
    json->Value(field.description);
    json->Key("is_required");
    json->Value(field.is_required);
    json->Key("is_secret");
    json->Value(field.is_secret);
    json->EndObject();
  }
  json->EndObject();
}

void WriteEvent(const StoredEvent& event, JsonWriter* json) {
  json->BeginObject();
  json->Key("id");
  json->Value(event.id);
  json->Key("provider_event_id");
  json->Value(event.provider_event_id);
  json->Key("received_at");
  json->Value(FormatTime(event.received_at_ms));
  json->Key("headers");
  json->RawValue(event.headers_json);
  // The raw body as text when it is UTF-8 (almost always: JSON or form
  // data), else in base64, so the listing is always valid JSON.
  const bool text = IsUtf8(event.body);
  json->Key("body_encoding");
  json->Value(std::string_view(text ? "utf-8" : "base64"));
  json->Key("body");
  json->Value(text ? event.body : Base64Encode(event.body));
  json->EndObject();
}

size_t WriteEventItems(std::vector<StoredEvent>& events, JsonWriter* json) {
  size_t estimate = 0;
  for (const StoredEvent& event : events) {
    estimate += event.headers_json.size() + event.body.size() + 256;
  }
  json->Reserve(std::min(estimate, kEventPageBytes) + 256);
  const size_t start = json->size();
  size_t written = 0;
  for (StoredEvent& event : events) {
    JsonWriter item;
    WriteEvent(event, &item);
    const std::string text = item.Take();
    if (written > 0 && json->size() - start + text.size() > kEventPageBytes) {
      break;
    }
    json->RawValue(text);
    event.headers_json = std::string();
    event.body = std::string();
    ++written;
  }
  return written;
}

void WriteEndpointPage(const std::vector<EndpointListItem>& items,
                       const std::optional<std::string>& next_cursor,
                       JsonWriter* json) {
  json->BeginObject();
  json->Key("items");
  json->BeginArray();
  WriteListItems(items, json);
  json->EndArray();
  EndPage(next_cursor, json);
}

void WriteEventPage(std::vector<StoredEvent>& events, bool more,
                    JsonWriter* json) {
  json->BeginObject();
  json->Key("items");
  json->BeginArray();
  const size_t written = WriteEventItems(events, json);
  more = more || written < events.size();
  json->EndArray();
  EndPage(more ? std::optional<std::string>(
                     std::to_string(events[written - 1].sequence))
               : std::nullopt,
          json);
}

void WriteSubscription(const WebhookSubscription& subscription,
                       JsonWriter* json) {
  json->BeginObject();
  json->Key("id");
  json->Value(subscription.id);
  json->Key("webhook_url");
  json->Value(subscription.webhook_url);
  json->Key("version");
  json->Value(subscription.version);
  json->Key("enabled_events");
  json->BeginArray();
  for (const std::string& event : subscription.enabled_events) {
    json->Value(event);
  }
  json->EndArray();
  json->Key("secret");
  json->Value(subscription.secret);
  // Our field (Composio's object has none): "disabled" after a receiver
  // answered 410 Gone, until a PATCH.
  json->Key("status");
  json->Value(std::string_view(subscription.enabled ? "enabled" : "disabled"));
  json->Key("created_at");
  json->Value(FormatTime(subscription.created_at_ms));
  json->Key("updated_at");
  json->Value(FormatTime(subscription.updated_at_ms));
  json->EndObject();
}

void WriteSubscriptionPage(const std::vector<WebhookSubscription>& items,
                           JsonWriter* json) {
  json->BeginObject();
  json->Key("items");
  json->BeginArray();
  for (const WebhookSubscription& item : items) WriteSubscription(item, json);
  json->EndArray();
  // Always one page, the first, even when empty (our choice: "page 1 of 1"
  // reads the same to every pager).
  json->Key("next_cursor");
  json->Null();
  json->Key("total_pages");
  json->Value(1LL);
  json->Key("current_page");
  json->Value(1LL);
  json->Key("total_items");
  json->Value(static_cast<long long>(items.size()));
  json->EndObject();
}

void WriteRotatedSecret(const WebhookSubscription& subscription,
                        JsonWriter* json) {
  json->BeginObject();
  json->Key("id");
  json->Value(subscription.id);
  json->Key("secret");
  json->Value(subscription.secret);
  json->EndObject();
}

void WriteEventTypes(JsonWriter* json) {
  json->BeginObject();
  json->Key("items");
  json->BeginArray();
  for (const EventTypeInfo& type : kEventTypes) {
    json->BeginObject();
    json->Key("event_type");
    json->Value(std::string_view(type.event_type));
    json->Key("description");
    json->Value(std::string_view(type.description));
    json->Key("supported_versions");
    json->BeginArray();
    std::string_view versions = type.supported_versions;
    while (!versions.empty()) {
      const size_t comma = versions.find(',');
      json->Value(versions.substr(0, comma));
      versions = comma == std::string_view::npos ? std::string_view()
                                                 : versions.substr(comma + 1);
    }
    json->EndArray();
    json->EndObject();
  }
  json->EndArray();
  json->EndObject();
}

void WriteRateLimited(int per_minute, int retry_after_seconds,
                      JsonWriter* json) {
  json->BeginObject();
  json->Key("message");
  json->Value("Rate limit exceeded: " + std::to_string(per_minute) +
              " requests per minute per project. Retry after " +
              std::to_string(retry_after_seconds) + " s.");
  json->EndObject();
}

void WriteSlackChallenge(std::string_view challenge, JsonWriter* json) {
  json->BeginObject();
  json->Key("challenge");
  json->Value(challenge);
  json->EndObject();
}

}  // namespace webhooks
