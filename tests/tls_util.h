// TLS for the black-box suites, with the OpenSSL C API only (no `openssl`
// command): a self-signed certificate for localhost and 127.0.0.1, written
// as PEM files a server can be started with, and a raw TLS client
// connection that shows which certificate the server presented and keeps
// one connection across requests (so a test knows it is the same one).

#ifndef WEBHOOKS_TESTS_TLS_UTIL_H_
#define WEBHOOKS_TESTS_TLS_UTIL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>

#include "tests/test_util.h"

namespace webhooks::testing {

struct TestCert {
  std::string cert_path;
  std::string key_path;
  std::string fingerprint;  // SHA-256 of the certificate's DER, hex
};

// The SHA-256 fingerprint of `cert`, lower-case hex.
inline std::string FingerprintOf(const X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), digest, &size) != 1) {
    return "";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

// Writes `write(file)` to `path`; false if it cannot.
template <typename Write>
bool WritePem(const std::string& path, Write write) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  const bool ok = write(file) == 1;
  return std::fclose(file) == 0 && ok;
}

// Makes an EC P-256 key and a self-signed certificate (CN=`common_name`,
// SAN localhost and 127.0.0.1, valid from an hour ago for a day) and writes
// them to `dir`/`name`.crt and .key. Each call makes a new key, so two
// certificates never share a fingerprint.
inline bool MakeTestCert(const TempDir& dir, const std::string& name,
                         const std::string& common_name, TestCert* out) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  bool ok = key != nullptr && cert != nullptr;
  if (ok) {
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(
        X509_get_serialNumber(cert),
        static_cast<long>(std::hash<std::string>()(RandomKey()) & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* subject = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(
        subject, "CN", MBSTRING_ASC,
        reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, subject);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
    for (const auto& [nid, value] :
         {std::pair<int, const char*>{NID_basic_constraints,
                                      "critical,CA:TRUE"},
          {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"}}) {
      X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
      ok = ok && extension != nullptr && X509_add_ext(cert, extension, -1) == 1;
      X509_EXTENSION_free(extension);
    }
    ok = ok && X509_sign(cert, key, EVP_sha256()) > 0;
  }
  if (ok) {
    out->cert_path = dir.File(name + ".crt");
    out->key_path = dir.File(name + ".key");
    out->fingerprint = FingerprintOf(cert);
    ok = WritePem(out->cert_path,
                  [cert](std::FILE* f) { return PEM_write_X509(f, cert); }) &&
         WritePem(out->key_path, [key](std::FILE* f) {
           return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr,
                                       nullptr);
         });
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

// One TLS client connection to 127.0.0.1:`port`, made by Connect() and
// closed by the destructor. Every read and write gives up after 5 s.
class TlsConnection {
 public:
  struct Options {
    std::string ca_path;  // the certificate to verify the server against
    // The newest protocol version offered (0: OpenSSL's newest). Below
    // TLS 1.2 the client also lowers its security level, so that it does
    // offer the old version and the refusal is the server's.
    int max_version = 0;
  };

  TlsConnection() = default;
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;
  ~TlsConnection() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }

  // Connects and completes a verified handshake. False with *error saying
  // why (OpenSSL's reason) if either fails.
  bool Connect(int port, const Options& options, std::string* error) {
    fd_ = ConnectTcp(port);
    if (fd_ < 0) {
      *error = "cannot connect";
      return false;
    }
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (options.max_version != 0) {
      SSL_CTX_set_max_proto_version(ctx_, options.max_version);
      if (options.max_version < TLS1_2_VERSION) {
        SSL_CTX_set_min_proto_version(ctx_, TLS1_VERSION);
        SSL_CTX_set_security_level(ctx_, 0);
        SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
      }
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(ctx_, options.ca_path.c_str(), nullptr) !=
        1) {
      *error = "cannot load " + options.ca_path;
      return false;
    }
    ssl_ = SSL_new(ctx_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    SSL_set_fd(ssl_, fd_);
    ERR_clear_error();
    if (SSL_connect(ssl_) != 1) {
      const unsigned long code = ERR_peek_last_error();
      const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
      *error = reason != nullptr ? reason : "handshake failed";
      ERR_clear_error();
      return false;
    }
    return true;
  }

  // The fingerprint of the certificate the server presented.
  std::string PeerFingerprint() const {
    X509* cert = SSL_get1_peer_certificate(ssl_);
    std::string out = FingerprintOf(cert);
    X509_free(cert);
    return out;
  }

  int Version() const { return SSL_version(ssl_); }

  // Sends `bytes` as they are (part of a request, say).
  bool Send(const std::string& bytes) {
    return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
           static_cast<int>(bytes.size());
  }

  // Reads (into *received) until the server closes the connection; false
  // if no read returns for `seconds`.
  bool WaitForClose(int seconds, std::string* received) {
    timeval timeout{seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char buffer[256];
    int n;
    while ((n = SSL_read(ssl_, buffer, sizeof(buffer))) > 0) {
      received->append(buffer, static_cast<size_t>(n));
    }
    const int reason = SSL_get_error(ssl_, n);
    ERR_clear_error();
    // A close_notify, or the TCP connection ending (FIN or reset); a read
    // timeout shows as SSL_ERROR_SYSCALL with EAGAIN.
    return reason == SSL_ERROR_ZERO_RETURN ||
           (reason == SSL_ERROR_SYSCALL && errno != EAGAIN &&
            errno != EWOULDBLOCK) ||
           reason == SSL_ERROR_SSL;
  }

  // Sends `request` (raw bytes) and reads one response, whose body has a
  // Content-Length. Returns its status, or 0 if none came whole.
  int Exchange(const std::string& request, std::string* response) {
    response->clear();
    if (SSL_write(ssl_, request.data(), static_cast<int>(request.size())) !=
        static_cast<int>(request.size())) {
      return 0;
    }
    size_t head_end = std::string::npos;
    size_t length = 0;
    char buffer[4096];
    for (;;) {
      if (head_end == std::string::npos) {
        head_end = response->find("\r\n\r\n");
        if (head_end != std::string::npos) {
          head_end += 4;
          length = ContentLength(response->substr(0, head_end));
        }
      }
      if (head_end != std::string::npos &&
          response->size() >= head_end + length) {
        break;
      }
      const int n = SSL_read(ssl_, buffer, sizeof(buffer));
      if (n <= 0) return 0;
      response->append(buffer, static_cast<size_t>(n));
    }
    if (response->rfind("HTTP/1.1 ", 0) != 0 || response->size() < 12) {
      return 0;
    }
    return std::atoi(response->substr(9, 3).c_str());
  }

  // A TCP connection to 127.0.0.1:`port` whose reads and writes give up
  // after 5 s; -1 if it cannot connect.
  static int ConnectTcp(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

 private:
  static size_t ContentLength(std::string head) {
    for (char& c : head) c = static_cast<char>(std::tolower(c));
    const size_t at = head.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return static_cast<size_t>(
        std::strtoull(head.c_str() + at + 17, nullptr, 10));
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_TLS_UTIL_H_
