// One writer per resource: a stored record to the JSON the API shows, with
// secret setup values masked here, the one place that writes them.

#ifndef WEBHOOKS_API_RESOURCES_H_
#define WEBHOOKS_API_RESOURCES_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"
#include "toolkits/catalog.h"
#include "util/json_writer.h"

namespace webhooks {

// A field is shown in clear only if the catalog says it is not secret; a
// field the catalog does not know (say, of a toolkit since removed from a
// --toolkits file) is treated as secret.
bool IsSecretField(const ToolkitSpec* toolkit, std::string_view name);

// True for a secret that a provider handshake stored (Notion's
// verification_token): it is not a setup field, so `data` does not show it
// and a replace does not clear it.
bool IsHandshakeSecret(const ToolkitSpec* toolkit, std::string_view name);

// The spec's masking rule: 12 characters or more show their first 4
// followed by "..."; shorter values show "REDACTED". Characters, not bytes,
// so a mask never splits a UTF-8 sequence.
std::string MaskSecret(std::string_view value);

// True for text shaped like one of our masks: "REDACTED", or four
// characters followed by "...".
bool LooksMasked(std::string_view value);

// An endpoint's webhook_url: `public_base` (the server's current one) and
// the endpoint's fixed path, always the v3.1 ingress (spec). Our choice:
// made when written, not stored, so that a server restarted under another
// --public-url (a new tunnel, HTTPS) hands out URLs that reach it; the
// path, toolkit and id never change.
std::string WebhookUrlOf(std::string_view public_base,
                         std::string_view toolkit_slug, std::string_view id);

// For a toolkit whose verification secret arrives in a handshake (Notion),
// the name it is stored under; else null.
const std::string* HandshakeSecretField(const ToolkitSpec* toolkit);

// How long after its handshake a handshake secret (Notion's
// verification_token) is shown in clear, in the endpoint object's
// "verification_token" (our extension). Notion's setup asks its user to
// paste that token back into Notion's page right after the handshake, and
// nothing else shows it to them; afterwards it is masked like any secret,
// so an API key read later (or a screen share) does not hand out the key
// that signs every event. The rule is a window rather than "the first
// read" because the dashboard, and any client that polls, reads every
// endpoint: a first read would be spent where nobody sees it. Our choice;
// reset_verification and a new handshake show a new token for a new window.
constexpr int64_t kHandshakeSecretShownMs = 30 * 60 * 1000;

// True if a handshake secret stored at `verified_at_ms` is shown in clear
// at `now_ms`: from the handshake for kHandshakeSecretShownMs.
bool ShowsHandshakeSecret(int64_t verified_at_ms, int64_t now_ms);

// The endpoint object, in the order Composio emits its fields. Secret setup
// values are masked here, the one place that writes them. Its webhook_url
// is WebhookUrlOf(public_base, ...), not the stored column. For a toolkit
// with a handshake secret, "verification_token" follows verified_at: null
// until a handshake stored one, then in clear while ShowsHandshakeSecret at
// `now_ms`, masked after.
void WriteEndpoint(const WebhookEndpoint& endpoint,
                   const ToolkitCatalog& catalog, std::string_view public_base,
                   int64_t now_ms, JsonWriter* json);

// Endpoints as a list shows them: id, toolkit_slug and client_id only, as
// Composio's list items.
void WriteListItems(const std::vector<EndpointListItem>& items,
                    JsonWriter* json);

// Ends a page object begun with {"items": [...]: adds "next_cursor" (null
// on the last page) and closes it. Our extension, for every listing.
void EndPage(const std::optional<std::string>& next_cursor, JsonWriter* json);

// The toolkit's setup fields, keyed by name: GET webhook_endpoints/schema.
void WriteSchema(const ToolkitSpec& toolkit, JsonWriter* json);
// The toolkit's setup fields, keyed by name: WriteSchema's "setup_fields".
void WriteSetupFieldSpecs(const ToolkitSpec& toolkit, JsonWriter* json);

// An event as its listing shows it.
void WriteEvent(const StoredEvent& event, JsonWriter* json);

// Pages of the event listing (our extension, so the bounds are our
// choice). Issue 12: without limit every stored event came back, 60 MB for
// 1,000 events of 60 KB, 1.48 GB of peak RSS for eight such lists at once.
// Now a page holds at most kEventPageMax events and, past its first event,
// at most kEventPageBytes of items: 64 workers each building one fit well
// inside the 512 MB of the shipped systemd unit. One event larger than
// that (bodies reach --max-body, 25 MiB at most) still comes alone.
constexpr long long kEventPageDefault = 100;

constexpr long long kEventPageMax = 1000;

constexpr size_t kEventPageBytes = 1024 * 1024;

// An events page at least this large is noted to the MemoryTrimmer.
constexpr size_t kLargeResponseBytes = 256 * 1024;

// Writes `events` as items until the next one would take the items past
// kEventPageBytes (the first always fits), freeing each as it is written
// so the rows and the JSON are not both held whole. Returns how many were
// written.
size_t WriteEventItems(std::vector<StoredEvent>& events, JsonWriter* json);

// A page of GET webhook_endpoints: {"items": [...], "next_cursor": ...}.
void WriteEndpointPage(const std::vector<EndpointListItem>& items,
                       const std::optional<std::string>& next_cursor,
                       JsonWriter* json);

// A page of an endpoint's events, newest first: as many of `events` as fit
// (WriteEventItems), and a next_cursor if `more` are stored or some did not
// fit.
void WriteEventPage(std::vector<StoredEvent>& events, bool more,
                    JsonWriter* json);

// --- Webhook subscriptions -------------------------------------------------

// An event type a subscription may list in enabled_events, as GET
// webhook_subscriptions/event_types shows it.
struct EventTypeInfo {
  const char* event_type;
  const char* description;
  const char* supported_versions;  // comma-separated: "V1,V2,V3"
};

// The event types of the contract. Only composio.trigger.message is ever
// sent by this server; the others are accepted so that apps written for
// Composio subscribe unchanged.
inline constexpr EventTypeInfo kEventTypes[] = {
    {"composio.trigger.message",
     "A trigger fired: an event a provider sent to one of the project's "
     "webhook endpoints.",
     "V1,V2,V3"},
    {"composio.connected_account.expired",
     "A connected account expired. Accepted for compatibility: this server "
     "has no connected accounts and never sends it.",
     "V3"},
    {"composio.trigger.disabled",
     "A trigger was disabled. Accepted for compatibility: this server never "
     "sends it.",
     "V3"},
};

// The subscription object: {"id", "webhook_url", "version",
// "enabled_events", "secret", "status", "created_at", "updated_at"}. The
// secret is shown in full, as Composio does.
void WriteSubscription(const WebhookSubscription& subscription,
                       JsonWriter* json);

// GET webhook_subscriptions: one page holding them all (a project has at
// most one), with Composio's paging fields.
void WriteSubscriptionPage(const std::vector<WebhookSubscription>& items,
                           JsonWriter* json);

// POST webhook_subscriptions/{id}/rotate_secret: {"id", "secret"}.
void WriteRotatedSecret(const WebhookSubscription& subscription,
                        JsonWriter* json);

// GET webhook_subscriptions/event_types: {"items": [{"event_type",
// "description", "supported_versions"}]}.
void WriteEventTypes(JsonWriter* json);

// Composio's 429 body, the one error without the envelope (spec):
// {"message": "..."}.
void WriteRateLimited(int per_minute, int retry_after_seconds,
                      JsonWriter* json);

// The answer to Slack's url_verification: {"challenge": "..."}.
void WriteSlackChallenge(std::string_view challenge, JsonWriter* json);

}  // namespace webhooks

#endif  // WEBHOOKS_API_RESOURCES_H_
