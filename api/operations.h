// Routes for operators, outside the API prefixes and without a key:
// liveness, readiness, the OpenAPI document and Prometheus metrics.

#ifndef WEBHOOKS_API_OPERATIONS_H_
#define WEBHOOKS_API_OPERATIONS_H_

#include <httplib.h>

#include "api/context.h"

namespace webhooks {

// GET /healthz: the process is up and serving. No key, no database.
void HandleHealth(const Context&, const httplib::Request&,
                  httplib::Response& res);

// GET /readyz: the database answers a query, and the secrets key still
// opens its setup values (the start-up check, now one indexed read). No key.
void HandleReady(const Context& ctx, const httplib::Request&,
                 httplib::Response& res);

// GET /openapi.json: the contract, for tools and people. No key.
void HandleOpenApi(const Context&, const httplib::Request&,
                   httplib::Response& res);

// GET /metrics: Prometheus text format. Open (it holds counts only) unless
// --metrics-key is set: then 401 without "Authorization: Bearer KEY".
void HandleMetrics(const Context& ctx, const httplib::Request& req,
                   httplib::Response& res);

}  // namespace webhooks

#endif  // WEBHOOKS_API_OPERATIONS_H_
