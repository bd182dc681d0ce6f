// libcurl opened at run time: see http/libcurl.h.

#include "http/libcurl.h"

#include <memory>

#include "util/shared_library.h"

namespace webhooks {
namespace {

// Debian 12's libcurl4 (OpenSSL flavour, as libcurl4-openssl-dev builds
// against); the soname has been .4 since libcurl 7.16.
constexpr char kSoname[] = "libcurl.so.4";

struct Loaded {
  std::unique_ptr<SharedLibrary> library;
  Libcurl functions;
  std::string error;  // empty if `functions` is complete and initialised
};

Loaded* Load() {
  auto loaded = new Loaded();
  std::string why;
  loaded->library = SharedLibrary::Open(kSoname, &why);
  bool found = loaded->library != nullptr;
#define WEBHOOKS_LIBCURL_FIND(name) \
  found = found &&                  \
          loaded->library->Find("curl_" #name, &loaded->functions.name, &why);
  WEBHOOKS_LIBCURL_FUNCTIONS(WEBHOOKS_LIBCURL_FIND)
#undef WEBHOOKS_LIBCURL_FIND
  if (found && loaded->functions.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    found = false;
    why = "curl_global_init failed";
  }
  if (!found) {
    loaded->error =
        "deliveries need libcurl (Debian: apt-get install "
        "libcurl4): " +
        why;
  }
  return loaded;
}

}  // namespace

const Libcurl* LoadLibcurl(std::string* error) {
  // Opened and initialised once per process, never cleaned up: a
  // process-wide resource (curl_global_init's state is global), held here
  // rather than by an owner that could end it under a transfer. Static
  // initialisation makes the first call the only one that loads.
  static const Loaded* const loaded = Load();
  if (!loaded->error.empty()) {
    *error = loaded->error;
    return nullptr;
  }
  return &loaded->functions;
}

}  // namespace webhooks
