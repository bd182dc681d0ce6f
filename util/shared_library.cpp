// A shared library opened at run time: see util/shared_library.h.

#include "util/shared_library.h"

#include <dlfcn.h>

namespace webhooks {

std::unique_ptr<SharedLibrary> SharedLibrary::Open(const char* soname,
                                                   std::string* error) {
  // RTLD_NOW: every symbol the library needs is resolved here, once, not on
  // a request thread at its first call. RTLD_LOCAL: its symbols stay out of
  // the way of everything loaded later.
  void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    *error = why != nullptr ? why : std::string("cannot open ") + soname;
    return nullptr;
  }
  return std::unique_ptr<SharedLibrary>(new SharedLibrary(handle));
}

SharedLibrary::~SharedLibrary() { ::dlclose(handle_); }

void* SharedLibrary::Lookup(const char* name, std::string* error) const {
  ::dlerror();  // clears an earlier error, so the one below is this call's
  void* symbol = ::dlsym(handle_, name);
  if (symbol == nullptr) {
    const char* why = ::dlerror();
    *error = why != nullptr ? why : std::string("no symbol ") + name;
  }
  return symbol;
}

}  // namespace webhooks
