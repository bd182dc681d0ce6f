#include "util/id_source.h"

#include "util/crypto.h"

namespace webhooks {

std::string IdSource::Make(std::string_view prefix, size_t length) {
  if (!seed_) return std::string(prefix) + RandomToken(length);
  return std::string(prefix) + Derived(prefix, Next(prefix), length);
}

std::string IdSource::MakeOrdered(std::string_view prefix, int64_t millis,
                                  size_t length) {
  if (!seed_) return std::string(prefix) + TimeOrderedToken(millis, length);
  const uint64_t n = Next(prefix);
  // The sequence number in the time's place keeps ids in creation order.
  return std::string(prefix) + TimeOrderedToken(static_cast<int64_t>(n), 0) +
         Derived(prefix, n, length);
}

uint64_t IdSource::Next(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = next_.find(prefix);
  if (it == next_.end()) it = next_.emplace(std::string(prefix), 0).first;
  return it->second++;
}

std::string IdSource::Derived(std::string_view prefix, uint64_t n,
                              size_t length) const {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  std::string token;
  // 32 characters a digest; a longer token takes more blocks.
  for (uint64_t block = 0; token.size() < length; ++block) {
    const std::string digest =
        Sha256(std::to_string(*seed_) + "/" + std::string(prefix) + "/" +
               std::to_string(n) + "/" + std::to_string(block));
    for (const char byte : digest) {
      if (token.size() == length) break;
      token += kAlphabet[static_cast<unsigned char>(byte) & 63];
    }
  }
  return token;
}

}  // namespace webhooks
