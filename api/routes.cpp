#include "api/routes.h"

#include <algorithm>

#include "api/activity.h"
#include "api/dashboard.h"
#include "api/deliveries.h"
#include "api/endpoints.h"
#include "api/fixtures.h"
#include "api/ingress.h"
#include "api/operations.h"
#include "api/subscriptions.h"
#include "http/hardened_server.h"

namespace webhooks {
namespace {

constexpr const char* kPrefixes[] = {"/api/v3", "/api/v3.1"};

using HandlerFunction = void (*)(const Context&, const httplib::Request&,
                                 httplib::Response&);

// A handler of the route table, given the context it runs with.
RouteHandler Bind(const Context& ctx, HandlerFunction handler) {
  return [&ctx, handler](const httplib::Request& req, httplib::Response& res) {
    handler(ctx, req, res);
  };
}

// The whole API, one line a route. Every route is served under both
// prefixes. Order matters where patterns overlap: "schema" and
// "event_types" are matched before they could be taken for an id.
std::vector<Route> RouteTable(const Context& ctx) {
  auto set_data = [&ctx](bool replace) {
    return
        [&ctx, replace](const httplib::Request& req, httplib::Response& res) {
          HandleSetSetupData(ctx, replace, req, res);
        };
  };
  const std::string kId = "/webhook_endpoints/{id}";
  const std::string kSubscription = "/webhook_subscriptions/{id}";
  return {
      {"POST", "/webhook_endpoints", Bind(ctx, HandleCreateEndpoint)},
      {"GET", "/webhook_endpoints", Bind(ctx, HandleListEndpoints)},
      {"GET", "/webhook_endpoints/schema", Bind(ctx, HandleGetSchema)},
      {"GET", kId, Bind(ctx, HandleGetEndpoint)},
      {"PATCH", kId, set_data(false)},
      {"POST", kId, set_data(true)},
      {"DELETE", kId, Bind(ctx, HandleDeleteEndpoint)},
      {"GET", kId + "/events", Bind(ctx, HandleListEvents)},
      {"POST", kId + "/test_event", Bind(ctx, HandleTestEvent)},
      {"POST", kId + "/reset_verification", Bind(ctx, HandleResetVerification)},
      {"POST", "/webhook_ingress/{toolkit_slug}/{id}/trigger_event",
       Bind(ctx, HandleIngress)},
      {"POST", "/webhook_subscriptions", Bind(ctx, HandleCreateSubscription)},
      {"GET", "/webhook_subscriptions", Bind(ctx, HandleListSubscriptions)},
      {"GET", "/webhook_subscriptions/event_types",
       Bind(ctx, HandleListEventTypes)},
      {"GET", kSubscription, Bind(ctx, HandleGetSubscription)},
      {"PATCH", kSubscription, Bind(ctx, HandleUpdateSubscription)},
      {"DELETE", kSubscription, Bind(ctx, HandleDeleteSubscription)},
      {"POST", kSubscription + "/rotate_secret",
       Bind(ctx, HandleRotateSubscriptionSecret)},
      {"GET", kSubscription + "/deliveries", Bind(ctx, HandleListDeliveries)},
      {"GET", kSubscription + "/deliveries/{delivery_id}",
       Bind(ctx, HandleGetDelivery)},
      {"POST", kSubscription + "/deliveries/{delivery_id}/resend",
       Bind(ctx, HandleResendDelivery)},
      {"POST", kSubscription + "/recover", Bind(ctx, HandleRecoverDeliveries)},
      {"GET", "/webhook_toolkits", Bind(ctx, HandleListToolkits)},
      {"GET", "/webhook_activity", Bind(ctx, HandleActivity)},
      {"GET", "/webhook_activity/stream", Bind(ctx, HandleActivityStream)},
      {"POST", "/_local/reset", Bind(ctx, HandleResetProject)},
  };
}

// Routes outside the API prefixes: for load balancers and supervisors,
// and the dashboard's page.
std::vector<Route> OperationsRouteTable(const Context& ctx) {
  return {
      {"GET", "/healthz", Bind(ctx, HandleHealth)},
      {"GET", "/readyz", Bind(ctx, HandleReady)},
      {"GET", "/openapi.json", Bind(ctx, HandleOpenApi)},
      {"GET", "/metrics", Bind(ctx, HandleMetrics)},
      {"GET", "/", Bind(ctx, HandleDashboardRoot)},
      {"GET", "/ui", Bind(ctx, HandleDashboardRoot)},
      {"GET", "/ui/", Bind(ctx, HandleDashboardAsset)},
      {"GET", "/ui/{file}", Bind(ctx, HandleDashboardAsset)},
  };
}

}  // namespace

std::vector<Route> FullRouteTable(const Context& ctx) {
  std::vector<Route> full;
  for (const char* prefix : kPrefixes) {
    for (Route route : RouteTable(ctx)) {
      route.path = prefix + route.path;
      full.push_back(std::move(route));
    }
  }
  for (Route& route : OperationsRouteTable(ctx)) full.push_back(route);
  return full;
}

void RegisterRoutes(httplib::Server& server, const std::vector<Route>& routes,
                    FaultInjector inject,
                    std::vector<CompiledRoute>* compiled) {
  for (const Route& route : routes) {
    const std::string pattern = RoutePattern(route.path);
    compiled->push_back({route.method, route.path});
    // The template, not the raw path, names the request in logs and
    // metrics, so ids do not multiply the series.
    RouteHandler handler = [handler = route.handler, path = route.path, inject](
                               const httplib::Request& req,
                               httplib::Response& res) {
      if (auto* notes = HardenedServer::CurrentRequestNotes()) {
        notes->route = path;
      }
      InjectFault(inject, req, "handler");
      handler(req, res);
    };
    const std::string method = route.method;
    if (method == "GET") server.Get(pattern, handler);
    if (method == "POST") server.Post(pattern, handler);
    if (method == "PATCH") server.Patch(pattern, handler);
    if (method == "DELETE") server.Delete(pattern, handler);
  }
}

// The router's regex for a path template: dots escaped, each {name} one
// path segment, captured.
std::string RoutePattern(const std::string& path) {
  std::string pattern;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      i = path.find('}', i);
      pattern += "([^/]+)";
    } else {
      if (path[i] == '.') pattern += '\\';
      pattern += path[i];
    }
  }
  return pattern;
}

bool MatchesTemplate(std::string_view path, std::string_view path_template) {
  size_t at = 0;  // in path
  for (size_t i = 0; i < path_template.size(); ++i) {
    if (path_template[i] == '{') {
      const size_t close = path_template.find('}', i);
      if (close == std::string_view::npos) return false;
      i = close;
      const size_t end = std::min(path.find('/', at), path.size());
      if (end == at) return false;  // an empty segment
      at = end;
    } else if (at >= path.size() || path[at++] != path_template[i]) {
      return false;
    }
  }
  return at == path.size();
}

void NoteRouteOf(const std::vector<CompiledRoute>& routes,
                 const std::string& path) {
  auto* notes = HardenedServer::CurrentRequestNotes();
  if (notes == nullptr) return;
  for (const CompiledRoute& route : routes) {
    if (MatchesTemplate(path, route.path_template)) {
      notes->route = route.path_template;
      return;
    }
  }
}

std::string AllowedMethods(const std::vector<CompiledRoute>& routes,
                           const std::string& path) {
  std::string allow;
  for (const CompiledRoute& route : routes) {
    if (MatchesTemplate(path, route.path_template) &&
        allow.find(route.method) == std::string::npos) {
      if (!allow.empty()) allow += ", ";
      allow += route.method;
    }
  }
  return allow;
}

}  // namespace webhooks
