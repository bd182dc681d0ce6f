#include "api/auth.h"

#include <algorithm>
#include <cstdio>

#include "api/resources.h"
#include "http/hardened_server.h"
#include "util/crypto.h"
#include "util/json_writer.h"
#include "util/net.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

constexpr char kApiKeyHeader[] = "x-api-key";

constexpr char kUserApiKeyHeader[] = "x-user-api-key";

// Every authentication failure but one answers this same body (request id
// aside): which part of a key was wrong, or whether it ever existed (a
// revoked key), is nothing a caller should learn. The exception is both key
// headers at once, whose message the spec fixes.
ApiError UnauthorizedError() {
  return MakeError(ErrorKind::kUnauthorized,
                   "Missing or invalid API key: send exactly one valid key "
                   "in the x-api-key header.");
}

// Resolves the caller's key to a project, or replies 401 (or 5xx) and
// returns false. A user key (x-user-api-key) is treated like a project key:
// our choice, since this server has no user accounts.
bool AuthenticateKeyOrReply(const Context& ctx, const httplib::Request& req,
                            httplib::Response& res, Caller* caller) {
  std::string key;
  ApiError err;
  if (!CheckKeyHeaders(req, &key, &err)) {
    ReplyError(res, err);
    return false;
  }
  const std::string digest = Sha256(key);
  // Look at every configured key, never stopping early, so the time taken
  // does not tell which key (or how much of one) matched.
  const ConfiguredKey* match = nullptr;
  for (const ConfiguredKey& candidate : ctx.keys.configured) {
    if (ConstantTimeEquals(candidate.digest, digest)) match = &candidate;
  }
  // Then the database, for every key, configured ones included: it holds
  // the revocations, and `keys` changes it while we run, so a key created
  // or revoked there counts from the next request. One indexed read.
  ApiKeyRecord record;
  Status found = ctx.store.FindKey(digest, &record);
  if (!found.ok() && found.code() != Status::Code::kNotFound) {
    ReplyStoreError(ctx, res, found);
    return false;
  }
  if (found.ok() && record.revoked) {
    ReplyError(res, UnauthorizedError());
    return false;
  }
  if (match != nullptr) {
    caller->project_id = match->project_id;
    return true;
  }
  if (found.ok() && record.origin == KeyOrigin::kAdmin) {
    caller->project_id = record.project_id;
    return true;
  }
  // Any other key is accepted only in local mode: no key configured at
  // start-up and no admin key ever created.
  bool admin_keys = false;
  Status mode = ctx.store.HasAdminKeys(&admin_keys);
  if (!mode.ok()) {
    ReplyStoreError(ctx, res, mode);
    return false;
  }
  if (!ctx.keys.configured.empty() || admin_keys) {
    ReplyError(res, UnauthorizedError());
    return false;
  }
  if (found.ok()) {
    caller->project_id = record.project_id;
    return true;
  }
  // Local mode: a new key is a new project.
  NewApiKey new_key;
  new_key.key_digest = digest;
  new_key.origin = KeyOrigin::kLocal;
  new_key.key_id = NewId(ctx, "key_", 12);
  new_key.project_id = NewId(ctx, "proj_", 12);
  new_key.project_name = "local";
  new_key.created_at_ms = NowMillis();
  Status registered = ctx.store.RegisterKey(new_key, &caller->project_id);
  if (!registered.ok()) {
    ReplyStoreError(ctx, res, registered);
    return false;
  }
  return true;
}

// A "KEY@PROJECT" key: a new key joins (or creates) the project named or
// numbered `project`; a known key stays where it is, which must be that
// project (a key never moves: its endpoints would stay behind). Sets
// *project_id. InvalidArgument when the configuration cannot be applied.
Status JoinConfiguredProject(Store& store, const NewApiKey& key,
                             const std::string& project,
                             std::string* project_id) {
  ApiKeyRecord record;
  Status status = store.FindKey(key.key_digest, &record);
  if (status.code() == Status::Code::kNotFound) {
    // A project id (keys list shows them) names a project that must exist:
    // a mistyped one would otherwise make a new, empty project so named.
    const bool by_id = project.rfind("proj_", 0) == 0;
    status = store.AddKeyToProject(
        key, by_id ? ProjectChoice::kJoin : ProjectChoice::kJoinOrCreate,
        project_id);
    if (status.code() == Status::Code::kNotFound) {
      return Status::InvalidArgument(
          "no project has the id '" +
          Printable(project, kMaxProjectNameLength) +
          "' given as KEY@PROJECT (keys list shows the projects)");
    }
    // Another instance registered it first: it is known now.
    if (status.code() != Status::Code::kConflict) return status;
    status = store.FindKey(key.key_digest, &record);
  }
  if (!status.ok()) return status;
  std::vector<ApiKeyInfo> keys;
  if (status = store.ListKeys(&keys); !status.ok()) return status;
  for (const ApiKeyInfo& info : keys) {
    if (info.key_id != record.key_id) continue;
    if (info.project_id != project && info.project_name != project) {
      return Status::InvalidArgument(
          "API key " + info.key_id + " (given as KEY@" + project +
          ") already belongs to project " + info.project_id + " ('" +
          Printable(info.project_name, kMaxProjectNameLength) +
          "'); write it KEY@" + info.project_id +
          ", and give new keys that project too");
    }
  }
  *project_id = record.project_id;
  return Status::Ok();
}

}  // namespace

HostPolicy BuildHostPolicy(const Config& config, bool local_mode) {
  HostPolicy policy;
  policy.enforced = local_mode;
  for (const std::string& name : config.allowed_hosts) {
    if (name == "*") {
      policy.any = true;
    } else {
      policy.names.push_back(name);
    }
  }
  if (!config.public_url.empty()) {
    std::string_view authority = config.public_url;
    authority.remove_prefix(authority.find("://") + 3);
    authority = authority.substr(0, authority.find('/'));
    policy.names.push_back(HostPolicy::HostOf(authority));
  }
  return policy;
}

bool CheckKeyHeaders(const httplib::Request& req, std::string* key,
                     ApiError* err) {
  const size_t project_keys = req.get_header_value_count(kApiKeyHeader);
  const size_t user_keys = req.get_header_value_count(kUserApiKeyHeader);
  if (project_keys > 0 && user_keys > 0) {
    *err = MakeError(ErrorKind::kUnauthorized,
                     "Multiple authentication modes provided (x-api-key and "
                     "x-user-api-key); exactly one is allowed.");
    return false;
  }
  if (project_keys + user_keys != 1) {
    *err = UnauthorizedError();
    return false;
  }
  *key = req.get_header_value(project_keys ? kApiKeyHeader : kUserApiKeyHeader);
  if (!IsTokenText(*key, kMaxApiKeyLength)) {
    *err = UnauthorizedError();
    return false;
  }
  return true;
}

bool AuthenticateOrReply(const Context& ctx, const httplib::Request& req,
                         httplib::Response& res, Caller* caller) {
  if (!AuthenticateKeyOrReply(ctx, req, res, caller)) return false;
  if (auto* notes = HardenedServer::CurrentRequestNotes()) {
    notes->project_id = caller->project_id;
  }
  if (ctx.rate_limiter == nullptr) return true;
  const RateLimiter::Decision decision =
      ctx.rate_limiter->Take(caller->project_id);
  res.set_header("X-RateLimit-Limit",
                 std::to_string(ctx.rate_limiter->per_minute()));
  res.set_header("X-RateLimit-Remaining", std::to_string(decision.remaining));
  res.set_header("X-RateLimit-Reset", std::to_string(decision.reset_seconds));
  if (decision.allowed) return true;
  // Composio's 429 is the one error without the envelope (spec).
  res.set_header("Retry-After", std::to_string(decision.reset_seconds));
  JsonWriter json;
  WriteRateLimited(ctx.rate_limiter->per_minute(), decision.reset_seconds,
                   &json);
  res.status = 429;
  res.set_content(json.Take(), "application/json");
  return false;
}

int BuildKeyPolicy(const Config& config, Store& store, KeyPolicy* policy) {
  for (const std::string& value : config.api_keys) {
    std::string key, project;
    SplitApiKey(value, &key, &project);  // checked when parsed
    ConfiguredKey configured;
    configured.digest = Sha256(key);
    NewApiKey new_key;
    new_key.key_digest = configured.digest;
    new_key.origin = KeyOrigin::kConfig;
    new_key.key_id = "key_" + RandomToken(12);
    new_key.project_id = "proj_" + RandomToken(12);
    new_key.project_name = project.empty() ? "configured" : project;
    new_key.created_at_ms = NowMillis();
    Status status = project.empty()
                        ? store.RegisterKey(new_key, &configured.project_id)
                        : JoinConfiguredProject(store, new_key, project,
                                                &configured.project_id);
    ApiKeyRecord record;
    if (status.ok()) status = store.FindKey(configured.digest, &record);
    if (!status.ok()) {
      std::fprintf(stderr, "webhooks-server: cannot register API keys: %s\n",
                   status.message().c_str());
      return status.code() == Status::Code::kInvalidArgument ? 2 : 1;
    }
    // A revoked key stays refused (every request asks the database), and
    // stays in the policy: revoking the only configured key must not turn
    // the next start into local mode, open to any key. Nor may it stop the
    // start: an emergency revocation comes before the configuration edit.
    if (record.revoked) {
      std::fprintf(stderr,
                   "webhooks-server: warning: API key %s given at start-up "
                   "was revoked and is refused; remove it from --api-key / "
                   "WEBHOOKS_API_KEYS\n",
                   record.key_id.c_str());
    }
    policy->configured.push_back(std::move(configured));
  }
  return 0;
}

std::string HostPolicy::HostOf(std::string_view value) {
  std::string_view host = value;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return Lowercase(host);
}

bool HostPolicy::Allows(const httplib::Request& req) const {
  if (!enforced || any) return true;
  if (req.get_header_value_count("Host") != 1) return false;
  const std::string host = HostOf(req.get_header_value("Host"));
  const std::string_view suffix = ".localhost";
  if (host.size() > suffix.size() &&
      host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return true;
  }
  if (IsLoopbackHost(host)) return true;  // localhost, 127/8, ::1
  return std::find(names.begin(), names.end(), host) != names.end();
}

}  // namespace webhooks
