// Receivers that misbehave, end to end: one that never answers, one that
// answers a byte at a time, one that sends 50 MB, one that resets the
// connection, and a target the address policy refuses. Each attempt ends as
// the contract says, within the attempt timeout, with the server's memory
// bounded, and the server keeps serving.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "tests/delivery/delivery_fixture.h"

namespace webhooks::testing {
namespace {

using std::chrono::milliseconds;

class DeliveryReceiversTest : public DeliveryTest {
 protected:
  void SetUp() override {
    // One attempt and a long wait after it: each test looks at one attempt.
    ASSERT_TRUE(
        StartServer({"--retry-schedule", "1h", "--delivery-timeout", "800"}));
  }

  // Subscribes to `url`, sends one event and waits for its first attempt to
  // be recorded; returns that attempt.
  AttemptItem FirstAttempt(const std::string& url) {
    Subscription subscription;
    MustSubscribe(url, &subscription);
    Endpoint endpoint;
    MustCreateSlack("client-1", &endpoint);
    MustSendSlackEvent(endpoint, "EvHostile");
    EXPECT_TRUE(WaitForDeliveries(subscription.id, 1));
    std::vector<DeliveryItem> items = Deliveries(subscription.id);
    if (items.empty()) return {};
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::vector<AttemptItem> attempts;
    while (std::chrono::steady_clock::now() < deadline) {
      Delivery(subscription.id, items[0].id, &attempts);
      if (!attempts.empty()) return attempts[0];
      pollfd none{-1, 0, 0};
      ::poll(&none, 1, 10);
    }
    ADD_FAILURE() << "no attempt was recorded";
    return {};
  }

  void ExpectServing() {
    auto health = NewClient().Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
  }
};

TEST_F(DeliveryReceiversTest, AReceiverThatNeverAnswersTimesOut) {
  Receiver* self = nullptr;
  Receiver holding([&self](const httplib::Request&, httplib::Response&, int) {
    self->Hold(std::chrono::seconds(20));  // until the test ends
  });
  self = &holding;
  AttemptItem attempt = FirstAttempt(holding.Url());
  EXPECT_EQ(attempt.error_class, "timeout");
  EXPECT_FALSE(attempt.status_code.has_value());
  EXPECT_GE(attempt.duration_ms, 700);
  EXPECT_LT(attempt.duration_ms, 5000);
  ExpectServing();
}

TEST_F(DeliveryReceiversTest, AReceiverThatAnswersAByteAtATimeTimesOut) {
  Receiver* self = nullptr;
  Receiver slow([&self](const httplib::Request&, httplib::Response& res, int) {
    res.set_chunked_content_provider(
        "text/plain", [&self](size_t, httplib::DataSink& sink) {
          self->Hold(milliseconds(100));  // the receiver's pace, not a wait
          return sink.write("x", 1);
        });
  });
  self = &slow;
  AttemptItem attempt = FirstAttempt(slow.Url());
  EXPECT_EQ(attempt.error_class, "timeout");
  EXPECT_LT(attempt.duration_ms, 5000);
  EXPECT_LE(attempt.response_body.size(), 20000u);
  ExpectServing();
}

TEST_F(DeliveryReceiversTest, FiftyMegabytesAreCutAtTheExcerpt) {
  const std::string huge(50 * 1024 * 1024, 'x');
  Receiver big([&huge](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(huge, "text/plain");
  });
  AttemptItem attempt = FirstAttempt(big.Url());
  EXPECT_EQ(attempt.status_code, 200);
  EXPECT_EQ(attempt.error_class, "");
  EXPECT_EQ(attempt.response_body.size(), 20000u);
  // The server never held the body: its peak stays far below 50 MB
  // (except under ASan, whose shadow memory and quarantine say nothing of
  // ours).
  if (!kSanitized) {
    EXPECT_LT(StatusKib(server_->pid(), "VmHWM"), 48 * 1024);
  }
  ExpectServing();
}

TEST_F(DeliveryReceiversTest, AResetConnectionIsAConnectError) {
  // A raw listener that reads the request, then resets (SO_LINGER 0).
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(
      ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t length = sizeof(address);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  std::atomic<bool> stop{false};
  std::thread resetter([&] {
    while (!stop) {
      pollfd ready{listener, POLLIN, 0};
      if (::poll(&ready, 1, 50) <= 0) continue;
      int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) continue;
      char buffer[4096];
      (void)::recv(connection, buffer, sizeof(buffer), 0);
      linger hard{1, 0};
      ::setsockopt(connection, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
      ::close(connection);
    }
  });
  AttemptItem attempt =
      FirstAttempt("http://127.0.0.1:" + std::to_string(port) + "/hook");
  stop = true;
  resetter.join();
  ::close(listener);
  EXPECT_EQ(attempt.error_class, "connect");
  ExpectServing();
}

TEST_F(DeliveryReceiversTest, DenyPrivateTargetsRefusesTheResolvedAddress) {
  ASSERT_TRUE(
      StartServer({"--retry-schedule", "1h", "--deny-private-targets"}));
  Receiver receiver;
  // A name, not an IP literal: accepted at create, refused when resolved.
  AttemptItem attempt = FirstAttempt(
      "http://localhost:" + std::to_string(receiver.port()) + "/hook");
  EXPECT_EQ(attempt.error_class, "blocked_address");
  EXPECT_EQ(receiver.Count(), 0u);
}

TEST_F(DeliveryReceiversTest, AClosedPortIsAConnectError) {
  int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(
      ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  ::close(probe);  // bound, never listening, now closed: nothing answers
  AttemptItem attempt =
      FirstAttempt("http://127.0.0.1:" + std::to_string(port) + "/hook");
  EXPECT_EQ(attempt.error_class, "connect");
}

}  // namespace
}  // namespace webhooks::testing
