#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "util/text.h"

namespace webhooks {
namespace {

// Bytes from the kernel's CSPRNG (getrandom(2), which blocks only until the
// kernel's pool is first seeded, at boot), fetched 4 KiB at a time: one call
// costs about as much for 4 KiB as for 20 bytes, and every request needs a
// token (its id). One pool per thread, so no lock; the process never forks.
class RandomPool {
 public:
  const unsigned char* Take(size_t count) {
    if (count > buffer_.size()) Fail();
    if (used_ + count > buffer_.size()) {
      Refill();
      used_ = 0;
    }
    const unsigned char* bytes = buffer_.data() + used_;
    used_ += count;
    return bytes;
  }

 private:
  // Not OpenSSL's RAND_bytes: its first call in a process set up the DRBGs
  // and took 2.6-3 ms, on the path to the first answer (issue 18), and
  // each thread's first call set up that thread's own.
  void Refill() {
    size_t filled = 0;
    while (filled < buffer_.size()) {
      const ssize_t got =
          ::getrandom(buffer_.data() + filled, buffer_.size() - filled, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) Fail();
      filled += static_cast<size_t>(got);
    }
  }

  [[noreturn]] static void Fail() {
    // No randomness means no unguessable ids: stop rather than serve.
    std::fputs("fatal: the random source failed\n", stderr);
    std::abort();
  }

  std::array<unsigned char, 4096> buffer_{};
  size_t used_ = buffer_.size();  // empty: filled on first use
};

RandomPool& ThreadPool() {
  thread_local RandomPool pool;
  return pool;
}

}  // namespace

std::string Sha256(std::string_view data) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up on
  // every call, which was most of the cost of hashing a key (3.5% of the
  // server's CPU time for idempotent creates). Immutable once made.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (kSha256 == nullptr || EVP_Digest(data.data(), data.size(), digest.data(),
                                       &length, kSha256, nullptr) != 1) {
    std::fputs("fatal: SHA-256 failed\n", stderr);
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

bool HmacSha256(std::string_view key, std::string_view data,
                std::string* digest) {
  if (key.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return false;
  }
  // OpenSSL 3's HMAC() fails on a null key pointer, which an empty view may
  // carry, so empty inputs point at a real array instead.
  constexpr unsigned char kEmpty[1] = {0};
  const void* key_bytes =
      key.empty() ? static_cast<const void*>(kEmpty) : key.data();
  const unsigned char* data_bytes =
      data.empty() ? kEmpty
                   : reinterpret_cast<const unsigned char*>(data.data());
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), data_bytes,
           data.size(), out.data(), &size) == nullptr ||
      size != 32) {
    ERR_clear_error();
    return false;
  }
  digest->assign(reinterpret_cast<const char*>(out.data()), size);
  return true;
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  std::string digest;
  if (!HmacSha256(key, data, &digest)) return std::string();
  return HexEncode(digest);
}

std::string RandomToken(size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  const unsigned char* bytes = ThreadPool().Take(length);
  std::string token(length, ' ');
  // 64 symbols: six bits a character, no modulo bias.
  for (size_t i = 0; i < length; ++i) token[i] = kAlphabet[bytes[i] & 63];
  return token;
}

std::string TimeOrderedToken(int64_t millis, size_t random_length) {
  // RandomToken's 64 symbols in ASCII order, so byte order is time order.
  static constexpr char kSorted[] =
      "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
  std::string token(8, '-');
  uint64_t rest = static_cast<uint64_t>(millis);
  for (size_t i = 8; i-- > 0;) {
    token[i] = kSorted[rest & 63];
    rest >>= 6;
  }
  return token + RandomToken(random_length);
}

std::string RandomBytes(size_t count) {
  const unsigned char* bytes = ThreadPool().Take(count);
  return std::string(reinterpret_cast<const char*>(bytes), count);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace webhooks
