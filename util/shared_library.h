// SharedLibrary: a shared library opened at run time (dlopen) instead of
// linked, for the libraries only some runs need. Issue 18 measured what
// linking them costs every start: libcurl and libpq bring 30 more shared
// objects (Kerberos, LDAP, GnuTLS, p11-kit...), whose loading, relocation
// and constructors took more time than the rest of the start-up together.
// PostgreSQL (store/postgres_libpq) is loaded only when the database is a
// postgresql:// URI, libcurl (http/client) only at the first delivery.
//
// The symbols are looked up by name into pointers of the exact type the
// library's own header declares (decltype of the declaration), so a
// mismatch between header and code is still a compile error.

#ifndef WEBHOOKS_UTIL_SHARED_LIBRARY_H_
#define WEBHOOKS_UTIL_SHARED_LIBRARY_H_

#include <memory>
#include <string>

namespace webhooks {

class SharedLibrary {
 public:
  // Opens `soname` (e.g. "libpq.so.5": the run-time name, which the
  // package's Depends provides, not the -dev package's unversioned link).
  // Null, and *error says why (the loader's message), if it cannot.
  static std::unique_ptr<SharedLibrary> Open(const char* soname,
                                             std::string* error);

  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  ~SharedLibrary();

  // Points *out at the function `name`; false, and *error names what is
  // missing, if the library has no such symbol.
  template <typename Function>
  bool Find(const char* name, Function** out, std::string* error) const {
    void* symbol = Lookup(name, error);
    *out = reinterpret_cast<Function*>(symbol);
    return symbol != nullptr;
  }

 private:
  explicit SharedLibrary(void* handle) : handle_(handle) {}
  void* Lookup(const char* name, std::string* error) const;

  void* const handle_;
};

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_SHARED_LIBRARY_H_
