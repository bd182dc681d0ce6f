// The trigger message an app receives for a stored event, and the headers
// that sign it, exactly as ../shared/spec/subscriptions-and-delivery.md
// ("What an app receives") says: the body in the subscription's version
// (V1, V2, V3) and Composio's webhook-id / webhook-timestamp /
// webhook-signature headers, which @composio/core verifies.

#ifndef WEBHOOKS_DELIVERY_MESSAGE_H_
#define WEBHOOKS_DELIVERY_MESSAGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/store.h"

namespace webhooks {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The body POSTed for `delivery`, in its subscription's version. The same
// bytes on every attempt: only the headers change.
std::string TriggerMessageBody(const ClaimedDelivery& delivery);

// "v1,<base64 HMAC-SHA256 over '{webhook_id}.{timestamp}.{body}'>", keyed
// by the bytes of `secret` as the API returns it (what @composio/core
// checks; not Standard Webhooks' base64-decoded whsec_ key).
std::string WebhookSignature(std::string_view secret,
                             std::string_view webhook_id,
                             int64_t timestamp_seconds, std::string_view body);

// The headers of one attempt, signed afresh at `timestamp_seconds` (a
// receiver's tolerance window must not reject a retry made hours later).
HeaderList DeliveryHeaders(const ClaimedDelivery& delivery,
                           std::string_view body, int64_t timestamp_seconds,
                           const std::string& user_agent);

// The headers as an attempt record keeps them: a JSON object.
std::string HeadersJson(const HeaderList& headers);

}  // namespace webhooks

#endif  // WEBHOOKS_DELIVERY_MESSAGE_H_
