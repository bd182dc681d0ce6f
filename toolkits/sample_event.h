// A sample event for a toolkit, as its provider would send one: what the
// dashboard's "Send test event" and `webhooks-server send-test-event` post
// through the ingress, so the whole loop can be tried without a provider.
// Each call has fresh ids, so samples are never taken for retries.

#ifndef WEBHOOKS_TOOLKITS_SAMPLE_EVENT_H_
#define WEBHOOKS_TOOLKITS_SAMPLE_EVENT_H_

#include <cstdint>
#include <string>

#include "toolkits/catalog.h"

namespace webhooks {

// Slack's sample app_mention event_callback, with a fresh event id and
// `now_seconds` as its time.
std::string SlackSampleEvent(int64_t now_seconds);

// The sample for `toolkit`'s scheme: Slack's for slack_v0, Notion's
// page.created for notion, else a small JSON event whose id sits where the
// catalog looks for one (event_id_field, or "id").
std::string SampleEvent(const ToolkitSpec& toolkit, int64_t now_seconds);

}  // namespace webhooks

#endif  // WEBHOOKS_TOOLKITS_SAMPLE_EVENT_H_
