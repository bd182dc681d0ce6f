#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>

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

namespace {

// HMAC-SHA256 with its digest already chosen, made once; every HMAC starts
// from a copy. HMAC() (and an EVP_MAC_init given the digest's name) makes
// OpenSSL 3 look both algorithms up by name on every call: 1.5 against
// 0.9 us for a 600-byte Slack event on this machine. Every signed ingress
// and every delivery's signature pays it. Never changed once made, so
// threads may copy it at once.
const EVP_MAC_CTX* HmacSha256Template() {
  static EVP_MAC_CTX* const kTemplate = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* context = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
    EVP_MAC_free(mac);  // the context holds its own reference
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
        OSSL_PARAM_construct_end()};
    if (context == nullptr || EVP_MAC_CTX_set_params(context, params) != 1) {
      std::fputs("fatal: HMAC-SHA256 is not available\n", stderr);
      std::abort();
    }
    return context;
  }();
  return kTemplate;
}

}  // namespace

bool HmacSha256(std::string_view key, std::string_view data,
                std::string* digest) {
  // OpenSSL's HMAC refuses a null key pointer, which an empty view may
  // carry, so empty inputs point at a real array instead.
  constexpr unsigned char kEmpty[1] = {0};
  const unsigned char* key_bytes =
      key.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  const unsigned char* data_bytes =
      data.empty() ? kEmpty
                   : reinterpret_cast<const unsigned char*>(data.data());
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> context(
      EVP_MAC_CTX_dup(HmacSha256Template()), &EVP_MAC_CTX_free);
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  size_t size = 0;
  if (context == nullptr ||
      EVP_MAC_init(context.get(), key_bytes, key.size(), nullptr) != 1 ||
      EVP_MAC_update(context.get(), data_bytes, data.size()) != 1 ||
      EVP_MAC_final(context.get(), out.data(), &size, out.size()) != 1 ||
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
