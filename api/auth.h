// Who may call: API keys to projects (constant-time, never logged), the
// Host names local mode accepts, and the per-project rate limit.

#ifndef WEBHOOKS_API_AUTH_H_
#define WEBHOOKS_API_AUTH_H_

#include <httplib.h>

#include <string>
#include <string_view>
#include <vector>

#include "api/context.h"
#include "api/errors.h"
#include "config.h"
#include "store/store.h"

namespace webhooks {

// Which Host a request may name. In zero-config local mode any key is
// accepted, so a web page whose owner rebinds its DNS name to 127.0.0.1
// (DNS rebinding) could drive this server from a visitor's browser with a
// made-up key and read what providers sent. Its requests carry the page's
// own name in Host, which is what is checked: local mode accepts only names
// that cannot be rebound (localhost and *.localhost, loopback addresses),
// the --public-url host (a tunnel's name, say) and --allowed-host names.
// With API keys the key protects the server, and any Host is accepted (a
// reverse proxy may forward any).
struct HostPolicy {
  bool enforced = false;           // local mode at start-up
  bool any = false;                // --allowed-host '*'
  std::vector<std::string> names;  // lower case, without port

  // The host of a Host header value, lower case, without port, brackets or
  // a final dot: "[::1]:9900" -> "::1", "LocalHost.:80" -> "localhost".
  static std::string HostOf(std::string_view value);

  bool Allows(const httplib::Request& req) const;
};

// The policy for `config`; `local_mode`: no API key configured or created.
HostPolicy BuildHostPolicy(const Config& config, bool local_mode);

// The header-only part of authentication, cheap enough for the pre-routing
// hook: exactly one well-formed key header. Sets *key on success.
bool CheckKeyHeaders(const httplib::Request& req, std::string* key,
                     ApiError* err);

// AuthenticateKeyOrReply, and the project noted for the access log.
bool AuthenticateOrReply(const Context& ctx, const httplib::Request& req,
                         httplib::Response& res, Caller* caller);

// Registers the keys given at start-up and returns the policy that accepts
// exactly them (less those revoked with `keys revoke`, which the database
// refuses). "KEY" is a project of its own (our choice); "KEY@PROJECT" joins
// the project with that name or id, creating it if none has; a key known
// from an earlier start keeps its project, and naming another one is
// refused. Returns 0, or the exit code (1: the database failed; 2: the
// configuration cannot be applied) after one line on stderr that never
// holds a key.
int BuildKeyPolicy(const Config& config, Store& store, KeyPolicy* policy);

}  // namespace webhooks

#endif  // WEBHOOKS_API_AUTH_H_
