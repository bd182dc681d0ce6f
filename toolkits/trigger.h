// How a stored event is named in the trigger message delivered to the
// project's app: its trigger slug and the provider's user, found in the
// body where the toolkit's catalog entry says (TriggerSpec). Contract:
// ../shared/spec/subscriptions-and-delivery.md, "What an app receives".

#ifndef WEBHOOKS_TOOLKITS_TRIGGER_H_
#define WEBHOOKS_TOOLKITS_TRIGGER_H_

#include <string>
#include <string_view>

#include "toolkits/catalog.h"

namespace webhooks {

struct TriggerDescription {
  std::string trigger_slug;  // "SLACK_RECEIVE_MESSAGE", "NOTION_PAGE_CREATED"
  std::string user_id;       // "" where the catalog locates none
};

// The catalog's slug for the event type, else TOOLKIT_EVENTTYPE with
// every character outside A-Z0-9 made `_`, else (no event type, or a body
// that is not JSON) TOOLKIT_EVENT. The event type is `header_event_type`
// (the value of the toolkit's event_type_header, "" if it has none or the
// request did not send it) if not empty, else the body's. Values found are
// used only if they are strings of at most 256 printable characters.
TriggerDescription DescribeEvent(const ToolkitSpec& toolkit,
                                 std::string_view body,
                                 std::string_view header_event_type = {});

}  // namespace webhooks

#endif  // WEBHOOKS_TOOLKITS_TRIGGER_H_
