// Inspecting and replaying deliveries (our extension; nothing like it is
// public on Composio): the routes under webhook_subscriptions/{id}/ of
// ../shared/spec/subscriptions-and-delivery.md, "Inspecting and replaying".
// Project-scoped like every resource: another project's subscription or
// delivery is 404.

#ifndef WEBHOOKS_API_DELIVERIES_H_
#define WEBHOOKS_API_DELIVERIES_H_

#include <httplib.h>

#include "api/context.h"

namespace webhooks {

// GET webhook_subscriptions/{id}/deliveries[?status=&limit=&cursor=]
void HandleListDeliveries(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res);

// GET webhook_subscriptions/{id}/deliveries/{delivery_id}
void HandleGetDelivery(const Context& ctx, const httplib::Request& req,
                       httplib::Response& res);

// POST webhook_subscriptions/{id}/deliveries/{delivery_id}/resend
void HandleResendDelivery(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res);

// POST webhook_subscriptions/{id}/recover {"since", "until"?}
void HandleRecoverDeliveries(const Context& ctx, const httplib::Request& req,
                             httplib::Response& res);

}  // namespace webhooks

#endif  // WEBHOOKS_API_DELIVERIES_H_
