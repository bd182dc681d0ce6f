// The server's TLS credentials (--tls-cert, --tls-key): an OpenSSL server
// context made from a PEM certificate chain and its private key. Loaded at
// start-up and again on SIGHUP; HardenedServer takes the result.

#ifndef WEBHOOKS_HTTP_TLS_H_
#define WEBHOOKS_HTTP_TLS_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace webhooks {

// An SSL_CTX shared by the connections made from it: each SSL holds a
// reference of its own, so a replaced context lives until its last
// connection ends.
using TlsContext = std::shared_ptr<SSL_CTX>;

struct TlsFiles {
  std::string cert_path;  // PEM: the certificate, then any intermediates
  std::string key_path;   // PEM: its private key (unencrypted)
};

// Builds a server context from `files`: TLS 1.2 at least, OpenSSL's default
// ciphers, no renegotiation. On success sets *out and *described to what
// the start-up line and the reload log say ("subject CN=..., expires
// 2027-03-01 12:00:00 UTC"). On failure leaves *out alone and sets *error
// to one line naming the file at fault: unreadable, not PEM, or a key that
// does not match the certificate.
bool LoadTlsContext(const TlsFiles& files, TlsContext* out,
                    std::string* described, std::string* error);

}  // namespace webhooks

#endif  // WEBHOOKS_HTTP_TLS_H_
