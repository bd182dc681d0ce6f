// Test-fixture extensions (issue 17): the local-mode reset, and the --seed
// file. The seed is applied as the API requests it stands for, run through
// the same handlers a client's requests reach: one validation, one meaning
// of "create if missing", and the file's problems said as the API says them.

#include "api/fixtures.h"

#include <simdjson.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "api/auth.h"
#include "api/endpoints.h"
#include "api/errors.h"
#include "api/subscriptions.h"
#include "util/net.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

// Local mode now: no key given at start-up and none made with `keys
// create` (which can happen while the server runs).
bool LocalModeOrReply(const Context& ctx, httplib::Response& res) {
  bool admin_keys = false;
  if (Status status = ctx.store.HasAdminKeys(&admin_keys); !status.ok()) {
    ReplyStoreError(ctx, res, status);
    return false;
  }
  if (ctx.keys.configured.empty() && !admin_keys) return true;
  ReplyError(res,
             MakeError(ErrorKind::kLocalModeOnly,
                       "_local/reset is available only in local mode (no API "
                       "keys configured); this server has keys."));
  return false;
}

// ---- The seed file --------------------------------------------------------

// Longest seed file read: a fixture's data, not a backup.
constexpr std::streamsize kMaxSeedBytes = 16 * 1024 * 1024;

// One API request made on the seed's behalf, as the server would route it.
class SeedRequest {
 public:
  SeedRequest(const char* method, std::string path, const std::string& key,
              std::string body) {
    req_.method = method;
    req_.path = std::move(path);
    req_.body = std::move(body);
    req_.set_header("x-api-key", key);
    req_.set_header("Content-Type", "application/json");
    // The handlers read the path's {id} from the router's match.
    std::regex_match(req_.path, req_.matches, std::regex("/[a-z_]+/([^/]+)"));
  }

  // Runs `handler`; true on a 2xx. Otherwise *problem says why, from the
  // error body: each of its errors when it lists several (its message then
  // only says "listed in errors"), else its message, and the suggested fix
  // of an error that lists none.
  bool Run(void (*handler)(const Context&, const httplib::Request&,
                           httplib::Response&),
           const Context& ctx, std::string* problem) {
    handler(ctx, req_, res_);
    if (res_.status >= 200 && res_.status < 300) return true;
    *problem = "the server answered " + std::to_string(res_.status);
    simdjson::dom::parser parser;
    simdjson::dom::element body;
    std::string_view message;
    if (parser.parse(res_.body).get(body) ||
        body["error"]["message"].get(message)) {
      return false;
    }
    simdjson::dom::array errors;
    if (body["error"]["errors"].get(errors)) return false;
    if (errors.size() > 1) {
      problem->clear();
      for (simdjson::dom::element each : errors) {
        std::string_view text;
        if (each.get(text)) continue;
        *problem += (problem->empty() ? "" : "; ") + std::string(text);
      }
      return false;
    }
    *problem = std::string(message);
    // A validation error's fix only points at its errors, said already.
    std::string_view fix;
    if (errors.size() == 0 && !body["error"]["suggested_fix"].get(fix)) {
      *problem += " " + std::string(fix);
    }
    return false;
  }

  const std::string& body() const { return res_.body; }
  const httplib::Request& request() const { return req_; }

 private:
  httplib::Request req_;
  httplib::Response res_;
};

// The string `key` of `object`, if present; a problem if it is not a
// string.
bool OptionalString(simdjson::dom::object object, std::string_view key,
                    std::string* out, bool* present, std::string* problem) {
  simdjson::dom::element value;
  *present = !object[key].get(value);
  if (!*present) return true;
  std::string_view text;
  if (value.get(text)) {
    *problem = std::string(key) + " must be a string";
    return false;
  }
  *out = std::string(text);
  return true;
}

// Refuses keys other than `allowed`: a misspelt key must not be ignored.
bool OnlyKeys(simdjson::dom::object object,
              std::initializer_list<std::string_view> allowed,
              std::string* problem) {
  for (auto field : object) {
    bool known = false;
    for (std::string_view name : allowed) known |= field.key == name;
    if (!known) {
      *problem = "unknown key '" + Printable(field.key, 64) + "'";
      return false;
    }
  }
  return true;
}

// One endpoint of a project: created if missing, then given its data
// (PATCH: the fields listed are set, others kept).
bool SeedEndpoint(const Context& ctx, const std::string& key,
                  simdjson::dom::element item, std::string* problem) {
  simdjson::dom::object object;
  if (item.get(object)) {
    *problem = "must be an object";
    return false;
  }
  if (!OnlyKeys(object, {"toolkit_slug", "client_id", "data"}, problem)) {
    return false;
  }
  std::string create_body = "{";
  for (std::string_view name : {"toolkit_slug", "client_id"}) {
    simdjson::dom::element value;
    if (!object[name].get(value)) {
      if (create_body.size() > 1) create_body += ",";
      create_body += "\"" + std::string(name) + "\":" + simdjson::minify(value);
    }
  }
  create_body += "}";
  SeedRequest create("POST", "/webhook_endpoints", key, create_body);
  if (!create.Run(HandleCreateEndpoint, ctx, problem)) return false;
  simdjson::dom::element data;
  if (object["data"].get(data)) return true;
  simdjson::dom::parser parser;
  simdjson::dom::element created;
  std::string_view id;
  if (parser.parse(create.body()).get(created) || created["id"].get(id)) {
    *problem = "the created endpoint has no id";
    return false;
  }
  SeedRequest patch("PATCH", "/webhook_endpoints/" + std::string(id), key,
                    "{\"data\":" + simdjson::minify(data) + "}");
  return patch.Run(
      [](const Context& c, const httplib::Request& req,
         httplib::Response& res) { HandleSetSetupData(c, false, req, res); },
      ctx, problem);
}

// A project's subscription: created if missing, else set to the file's
// URL, events and version; then, if the file names a secret, given it.
bool SeedSubscription(const Context& ctx, const std::string& key,
                      simdjson::dom::element item, std::string* problem) {
  simdjson::dom::object object;
  if (item.get(object)) {
    *problem = "must be an object";
    return false;
  }
  if (!OnlyKeys(object, {"webhook_url", "enabled_events", "version", "secret"},
                problem)) {
    return false;
  }
  std::string secret;
  bool has_secret = false;
  if (!OptionalString(object, "secret", &secret, &has_secret, problem)) {
    return false;
  }
  if (has_secret && !IsTokenText(secret, kMaxApiKeyLength)) {
    *problem = "secret must be 1-256 printable ASCII characters without spaces";
    return false;
  }
  std::string body = "{";
  for (std::string_view name : {"webhook_url", "enabled_events", "version"}) {
    simdjson::dom::element value;
    if (!object[name].get(value)) {
      if (body.size() > 1) body += ",";
      body += "\"" + std::string(name) + "\":" + simdjson::minify(value);
    }
  }
  body += "}";
  // The project, as the key resolves (in local mode: made on first use).
  SeedRequest who("GET", "/webhook_subscriptions", key, "");
  httplib::Response ignored;
  Caller caller;
  if (!AuthenticateOrReply(ctx, who.request(), ignored, &caller)) {
    *problem = "api_key is not accepted by this server";
    return false;
  }
  std::vector<WebhookSubscription> existing;
  if (Status status = ctx.store.ListSubscriptions(caller.project_id, &existing);
      !status.ok()) {
    *problem = status.message();
    return false;
  }
  std::string id;
  if (existing.empty()) {
    SeedRequest create("POST", "/webhook_subscriptions", key, body);
    if (!create.Run(HandleCreateSubscription, ctx, problem)) return false;
    simdjson::dom::parser parser;
    simdjson::dom::element created;
    std::string_view created_id;
    if (parser.parse(create.body()).get(created) ||
        created["id"].get(created_id)) {
      *problem = "the created subscription has no id";
      return false;
    }
    id = std::string(created_id);
  } else {
    id = existing.front().id;
    SeedRequest update("PATCH", "/webhook_subscriptions/" + id, key, body);
    if (!update.Run(HandleUpdateSubscription, ctx, problem)) return false;
    if (has_secret && existing.front().secret == secret) return true;
  }
  if (!has_secret) return true;
  WebhookSubscription rotated;
  if (Status status = ctx.store.RotateSubscriptionSecret(
          caller.project_id, id, secret, NowMillis(), &rotated);
      !status.ok()) {
    *problem = status.message();
    return false;
  }
  return true;
}

// One project: its key, endpoints and subscription. *where names the part
// a problem is in ("projects[0].endpoints[1]").
bool SeedProject(const Context& ctx, simdjson::dom::element item,
                 std::string* where, std::string* problem) {
  simdjson::dom::object object;
  if (item.get(object)) {
    *problem = "must be an object";
    return false;
  }
  if (!OnlyKeys(object, {"api_key", "endpoints", "subscription"}, problem)) {
    return false;
  }
  std::string key;
  bool has_key = false;
  if (!OptionalString(object, "api_key", &key, &has_key, problem)) {
    return false;
  }
  if (!has_key || !IsTokenText(key, kMaxApiKeyLength)) {
    *problem =
        "api_key is required: 1-256 printable ASCII characters without spaces";
    return false;
  }
  simdjson::dom::element endpoints;
  if (!object["endpoints"].get(endpoints)) {
    simdjson::dom::array list;
    if (endpoints.get(list)) {
      *problem = "endpoints must be an array";
      return false;
    }
    size_t index = 0;
    const std::string base = *where;
    for (simdjson::dom::element each : list) {
      *where = base + ".endpoints[" + std::to_string(index++) + "]";
      if (!SeedEndpoint(ctx, key, each, problem)) return false;
    }
    *where = base;
  }
  simdjson::dom::element subscription;
  if (!object["subscription"].get(subscription)) {
    *where += ".subscription";
    if (!SeedSubscription(ctx, key, subscription, problem)) return false;
  }
  return true;
}

}  // namespace

void HandleResetProject(const Context& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  if (!LocalModeOrReply(ctx, res)) return;
  Status status = ctx.store.ResetProject(caller.project_id);
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  ReplyJson(res, 200, R"({"success":true})");
}

bool ApplySeedFile(const Context& ctx, const std::string& path,
                   std::string* error) {
  const std::string file = "seed file '" + path + "': ";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = file + "cannot be read";
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > static_cast<size_t>(kMaxSeedBytes)) {
    *error = file + "larger than 16 MiB";
    return false;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto failure = parser.parse(text.str()).get(root)) {
    *error = file + "not valid JSON: " + simdjson::error_message(failure);
    return false;
  }
  simdjson::dom::object top;
  std::string problem;
  simdjson::dom::array projects;
  if (root.get(top) || !OnlyKeys(top, {"projects"}, &problem) ||
      top["projects"].get(projects)) {
    *error = file + (problem.empty() ? "" : problem + ": ") +
             "expected {\"projects\": [{\"api_key\", \"endpoints\", "
             "\"subscription\"}, ...]}";
    return false;
  }
  size_t index = 0;
  for (simdjson::dom::element each : projects) {
    std::string where = "projects[" + std::to_string(index++) + "]";
    if (!SeedProject(ctx, each, &where, &problem)) {
      *error = file + where + ": " + problem;
      for (char& c : *error) {
        if (c == '\n' || c == '\r') c = ' ';  // one line, whatever was said
      }
      return false;
    }
  }
  return true;
}

}  // namespace webhooks
