// The dashboard's files (web/), compiled in by CMake: one entry per file,
// its bytes as they are in the folder.

#ifndef WEBHOOKS_API_WEB_ASSETS_H_
#define WEBHOOKS_API_WEB_ASSETS_H_

#include <cstddef>

namespace webhooks {

struct WebAsset {
  const char* name;  // the file's name in web/ ("app.js")
  const char* bytes;
  size_t size;
};

// Every file of web/, sorted by name, then {nullptr, nullptr, 0}.
extern const WebAsset kWebAssets[];

}  // namespace webhooks

#endif  // WEBHOOKS_API_WEB_ASSETS_H_
