// Where the server's ids (we_, ev_, whs_, dlv_, msg_, ...) and the secrets
// it makes come from: OpenSSL's CSPRNG, or, with --id-seed in local mode, a
// sequence that a seed fixes, so that a snapshot test sees the same ids on
// every run.

#ifndef WEBHOOKS_UTIL_ID_SOURCE_H_
#define WEBHOOKS_UTIL_ID_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace webhooks {

// Makes ids. Unseeded, each is `prefix` and RandomToken's characters. With a
// seed, the n-th id of a prefix is SHA-256 of (seed, prefix, n) in the same
// alphabet: the same seed and the same sequence of calls give the same ids,
// and each prefix counts on its own, so creating more events does not shift
// the endpoint ids that follow. Seeded ids are guessable by design: never
// for a server whose keys protect anything (the caller refuses that).
// Thread-safe.
class IdSource {
 public:
  // Without a seed: random.
  explicit IdSource(std::optional<uint64_t> seed) : seed_(seed) {}
  IdSource(const IdSource&) = delete;
  IdSource& operator=(const IdSource&) = delete;

  // `prefix` followed by `length` characters of A-Za-z0-9_-.
  std::string Make(std::string_view prefix, size_t length);

  // `prefix`, 8 characters that sort in the order of `millis` (unseeded) or
  // of this prefix's sequence (seeded: times differ from run to run), then
  // `length` characters as Make's. See TimeOrderedToken.
  std::string MakeOrdered(std::string_view prefix, int64_t millis,
                          size_t length);

  bool seeded() const { return seed_.has_value(); }

 private:
  // The next number of `prefix`'s sequence, from 0.
  uint64_t Next(std::string_view prefix);
  // `length` characters derived from (seed, prefix, n).
  std::string Derived(std::string_view prefix, uint64_t n, size_t length) const;

  const std::optional<uint64_t> seed_;
  std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> next_;  // Guarded by mu_.
};

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_ID_SOURCE_H_
