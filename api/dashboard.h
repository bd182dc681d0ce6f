// The dashboard (our extension): a single page compiled into the binary
// (web/, api/web_assets.h), served under /ui/, that calls the JSON API with
// the key the user types in. Its JSON needs are the API's own routes plus
// three of ours: the toolkit catalog, the activity counts and their live
// stream (api/activity.h), and a test event (api/endpoints.h).

#ifndef WEBHOOKS_API_DASHBOARD_H_
#define WEBHOOKS_API_DASHBOARD_H_

#include <httplib.h>

#include "api/context.h"

namespace webhooks {

// GET /: a redirect to /ui/, so the bare address opens the dashboard.
void HandleDashboardRoot(const Context&, const httplib::Request&,
                         httplib::Response& res);

// GET /ui/ and GET /ui/{file}: the page and its files, with a policy that
// lets the page run only its own scripts (provider bodies it shows are
// attacker-controlled) and never inside another site's frame. No key: the
// page holds no data; it asks for the key itself.
void HandleDashboardAsset(const Context&, const httplib::Request& req,
                          httplib::Response& res);

// GET webhook_toolkits (our extension): the catalog, each toolkit with its
// setup fields (as the schema route gives them) and whether the server can
// sign a test event for it.
void HandleListToolkits(const Context& ctx, const httplib::Request& req,
                        httplib::Response& res);

}  // namespace webhooks

#endif  // WEBHOOKS_API_DASHBOARD_H_
