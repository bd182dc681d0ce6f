// What a test suite needs from a server it starts (our extensions, issue
// 17): POST /api/v3[.1]/_local/reset, which empties the caller's project,
// and the --seed file's endpoints and subscriptions, applied at start-up.
// Both are for local mode only: no key configured, any key accepted, on
// loopback.

#ifndef WEBHOOKS_API_FIXTURES_H_
#define WEBHOOKS_API_FIXTURES_H_

#include <httplib.h>

#include <string>

#include "api/context.h"

namespace webhooks {

// POST _local/reset: deletes the caller's endpoints, events, subscription,
// deliveries and attempts (Store::ResetProject), nothing of another
// project, and answers {"success":true}. In configured mode (keys given at
// start-up or made with `keys create`) 403 Fixture_LocalModeOnly, after
// authentication: a reset there would be one request away from wiping a
// real project.
void HandleResetProject(const Context& ctx, const httplib::Request& req,
                        httplib::Response& res);

// Applies the seed file at `path` (format in the README, "Seed data"):
// each project's endpoints are created if missing and given the file's
// setup data; its subscription is created if missing, else set to the
// file's URL, events and version. A restart on the same database finds
// everything there and changes nothing. False, with *error the one line to
// print (naming the file and the problem), if the file cannot be read, is
// not the format, names an unknown toolkit or invalid data, or the store
// fails; what was applied before the problem stays.
bool ApplySeedFile(const Context& ctx, const std::string& path,
                   std::string* error);

}  // namespace webhooks

#endif  // WEBHOOKS_API_FIXTURES_H_
