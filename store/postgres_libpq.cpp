// libpq opened at run time: see store/postgres_libpq.h.

#include "store/postgres_libpq.h"

#include <memory>

#include "util/shared_library.h"

namespace webhooks::postgres_internal {
namespace {

// Debian 12's libpq5; the soname has been .5 since PostgreSQL 8.2.
constexpr char kSoname[] = "libpq.so.5";

struct Loaded {
  std::unique_ptr<SharedLibrary> library;
  Libpq functions;
  std::string error;  // empty if `functions` is complete
};

Loaded* Load() {
  auto loaded = new Loaded();
  std::string why;
  loaded->library = SharedLibrary::Open(kSoname, &why);
  bool found = loaded->library != nullptr;
#define WEBHOOKS_LIBPQ_FIND(name) \
  found = found && loaded->library->Find(#name, &loaded->functions.name, &why);
  WEBHOOKS_LIBPQ_FUNCTIONS(WEBHOOKS_LIBPQ_FIND)
#undef WEBHOOKS_LIBPQ_FIND
  if (!found) {
    loaded->error =
        "the PostgreSQL backend needs libpq (Debian: apt-get "
        "install libpq5): " +
        why;
  }
  return loaded;
}

}  // namespace

const Libpq* LoadLibpq(std::string* error) {
  // Opened once per process and never closed: a process-wide resource like
  // the loader's own, held here rather than by an owner that could close it
  // under a connection still open. Static initialisation makes the first
  // call the only one that loads, whichever threads race to it.
  static const Loaded* const loaded = Load();
  if (!loaded->error.empty()) {
    *error = loaded->error;
    return nullptr;
  }
  return &loaded->functions;
}

}  // namespace webhooks::postgres_internal
