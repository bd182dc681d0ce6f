// The route table, as data: one line per route, served under both API
// prefixes, and registered with the server from that same table (which
// `webhooks-server routes` prints and the tests compare with openapi.json).

#ifndef WEBHOOKS_API_ROUTES_H_
#define WEBHOOKS_API_ROUTES_H_

#include <httplib.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/context.h"

namespace webhooks {

// Test-only fault injection: the webhooks-server-faults binary (built for
// the tests, never installed; see server.cpp) passes a function that
// throws, with text a client must never see, at the place a request's
// x-webhooks-fault header names: "pre-routing", "handler", "error-hook",
// "before-write" or "logger". Everywhere else it is null.
using FaultInjector = void (*)(const httplib::Request& req,
                               std::string_view where);

// Calls `inject` if there is one.
inline void InjectFault(FaultInjector inject, const httplib::Request& req,
                        std::string_view where) {
  if (inject != nullptr) inject(req, where);
}

using RouteHandler =
    std::function<void(const httplib::Request&, httplib::Response&)>;

struct Route {
  const char* method;
  // The path after the API prefix, with {name} for each parameter; the
  // parameters reach the handler as req.matches[1], [2], ... in order.
  std::string path;
  RouteHandler handler;
};

// A registered route, for the 401 and 405 checks that run before the
// library's router: matched against its template directly, segment by
// segment, without a regex (the library compiles one per route already;
// compiling a second took 1.4 ms of the start-up).
struct CompiledRoute {
  std::string method;
  std::string path_template;  // "/api/v3.1/webhook_endpoints/{id}"
};

// The regex the library routes `path_template` by: each {name} becomes
// "([^/]+)", a '.' is escaped.
std::string RoutePattern(const std::string& path_template);

// Whether `path` matches `path_template`, where each {name} stands for one
// whole non-empty segment (what the library's regex, "([^/]+)", takes).
bool MatchesTemplate(std::string_view path, std::string_view path_template);

// Every route with its full path template ("/api/v3.1/webhook_endpoints/
// {id}"): the API routes under each prefix, then the operations routes.
std::vector<Route> FullRouteTable(const Context& ctx);

// Registers every route with `server`, and adds each to *compiled.
void RegisterRoutes(httplib::Server& server, const std::vector<Route>& routes,
                    FaultInjector inject, std::vector<CompiledRoute>* compiled);

// Notes the template of the first route whose path matches `path` as the
// request's route (logs and metrics), for a request refused before any
// handler ran (a 401 or a 405): a known path is counted under its template,
// only an unknown one as "unmatched".
void NoteRouteOf(const std::vector<CompiledRoute>& routes,
                 const std::string& path);

// The methods served at `path`, for a 405's Allow header; empty if the path
// is unknown.
std::string AllowedMethods(const std::vector<CompiledRoute>& routes,
                           const std::string& path);

}  // namespace webhooks

#endif  // WEBHOOKS_API_ROUTES_H_
