#include "toolkits/trigger.h"

#include <simdjson.h>

#include <optional>

#include "util/text.h"

namespace webhooks {
namespace {

// `text` upper-cased, every character outside A-Z0-9 made `_`.
std::string SlugPart(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    const bool kept = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += kept ? c : '_';
  }
  return out;
}

// The string at `pointer` in `document`, if it is a short clean one.
std::optional<std::string> StringAt(simdjson::dom::element document,
                                    const std::string& pointer) {
  if (pointer.empty()) return std::nullopt;
  std::string_view value;
  if (document.at_pointer(pointer).get_string().get(value) !=
          simdjson::SUCCESS ||
      value.empty() || value.size() > 256 || !IsCleanText(value)) {
    return std::nullopt;
  }
  return std::string(value);
}

}  // namespace

TriggerDescription DescribeEvent(const ToolkitSpec& toolkit,
                                 std::string_view body,
                                 std::string_view header_event_type) {
  TriggerDescription out;
  std::optional<std::string> event_type;
  const TriggerSpec& spec = toolkit.triggers;
  if (!spec.event_type_pointer.empty() || !spec.user_pointer.empty()) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(body);
    simdjson::dom::element document;
    if (parser.parse(padded).get(document) == simdjson::SUCCESS) {
      event_type = StringAt(document, spec.event_type_pointer);
      out.user_id = StringAt(document, spec.user_pointer).value_or("");
    }
  }
  if (!header_event_type.empty() && header_event_type.size() <= 256 &&
      IsCleanText(header_event_type)) {
    event_type = std::string(header_event_type);
  }
  if (event_type) {
    for (const auto& [type, slug] : spec.slugs) {
      if (type == *event_type) {
        out.trigger_slug = slug;
        return out;
      }
    }
  }
  out.trigger_slug = SlugPart(toolkit.slug) + "_" +
                     (event_type ? SlugPart(*event_type) : "EVENT");
  return out;
}

}  // namespace webhooks
