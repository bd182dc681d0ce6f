// The ingress: the URL a provider posts events to. It verifies the
// provider's signature over the raw body before anything parses it, answers
// handshakes, and stores each event durably (once) before the 200.

#ifndef WEBHOOKS_API_INGRESS_H_
#define WEBHOOKS_API_INGRESS_H_

#include <httplib.h>

#include "api/context.h"

namespace webhooks {

// POST webhook_ingress/{toolkit_slug}/{id}/trigger_event: the provider's
// door, checked in the spec's order: endpoint, secret, signature,
// handshake, event.
void HandleIngress(const Context& ctx, const httplib::Request& req,
                   httplib::Response& res);

// POST webhook_endpoints/{id}/test_event (our extension): signs the
// toolkit's sample event with the endpoint's stored secret and runs it
// through the ingress above, as if the provider had sent it; answers the
// stored event's ids, or the ingress's error. 409 TestEvent_Unavailable
// when nothing can sign it (no secret yet, or a private-key scheme).
void HandleTestEvent(const Context& ctx, const httplib::Request& req,
                     httplib::Response& res);

}  // namespace webhooks

#endif  // WEBHOOKS_API_INGRESS_H_
