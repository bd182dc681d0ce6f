// The webhook endpoints resource: create (idempotent), list, schema,
// retrieve, set setup data (merge or replace), delete, and an endpoint's
// events. Each handler reads "authenticate or reply, parse or reply, store,
// reply".

#ifndef WEBHOOKS_API_ENDPOINTS_H_
#define WEBHOOKS_API_ENDPOINTS_H_

#include <httplib.h>

#include <string>
#include <string_view>

#include "api/context.h"
#include "store/store.h"

namespace webhooks {

// Ids are "we_" and 12 characters of A-Za-z0-9_-. Anything else cannot
// exist, and answers exactly as a missing id does.
bool IsEndpointId(std::string_view id);

// Replies for a store call on endpoint `id` that did not succeed: 404 for
// NotFound (the same for a missing id, a malformed one and another
// project's), else the store error.
void ReplyEndpointFailure(const Context& ctx, httplib::Response& res,
                          const Status& status, std::string_view id);

// Reads the caller's endpoint `id`, or replies 404 (the same for a missing
// id, a malformed one and another project's) and returns false.
bool GetEndpointOrReply(const Context& ctx, const Caller& caller,
                        const std::string& id, httplib::Response& res,
                        WebhookEndpoint* endpoint);

// POST webhook_endpoints: create, idempotent on (project, toolkit, client).
void HandleCreateEndpoint(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res);

// GET webhook_endpoints: the caller's endpoints, oldest first. Items carry
// only id, toolkit_slug and client_id, as Composio's do; limit, cursor and
// next_cursor are our extension. Without limit, every endpoint comes back
// (Composio's answer), sent page by page as read when there are many.
void HandleListEndpoints(const Context& ctx, const httplib::Request& req,
                         httplib::Response& res);

// GET webhook_endpoints/schema?toolkit_slug=: the toolkit's setup fields,
// keyed by name.
void HandleGetSchema(const Context& ctx, const httplib::Request& req,
                     httplib::Response& res);

// GET webhook_endpoints/{id}
void HandleGetEndpoint(const Context& ctx, const httplib::Request& req,
                       httplib::Response& res);

// PATCH webhook_endpoints/{id} (merge) and POST webhook_endpoints/{id}
// (replace: unlisted fields are cleared, required ones must be present).
void HandleSetSetupData(const Context& ctx, bool replace,
                        const httplib::Request& req, httplib::Response& res);

// DELETE webhook_endpoints/{id}
void HandleDeleteEndpoint(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res);

// POST webhook_endpoints/{id}/reset_verification: our extension. Clears
// verified_at and the secret a handshake stored (Notion's
// verification_token), so that the provider's next handshake verifies the
// endpoint again under the same URL; a secret the project set (Slack's) is
// kept. Answers the endpoint as now stored. The request body is ignored.
void HandleResetVerification(const Context& ctx, const httplib::Request& req,
                             httplib::Response& res);

// GET webhook_endpoints/{id}/events: our extension for local development.
// Newest first; limit (1-1000, default 100) and cursor page as for the
// endpoint list, and a page stops early at kEventPageBytes.
void HandleListEvents(const Context& ctx, const httplib::Request& req,
                      httplib::Response& res);

}  // namespace webhooks

#endif  // WEBHOOKS_API_ENDPOINTS_H_
