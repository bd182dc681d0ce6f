// A real receiver of deliveries for the tests: a cpp-httplib server on
// 127.0.0.1 (a port the OS picks) in a thread of its own, that records every
// request and answers as the test's responder says. Tests wait on it with a
// condition variable (WaitFor), never with a sleep.

#ifndef WEBHOOKS_TESTS_DELIVERY_RECEIVER_H_
#define WEBHOOKS_TESTS_DELIVERY_RECEIVER_H_

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace webhooks::testing {

struct Received {
  std::string path;
  httplib::Headers headers;
  std::string body;
  std::chrono::steady_clock::time_point at;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class Receiver {
 public:
  // Answers the n-th request (0-based) to any path; the default answers
  // 200 {}. Runs on the receiver's threads.
  using Responder =
      std::function<void(const httplib::Request&, httplib::Response&, int n)>;

  explicit Receiver(Responder responder = nullptr)
      : responder_(std::move(responder)) {
    server_.Post(".*",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   int n = 0;
                   {
                     std::lock_guard<std::mutex> lock(mu_);
                     n = static_cast<int>(received_.size());
                     received_.push_back({req.path, req.headers, req.body,
                                          std::chrono::steady_clock::now()});
                   }
                   arrived_.notify_all();
                   // No keep-alive: an idle kept-alive connection would hold
                   // the receiver's stop for its 5 s timeout.
                   res.set_header("Connection", "close");
                   if (responder_) {
                     responder_(req, res, n);
                   } else {
                     res.set_content("{}", "application/json");
                   }
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() {
    Release();
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::string Url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // Waits until at least `count` requests arrived; false after `timeout`.
  bool WaitFor(size_t count,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return arrived_.wait_for(lock, timeout,
                             [&] { return received_.size() >= count; });
  }

  std::vector<Received> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_.size();
  }

  // For responders that hold a request until the test lets go (a receiver
  // that never answers): blocks until Release() or `limit`.
  void Hold(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mu_);
    released_cv_.wait_for(lock, limit, [&] { return released_; });
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    released_cv_.notify_all();
  }

 private:
  Responder responder_;
  httplib::Server server_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable arrived_;
  std::condition_variable released_cv_;
  std::vector<Received> received_;  // guarded by mu_
  bool released_ = false;           // guarded by mu_
  std::thread thread_;
};

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_DELIVERY_RECEIVER_H_
