// The fixture of the hostile-input and authorization suites of
// webhooks-server (issue 7, sections "Hostile input" and "Authorization and
// secrets"; the libFuzzer targets live elsewhere): hostile_json_test.cpp,
// hostile_framing_test.cpp, hostile_connection_test.cpp and
// hostile_auth_test.cpp. As in the suites of tests/api/, every test runs the
// real binary (ServerTest, through ServerProcess) on 127.0.0.1 and speaks
// HTTP to it, over raw sockets (RawConnection) wherever the bytes themselves
// are the attack; what tests/api/ already checks once is not repeated there.
// Beside the fixture: the spec's whole error envelope (ExpectErrorEnvelope),
// and the timing helpers the suites share.

#ifndef WEBHOOKS_TESTS_HOSTILE_HOSTILE_FIXTURE_H_
#define WEBHOOKS_TESTS_HOSTILE_HOSTILE_FIXTURE_H_

#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/raw_http.h"
#include "tests/test_util.h"

namespace webhooks::hostile {

using testing::CreateBody;
using testing::ItemIds;
using testing::JsonString;
using testing::kAlphanumeric;
using testing::kCreatePath;
using testing::KeyHeaders;
using testing::MediaType;
using testing::RandomKey;
using testing::RawCreate;
using testing::RawRequest;
using testing::Reply;
using testing::ServerProcess;
using testing::SortedKeys;
using testing::StringField;
using testing::TempDir;
using testing::ToReply;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ===========================================================================
// Helpers
// ===========================================================================

inline constexpr char kUnauthorized[] = "HTTP_Unauthorized";
// Every socket wait and client request gives up after this.
inline constexpr milliseconds kIoTimeout{5000};
// "At once": well inside the server's 5 s request deadline, with room for
// a machine shared with other test runs.
inline constexpr milliseconds kPromptly{2500};

// A short Slack event_callback with this event_id (SlackEvent in
// test_util.h is Slack's whole example).
inline std::string ShortSlackEvent(const std::string& event_id) {
  return R"({"type":"event_callback","event_id":)" + JsonString(event_id) +
         R"(,"event":{"type":"message","text":"hello"}})";
}

// The start of `text`, for failure messages about large answers.
inline std::string Excerpt(const std::string& text) {
  return text.size() <= 300 ? text
                            : text.substr(0, 300) + "... (" +
                                  std::to_string(text.size()) + " bytes)";
}

// Asserts the spec's whole error envelope: HTTP `status` (0: any 4xx), JSON,
// the common headers, and exactly {"error":{"message","code","slug",
// "status","request_id","suggested_fix","errors"}} with a non-empty message
// and suggested_fix, `slug` (empty: any non-empty one), status equal to the
// HTTP status and request_id equal to the x-request-id header.
inline void ExpectErrorEnvelope(const Reply& reply, int status,
                                const std::string& slug) {
  ASSERT_NE(reply.status, 0) << "no response";
  if (status == 0) {
    EXPECT_TRUE(reply.status >= 400 && reply.status < 500)
        << reply.status << " " << Excerpt(reply.body);
  } else {
    EXPECT_EQ(reply.status, status) << Excerpt(reply.body);
  }
  EXPECT_EQ(MediaType(reply.Header("Content-Type")), "application/json");
  EXPECT_EQ(reply.Header("Cache-Control"), "no-store");
  EXPECT_EQ(reply.Header("X-Content-Type-Options"), "nosniff");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(reply.body);
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(padded).get(root), simdjson::SUCCESS)
      << Excerpt(reply.body);
  simdjson::dom::object outer;
  ASSERT_EQ(root.get_object().get(outer), simdjson::SUCCESS)
      << Excerpt(reply.body);
  EXPECT_EQ(SortedKeys(outer), std::vector<std::string>{"error"});
  simdjson::dom::object error;
  ASSERT_EQ(outer["error"].get_object().get(error), simdjson::SUCCESS)
      << Excerpt(reply.body);
  EXPECT_EQ(SortedKeys(error),
            (std::vector<std::string>{"code", "errors", "message", "request_id",
                                      "slug", "status", "suggested_fix"}))
      << Excerpt(reply.body);
  std::string_view text;
  ASSERT_EQ(error["message"].get_string().get(text), simdjson::SUCCESS);
  EXPECT_FALSE(text.empty()) << Excerpt(reply.body);
  int64_t number = 0;
  ASSERT_EQ(error["code"].get_int64().get(number), simdjson::SUCCESS);
  EXPECT_GT(number, 0);
  ASSERT_EQ(error["status"].get_int64().get(number), simdjson::SUCCESS);
  EXPECT_EQ(number, reply.status);
  ASSERT_EQ(error["slug"].get_string().get(text), simdjson::SUCCESS);
  if (slug.empty()) {
    EXPECT_FALSE(text.empty());
  } else {
    EXPECT_EQ(text, slug) << Excerpt(reply.body);
  }
  ASSERT_EQ(error["request_id"].get_string().get(text), simdjson::SUCCESS);
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text, reply.Header("x-request-id"));
  ASSERT_EQ(error["suggested_fix"].get_string().get(text), simdjson::SUCCESS);
  EXPECT_FALSE(text.empty()) << Excerpt(reply.body);
  simdjson::dom::array errors;
  ASSERT_EQ(error["errors"].get_array().get(errors), simdjson::SUCCESS);
  for (simdjson::dom::element item : errors) {
    EXPECT_EQ(item.get_string().get(text), simdjson::SUCCESS)
        << Excerpt(reply.body);
  }
}

inline int MillisUntil(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<milliseconds::rep>(0, left.count()));
}

inline double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

// A request sent in pieces, so that the server can refuse it part-way:
// `head`, then `chunk_count` chunks made by `chunk(i)`, then `tail`.
struct Payload {
  std::string head;
  size_t chunk_count = 0;
  std::function<std::string(size_t)> chunk;
  std::string tail;
  // If non-zero, `head` goes alone and the server has this long to answer
  // before anything else is sent.
  milliseconds pause_after_head{0};
};

// What happened to a Payload on its way out.
struct Delivery {
  size_t bytes_sent = 0;
  bool all_sent = false;
  // An answer, a close or a reset came before the whole payload was sent.
  bool refused_while_sending = false;
};

// The shared raw connection (tests/raw_http.h), for requests
// httplib::Client cannot send, plus streaming a large payload while
// watching for the server's early answer. Every wait is bounded.
class RawConnection : public testing::RawConnection {
 public:
  using testing::RawConnection::RawConnection;

  // Sends `payload` while watching for the server's answer: stops as soon
  // as the server answers, closes or resets, or at `deadline`.
  Delivery Stream(const Payload& payload, Clock::time_point deadline) {
    Delivery delivery;
    if (!Push(payload.head, deadline, &delivery)) return delivery;
    if (payload.pause_after_head.count() > 0) {
      pollfd pfd{fd(), POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(payload.pause_after_head.count())) >
          0) {
        delivery.refused_while_sending = true;
        return delivery;
      }
    }
    for (size_t i = 0; i < payload.chunk_count; ++i) {
      if (!Push(payload.chunk(i), deadline, &delivery)) return delivery;
    }
    if (!Push(payload.tail, deadline, &delivery)) return delivery;
    delivery.all_sent = true;
    return delivery;
  }

  // Ends the sending side (the server reads end-of-file), keeps reading.
  void ShutdownWrite() { ::shutdown(fd(), SHUT_WR); }

 private:
  // Sends `bytes` unless the server speaks (or closes) first. False if it
  // did, or the send failed, or the deadline passed.
  bool Push(std::string_view bytes, Clock::time_point deadline,
            Delivery* delivery) {
    while (!bytes.empty()) {
      pollfd pfd{fd(), POLLIN | POLLOUT, 0};
      const int left = MillisUntil(deadline);
      if (left <= 0 || ::poll(&pfd, 1, left) <= 0) return false;
      if ((pfd.revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
        delivery->refused_while_sending = true;
        return false;
      }
      ssize_t n =
          ::send(fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          continue;
        }
        delivery->refused_while_sending = true;
        return false;
      }
      delivery->bytes_sent += static_cast<size_t>(n);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
};

inline bool ClosedOrReset(RawConnection::Outcome outcome) {
  return outcome == RawConnection::Outcome::kClosed ||
         outcome == RawConnection::Outcome::kReset;
}

// One server per test: a file database of its own, local mode unless the
// test starts it otherwise, and a random key (a project of the test's own).
class ServerTest : public ::testing::Test {
 protected:
  // (Re)starts the server with the default flags, then `extra_args`.
  bool StartServer(const std::vector<std::string>& extra_args = {},
                   const std::vector<std::string>& env = {}) {
    std::vector<std::string> args = {"--port", "0", "--db", db_path()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    server_.reset();  // stops the previous one first
    server_ = std::make_unique<ServerProcess>();
    if (server_->Start(args, env)) return true;
    ADD_FAILURE() << "server did not start: " << server_->Stderr();
    return false;
  }

  virtual std::string db_path() const { return dir_.File("hostile.db"); }
  int port() const { return server_->port(); }

  httplib::Client NewClient() const {
    httplib::Client client("127.0.0.1", port());
    const auto io_seconds = static_cast<time_t>(kIoTimeout.count() / 1000);
    client.set_connection_timeout(io_seconds, 0);
    client.set_read_timeout(io_seconds, 0);
    client.set_write_timeout(io_seconds, 0);
    // Without it, a request written in two parts (headers, body) waits for
    // the server's delayed ACK: 40 ms a request.
    client.set_tcp_nodelay(true);
    return client;
  }

  // One request on a connection of its own; status 0 if no answer came.
  Reply Exchange(const std::string& request) const {
    RawConnection connection(port());
    Reply reply;
    if (connection.connected() && connection.Send(request)) {
      connection.ReadResponse(&reply);
    }
    return reply;
  }

  // Creates an endpoint; its id, or "" after a test failure.
  std::string CreateAs(const std::string& key, const std::string& toolkit,
                       const std::string& client_id) {
    Reply reply = ToReply(NewClient().Post(kCreatePath, KeyHeaders(key),
                                           CreateBody(toolkit, client_id),
                                           "application/json"));
    EXPECT_EQ(reply.status, 201) << reply.body;
    return StringField(reply.body, "id").value_or("");
  }

  void MustPatch(const std::string& key, const std::string& id,
                 const std::string& body) {
    Reply reply =
        ToReply(NewClient().Patch(std::string(kCreatePath) + "/" + id,
                                  KeyHeaders(key), body, "application/json"));
    EXPECT_EQ(reply.status, 200) << reply.body;
  }

  // Everything a project can read back: its list, and each endpoint and
  // its events, as raw answers.
  std::string Snapshot(const std::string& key) const {
    httplib::Client client = NewClient();
    client.set_keep_alive(true);
    auto read = [&](const std::string& path) {
      Reply reply = ToReply(client.Get(path, KeyHeaders(key)));
      return path + " -> " + std::to_string(reply.status) + " " + reply.body +
             "\n";
    };
    Reply list = ToReply(client.Get(kCreatePath, KeyHeaders(key)));
    std::string snapshot =
        "list -> " + std::to_string(list.status) + " " + list.body + "\n";
    for (const std::string& id : ItemIds(list.body)) {
      const std::string path = std::string(kCreatePath) + "/" + id;
      snapshot += read(path) + read(path + "/events");
    }
    return snapshot;
  }

  // Requests that touch every code path once, so that the first use of
  // each (thread stacks, caches, SQLite's page cache) is not counted
  // against an attack that follows.
  void WarmUp() {
    const std::string id = CreateAs(key_, "slack", "warm-up");
    httplib::Client client = NewClient();
    client.Get(kCreatePath, KeyHeaders(key_));
    client.Get(std::string(kCreatePath) + "/" + id, KeyHeaders(key_));
    client.Post(kCreatePath, KeyHeaders(key_), "{", "application/json");
    Exchange(RawCreate(key_, std::string(70000, ' ')));
    Exchange(RawRequest("GET", "/openapi.json", ""));
    client.Get("/nope");
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  const std::string key_ = RandomKey("hostile_", kAlphanumeric);
};

}  // namespace webhooks::hostile

#endif  // WEBHOOKS_TESTS_HOSTILE_HOSTILE_FIXTURE_H_
