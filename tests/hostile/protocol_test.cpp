// Protocol holes a hostile newcomer found (issue 11, items 1 to 6), part of
// the hostile suite: each test runs the real binary on 127.0.0.1 and speaks
// raw bytes to it, since the bytes are the attack.
//   - half-closed connections: closed at once, at no CPU cost;
//   - a body on GET, HEAD, OPTIONS or TRACE: never parsed as a request;
//   - heads RFC 9112 refuses: 400, and the connection closes;
//   - header values compared as sent, never percent-decoded;
//   - local mode accepts only Host names that cannot be rebound;
//   - unknown methods 501, known ones on the wrong route 405.

#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/raw_http.h"
#include "tests/test_util.h"

namespace webhooks {
namespace {

using testing::CreateBody;
using testing::kCreatePath;
using testing::OutcomeName;
using testing::RawConnection;
using testing::Reply;
using testing::ServerProcess;
using testing::TempDir;
using testing::ToReply;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The server's request deadline (HardenedServer::Limits): every connection
// is answered or closed by then.
constexpr milliseconds kRequestDeadline{5000};

// A raw connection that can also shut down its sending side, and read
// everything until the server closes.
class Conversation : public RawConnection {
 public:
  explicit Conversation(int port, milliseconds timeout = kRequestDeadline +
                                                         milliseconds(2000))
      : RawConnection(port, timeout) {}

  void CloseSending() { ::shutdown(fd(), SHUT_WR); }
  int descriptor() const { return fd(); }

  // Reads responses until the server closes the connection (or the
  // timeout): how many came, and the first.
  std::vector<Reply> ReadUntilClosed() {
    std::vector<Reply> replies;
    Reply reply;
    while (ReadResponse(&reply)) replies.push_back(reply);
    return replies;
  }
};

// The server's CPU time so far (user + system), from /proc.
double CpuSeconds(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)),
                   std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string SlugOf(const Reply& reply) {
  const std::string key = "\"slug\":\"";
  const size_t at = reply.body.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return reply.body.substr(start, reply.body.find('"', start) - start);
}

class ProtocolTest : public ::testing::Test {
 protected:
  bool Start(const std::vector<std::string>& extra_args = {},
             const std::vector<std::string>& env = {}) {
    std::vector<std::string> args = {"--port", "0", "--db",
                                     dir_.File("protocol.db")};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    server_.reset();
    server_ = std::make_unique<ServerProcess>();
    if (server_->Start(args, env)) return true;
    ADD_FAILURE() << "server did not start: " << server_->Stderr();
    return false;
  }

  int port() const { return server_->port(); }

  // Sends `bytes` on a connection of its own and reads every response
  // until the server closes it; *end says how it ended.
  std::vector<Reply> Converse(const std::string& bytes,
                              RawConnection::Outcome* end = nullptr) {
    Conversation conversation(port());
    EXPECT_TRUE(conversation.connected() && conversation.Send(bytes));
    std::vector<Reply> replies = conversation.ReadUntilClosed();
    if (end != nullptr) *end = conversation.last_outcome();
    return replies;
  }

  // One GET with this Host (and extra header lines); the reply.
  Reply GetWithHost(const std::string& path, const std::string& host,
                    const std::string& extra = "") {
    const std::vector<Reply> replies =
        Converse("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra +
                 "Connection: close\r\n\r\n");
    return replies.empty() ? Reply{} : replies.front();
  }

  std::string LoopbackHost() const {
    return "127.0.0.1:" + std::to_string(port());
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

// Item 1. A client that sent part of a request and then shut down its side
// (curl -m 2 against us, or a TLS client) sent all it ever will. The landed
// server handed such a connection from its parker to a worker and back in
// a loop, forever: each cost half a core and stayed in CLOSE-WAIT until the
// server restarted. Now each is closed as soon as its FIN is seen.
TEST_F(ProtocolTest, HalfClosedConnectionsAreClosedAndCostNoCpu) {
  constexpr int kConnections = 40;
  ASSERT_TRUE(Start());
  const std::vector<std::string> partial = {
      "GET /healthz HT",  // a request line cut short
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Par",  // a header line
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // TLS
      "POST /api/v3.1/webhook_endpoints HTTP/1.1\r\nHost: 127.0.0.1\r\n",
  };
  const double cpu_before = CpuSeconds(server_->pid());
  std::vector<std::unique_ptr<Conversation>> connections;
  for (int i = 0; i < kConnections; ++i) {
    connections.push_back(std::make_unique<Conversation>(port()));
    ASSERT_TRUE(connections.back()->connected());
    ASSERT_TRUE(connections.back()->Send(partial[i % partial.size()]));
    // The first half hang up at once, while a worker still waits for the
    // rest of their headers.
    if (i < kConnections / 2) connections.back()->CloseSending();
  }
  // A schedule, not a synchronisation: the second half hang up after the
  // server's 20 ms "park after", so most are with the parker by then. The
  // assertions below hold whichever thread has them.
  std::this_thread::sleep_for(milliseconds(100));
  for (int i = kConnections / 2; i < kConnections; ++i) {
    connections[i]->CloseSending();
  }
  const auto half_closed = Clock::now();
  // Waits on all of them at once, so that the landed server, which never
  // closed them, fails this test after one deadline, not forty.
  const auto deadline = half_closed + kRequestDeadline + milliseconds(2000);
  std::vector<bool> done(connections.size(), false);
  int closed = 0;
  while (closed < kConnections && Clock::now() < deadline) {
    std::vector<pollfd> fds;
    std::vector<size_t> which;
    for (size_t i = 0; i < connections.size(); ++i) {
      if (done[i]) continue;
      fds.push_back(pollfd{connections[i]->descriptor(), POLLIN, 0});
      which.push_back(i);
    }
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) <= 0) {
      break;
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      char byte;
      const ssize_t n = ::recv(fds[k].fd, &byte, 1, MSG_DONTWAIT);
      if (n > 0) {
        ADD_FAILURE() << "a half-closed connection got an answer";
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        continue;
      }
      done[which[k]] = true;  // EOF, or reset: closed by the server
      ++closed;
    }
  }
  const auto waited =
      std::chrono::duration_cast<milliseconds>(Clock::now() - half_closed);
  const double cpu = CpuSeconds(server_->pid()) - cpu_before;
  std::cout << "[ measured ] " << closed << " of " << kConnections
            << " half-closed connections closed in " << waited.count()
            << " ms; server CPU " << cpu << " s\n";
  EXPECT_EQ(closed, kConnections);
  EXPECT_LE(waited, kRequestDeadline + milliseconds(1000));
  // Near idle: the landed code spent about a core per ten such connections
  // for as long as they stayed (here, until this test's 7 s timeout).
  EXPECT_LT(cpu, 0.3);
  // And the server still answers, at once.
  httplib::Client probe("127.0.0.1", port());
  probe.set_read_timeout(1, 0);
  auto health = probe.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

// Item 2. cpp-httplib 0.11.4 reads a body only for POST, PUT, PATCH and
// DELETE; on other methods the landed server let the bytes after the head
// be parsed as the next request. Behind a proxy that reuses connections,
// that answers one client's bytes as another's request. The hidden request
// here would create an endpoint; it must never run.
TEST_F(ProtocolTest, ABodyOnGetHeadOptionsOrTraceIsNeverReadAsARequest) {
  ASSERT_TRUE(Start());
  const std::string key = "smuggler";
  const std::string create_body = CreateBody("slack", "hidden");
  const std::string hidden =
      "POST " + std::string(kCreatePath) +
      " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + key +
      "\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(create_body.size()) + "\r\n\r\n" + create_body;
  for (const std::string method : {"GET", "HEAD", "OPTIONS", "TRACE"}) {
    SCOPED_TRACE(method);
    RawConnection::Outcome end;
    const std::vector<Reply> replies =
        Converse(method + " " + kCreatePath +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + key +
                     "\r\nContent-Length: " + std::to_string(hidden.size()) +
                     "\r\n\r\n" + hidden,
                 &end);
    // HEAD's answer has a Content-Length and no body, which the reader
    // cannot tell from a cut-short answer; the close and the store tell.
    // TRACE is refused first for the route (405); the others for the body.
    if (method != "HEAD") {
      ASSERT_EQ(replies.size(), 1u);
      EXPECT_EQ(replies[0].status, method == "TRACE" ? 405 : 400)
          << replies[0].body;
    }
    if (method == "GET" || method == "OPTIONS") {
      EXPECT_EQ(SlugOf(replies[0]), "HTTP_BadRequest");
      EXPECT_NE(replies[0].body.find("cannot carry a body"), std::string::npos)
          << replies[0].body;
    }
    EXPECT_TRUE(end == RawConnection::Outcome::kClosed ||
                end == RawConnection::Outcome::kReset)
        << OutcomeName(end);
  }
  httplib::Client client("127.0.0.1", port());
  auto list = client.Get(kCreatePath, {{"x-api-key", key}});
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  EXPECT_EQ(list->body.find("hidden"), std::string::npos)
      << "the hidden create ran: " << list->body;
}

// Item 3. Heads that RFC 9112 says to refuse, each followed by a valid
// request on the same connection: the bad one is answered 400 and the
// connection closes, so the one behind it is never answered (two parsers
// that disagree about where a request ends is request smuggling).
TEST_F(ProtocolTest, LenientHeadsAreRefusedAndTheConnectionCloses) {
  ASSERT_TRUE(Start());
  const std::string line = "GET /healthz HTTP/1.1\r\n";
  const std::string host = "Host: 127.0.0.1\r\n";
  const std::vector<std::pair<std::string, std::string>> heads = {
      {"folded header line", line + host + "X-A: b\r\n c\r\n\r\n"},
      {"whitespace before a colon", line + host + "X-A : b\r\n\r\n"},
      {"no Host", line + "X-A: b\r\n\r\n"},
      {"two Host headers", line + host + "Host: other\r\n\r\n"},
      {"bare CR", line + host + "X-A: b\rc\r\n\r\n"},
      {"NUL in a value", line + host + std::string("X-A: b\0c\r\n\r\n", 12)},
      {"bare LF", line + host + "Content-Length: 0\n\r\n"},
  };
  const std::string behind = line + host + "\r\n";
  for (const auto& [name, head] : heads) {
    SCOPED_TRACE(name);
    RawConnection::Outcome end;
    const std::vector<Reply> replies = Converse(head + behind, &end);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].status, 400) << replies[0].body;
    EXPECT_EQ(SlugOf(replies[0]), "HTTP_BadRequest");
    EXPECT_NE(replies[0].body.find("\"suggested_fix\""), std::string::npos);
    EXPECT_EQ(replies[0].Header("Connection"), "close");
    EXPECT_TRUE(end == RawConnection::Outcome::kClosed ||
                end == RawConnection::Outcome::kReset)
        << OutcomeName(end);
  }
}

// Item 4. The library percent-decodes header values; the landed server
// authenticated "x-api-key: %61lice" as alice, and a %00 cut a key short.
// Keys and request ids are compared byte for byte as sent.
TEST_F(ProtocolTest, HeaderValuesAreComparedAsSent) {
  ASSERT_TRUE(Start({"--api-key", "alice"}));
  auto status_with_key = [&](const std::string& key) {
    return GetWithHost(kCreatePath, LoopbackHost(),
                       "x-api-key: " + key + "\r\n")
        .status;
  };
  EXPECT_EQ(status_with_key("alice"), 200);
  EXPECT_EQ(status_with_key("%61lice"), 401);
  EXPECT_EQ(status_with_key("%61%6c%69%63%65"), 401);
  EXPECT_EQ(status_with_key("alice%00junk"), 401);
  const Reply echoed =
      GetWithHost("/healthz", LoopbackHost(), "x-request-id: id%41%0d%0aX\r\n");
  EXPECT_EQ(echoed.status, 200);
  EXPECT_EQ(echoed.Header("x-request-id"), "id%41%0d%0aX");
}

// Item 5. In local mode any key is accepted, so a page that rebinds its DNS
// name to 127.0.0.1 could drive the server from a browser. Its requests
// carry its own name in Host; only names that cannot be rebound are
// accepted, plus the ones the operator names.
TEST_F(ProtocolTest, LocalModeAcceptsOnlyHostsThatCannotBeRebound) {
  ASSERT_TRUE(Start());
  for (const std::string& host : std::vector<std::string>{
           LoopbackHost(), "localhost:" + std::to_string(port()), "localhost",
           "LOCALHOST", "localhost.", "app.localhost", "127.1.2.3",
           "[::1]:80"}) {
    EXPECT_EQ(GetWithHost("/healthz", host).status, 200) << host;
  }
  for (const std::string path : {"/healthz", kCreatePath}) {
    for (const std::string& host : std::vector<std::string>{
             "evil.example", "evil.example:" + std::to_string(port()),
             "127.0.0.1.evil.example", "localhost.evil.example", ""}) {
      const Reply reply =
          GetWithHost(path, host, "x-api-key: rebinding-page\r\n");
      EXPECT_EQ(reply.status, 403) << path << " Host: " << host;
      EXPECT_EQ(SlugOf(reply), "HTTP_HostNotAllowed") << reply.body;
    }
  }
  // The --public-url host (a tunnel, say) and the names given.
  ASSERT_TRUE(Start({"--public-url", "https://Tunnel.Example.com/base",
                     "--allowed-host", "dev.internal"}));
  // The start-up line names them, so a refusal can be understood.
  EXPECT_NE(server_->Stderr().find(
                "hosts=localhost,loopback,dev.internal,tunnel.example.com"),
            std::string::npos)
      << server_->Stderr();
  EXPECT_EQ(GetWithHost("/healthz", "tunnel.example.com").status, 200);
  EXPECT_EQ(GetWithHost("/healthz", "dev.internal:8080").status, 200);
  EXPECT_EQ(GetWithHost("/healthz", "evil.example").status, 403);
  ASSERT_TRUE(Start({}, {"WEBHOOKS_ALLOWED_HOSTS=ci.internal,*"}));
  EXPECT_EQ(GetWithHost("/healthz", "evil.example").status, 200);
  // With keys, the key protects the server: any Host (a reverse proxy's).
  ASSERT_TRUE(Start({"--api-key", "k"}));
  EXPECT_EQ(GetWithHost("/healthz", "evil.example").status, 200);
  EXPECT_EQ(GetWithHost(kCreatePath, "evil.example", "x-api-key: k\r\n").status,
            200);
  // A bad name is refused at start-up.
  ServerProcess refused;
  EXPECT_FALSE(refused.Start(
      {"--port", "0", "--db", ":memory:", "--allowed-host", "evil.example/x"}));
  refused.Wait();
  EXPECT_EQ(refused.ExitCode(), 2);
  EXPECT_NE(refused.Stderr().find("--allowed-host"), std::string::npos);
}

// Item 6. The landed server answered every unknown method, and TRACE and
// CONNECT, "400 could not be read".
TEST_F(ProtocolTest, UnknownMethodsAre501AndKnownOnesOnTheWrongRoute405) {
  ASSERT_TRUE(Start());
  auto answer = [&](const std::string& method, const std::string& target) {
    const std::vector<Reply> replies = Converse(
        method + " " + target + " HTTP/1.1\r\nHost: " + LoopbackHost() +
        "\r\nx-api-key: k\r\nContent-Length: 0\r\nConnection: "
        "close\r\n\r\n");
    return replies.empty() ? Reply{} : replies.front();
  };
  for (const std::string method : {"BREW", "get", "Post", "PROPFIND", "PRI"}) {
    const Reply reply = answer(method, "/healthz");
    EXPECT_EQ(reply.status, 501) << method << ": " << reply.body;
    EXPECT_EQ(SlugOf(reply), "HTTP_NotImplemented") << method;
  }
  for (const std::string method : {"TRACE", "PUT", "OPTIONS", "CONNECT"}) {
    const Reply reply = answer(method, kCreatePath);
    EXPECT_EQ(reply.status, 405) << method << ": " << reply.body;
    EXPECT_EQ(SlugOf(reply), "HTTP_MethodNotAllowed") << method;
    EXPECT_EQ(reply.Header("Allow"), "POST, GET") << method;
  }
  for (const std::string method : {"TRACE", "PUT", "CONNECT"}) {
    const Reply reply = answer(method, "/no/such/route");
    EXPECT_EQ(reply.status, 404) << method << ": " << reply.body;
    EXPECT_EQ(SlugOf(reply), "HTTP_NotFound") << method;
  }
}

// Issue 12's review: 0.11.4 compresses with brotli at quality 11 whenever
// "br" appears in Accept-Encoding, 6 s of CPU for a 3.8 MB list; any client
// could ask for it. Answers are gzip (or plain) whatever the offer.
TEST_F(ProtocolTest, BrotliIsNeverChosenWhateverTheClientOffers) {
  ASSERT_TRUE(Start());
  for (const std::string offer : {"br", "gzip, deflate, br", "xbrx"}) {
    const Reply reply = GetWithHost("/openapi.json", LoopbackHost(),
                                    "Accept-Encoding: " + offer + "\r\n");
    EXPECT_EQ(reply.status, 200) << offer;
    const std::string encoding = reply.Header("Content-Encoding");
    EXPECT_NE(encoding, "br") << offer;
    EXPECT_EQ(encoding, offer.find("gzip") != std::string::npos ? "gzip" : "")
        << offer;
  }
}

}  // namespace
}  // namespace webhooks
