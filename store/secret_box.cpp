// SecretBox (see secret_box.h): AES-256-GCM through OpenSSL's EVP interface,
// hex through util/text.h, nonces from util/crypto.h.

#include "store/secret_box.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "util/crypto.h"
#include "util/text.h"

namespace webhooks {
namespace {

constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;
constexpr std::string_view kSealedPrefix =
    "\x01"
    "aes256gcm:";

// Owns an EVP_CIPHER_CTX; get() is null if OpenSSL could not allocate one.
class CipherContext {
 public:
  CipherContext() : ctx_(EVP_CIPHER_CTX_new()) {}
  CipherContext(const CipherContext&) = delete;
  CipherContext& operator=(const CipherContext&) = delete;
  ~CipherContext() { EVP_CIPHER_CTX_free(ctx_); }
  EVP_CIPHER_CTX* get() { return ctx_; }

 private:
  EVP_CIPHER_CTX* const ctx_;
};

// util/ keeps raw bytes in std::string; OpenSSL takes unsigned char.
const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}
unsigned char* MutableBytes(std::string* text) {
  return reinterpret_cast<unsigned char*>(text->data());
}

}  // namespace

SecretBox::SecretBox(std::string key) : key_(std::move(key)) {}

std::string SecretBox::SealedPrefix() { return std::string(kSealedPrefix); }

Status SecretBox::Seal(std::string_view context, std::string_view plain,
                       std::string* sealed) const {
  if (!enabled()) {
    *sealed = std::string(plain);
    return Status::Ok();
  }
  if (key_.size() != kKeyBytes) {
    return Status::InvalidArgument("the secrets key must be 32 bytes");
  }
  // A nonce must never repeat under one key; RandomBytes aborts rather
  // than return bytes that are not random.
  const std::string nonce = RandomBytes(kNonceBytes);
  std::string out(plain.size() + kTagBytes, '\0');
  unsigned char* bytes = MutableBytes(&out);
  int length = 0;
  CipherContext ctx;
  if (ctx.get() == nullptr) return Status::Internal("out of memory");
  const bool ok =
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                         Bytes(nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &length, Bytes(context),
                        static_cast<int>(context.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), bytes, &length, Bytes(plain),
                        static_cast<int>(plain.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), bytes + length, &length) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          bytes + plain.size()) == 1;
  if (!ok) return Status::Internal("encryption failed");
  *sealed = std::string(kSealedPrefix) + HexEncode(nonce) + HexEncode(out);
  return Status::Ok();
}

Status SecretBox::Open(std::string_view context, std::string_view stored,
                       std::string* plain) const {
  if (stored.substr(0, kSealedPrefix.size()) != kSealedPrefix) {
    *plain = std::string(stored);  // stored in clear, before a key was given
    return Status::Ok();
  }
  const Status cannot_open = Status::InvalidArgument(
      "the value cannot be decrypted with this key and context");
  const std::string_view hex = stored.substr(kSealedPrefix.size());
  std::string raw;
  // Seal writes lower case only, and a value in any other case (edited by
  // hand) has always been refused; HexDecode alone takes either case.
  if (!enabled() || key_.size() != kKeyBytes ||
      hex.find_first_of("ABCDEF") != std::string_view::npos ||
      !HexDecode(hex, &raw) || raw.size() < kNonceBytes + kTagBytes) {
    return cannot_open;
  }
  const size_t text_size = raw.size() - kNonceBytes - kTagBytes;
  const unsigned char* bytes = Bytes(raw);
  std::string out(text_size, '\0');
  unsigned char* out_bytes = MutableBytes(&out);
  int length = 0;
  CipherContext ctx;
  if (ctx.get() == nullptr) return Status::Internal("out of memory");
  // OpenSSL 3 takes the expected tag through a non-const pointer.
  unsigned char* tag = MutableBytes(&raw) + kNonceBytes + text_size;
  const bool ok =
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                         bytes) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &length, Bytes(context),
                        static_cast<int>(context.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out_bytes, &length, bytes + kNonceBytes,
                        static_cast<int>(text_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) ==
          1 &&
      EVP_DecryptFinal_ex(ctx.get(), out_bytes + length, &length) == 1;
  if (!ok) return cannot_open;
  *plain = std::move(out);
  return Status::Ok();
}

std::string SetupFieldContext(std::string_view endpoint_id,
                              std::string_view name) {
  return std::string(endpoint_id) + '\0' + std::string(name);
}

std::string SubscriptionSecretContext(std::string_view subscription_id) {
  return "subscription:" + std::string(subscription_id) + ":secret";
}

bool ReadSecretsKeyFile(const std::string& path, std::string* key,
                        std::string* error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    *error = "--secrets-key-file '" + path + "': " + std::strerror(errno);
    return false;
  }
  // A key file is 64 digits and a newline; more than 256 bytes are not read.
  std::string text(256, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), file));
  std::fclose(file);
  auto blank = [](char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
  };
  while (!text.empty() && blank(text.back())) text.pop_back();
  size_t start = 0;
  while (start < text.size() && blank(text[start])) ++start;
  text.erase(0, start);
  std::string raw;
  if (text.size() != 2 * SecretBox::kKeyBytes || !HexDecode(text, &raw)) {
    key->clear();
    *error = "--secrets-key-file '" + path +
             "' must hold 64 hex characters (32 bytes), for example from "
             "`openssl rand -hex 32`";
    return false;
  }
  *key = std::move(raw);
  return true;
}

}  // namespace webhooks
