// The webhook subscriptions resource: where a project's events are
// delivered (one subscription per project). Create, list, event types,
// retrieve, PATCH, delete and rotate_secret, as the contract's "Subscription
// routes" state them (../shared/spec/subscriptions-and-delivery.md). Each
// handler reads "authenticate or reply, parse or reply, store, reply".

#ifndef WEBHOOKS_API_SUBSCRIPTIONS_H_
#define WEBHOOKS_API_SUBSCRIPTIONS_H_

#include <httplib.h>

#include <string_view>

#include "api/context.h"

namespace webhooks {

// Ids are "whs_" and 12 characters of A-Za-z0-9_-. Anything else cannot
// exist, and answers exactly as a missing id does.
bool IsSubscriptionId(std::string_view id);

// POST webhook_subscriptions: 201 with the new subscription; 409
// WebhookSubscription_AlreadyExists if the project has one.
void HandleCreateSubscription(const Context& ctx, const httplib::Request& req,
                              httplib::Response& res);

// GET webhook_subscriptions: one page with Composio's paging fields.
void HandleListSubscriptions(const Context& ctx, const httplib::Request& req,
                             httplib::Response& res);

// GET webhook_subscriptions/event_types: the event types enabled_events
// accepts.
void HandleListEventTypes(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res);

// GET webhook_subscriptions/{id}
void HandleGetSubscription(const Context& ctx, const httplib::Request& req,
                           httplib::Response& res);

// PATCH webhook_subscriptions/{id}: changes the fields given, and enables
// the subscription again (an empty patch only does that).
void HandleUpdateSubscription(const Context& ctx, const httplib::Request& req,
                              httplib::Response& res);

// DELETE webhook_subscriptions/{id}: {"success": true}; deliveries not made
// yet are cancelled.
void HandleDeleteSubscription(const Context& ctx, const httplib::Request& req,
                              httplib::Response& res);

// POST webhook_subscriptions/{id}/rotate_secret: {"id", "secret"}; the new
// secret signs the next attempt. Any body is ignored.
void HandleRotateSubscriptionSecret(const Context& ctx,
                                    const httplib::Request& req,
                                    httplib::Response& res);

}  // namespace webhooks

#endif  // WEBHOOKS_API_SUBSCRIPTIONS_H_
