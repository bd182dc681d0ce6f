// Unit tests for http/client.h, the outbound POST, against real receivers on
// 127.0.0.1 ports the OS picks: a HardenedServer in a thread for receivers
// that speak HTTP, raw sockets for those that misbehave (never answer,
// answer byte by byte, send 50 MB, reset), and listening sockets nobody
// accepts on, to prove that nothing connected. Short timeouts keep it fast;
// the time bounds asserted are generous limits, not speed claims.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http/client.h"
#include "http/hardened_server.h"
#include "http/request_head.h"
#include "tests/test_util.h"

namespace webhooks {
namespace {

using namespace std::string_literals;
using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                               start)
      .count();
}

std::string HeaderValue(const OutboundResponse& response,
                        std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return "";
}

// ===========================================================================
// Receivers
// ===========================================================================

// A listening socket on 127.0.0.1 that nobody accepts on: a connection made
// to it waits in the accept queue, so HasPendingConnection() tells whether
// anything connected at all. Non-blocking, so accept never waits.
class BareListener {
 public:
  BareListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
        ::listen(fd_, 16) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) ==
            0) {
      port_ = ntohs(address.sin_port);
    }
  }
  ~BareListener() { ::close(fd_); }
  BareListener(const BareListener&) = delete;
  BareListener& operator=(const BareListener&) = delete;

  int port() const { return port_; }
  int fd() const { return fd_; }

  bool HasPendingConnection() {
    const int connection = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK);
    if (connection < 0) return false;
    ::close(connection);
    return true;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Waits up to `timeout_ms` for `fd` to be ready for `events`; false if it
// was not, or if `stop_fd` became readable (the receiver is stopping).
bool WaitFor(int fd, short events, int stop_fd, int timeout_ms) {
  pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
  if (::poll(fds, 2, timeout_ms) <= 0) return false;
  if (fds[1].revents != 0) return false;
  return fds[0].revents != 0;
}

// Reads one request (head and Content-Length body); empty if none came.
std::string ReadRequest(int fd, int stop_fd) {
  std::string request;
  size_t wanted = std::string::npos;
  char buffer[4096];
  while (request.size() < wanted) {
    if (!WaitFor(fd, POLLIN, stop_fd, 5000)) return request;
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got <= 0) return request;
    request.append(buffer, static_cast<size_t>(got));
    const size_t head_end = request.find("\r\n\r\n");
    if (wanted == std::string::npos && head_end != std::string::npos) {
      size_t length = 0;
      const size_t at = request.find("Content-Length: ");
      if (at != std::string::npos && at < head_end) {
        length = std::stoul(request.substr(at + 16));
      }
      wanted = head_end + 4 + length;
    }
  }
  return request;
}

// Sends all of `data`; false once the peer is gone or the receiver stops.
bool SendAll(int fd, std::string_view data, int stop_fd) {
  while (!data.empty()) {
    const ssize_t sent =
        ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) {
      data.remove_prefix(static_cast<size_t>(sent));
    } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd, POLLOUT, stop_fd, 5000)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// A TCP receiver on 127.0.0.1 that runs `behaviour` on each connection in a
// thread of its own. The behaviour owns the socket and closes it; it is
// given `stop_fd`, which becomes readable when the receiver is destroyed.
class RawReceiver {
 public:
  using Behaviour = std::function<void(int fd, int stop_fd)>;

  explicit RawReceiver(Behaviour behaviour) : behaviour_(std::move(behaviour)) {
    if (::pipe2(stop_, O_CLOEXEC) != 0) return;
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~RawReceiver() {
    const char byte = 0;
    (void)!::write(stop_[1], &byte, 1);
    acceptor_.join();
    for (std::thread& worker : workers_) worker.join();
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  RawReceiver(const RawReceiver&) = delete;
  RawReceiver& operator=(const RawReceiver&) = delete;

  std::string Url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(listener_.port()) + path;
  }
  int connections() const { return connections_.load(); }

 private:
  void AcceptLoop() {
    while (WaitFor(listener_.fd(), POLLIN, stop_[0], -1)) {
      // Blocking, unlike the listening socket.
      const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      workers_.emplace_back([this, fd] { behaviour_(fd, stop_[0]); });
    }
  }

  BareListener listener_;
  Behaviour behaviour_;
  int stop_[2] = {-1, -1};
  std::atomic<int> connections_{0};
  std::vector<std::thread> workers_;  // touched by the acceptor only
  std::thread acceptor_;
};

// An HTTP receiver: a HardenedServer on 127.0.0.1 serving from 64 threads,
// recording each request's head as sent and its body. Register routes on
// server() before Start().
class HttpReceiver {
 public:
  struct Seen {
    std::string head;
    std::string body;
  };

  HttpReceiver() : server_(HardenedServer::Limits{}) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
  }
  ~HttpReceiver() {
    server_.Stop();
    if (thread_.joinable()) thread_.join();
  }
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  httplib::Server& server() { return server_; }

  void Start() {
    std::string error;
    port_ = server_.Bind("127.0.0.1", 0, &error);
    ASSERT_GT(port_, 0) << error;
    thread_ = std::thread([this] { server_.Serve(); });
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }

  // For handlers: records the request being served.
  void Record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back(
        {std::string(HardenedServer::CurrentRequestHead()), req.body});
  }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  HardenedServer server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Seen> seen_;  // guarded by mu_
};

// Writes a self-signed certificate for 127.0.0.1 (subject alternative name
// included, so only the missing trust is wrong with it) and its key.
bool WriteSelfSignedCertificate(const std::string& cert_path,
                                const std::string& key_path) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"),
                                                          EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (key == nullptr || cert == nullptr) return false;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(
      nullptr, &context, NID_subject_alt_name, "IP:127.0.0.1");
  if (san == nullptr) return false;
  X509_add_ext(cert.get(), san, -1);
  X509_EXTENSION_free(san);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return false;
  FILE* cert_file = std::fopen(cert_path.c_str(), "w");
  FILE* key_file = std::fopen(key_path.c_str(), "w");
  bool ok = cert_file != nullptr && key_file != nullptr &&
            PEM_write_X509(cert_file, cert.get()) == 1 &&
            PEM_write_PrivateKey(key_file, key.get(), nullptr, nullptr, 0,
                                 nullptr, nullptr) == 1;
  if (cert_file != nullptr) ok = std::fclose(cert_file) == 0 && ok;
  if (key_file != nullptr) ok = std::fclose(key_file) == 0 && ok;
  return ok;
}

// ===========================================================================
// Driving the client
// ===========================================================================

class HttpClientTest : public ::testing::Test {
 protected:
  // Short timeouts: each test that waits for one says so.
  static ClientOptions Options() {
    ClientOptions options;
    options.connect_timeout_ms = 2000;
    options.total_timeout_ms = 5000;
    options.user_agent = "webhooks-test/1";
    return options;
  }

  static OutboundRequest Post(const std::string& url, uint64_t tag = 1,
                              std::string body = "{}") {
    OutboundRequest request;
    request.tag = tag;
    request.url = url;
    request.headers = {{"content-type", "application/json"}};
    request.body = std::move(body);
    return request;
  }

  // Polls until `count` responses came back or 20 s passed.
  static std::vector<OutboundResponse> Drive(OutboundClient& client,
                                             size_t count) {
    std::vector<OutboundResponse> done;
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (done.size() < count && Clock::now() < deadline) {
      client.Poll(100, &done);
    }
    return done;
  }

  static OutboundResponse PostOnce(const ClientOptions& options,
                                   OutboundRequest request) {
    OutboundClient client(options);
    client.Start(std::move(request));
    std::vector<OutboundResponse> done = Drive(client, 1);
    EXPECT_EQ(done.size(), 1u);
    EXPECT_EQ(client.InFlight(), 0u);
    return done.empty() ? OutboundResponse{} : done.front();
  }
};

// ===========================================================================
// Answers
// ===========================================================================

TEST_F(HttpClientTest, PostsTheExactHeadersAndBodyAndReadsTheAnswer) {
  HttpReceiver receiver;
  receiver.server().Post(
      "/hook", [&](const httplib::Request& req, httplib::Response& res) {
        receiver.Record(req);
        res.set_header("X-Reply", "yes");
        res.set_content("received " + std::to_string(req.body.size()),
                        "text/plain");
      });
  receiver.Start();

  const std::string body = "{\"a\":1}\0\xff\r\n"s;
  OutboundRequest request = Post(receiver.Url("/hook"), 42, body);
  request.headers = {{"Content-Type", "application/json"},
                     {"webhook-id", "msg_1"},
                     {"X-Empty", ""},
                     {"webhook-signature", "v1,abc="}};
  const OutboundResponse response = PostOnce(Options(), request);

  EXPECT_EQ(response.tag, 42u);
  EXPECT_EQ(response.error, TransferError::kNone) << response.error_detail;
  EXPECT_EQ(response.status_code, 200);
  EXPECT_EQ(response.body, "received " + std::to_string(body.size()));
  EXPECT_FALSE(response.body_truncated);
  EXPECT_EQ(HeaderValue(response, "x-reply"), "yes");
  EXPECT_EQ(HeaderValue(response, "Content-Type"), "text/plain");
  EXPECT_TRUE(response.error_detail.empty());

  const std::vector<HttpReceiver::Seen> seen = receiver.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body, body);
  EXPECT_EQ(seen[0].head.rfind("POST /hook HTTP/1.1\r\n", 0), 0u)
      << seen[0].head;
  std::vector<std::pair<std::string, std::string>> fields;
  for (const HeaderField& field : HeaderFieldsOf(seen[0].head)) {
    fields.emplace_back(field.name, field.value);
  }
  // libcurl's host, user-agent and content-length, then ours in order;
  // no Expect, no Accept, no second content type.
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"Host", "127.0.0.1:" + std::to_string(receiver.port())},
      {"User-Agent", "webhooks-test/1"},
      {"Content-Type", "application/json"},
      {"webhook-id", "msg_1"},
      {"X-Empty", ""},
      {"webhook-signature", "v1,abc="},
      {"Content-Length", std::to_string(body.size())},
  };
  EXPECT_EQ(fields, expected) << seen[0].head;
}

TEST_F(HttpClientTest, TheCallersUserAgentWins) {
  HttpReceiver receiver;
  receiver.server().Post("/",
                         [&](const httplib::Request& req, httplib::Response&) {
                           receiver.Record(req);
                         });
  receiver.Start();
  OutboundRequest request = Post(receiver.Url("/"));
  request.headers.emplace_back("user-agent", "mine");
  const OutboundResponse response = PostOnce(Options(), request);
  EXPECT_EQ(response.status_code, 200) << response.error_detail;
  const auto seen = receiver.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].head.find("\r\nuser-agent: mine\r\n"), std::string::npos);
  EXPECT_EQ(seen[0].head.find("webhooks-test"), std::string::npos);
}

TEST_F(HttpClientTest, ARedirectIsAStatusAndIsNotFollowed) {
  BareListener target;
  HttpReceiver receiver;
  const std::string location =
      "http://127.0.0.1:" + std::to_string(target.port()) + "/elsewhere";
  receiver.server().Post("/",
                         [&](const httplib::Request&, httplib::Response& res) {
                           res.status = 302;
                           res.set_header("Location", location);
                         });
  receiver.Start();
  const OutboundResponse response =
      PostOnce(Options(), Post(receiver.Url("/")));
  EXPECT_EQ(response.error, TransferError::kNone) << response.error_detail;
  EXPECT_EQ(response.status_code, 302);
  EXPECT_EQ(HeaderValue(response, "Location"), location);
  EXPECT_FALSE(target.HasPendingConnection());
}

TEST_F(HttpClientTest, GoneAndUnavailableWithRetryAfterAreStatuses) {
  HttpReceiver receiver;
  receiver.server().Post("/gone",
                         [](const httplib::Request&, httplib::Response& res) {
                           res.status = 410;
                           res.set_content("gone", "text/plain");
                         });
  receiver.server().Post("/busy",
                         [](const httplib::Request&, httplib::Response& res) {
                           res.status = 503;
                           res.set_header("Retry-After", "120");
                         });
  receiver.Start();
  OutboundClient client(Options());
  client.Start(Post(receiver.Url("/gone"), 1));
  client.Start(Post(receiver.Url("/busy"), 2));
  EXPECT_EQ(client.InFlight(), 2u);
  std::vector<OutboundResponse> done = Drive(client, 2);
  ASSERT_EQ(done.size(), 2u);
  std::sort(done.begin(), done.end(),
            [](const auto& a, const auto& b) { return a.tag < b.tag; });
  EXPECT_EQ(done[0].error, TransferError::kNone);
  EXPECT_EQ(done[0].status_code, 410);
  EXPECT_EQ(done[0].body, "gone");
  EXPECT_EQ(done[1].error, TransferError::kNone);
  EXPECT_EQ(done[1].status_code, 503);
  EXPECT_EQ(HeaderValue(done[1], "Retry-After"), "120");
  EXPECT_EQ(client.InFlight(), 0u);
}

TEST_F(HttpClientTest, ResponseHeadersAreBounded) {
  RawReceiver receiver([](int fd, int stop_fd) {
    ReadRequest(fd, stop_fd);
    std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n";
    for (int i = 0; i < 500; ++i) {
      answer +=
          "X-Many-" + std::to_string(i) + ": " + std::string(100, 'v') + "\r\n";
    }
    SendAll(fd, answer + "\r\nok", stop_fd);
    ::close(fd);
  });
  const OutboundResponse response = PostOnce(Options(), Post(receiver.Url()));
  EXPECT_EQ(response.error, TransferError::kNone) << response.error_detail;
  EXPECT_EQ(response.status_code, 200);
  EXPECT_EQ(response.body, "ok");
  EXPECT_TRUE(response.headers_truncated);
  EXPECT_LE(response.headers.size(), kMaxResponseHeaders);
  size_t bytes = 0;
  for (const auto& [name, value] : response.headers) {
    bytes += name.size() + value.size();
  }
  EXPECT_LE(bytes, kMaxResponseHeaderBytes);
  ASSERT_FALSE(response.headers.empty());
  EXPECT_EQ(response.headers.front().first, "Content-Length");
}

TEST_F(HttpClientTest, AHugeBodyIsCutAtTheCapWithoutError) {
  RawReceiver receiver([](int fd, int stop_fd) {
    ReadRequest(fd, stop_fd);
    constexpr size_t kTotal = 50 * 1024 * 1024;
    if (!SendAll(fd,
                 "HTTP/1.1 200 OK\r\nContent-Length: " +
                     std::to_string(kTotal) + "\r\n\r\n",
                 stop_fd)) {
      ::close(fd);
      return;
    }
    const std::string chunk(64 * 1024, 'x');
    for (size_t sent = 0; sent < kTotal; sent += chunk.size()) {
      if (!SendAll(fd, chunk, stop_fd)) break;
    }
    ::close(fd);
  });
  ClientOptions options = Options();
  options.max_response_bytes = 20000;
  const auto start = Clock::now();
  const OutboundResponse response = PostOnce(options, Post(receiver.Url()));
  EXPECT_EQ(response.error, TransferError::kNone) << response.error_detail;
  EXPECT_EQ(response.status_code, 200);
  EXPECT_EQ(response.body, std::string(20000, 'x'));
  EXPECT_TRUE(response.body_truncated);
  EXPECT_LT(MsSince(start), 5000);
}

TEST_F(HttpClientTest, ABodyOfExactlyTheCapIsNotTruncated) {
  RawReceiver receiver([](int fd, int stop_fd) {
    ReadRequest(fd, stop_fd);
    SendAll(fd,
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" +
                std::string(100, 'y'),
            stop_fd);
    ::close(fd);
  });
  ClientOptions options = Options();
  options.max_response_bytes = 100;
  const OutboundResponse response = PostOnce(options, Post(receiver.Url()));
  EXPECT_EQ(response.error, TransferError::kNone) << response.error_detail;
  EXPECT_EQ(response.body.size(), 100u);
  EXPECT_FALSE(response.body_truncated);
}

// ===========================================================================
// Failures
// ===========================================================================

TEST_F(HttpClientTest, AReceiverThatNeverAnswersTimesOut) {
  RawReceiver receiver([](int fd, int stop_fd) {
    ReadRequest(fd, stop_fd);
    WaitFor(stop_fd, POLLIN, stop_fd, -1);
    ::close(fd);
  });
  ClientOptions options = Options();
  options.connect_timeout_ms = 400;
  options.total_timeout_ms = 400;
  const OutboundResponse response = PostOnce(options, Post(receiver.Url()));
  EXPECT_EQ(response.error, TransferError::kTimeout) << response.error_detail;
  EXPECT_EQ(response.status_code, 0);
  EXPECT_GE(response.duration_ms, 350);
  EXPECT_LT(response.duration_ms, 5000);
  EXPECT_EQ(receiver.connections(), 1);
  EXPECT_STREQ(TransferErrorName(response.error), "timeout");
}

TEST_F(HttpClientTest, AReceiverThatAnswersByteByByteTimesOut) {
  RawReceiver receiver([](int fd, int stop_fd) {
    ReadRequest(fd, stop_fd);
    if (SendAll(fd, "HTTP/1.1 200 OK\r\nX-Slow: ", stop_fd)) {
      // One byte every 20 ms, until the client leaves or the test ends.
      while (!WaitFor(stop_fd, POLLIN, stop_fd, 20) &&
             SendAll(fd, "a", stop_fd)) {
      }
    }
    ::close(fd);
  });
  ClientOptions options = Options();
  options.total_timeout_ms = 500;
  const OutboundResponse response = PostOnce(options, Post(receiver.Url()));
  EXPECT_EQ(response.error, TransferError::kTimeout) << response.error_detail;
  EXPECT_GE(response.duration_ms, 450);
  EXPECT_LT(response.duration_ms, 5000);
}

TEST_F(HttpClientTest, AResetIsAConnectError) {
  RawReceiver receiver([](int fd, int stop_fd) {
    ReadRequest(fd, stop_fd);
    const linger abort_on_close{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close,
                 sizeof(abort_on_close));
    ::close(fd);
  });
  const OutboundResponse response = PostOnce(Options(), Post(receiver.Url()));
  EXPECT_EQ(response.error, TransferError::kConnect) << response.error_detail;
  EXPECT_EQ(response.status_code, 0);
  EXPECT_FALSE(response.error_detail.empty());
  EXPECT_EQ(receiver.connections(), 1);
}

TEST_F(HttpClientTest, AClosedPortIsAConnectError) {
  // Bound but not listening: the port stays ours, and refuses connections.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length),
            0);
  const OutboundResponse response =
      PostOnce(Options(), Post("http://127.0.0.1:" +
                               std::to_string(ntohs(address.sin_port)) + "/"));
  ::close(fd);
  EXPECT_EQ(response.error, TransferError::kConnect) << response.error_detail;
  EXPECT_STREQ(TransferErrorName(response.error), "connect");
}

TEST_F(HttpClientTest, AnUnknownNameIsADnsError) {
  const OutboundResponse response =
      PostOnce(Options(), Post("http://nonexistent.invalid/"));
  EXPECT_EQ(response.error, TransferError::kDns) << response.error_detail;
  EXPECT_STREQ(TransferErrorName(response.error), "dns");
}

TEST_F(HttpClientTest, PlainHttpOnAnHttpsUrlIsATlsError) {
  RawReceiver receiver([](int fd, int stop_fd) {
    // Answers the ClientHello with plain HTTP.
    WaitFor(fd, POLLIN, stop_fd, 5000);
    SendAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
            stop_fd);
    ::close(fd);
  });
  std::string url = receiver.Url();
  url.replace(0, 4, "https");
  const OutboundResponse response = PostOnce(Options(), Post(url));
  EXPECT_EQ(response.error, TransferError::kTls) << response.error_detail;
  EXPECT_STREQ(TransferErrorName(response.error), "tls");
}

TEST_F(HttpClientTest, AnUntrustedCertificateIsATlsError) {
  const testing::TempDir dir;
  ASSERT_TRUE(
      WriteSelfSignedCertificate(dir.File("cert.pem"), dir.File("key.pem")));
  httplib::SSLServer server(dir.File("cert.pem").c_str(),
                            dir.File("key.pem").c_str());
  ASSERT_TRUE(server.is_valid());
  std::atomic<bool> reached{false};
  server.Post("/", [&reached](const httplib::Request&, httplib::Response&) {
    reached = true;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&server] { server.listen_after_bind(); });
  const OutboundResponse response = PostOnce(
      Options(), Post("https://127.0.0.1:" + std::to_string(port) + "/"));
  // The handshake needed the accept loop, so it runs and stop() is seen.
  server.stop();
  serving.join();
  EXPECT_EQ(response.error, TransferError::kTls) << response.error_detail;
  EXPECT_EQ(response.status_code, 0);
  EXPECT_FALSE(reached);
}

TEST_F(HttpClientTest, ABadHeaderOrUrlFailsWithoutSending) {
  BareListener listener;
  const std::string url =
      "http://127.0.0.1:" + std::to_string(listener.port()) + "/";
  OutboundClient client(Options());
  OutboundRequest injected = Post(url, 1);
  injected.headers.emplace_back("X-Evil", "a\r\nX-Injected: 1");
  client.Start(injected);
  OutboundRequest bad_name = Post(url, 2);
  bad_name.headers.emplace_back("Bad Name", "x");
  client.Start(bad_name);
  client.Start(Post("ftp://127.0.0.1/", 3));
  std::vector<OutboundResponse> done = Drive(client, 3);
  ASSERT_EQ(done.size(), 3u);
  for (const OutboundResponse& response : done) {
    EXPECT_EQ(response.error, TransferError::kOther) << response.tag;
    EXPECT_EQ(response.status_code, 0);
    EXPECT_FALSE(response.error_detail.empty());
    EXPECT_EQ(response.error_detail.find("X-Injected"), std::string::npos);
  }
  EXPECT_STREQ(TransferErrorName(TransferError::kOther), "other");
  EXPECT_STREQ(TransferErrorName(TransferError::kNone), "");
  EXPECT_FALSE(listener.HasPendingConnection());
}

// ===========================================================================
// The address policy
// ===========================================================================

TEST_F(HttpClientTest, MetadataAddressesAreAlwaysRefused) {
  for (const char* url :
       {"http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/", "http://[fd00:ec2::254]/"}) {
    const auto start = Clock::now();
    const OutboundResponse response = PostOnce(Options(), Post(url));
    EXPECT_EQ(response.error, TransferError::kBlockedAddress)
        << url << ": " << response.error_detail;
    EXPECT_STREQ(TransferErrorName(response.error), "blocked_address");
    EXPECT_NE(response.error_detail.find("refused by the target policy"),
              std::string::npos)
        << response.error_detail;
    // Refused before a socket exists, so no connect timeout was waited.
    EXPECT_LT(MsSince(start), 1000) << url;
  }
}

TEST_F(HttpClientTest, LoopbackIsAllowedUnlessPrivateTargetsAreDenied) {
  BareListener listener;
  ClientOptions options = Options();
  options.deny_private_targets = true;
  const std::string port = std::to_string(listener.port());
  for (const std::string& url :
       {"http://127.0.0.1:" + port + "/", "http://localhost:" + port + "/",
        "http://[::ffff:127.0.0.1]:" + port + "/"}) {
    const OutboundResponse response = PostOnce(options, Post(url));
    EXPECT_EQ(response.error, TransferError::kBlockedAddress)
        << url << ": " << response.error_detail;
    EXPECT_NE(response.error_detail.find("loopback"), std::string::npos)
        << response.error_detail;
    EXPECT_FALSE(listener.HasPendingConnection()) << url;
  }
  // The same target without deny_private_targets is connected to.
  options.deny_private_targets = false;
  options.total_timeout_ms = 300;
  const OutboundResponse allowed =
      PostOnce(options, Post("http://localhost:" + port + "/"));
  EXPECT_EQ(allowed.error, TransferError::kTimeout) << allowed.error_detail;
  EXPECT_TRUE(listener.HasPendingConnection());
}

// ===========================================================================
// Many at once
// ===========================================================================

TEST_F(HttpClientTest, ManyTransfersRunConcurrently) {
  HttpReceiver receiver;
  receiver.server().Post(
      "/slow", [](const httplib::Request& req, httplib::Response& res) {
        // The receiver's own latency; the test waits for responses, not this.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        res.set_content(req.body, "text/plain");
      });
  receiver.Start();
  ClientOptions options = Options();
  options.max_concurrent = 64;
  OutboundClient client(options);
  const auto start = Clock::now();
  for (uint64_t tag = 0; tag < 50; ++tag) {
    client.Start(Post(receiver.Url("/slow"), tag, std::to_string(tag)));
  }
  EXPECT_EQ(client.InFlight(), 50u);
  const std::vector<OutboundResponse> done = Drive(client, 50);
  // Sequentially this would take 50 x 200 ms = 10 s.
  EXPECT_LT(MsSince(start), 5000);
  ASSERT_EQ(done.size(), 50u);
  std::set<uint64_t> tags;
  for (const OutboundResponse& response : done) {
    EXPECT_EQ(response.status_code, 200) << response.error_detail;
    EXPECT_EQ(response.body, std::to_string(response.tag));
    tags.insert(response.tag);
  }
  EXPECT_EQ(tags.size(), 50u);
  EXPECT_EQ(client.InFlight(), 0u);
}

TEST_F(HttpClientTest, TransfersBeyondMaxConcurrentWaitTheirTurn) {
  HttpReceiver receiver;
  std::mutex mu;
  int active = 0;
  int most_active = 0;
  receiver.server().Post(
      "/", [&](const httplib::Request&, httplib::Response& res) {
        {
          std::lock_guard<std::mutex> lock(mu);
          most_active = std::max(most_active, ++active);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        {
          std::lock_guard<std::mutex> lock(mu);
          --active;
        }
        res.set_content("ok", "text/plain");
      });
  receiver.Start();
  ClientOptions options = Options();
  options.max_concurrent = 2;
  OutboundClient client(options);
  for (uint64_t tag = 0; tag < 10; ++tag) {
    client.Start(Post(receiver.Url("/"), tag));
  }
  EXPECT_EQ(client.InFlight(), 10u);
  const std::vector<OutboundResponse> done = Drive(client, 10);
  ASSERT_EQ(done.size(), 10u);
  std::set<uint64_t> tags;
  for (const OutboundResponse& response : done) {
    EXPECT_EQ(response.status_code, 200) << response.error_detail;
    tags.insert(response.tag);
  }
  EXPECT_EQ(tags.size(), 10u);
  EXPECT_EQ(client.InFlight(), 0u);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_LE(most_active, 2);
  EXPECT_GE(most_active, 1);
}

TEST_F(HttpClientTest, WakeupEndsAPollEarly) {
  OutboundClient client(Options());
  std::vector<OutboundResponse> done;
  const auto start = Clock::now();
  std::thread waker([&client] { client.Wakeup(); });
  client.Poll(10000, &done);
  waker.join();
  EXPECT_LT(MsSince(start), 5000);
  EXPECT_TRUE(done.empty());
}

TEST_F(HttpClientTest, DestroyingTheClientAbortsRunningTransfers) {
  RawReceiver receiver([](int fd, int stop_fd) {
    ReadRequest(fd, stop_fd);
    WaitFor(fd, POLLIN, stop_fd, -1);  // until the client hangs up
    ::close(fd);
  });
  const auto start = Clock::now();
  {
    OutboundClient client(Options());
    client.Start(Post(receiver.Url()));
    std::vector<OutboundResponse> done;
    // Until the receiver has the request, so the transfer is mid-flight.
    while (receiver.connections() == 0 && MsSince(start) < 5000) {
      client.Poll(50, &done);
    }
    EXPECT_TRUE(done.empty());
    EXPECT_EQ(client.InFlight(), 1u);
  }
  EXPECT_LT(MsSince(start), 5000);
}

}  // namespace
}  // namespace webhooks
