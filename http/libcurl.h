// libcurl's functions, from libcurl.so.4 opened at run time at the first
// delivery rather than linked (util/shared_library.h says why). Internal
// to http/: only the outbound client calls libcurl.

#ifndef WEBHOOKS_HTTP_LIBCURL_H_
#define WEBHOOKS_HTTP_LIBCURL_H_

#include <curl/curl.h>

#include <string>

namespace webhooks {

// Every libcurl function the client calls, without the curl_ prefix (the
// members cannot share the names: curl.h defines curl_easy_setopt and
// curl_easy_getinfo as type-checking macros). A new call needs its name
// here.
// clang-format off
#define WEBHOOKS_LIBCURL_FUNCTIONS(X) \
  X(easy_cleanup) \
  X(easy_getinfo) \
  X(easy_init) \
  X(easy_setopt) \
  X(easy_strerror) \
  X(global_init) \
  X(multi_add_handle) \
  X(multi_cleanup) \
  X(multi_info_read) \
  X(multi_init) \
  X(multi_perform) \
  X(multi_poll) \
  X(multi_remove_handle) \
  X(multi_wakeup) \
  X(slist_append) \
  X(slist_free_all)
// clang-format on

// The functions, typed as curl.h declares them: curl->easy_init().
struct Libcurl {
#define WEBHOOKS_LIBCURL_MEMBER(name) decltype(&::curl_##name) name = nullptr;
  WEBHOOKS_LIBCURL_FUNCTIONS(WEBHOOKS_LIBCURL_MEMBER)
#undef WEBHOOKS_LIBCURL_MEMBER
};

// Opens libcurl and runs curl_global_init on the first call, from
// whichever thread makes it (the others wait for that one, so the global
// init never races); every later call returns the same table, or the same
// failure. libcurl then stays loaded and initialised until the process
// exits, as a linked one would. Null, and *error says why and which
// package provides it, if it cannot be opened or initialised.
const Libcurl* LoadLibcurl(std::string* error);

}  // namespace webhooks

#endif  // WEBHOOKS_HTTP_LIBCURL_H_
