#include "api/dashboard.h"

#include <cstring>
#include <string>
#include <string_view>

#include "api/auth.h"
#include "api/errors.h"
#include "api/resources.h"
#include "api/web_assets.h"
#include "toolkits/verify.h"
#include "util/json_writer.h"
#include "util/text.h"

namespace webhooks {
namespace {

// Only the page's own files, no inline script or style, no plugins, no
// frames around it, no form posting elsewhere: what a provider's body
// could smuggle into the page has nothing to run with.
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const char* ContentTypeOf(std::string_view name) {
  auto ends_with = [name](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  if (ends_with(".json")) return "application/json";
  return "application/octet-stream";
}

const WebAsset* FindAsset(std::string_view name) {
  for (const WebAsset* asset = kWebAssets; asset->name != nullptr; ++asset) {
    if (name == asset->name) return asset;
  }
  return nullptr;
}

}  // namespace

void HandleDashboardRoot(const Context&, const httplib::Request&,
                         httplib::Response& res) {
  res.status = 302;
  res.set_header("Location", "/ui/");
}

void HandleDashboardAsset(const Context&, const httplib::Request& req,
                          httplib::Response& res) {
  const std::string name =
      req.matches.size() > 1 ? std::string(req.matches[1]) : "index.html";
  const WebAsset* asset = FindAsset(name);
  if (asset == nullptr) {
    return ReplyError(res, MakeError(ErrorKind::kRouteNotFound,
                                     "The dashboard has no file '" +
                                         Printable(name, 64) + "'."));
  }
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cross-Origin-Opener-Policy", "same-origin");
  res.status = 200;
  res.set_content(asset->bytes, asset->size, ContentTypeOf(name));
}

void HandleListToolkits(const Context& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  JsonWriter json;
  json.BeginObject();
  json.Key("items");
  json.BeginArray();
  for (const std::string& slug : ctx.catalog.Slugs()) {
    const ToolkitSpec& toolkit = *ctx.catalog.Find(slug);
    json.BeginObject();
    json.Key("slug");
    json.Value(slug);
    // Whether the server can sign a test event for it: a shared secret it
    // stores, not a provider's private key.
    json.Key("test_event");
    json.Value(toolkit.verification.has_value() &&
               CanSignAsProvider(*toolkit.verification));
    json.Key("setup_fields");
    WriteSetupFieldSpecs(toolkit, &json);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  ReplyJson(res, 200, json.Take());
}

}  // namespace webhooks
