// The hooks every request passes through, in order: pre-routing (request
// id, the head as sent, Host, framing, key headers: all before the body is
// read), the error hook (an error body for what the library refused), the
// exception handler (the last net), before-write (metrics) and the access
// log.

#ifndef WEBHOOKS_API_HOOKS_H_
#define WEBHOOKS_API_HOOKS_H_

#include <vector>

#include "api/auth.h"
#include "api/routes.h"
#include "config.h"
#include "http/hardened_server.h"
#include "ops/logger.h"
#include "ops/metrics.h"

namespace webhooks {

void InstallHooks(HardenedServer& server, const Config& config,
                  const HostPolicy& hosts, const Logger& log, Metrics& metrics,
                  const std::vector<CompiledRoute>& routes,
                  FaultInjector inject);

}  // namespace webhooks

#endif  // WEBHOOKS_API_HOOKS_H_
