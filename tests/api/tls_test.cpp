// Issue 17 (2026-12), reaching the server from a provider: HTTPS on the
// server's own port (--tls-cert, --tls-key), its certificate reloaded on
// SIGHUP, and a webhook_url that follows the server's current public URL.
// Black-box, against the real binary: the tests make their own certificates
// (tests/tls_util.h) and speak real TLS to it.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/test_util.h"
#include "tests/tls_util.h"

namespace webhooks::testing {
namespace {

bool Has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

size_t Lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string Healthz() {
  return "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

// A server started with a certificate of the test's own.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.empty()) << "no PostgreSQL cluster for this run";
    ASSERT_TRUE(MakeTestCert(dir_, "first", "first.test", &first_));
    ASSERT_TRUE(server_.Start({"--port", "0", "--db", db_, "--tls-cert",
                               first_.cert_path, "--tls-key", first_.key_path}))
        << server_.Stderr();
  }

  // A new connection's view of the server: the fingerprint of the
  // certificate it presented, verified against `ca`; "" (and a failure)
  // if the handshake failed.
  std::string FingerprintSeenByANewConnection(const TestCert& ca) {
    TlsConnection connection;
    std::string error;
    if (!connection.Connect(server_.port(), {ca.cert_path, 0}, &error)) {
      ADD_FAILURE() << "handshake: " << error;
      return "";
    }
    std::string response;
    EXPECT_EQ(connection.Exchange(Healthz(), &response), 200) << response;
    return connection.PeerFingerprint();
  }

  // Replaces the served files with `next`'s, as certbot renew does (a
  // rename, so the server never reads half a file).
  void Install(const TestCert& next) {
    std::filesystem::rename(next.cert_path, first_.cert_path);
    std::filesystem::rename(next.key_path, first_.key_path);
  }

  // cpp-httplib's TLS client, verifying the server against `ca`.
  std::unique_ptr<httplib::SSLClient> Client(const TestCert& ca) {
    auto client =
        std::make_unique<httplib::SSLClient>("127.0.0.1", server_.port());
    client->set_ca_cert_path(ca.cert_path.c_str());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(kIoTimeoutSeconds, 0);
    client->set_read_timeout(kIoTimeoutSeconds, 0);
    return client;
  }

  TempDir dir_;
  const std::string db_ = TestDatabase(dir_);
  TestCert first_;
  ServerProcess server_;
};

TEST_F(TlsTest, ServesHttpsAndWebhookUrlsAreHttps) {
  const std::string port = std::to_string(server_.port());
  EXPECT_EQ(server_.first_line(), "listening on https://127.0.0.1:" + port);
  EXPECT_TRUE(Has(server_.Stderr(), " public_url=https://localhost:" + port))
      << server_.Stderr();
  const auto client = Client(first_);
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      client->Post(kCreatePath, {{"x-api-key", RandomKey()}},
                   CreateBody("slack", "c1"), "application/json"),
      201, &endpoint));
  EXPECT_EQ(endpoint.webhook_url, "https://localhost:" + port +
                                      "/api/v3.1/webhook_ingress/slack/" +
                                      endpoint.id + "/trigger_event");
  // OpenSSL's newest protocol, unless a client asks for less.
  TlsConnection connection;
  std::string error;
  ASSERT_TRUE(connection.Connect(server_.port(), {first_.cert_path, 0}, &error))
      << error;
  EXPECT_EQ(connection.Version(), TLS1_3_VERSION);
}

TEST_F(TlsTest, RefusesAClientThatSpeaksOnlyTls11) {
  TlsConnection old;
  std::string error;
  EXPECT_FALSE(
      old.Connect(server_.port(), {first_.cert_path, TLS1_1_VERSION}, &error));
  // The server's alert, not a client that could not offer TLS 1.1.
  EXPECT_TRUE(Has(error, "protocol version")) << error;
  // The same client, allowed TLS 1.2, gets in.
  TlsConnection capable;
  EXPECT_TRUE(capable.Connect(server_.port(),
                              {first_.cert_path, TLS1_2_VERSION}, &error))
      << error;
  EXPECT_EQ(capable.Version(), TLS1_2_VERSION);
}

TEST_F(TlsTest, PlainHttpIsClosedPromptlyAndTheServerGoesOn) {
  // More plain connections than a small pool has workers would hang it
  // if a failed handshake held a worker; the server has 64, so 80.
  std::vector<int> sockets;
  for (int i = 0; i < 80; ++i) {
    const int fd = TlsConnection::ConnectTcp(server_.port());
    ASSERT_GE(fd, 0);
    const std::string request = Healthz();
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    sockets.push_back(fd);
  }
  const auto start = std::chrono::steady_clock::now();
  for (const int fd : sockets) {
    char buffer[512];
    ssize_t n;
    // Whatever comes (an alert, say) until the server closes; a read that
    // times out (5 s, SO_RCVTIMEO) is a hang.
    while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    }
    EXPECT_TRUE(n == 0 || errno == ECONNRESET) << std::strerror(errno);
    ::close(fd);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(FingerprintSeenByANewConnection(first_), "");
}

TEST_F(TlsTest, SighupServesTheNewCertificateAndKeepsOpenConnections) {
  TlsConnection before;
  std::string error, response;
  ASSERT_TRUE(before.Connect(server_.port(), {first_.cert_path, 0}, &error))
      << error;
  ASSERT_EQ(before.Exchange(Healthz(), &response), 200) << response;
  EXPECT_EQ(before.PeerFingerprint(), first_.fingerprint);

  TestCert second;
  ASSERT_TRUE(MakeTestCert(dir_, "second", "second.test", &second));
  const TestCert second_ca = {dir_.File("second-ca.crt"), "",
                              second.fingerprint};
  std::filesystem::copy_file(second.cert_path, second_ca.cert_path);
  Install(second);
  ASSERT_EQ(::kill(server_.pid(), SIGHUP), 0);
  ASSERT_TRUE(server_.WaitForStderr("SIGHUP: reloaded the TLS certificate"))
      << server_.Stderr();
  EXPECT_TRUE(Has(server_.Stderr(), "CN=second.test")) << server_.Stderr();
  EXPECT_TRUE(Has(server_.Stderr(), "expires ")) << server_.Stderr();

  EXPECT_EQ(FingerprintSeenByANewConnection(second_ca), second.fingerprint);
  // The connection made before the reload carries on, with its own.
  ASSERT_EQ(before.Exchange(Healthz(), &response), 200) << response;
  EXPECT_EQ(before.PeerFingerprint(), first_.fingerprint);
}

TEST_F(TlsTest, SighupWithABrokenFileKeepsTheOldCertificate) {
  TestCert old_ca = first_;
  old_ca.cert_path = dir_.File("first-ca.crt");
  std::filesystem::copy_file(first_.cert_path, old_ca.cert_path);
  ASSERT_TRUE(WriteTextFile(first_.cert_path, "not a certificate\n"));
  ASSERT_EQ(::kill(server_.pid(), SIGHUP), 0);
  ASSERT_TRUE(server_.WaitForStderr("SIGHUP: kept the TLS certificate in use"))
      << server_.Stderr();
  EXPECT_TRUE(Has(server_.Stderr(), "'" + first_.cert_path + "'"))
      << server_.Stderr();
  EXPECT_FALSE(Has(server_.Stderr(), "reloaded the TLS certificate"));
  EXPECT_EQ(FingerprintSeenByANewConnection(old_ca), first_.fingerprint);
}

// The connection handling's protections under TLS: idle connections (new
// ones that sent nothing, and kept-alive ones between requests) hold no
// worker, and a request's head that never ends is cut at the request
// deadline.
TEST_F(TlsTest, IdleConnectionsHoldNoWorkerAndASlowHeadIsCutOff) {
  server_.Stop();
  ASSERT_TRUE(
      server_.Start({"--port", "0", "--db", db_, "--threads", "2", "--tls-cert",
                     first_.cert_path, "--tls-key", first_.key_path}))
      << server_.Stderr();
  std::vector<int> silent;
  for (int i = 0; i < 6; ++i) {
    silent.push_back(TlsConnection::ConnectTcp(server_.port()));
    ASSERT_GE(silent.back(), 0);
  }
  std::vector<std::unique_ptr<TlsConnection>> idle;
  std::string error, response;
  for (int i = 0; i < 6; ++i) {
    idle.push_back(std::make_unique<TlsConnection>());
    ASSERT_TRUE(
        idle.back()->Connect(server_.port(), {first_.cert_path, 0}, &error))
        << error;
    ASSERT_EQ(idle.back()->Exchange(Healthz(), &response), 200) << response;
  }
  // Twelve connections on two workers: were they held, this one would
  // wait for the 5 s keep-alive timeout.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(FingerprintSeenByANewConnection(first_), first_.fingerprint);
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(2500));
  for (const int fd : silent) ::close(fd);

  // A head that never ends: closed at the 5 s request deadline.
  TlsConnection slow;
  ASSERT_TRUE(slow.Connect(server_.port(), {first_.cert_path, 0}, &error))
      << error;
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  std::string answer;
  EXPECT_TRUE(slow.WaitForClose(10, &answer));
  const auto waited = std::chrono::steady_clock::now() - sent;
  // The library answers a head it could not finish reading with a 400
  // (as over plain HTTP), then the connection closes.
  EXPECT_TRUE(answer.empty() || answer.rfind("HTTP/1.1 400 ", 0) == 0)
      << answer;
  EXPECT_GE(waited, std::chrono::milliseconds(4500));
  EXPECT_LT(waited, std::chrono::milliseconds(8000));
}

// Start-up refusals: exit 2 and one line that names the file at fault,
// before the database is touched.
class TlsStartTest : public ::testing::Test {
 protected:
  Ran Start(const std::vector<std::string>& tls_args,
            const std::vector<std::string>& env = {}) {
    std::vector<std::string> args = {"--port", "0", "--db", dir_.File("t.db")};
    args.insert(args.end(), tls_args.begin(), tls_args.end());
    return RunBinary(args, env);
  }

  void ExpectRefused(const Ran& ran, const std::vector<std::string>& parts) {
    EXPECT_EQ(ran.exit_code, 2) << ran.err;
    EXPECT_EQ(Lines(ran.err), 1u) << ran.err;
    for (const std::string& part : parts) {
      EXPECT_TRUE(Has(ran.err, part)) << part << " not in " << ran.err;
    }
    EXPECT_FALSE(std::filesystem::exists(dir_.File("t.db")));
  }

  TempDir dir_;
};

TEST_F(TlsStartTest, ACertificateNeedsAKeyAndAKeyACertificate) {
  TestCert cert;
  ASSERT_TRUE(MakeTestCert(dir_, "c", "c.test", &cert));
  ExpectRefused(Start({"--tls-cert", cert.cert_path}),
                {"--tls-cert needs --tls-key"});
  ExpectRefused(Start({}, {"WEBHOOKS_TLS_KEY=" + cert.key_path}),
                {"--tls-key needs --tls-cert"});
}

TEST_F(TlsStartTest, ABadFileStopsStartUpNamingIt) {
  TestCert cert, other;
  ASSERT_TRUE(MakeTestCert(dir_, "c", "c.test", &cert));
  ASSERT_TRUE(MakeTestCert(dir_, "o", "o.test", &other));
  const std::string missing = dir_.File("missing.pem");
  const std::string garbage = dir_.File("garbage.pem");
  ASSERT_TRUE(WriteTextFile(garbage, "-----BEGIN NOTHING-----\n"));
  ExpectRefused(Start({"--tls-cert", missing, "--tls-key", cert.key_path}),
                {"'" + missing + "'", "No such file"});
  ExpectRefused(Start({"--tls-cert", cert.cert_path, "--tls-key", missing}),
                {"'" + missing + "'", "No such file"});
  ExpectRefused(Start({"--tls-cert", garbage, "--tls-key", cert.key_path}),
                {"'" + garbage + "'", "not a PEM certificate"});
  ExpectRefused(Start({"--tls-cert", cert.cert_path, "--tls-key", garbage}),
                {"'" + garbage + "'", "not an unencrypted PEM private key"});
  // The key of another certificate.
  ExpectRefused(
      Start({"--tls-cert", cert.cert_path, "--tls-key", other.key_path}),
      {"'" + other.key_path + "'", "does not match the certificate",
       "'" + cert.cert_path + "'"});
}

// webhook_url is the server's current public URL plus the endpoint's fixed
// path (our choice, issue 17): a restart under another --public-url (a new
// tunnel, HTTPS) moves every URL; the path, toolkit and id stay.
class WebhookUrlTest : public HttpManageTest {};

TEST_F(WebhookUrlTest, FollowsThePublicUrlOfTheServerThatAnswers) {
  ASSERT_TRUE(StartServer({"--public-url", "https://a.example.com"}));
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  const std::string path =
      "/api/v3.1/webhook_ingress/slack/" + created.id + "/trigger_event";
  EXPECT_EQ(created.webhook_url, "https://a.example.com" + path);

  ASSERT_TRUE(StartServer({"--public-url", "https://hooks.b.example/tunnel/"}));
  const std::string b = "https://hooks.b.example/tunnel";
  Endpoint got;
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(RetrieveAs(key_, created.id), 200, &got));
  EXPECT_EQ(got.webhook_url, b + path);
  EXPECT_EQ(got.created_at, created.created_at);
  Endpoint again;  // the idempotent create answers the same endpoint
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(Create(CreateBody("slack", "c1")), 200, &again));
  EXPECT_EQ(again.id, created.id);
  EXPECT_EQ(again.webhook_url, b + path);
  Endpoint patched;
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &patched));
  EXPECT_EQ(patched.webhook_url, b + path);
  // List items carry no webhook_url (Composio's list items); the endpoint
  // is still there, and nothing in the list names the old base.
  const Reply listed = ToReply(ListAs(key_, ""));
  EXPECT_EQ(listed.status, 200) << listed.body;
  EXPECT_TRUE(Has(listed.body, created.id)) << listed.body;
  EXPECT_FALSE(Has(listed.body, "a.example.com")) << listed.body;
  // Back to the default base: this server's own address.
  ASSERT_TRUE(StartServer());
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(RetrieveAs(key_, created.id), 200, &got));
  EXPECT_EQ(got.webhook_url, DefaultPublicBase() + path);
}

}  // namespace
}  // namespace webhooks::testing
