// Loading --tls-cert and --tls-key into an OpenSSL server context. See
// tls.h.

#include "http/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

namespace webhooks {
namespace {

// OpenSSL's reason for the last failure, or `fallback` if it gave none.
// Clears its error queue, so the next failure starts clean.
std::string OpensslReason(const char* fallback) {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  return reason != nullptr ? reason : fallback;
}

// Whether `path` can be opened for reading; else *error says why, naming
// it. Checked first so that a missing file is not reported as "not PEM".
bool Readable(const char* what, const std::string& path, std::string* error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    *error = std::string("cannot read the TLS ") + what + " '" + path +
             "': " + std::strerror(errno);
    return false;
  }
  std::fclose(file);
  return true;
}

// A pass phrase callback that gives none: an encrypted key fails to load
// instead of the default callback prompting on a terminal nobody watches.
int NoPassphrase(char*, int, int, void*) { return 0; }

std::string Describe(X509* cert) {
  std::string out = "subject ";
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    if (size > 0) out.append(data, static_cast<size_t>(size));
    BIO_free(bio);
  }
  std::tm expires{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &expires) == 1) {
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &expires);
    out += std::string(", expires ") + text;
  }
  return out;
}

}  // namespace

bool LoadTlsContext(const TlsFiles& files, TlsContext* out,
                    std::string* described, std::string* error) {
  ERR_clear_error();
  if (!Readable("certificate", files.cert_path, error) ||
      !Readable("key", files.key_path, error)) {
    return false;
  }
  TlsContext ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (ctx == nullptr) {
    *error = "cannot make a TLS context: " + OpensslReason("out of memory");
    return false;
  }
  // TLS 1.0 and 1.1 are deprecated (RFC 8996); the providers that call us
  // speak 1.2 and 1.3.
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Client-initiated renegotiation costs us a handshake for each request
  // of it; no client we serve needs it. Buffers are released while a
  // connection is idle, so a parked keep-alive connection costs ~34 KiB
  // less.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_default_passwd_cb(ctx.get(), NoPassphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert_path.c_str()) !=
      1) {
    *error =
        "the TLS certificate '" + files.cert_path +
        "' is not a PEM certificate: " + OpensslReason("no certificate found");
    return false;
  }
  // Read apart from the context, so that "not a key" and "not this
  // certificate's key" are told apart.
  BIO* key_file = BIO_new_file(files.key_path.c_str(), "rb");
  EVP_PKEY* key =
      key_file != nullptr
          ? PEM_read_bio_PrivateKey(key_file, nullptr, NoPassphrase, nullptr)
          : nullptr;
  if (key_file != nullptr) BIO_free(key_file);
  if (key == nullptr) {
    *error = "the TLS key '" + files.key_path +
             "' is not an unencrypted PEM private key: " +
             OpensslReason("no key found");
    return false;
  }
  const bool taken = SSL_CTX_use_PrivateKey(ctx.get(), key) == 1 &&
                     SSL_CTX_check_private_key(ctx.get()) == 1;
  EVP_PKEY_free(key);
  if (!taken) {
    *error = "the TLS key '" + files.key_path +
             "' does not match the certificate '" + files.cert_path +
             "': " + OpensslReason("key values mismatch");
    return false;
  }
  *described = Describe(SSL_CTX_get0_certificate(ctx.get()));
  *out = std::move(ctx);
  return true;
}

}  // namespace webhooks
