// SecretBox: setup field values encrypted at rest (AES-256-GCM), in a form
// every backend stores as text, and the reader of the secrets key file.
// Shared by the backends, so it knows no database: failures are values.

#ifndef WEBHOOKS_STORE_SECRET_BOX_H_
#define WEBHOOKS_STORE_SECRET_BOX_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "util/status.h"

namespace webhooks {

// Seals and opens values with one key. A sealed value is SealedPrefix()
// followed by nonce (12 bytes), ciphertext and tag (16 bytes) in lower-case
// hex. The prefix starts with a control character, which no accepted clear
// value contains, so sealed and clear values never look alike. Each value
// is sealed under a context (see SetupFieldContext) that is authenticated
// with it: a value copied to another row fails to open.
// Immutable after construction; thread-safe.
class SecretBox {
 public:
  // The size of a key.
  static constexpr size_t kKeyBytes = 32;

  // `key`: kKeyBytes raw bytes, or empty for no key (values pass through
  // in clear). Another size is refused by every Seal and opens nothing.
  explicit SecretBox(std::string key);

  // Whether a key was given.
  bool enabled() const { return !key_.empty(); }

  // What every sealed value starts with, and no clear value does.
  static std::string SealedPrefix();

  // Sets *sealed to `plain` sealed under `context`, or, without a key, to
  // `plain` itself. Internal if OpenSSL fails (out of memory), and
  // InvalidArgument for a key of the wrong size; *sealed is then unchanged.
  // A fresh random nonce each time: the same value seals differently.
  Status Seal(std::string_view context, std::string_view plain,
              std::string* sealed) const;

  // Sets *plain to what `stored` holds: `stored` itself if it is not sealed
  // (a value stored in clear, before a key was given), else the value it
  // seals. InvalidArgument if it is sealed and this box cannot open it: no
  // key, another key, another context, or altered bytes. Internal if
  // OpenSSL fails (out of memory). On error *plain is unchanged.
  Status Open(std::string_view context, std::string_view stored,
              std::string* plain) const;

 private:
  const std::string key_;
};

// The context a setup field value is sealed under: its endpoint and its
// name. The same in every backend, so a sealed value can move between them.
// Holds a NUL, which no other context should, so none can collide with it.
std::string SetupFieldContext(std::string_view endpoint_id,
                              std::string_view name);

// The context a subscription's secret is sealed under:
// "subscription:<id>:secret". Without a NUL, so it never equals a setup
// field's context; the id binds the value to its row.
std::string SubscriptionSecretContext(std::string_view subscription_id);

// The store_settings row that records how a database stores its values:
// "" in clear, else kSecretsKeyCheckText sealed with the secrets key under
// kSecretsKeyCheckContext (a context no setup field has: those hold a NUL).
// The same row, text and context in every backend, like the values.
inline constexpr char kSecretsKeyCheckSetting[] = "secrets_key_check";
inline constexpr std::string_view kSecretsKeyCheckContext =
    "store_settings.secrets_key_check";
inline constexpr std::string_view kSecretsKeyCheckText =
    "webhooks-server secrets key check";

// Reads the secrets key from the file at `path`: 64 hex digits of either
// case, surrounding white space allowed. On success sets *key to the 32 raw
// bytes. On failure returns false with one line in *error (naming the path,
// never the file's content); *key is unchanged if the file cannot be
// opened, and cleared if its content is not a key.
bool ReadSecretsKeyFile(const std::string& path, std::string* key,
                        std::string* error);

}  // namespace webhooks

#endif  // WEBHOOKS_STORE_SECRET_BOX_H_
