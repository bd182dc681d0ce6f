// HardenedServer: the per-connection loop, the bounded stream it reads
// through, and the bind. See hardened_server.h for why each exists.

#include "http/hardened_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "http/worker_pool.h"

namespace webhooks {
namespace {

using Clock = std::chrono::steady_clock;

int MillisUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(
      0, std::min<std::chrono::milliseconds::rep>(left.count(), 60'000)));
}

// Waits until `sock` has `events` or `timeout_ms` passes. True if ready.
bool PollFor(int sock, short events, int timeout_ms) {
  pollfd pfd{sock, events, 0};
  for (;;) {
    int n = ::poll(&pfd, 1, timeout_ms);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

void AddressOf(const sockaddr_storage& addr, socklen_t len, std::string* ip,
               int* port) {
  std::array<char, NI_MAXHOST> host{};
  std::array<char, NI_MAXSERV> service{};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host.data(),
                    static_cast<socklen_t>(host.size()), service.data(),
                    static_cast<socklen_t>(service.size()),
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    *ip = host.data();
    *port = std::atoi(service.data());
  }
}

// The stream every request of one connection is read from and written to.
// It is kept for the whole connection, so bytes of a pipelined request that
// arrived with the previous one stay in its buffer. Per request, reads stop
// at a deadline and after a byte budget; a failed read is what makes the
// library answer 400 (or give up) instead of buffering without bound.
// Over TLS it reads and writes through `ssl` (the socket is then
// non-blocking, and every wait is a poll bounded by the same deadlines).
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int sock, SSL* ssl, std::chrono::milliseconds write_timeout)
      : sock_(sock),
        ssl_(ssl),
        write_timeout_ms_(static_cast<int>(write_timeout.count())) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      AddressOf(addr, len, &remote_ip_, &remote_port_);
    }
    len = sizeof(addr);
    if (::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      AddressOf(addr, len, &local_ip_, &local_port_);
    }
  }

  // Waits for the first byte of the next request, up to `idle` or until
  // `keep_running` returns false. True if a request is there to read.
  template <typename KeepRunning>
  bool WaitForRequest(std::chrono::milliseconds idle,
                      KeepRunning keep_running) {
    if (buffered() > 0 || TlsPending()) return true;
    const auto deadline = Clock::now() + idle;
    // Slices, so that a stopping server is noticed promptly.
    while (keep_running()) {
      int left = MillisUntil(deadline);
      if (left == 0) return false;
      if (PollFor(sock_, POLLIN, std::min(left, 100))) return true;
    }
    return false;
  }

  void BeginRequest(std::chrono::milliseconds timeout, size_t budget) {
    deadline_ = Clock::now() + timeout;
    budget_left_ = budget;
    failed_ = false;
    head_.clear();
    head_complete_ = false;
  }

  // The request's head as read so far, byte for byte: its request line and
  // header lines, and once complete, the empty line that ends them. The
  // library parses a head one byte a read, so this holds exactly what it
  // parsed; the budget bounds it.
  std::string_view head() const { return head_; }

  // True once a read failed (deadline, budget, error or EOF): whatever is
  // left on the connection cannot be trusted to start a request.
  bool failed() const { return failed_; }

  // Bytes received and not yet read (a pipelined request's start).
  size_t buffered() const { return end_ - begin_; }

  // Bytes TLS decrypted (or received) and we have not read yet: like
  // buffered(), they pin the connection to a worker.
  bool TlsPending() const { return ssl_ != nullptr && SSL_has_pending(ssl_); }

  bool is_readable() const override {
    return buffered() > 0 || TlsPending() || PollFor(sock_, POLLIN, 0);
  }

  bool is_writable() const override {
    return PollFor(sock_, POLLOUT, write_timeout_ms_);
  }

  // The peer closed its end (EOF, a reset or an error): what a streaming
  // handler checks while it has nothing to write. Bytes waiting to be read
  // (a pipelined request) are not a close.
  bool PeerClosed() const {
    pollfd pfd{sock_, POLLIN | POLLRDHUP, 0};
    if (::poll(&pfd, 1, 0) <= 0) return false;
    if ((pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return true;
    char byte;
    const ssize_t n = ::recv(sock_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (budget_left_ == 0) return Fail();
    if (buffered() == 0 && !Fill()) return Fail();
    size_t n = std::min({size, buffered(), budget_left_});
    std::memcpy(ptr, buffer_.data() + begin_, n);
    if (!head_complete_) KeepHead(ptr, n);
    begin_ += n;
    budget_left_ -= n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (ssl_ != nullptr) return WriteTls(ptr, size);
    if (!PollFor(sock_, POLLOUT, write_timeout_ms_)) return -1;
    for (;;) {
      ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
      if (n >= 0 || errno != EINTR) return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_ip_;
    port = remote_port_;
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_ip_;
    port = local_port_;
  }

  socket_t socket() const override { return sock_; }

 private:
  ssize_t Fail() {
    failed_ = true;
    return -1;
  }

  void KeepHead(const char* bytes, size_t n) {
    const size_t searched_from = head_.size() < 3 ? 0 : head_.size() - 3;
    head_.append(bytes, n);
    // The library reads a head a byte at a time; only a LF can end it.
    if (std::memchr(bytes, '\n', n) == nullptr) return;
    const size_t end = head_.find("\r\n\r\n", searched_from);
    if (end != std::string::npos) {
      head_.resize(end + 4);  // anything after it is the body's
      head_complete_ = true;
    }
  }

  // What a TLS call that did not complete waits for: POLLIN or POLLOUT,
  // or 0 if it failed for good (the peer closed, or a protocol error).
  short TlsWaitsFor(int result) const {
    switch (SSL_get_error(ssl_, result)) {
      case SSL_ERROR_WANT_READ:
        return POLLIN;
      case SSL_ERROR_WANT_WRITE:
        return POLLOUT;
      default:
        return 0;
    }
  }

  // SSL_read into the buffer, waiting no later than the request deadline.
  bool FillTls() {
    for (;;) {
      ERR_clear_error();
      const int n =
          SSL_read(ssl_, buffer_.data(), static_cast<int>(buffer_.size()));
      if (n > 0) {
        end_ = static_cast<size_t>(n);
        return true;
      }
      const short events = TlsWaitsFor(n);
      if (events == 0 || !PollFor(sock_, events, MillisUntil(deadline_))) {
        return false;
      }
    }
  }

  // SSL_write, failing once it made no progress for the write timeout (a
  // retry after WANT_* passes the same bytes, as OpenSSL requires).
  ssize_t WriteTls(const char* ptr, size_t size) {
    if (size == 0) return 0;
    const int chunk = static_cast<int>(std::min<size_t>(size, 1 << 20));
    const auto deadline =
        Clock::now() + std::chrono::milliseconds(write_timeout_ms_);
    for (;;) {
      ERR_clear_error();
      const int n = SSL_write(ssl_, ptr, chunk);
      if (n > 0) return n;
      const short events = TlsWaitsFor(n);
      if (events == 0 || !PollFor(sock_, events, MillisUntil(deadline))) {
        return -1;
      }
    }
  }

  // Reads whatever has arrived, waiting no later than the deadline.
  bool Fill() {
    begin_ = end_ = 0;
    if (ssl_ != nullptr) return FillTls();
    if (!PollFor(sock_, POLLIN, MillisUntil(deadline_))) return false;
    for (;;) {
      ssize_t n = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      if (n > 0) {
        end_ = static_cast<size_t>(n);
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      return false;  // EOF or error
    }
  }

  const int sock_;
  SSL* const ssl_;  // null for plain HTTP; owned by the connection loop
  const int write_timeout_ms_;
  std::string remote_ip_;
  int remote_port_ = 0;
  std::string local_ip_;
  int local_port_ = 0;
  std::array<char, 16 * 1024> buffer_{};
  size_t begin_ = 0;
  size_t end_ = 0;
  Clock::time_point deadline_{};
  size_t budget_left_ = 0;
  bool failed_ = false;
  std::string head_;
  bool head_complete_ = false;
};

// What hooks and handlers may tell the connection loop, and the notes of
// the request in progress.
struct ConnectionState {
  bool close_requested = false;
  HardenedServer::RequestNotes notes;
  const ConnectionStream* stream = nullptr;
};

// The state of the connection this thread is serving, or null. A worker
// thread serves one connection at a time, from process_and_close_socket to
// its return, and the library runs every hook and handler of a request on
// that thread; 0.11.4's Request has no slot for per-connection data.
thread_local ConnectionState* current_connection = nullptr;

class ScopedConnection {
 public:
  explicit ScopedConnection(ConnectionState* state) {
    current_connection = state;
  }
  ScopedConnection(const ScopedConnection&) = delete;
  ScopedConnection& operator=(const ScopedConnection&) = delete;
  ~ScopedConnection() { current_connection = nullptr; }
};

// How long a worker waits for a request's first byte, or for the rest of
// its headers, before handing the connection to the parker. Well-behaved
// clients send a whole request at once; a keep-alive client's next request
// usually follows within a millisecond.
constexpr std::chrono::milliseconds kParkAfter{20};

// At most this much of a request is looked at, unread, to find the end of
// its headers; a longer header block goes to a worker, which reads it
// within the request's deadline and byte budget.
constexpr size_t kPeekBytes = 16 * 1024;

enum class Headers {
  kComplete,    // all arrived: a worker can parse them without waiting
  kIncomplete,  // more may come
  kForWorker,   // more than kPeekBytes, or the socket failed: a worker
                // reads what is there within the deadline and budget
  kNever,       // the peer closed its side first: they can never complete
};

// Whether the peer has shut down its sending side (a FIN arrived).
bool PeerClosed(int sock) {
  pollfd pfd{sock, POLLRDHUP, 0};
  return ::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP)) != 0;
}

// Whether the headers of the request waiting on `sock` have all arrived,
// looking without reading (MSG_PEEK), so a worker later parses them from
// the socket as usual.
Headers PeekHeaders(int sock) {
  std::array<char, kPeekBytes> peeked;
  ssize_t n;
  do {
    n = ::recv(sock, peeked.data(), peeked.size(), MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return errno == EAGAIN || errno == EWOULDBLOCK ? Headers::kIncomplete
                                                   : Headers::kForWorker;
  }
  if (n == 0) return Headers::kNever;  // closed with nothing sent
  if (std::string_view(peeked.data(), static_cast<size_t>(n))
          .find("\r\n\r\n") != std::string_view::npos) {
    return Headers::kComplete;
  }
  if (static_cast<size_t>(n) == kPeekBytes) return Headers::kForWorker;
  // Half a request and then a FIN (a client that timed out, or one that
  // spoke TLS to us): nothing more will come. Waiting on it would find the
  // socket readable at once, forever.
  return PeerClosed(sock) ? Headers::kNever : Headers::kIncomplete;
}

}  // namespace

// Slow clients hold no worker. cpp-httplib gives each connection a worker
// for its whole life, so a few hundred clients that dribble their headers
// (slowloris) or sit idle between requests would hold every worker, and
// everyone else would wait in the accept queue (measured: 300 slowloris
// connections delayed a probe by 18 s). A worker that waits kParkAfter
// without a whole request hands the connection to the parker: one thread
// that polls every such connection and gives it back to the pool once its
// headers have all arrived, or closes it at its deadline (the request's, or
// the keep-alive timeout). A slow body still holds its worker, within the
// request deadline.
//
// Under TLS the parker cannot see whether the headers are complete: the
// bytes are encrypted, and decrypting them here would put every
// connection's handshake and reads on this one thread. So a TLS connection
// is parked only while idle (no byte since its last request, or since it
// connected, before any handshake) and goes back to a worker at its first
// byte; the worker then does the handshake and reads the request, both
// within the request deadline. The difference: a TLS client that dribbles
// its handshake or its headers holds a worker for up to the request
// deadline (5 s), where a plain one holds none. Deadlines, byte budgets and
// the bounded pool are the same.
class HardenedServer::Parker {
 public:
  explicit Parker(HardenedServer& server)
      : server_(server), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    thread_ = std::thread([this] { Loop(); });
  }
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;
  ~Parker() {
    Stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  // Where connections go back when their headers are complete.
  void SetQueue(httplib::TaskQueue* queue) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_ = queue;
  }

  // Takes over `sock` and its TLS session `ssl` (null if none): it is
  // served again or closed, never both.
  void Park(socket_t sock, SSL* ssl, size_t served,
            Clock::time_point first_byte, Clock::time_point deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        arriving_.push_back({sock, ssl, served, first_byte, deadline});
        sock = INVALID_SOCKET;
      }
    }
    if (sock != INVALID_SOCKET) {
      Release(sock, ssl);  // stopping: nobody will serve it
      return;
    }
    Wake();
  }

  // Queues `job` on the pool connections go back to; false if there is
  // none (stopping), and then nothing is queued.
  bool Requeue(std::function<void()> job) {
    httplib::TaskQueue* queue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue = stopping_ ? nullptr : queue_;
    }
    if (queue == nullptr) return false;
    queue->enqueue(std::move(job));
    return true;
  }

  // Closes every parked connection and ends the thread. Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    Wake();
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Parked {
    socket_t sock;
    SSL* ssl;  // its TLS session, owned; null for plain HTTP or before one
    size_t served;
    Clock::time_point first_byte;  // of the awaited request; {} if none yet
    Clock::time_point deadline;    // closed unanswered after this
  };

  void Wake() {
    const uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof(one)) < 0) {
      // The counter is full: a wake-up is pending anyway.
    }
  }

  void Loop() {
    std::vector<Parked> parked;
    std::vector<pollfd> fds;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) break;
        for (Parked& p : arriving_) parked.push_back(p);
        arriving_.clear();
      }
      fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
      auto next_deadline = Clock::now() + std::chrono::seconds(1);
      for (const Parked& p : parked) {
        fds.push_back(pollfd{p.sock, POLLIN | POLLRDHUP, 0});
        next_deadline = std::min(next_deadline, p.deadline);
      }
      int ready = ::poll(fds.data(), fds.size(), MillisUntil(next_deadline));
      if (ready < 0 && errno != EINTR) break;
      if (fds[0].revents != 0) {
        uint64_t count;
        while (::read(wake_fd_, &count, sizeof(count)) > 0) {
        }
      }
      const auto now = Clock::now();
      // fds[i + 1] is parked[i]; walk backwards so removal keeps them paired.
      for (size_t i = parked.size(); i-- > 0;) {
        Parked& p = parked[i];
        const short events = fds[i + 1].revents;
        bool done = false;
        if (events & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) {
          if (p.first_byte == Clock::time_point{} && (events & POLLIN)) {
            p.first_byte = now;
            p.deadline = now + server_.limits_.request_timeout;
          }
          // TLS: any byte (a ClientHello, a request) is for a worker.
          Headers headers = !server_.tls()           ? PeekHeaders(p.sock)
                            : (events & POLLIN) != 0 ? Headers::kForWorker
                                                     : Headers::kNever;
          // Once the peer hung up, what it sent is all there will be: a
          // request cut short is never answered, so it is closed now.
          // Handing it to a worker would bring it back here at once, in a
          // loop that burns a core until the server stops.
          if (headers == Headers::kIncomplete &&
              (events & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
            headers = Headers::kNever;
          }
          switch (headers) {
            case Headers::kIncomplete:
              break;
            case Headers::kComplete:
            case Headers::kForWorker:
              Dispatch(p);
              done = true;
              break;
            case Headers::kNever:
              Close(p.sock, p.ssl);
              done = true;
              break;
          }
        }
        if (!done && now >= p.deadline) {
          Close(p.sock, p.ssl);
          done = true;
        }
        if (done) {
          parked[i] = parked.back();
          parked.pop_back();
        }
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (Parked& p : arriving_) parked.push_back(p);
    arriving_.clear();
    for (const Parked& p : parked) Release(p.sock, p.ssl);
  }

  static void Release(socket_t sock, SSL* ssl) {
    if (ssl != nullptr) SSL_free(ssl);
    ::close(sock);
  }

  static void Close(socket_t sock, SSL* ssl) {
    ::shutdown(sock, SHUT_RDWR);
    Release(sock, ssl);
  }

  void Dispatch(const Parked& p) {
    httplib::TaskQueue* queue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue = queue_;
    }
    if (queue == nullptr) {
      Release(p.sock, p.ssl);
      return;
    }
    HardenedServer* server = &server_;
    queue->enqueue([server, p] {
      server->ServeFrom(p.sock, p.ssl, p.served, p.first_byte);
    });
  }

  HardenedServer& server_;
  const int wake_fd_;
  std::mutex mu_;
  httplib::TaskQueue* queue_ = nullptr;  // guarded by mu_
  std::vector<Parked> arriving_;         // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  std::thread thread_;
};

namespace {

// The library's task queue, with the parker stopped first when the library
// shuts the queue down (it then joins the workers): parked connections are
// closed, and none is handed to a pool that no longer runs.
class ParkingTaskQueue final : public httplib::TaskQueue {
 public:
  ParkingTaskQueue(httplib::TaskQueue* pool, std::function<void()> stop_parker)
      : pool_(pool), stop_parker_(std::move(stop_parker)) {}
  void enqueue(std::function<void()> fn) override {
    pool_->enqueue(std::move(fn));
  }
  void shutdown() override {
    stop_parker_();
    pool_->shutdown();
  }

 private:
  std::unique_ptr<httplib::TaskQueue> pool_;
  std::function<void()> stop_parker_;
};

}  // namespace

HardenedServer::~HardenedServer() = default;

void HardenedServer::Stop() {
  // The accept loop runs while svr_sock_ is valid, and checks it before it
  // first waits: closing it here is seen whenever the loop starts.
  const socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
  if (sock == INVALID_SOCKET) return;
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

bool HardenedServer::Serve() {
  parker_ = std::make_unique<Parker>(*this);
  auto make_pool = new_task_queue;
  new_task_queue = [this, make_pool] {
    Parker* parker = parker_.get();
    httplib::TaskQueue* pool = make_pool();
    worker_pool_.store(dynamic_cast<const WorkerPool*>(pool));
    auto* queue = new ParkingTaskQueue(pool, [parker] { parker->Stop(); });
    parker->SetQueue(queue);
    return queue;
  };
  const bool ok = listen_after_bind();
  worker_pool_.store(nullptr);
  new_task_queue = make_pool;
  parker_.reset();
  return ok;
}

HardenedServer::HardenedServer(const Limits& limits) : limits_(limits) {
  set_tcp_nodelay(true);
  // SO_REUSEADDR allows a restart while old connections linger in
  // TIME_WAIT; leaving out the library's SO_REUSEPORT makes a second bind of
  // a busy port fail instead of splitting the traffic.
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  auto seconds = [](std::chrono::milliseconds ms) {
    return static_cast<time_t>(std::max<long long>(1, ms.count() / 1000));
  };
  // Used by the library's own accept loop for SO_RCVTIMEO/SO_SNDTIMEO.
  set_read_timeout(seconds(limits.request_timeout));
  set_write_timeout(seconds(limits.write_timeout));
  set_keep_alive_timeout(seconds(limits.keep_alive_timeout));
  set_keep_alive_max_count(limits.max_requests_per_connection);
  set_payload_max_length(limits.max_request_bytes);
  // Runs after the library added its own Keep-Alive header; a response that
  // closes its connection must not also promise to keep it.
  set_post_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (res.get_header_value("Connection") == "close") {
          res.headers.erase("Keep-Alive");
        }
        if (before_write_) before_write_(req, res);
      });
}

int HardenedServer::Bind(const std::string& host, int port,
                         std::string* error) {
  errno = 0;
  int bound = port == 0 ? bind_to_any_port(host) : port;
  bool ok = port == 0 ? bound > 0 : bind_to_port(host, port);
  if (!ok) {
    int saved = errno;
    *error = "cannot listen on " + host + ":" + std::to_string(port) + ": " +
             (saved == EADDRINUSE
                  ? "the port is already in use (is another server running "
                    "on it?)"
              : saved != 0 ? std::strerror(saved)
                           : "the address is not available");
    return -1;
  }
  // The library listened with a backlog of 5; Linux lets a second listen()
  // raise it.
  if (::listen(svr_sock_, limits_.listen_backlog) != 0) {
    *error = std::string("listen: ") + std::strerror(errno);
    return -1;
  }
  return bound;
}

HardenedServer::RequestNotes* HardenedServer::CurrentRequestNotes() {
  return current_connection != nullptr ? &current_connection->notes : nullptr;
}

bool HardenedServer::CurrentPeerClosed() {
  if (current_connection == nullptr || current_connection->stream == nullptr) {
    return false;
  }
  return current_connection->stream->PeerClosed();
}

std::string_view HardenedServer::CurrentRequestHead() {
  return current_connection != nullptr && current_connection->stream != nullptr
             ? current_connection->stream->head()
             : std::string_view();
}

void HardenedServer::CloseConnectionAfterResponse(httplib::Response& res) {
  if (current_connection != nullptr) current_connection->close_requested = true;
  res.set_header("Connection", "close");
}

void HardenedServer::SetTls(TlsContext context) {
  {
    std::lock_guard<std::mutex> lock(tls_mu_);
    tls_context_ = std::move(context);
  }
  tls_.store(true, std::memory_order_release);
}

SSL* HardenedServer::AcceptTls(socket_t sock, Clock::time_point deadline) {
  TlsContext context;
  {
    std::lock_guard<std::mutex> lock(tls_mu_);
    context = tls_context_;
  }
  // The session takes a reference to the context: a reload that replaces
  // it leaves this connection's certificate alone.
  SSL* ssl = context != nullptr ? SSL_new(context.get()) : nullptr;
  if (ssl == nullptr) return nullptr;
  if (SSL_set_fd(ssl, sock) == 1) {
    for (;;) {
      ERR_clear_error();
      const int result = SSL_accept(ssl);
      if (result == 1) return ssl;
      const int reason = SSL_get_error(ssl, result);
      const short events = reason == SSL_ERROR_WANT_READ    ? POLLIN
                           : reason == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                            : 0;
      // Anything else (plain HTTP, an old protocol version, no shared
      // cipher) fails at once: the connection is closed, no worker waits.
      if (events == 0 || !PollFor(sock, events, MillisUntil(deadline))) break;
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
  return nullptr;
}

bool HardenedServer::process_and_close_socket(socket_t sock) {
  int yes = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  if (tls()) {
    // Every TLS read and write waits in poll(), under our deadlines; a
    // blocking socket would let OpenSSL wait inside recv() instead.
    const int flags = ::fcntl(sock, F_GETFL);
    if (flags < 0 || ::fcntl(sock, F_SETFL, flags | O_NONBLOCK) != 0) {
      ::close(sock);
      return false;
    }
  }
  return ServeFrom(sock, nullptr, 0, Clock::time_point{});
}

bool HardenedServer::ServeFrom(socket_t sock, SSL* ssl, size_t served,
                               Clock::time_point first_byte) {
  auto running = [this] { return svr_sock_ != INVALID_SOCKET; };
  if (tls() && ssl == nullptr) {
    // A new TLS connection. Like an idle keep-alive one, it holds no
    // worker until its client sends something (the parker waits); the
    // handshake then has the request deadline from that first byte.
    if (first_byte == Clock::time_point{}) {
      if (parker_ != nullptr &&
          !PollFor(sock, POLLIN, static_cast<int>(kParkAfter.count()))) {
        if (!running()) {
          ::close(sock);
          return true;
        }
        parker_->Park(sock, nullptr, served, Clock::time_point{},
                      Clock::now() + limits_.keep_alive_timeout - kParkAfter);
        return true;
      }
      first_byte = Clock::now();
    }
    ssl = AcceptTls(sock, first_byte + limits_.request_timeout);
    if (ssl == nullptr) {
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
      return false;
    }
    // The first request's deadline counts from its own first byte.
    first_byte = Clock::time_point{};
  }
  ConnectionState state;
  ScopedConnection scoped_state(&state);
  ConnectionStream stream(sock, ssl, limits_.write_timeout);
  state.stream = &stream;
  // Runs once the library has parsed a head, before any hook: judges the
  // head as sent, and puts back the header values as sent (the library
  // percent-decoded them; see request_head.h).
  const std::function<void(httplib::Request&)> check_head =
      [&stream, &state](httplib::Request& req) {
        const std::string_view head = stream.head();
        state.notes.head_problem = CheckRequestHead(head);
        // Without a '%' after the request line, decoding changed nothing:
        // the library's values are the ones sent (the common case, and
        // the cheap one).
        if (state.notes.head_problem.status == 0 &&
            head.find('%', head.find('\n')) == std::string_view::npos) {
          return;
        }
        httplib::Headers sent;
        if (state.notes.head_problem.status == 0) {
          for (const HeaderField& field : HeaderFieldsOf(head)) {
            sent.emplace(std::string(field.name), std::string(field.value));
          }
        }
        // The library's own four, added after the client's (a second copy
        // of one is how a client's spoofed copy is recognised).
        sent.emplace("REMOTE_ADDR", req.remote_addr);
        sent.emplace("REMOTE_PORT", std::to_string(req.remote_port));
        sent.emplace("LOCAL_ADDR", req.local_addr);
        sent.emplace("LOCAL_PORT", std::to_string(req.local_port));
        req.headers = std::move(sent);
      };
  bool ok = true;
  // Requests served by this call: a connection requeued below serves at
  // least one before it can be requeued again.
  size_t served_here = 0;
  for (; served < limits_.max_requests_per_connection;
       ++served, ++served_here) {
    // Only a connection with nothing buffered can be parked: bytes already
    // read would be lost.
    if (parker_ != nullptr && stream.buffered() == 0 && !stream.TlsPending()) {
      if (first_byte == Clock::time_point{}) {
        if (!stream.WaitForRequest(kParkAfter, running)) {
          if (!running()) break;
          parker_->Park(sock, ssl, served, Clock::time_point{},
                        Clock::now() + limits_.keep_alive_timeout - kParkAfter);
          return true;  // the parker owns the socket (and session) now
        }
        first_byte = Clock::now();
      }
      // Under TLS the headers cannot be peeked (the Parker's comment): the
      // worker reads them within the request deadline.
      Headers headers = ssl != nullptr ? Headers::kComplete : PeekHeaders(sock);
      const auto give_up = Clock::now() + kParkAfter;
      while (headers == Headers::kIncomplete && Clock::now() < give_up &&
             PollFor(sock, POLLIN, MillisUntil(give_up))) {
        headers = PeekHeaders(sock);
      }
      if (headers == Headers::kNever) break;
      if (headers == Headers::kIncomplete) {
        parker_->Park(sock, ssl, served, first_byte,
                      first_byte + limits_.request_timeout);
        return true;
      }
      // Other connections wait for a worker: this one, its next request
      // here, goes to the back of the line rather than keep its worker
      // (more busy keep-alive clients than --threads would starve).
      const WorkerPool* pool = worker_pool_.load(std::memory_order_relaxed);
      if (served_here > 0 && headers == Headers::kComplete && pool != nullptr &&
          pool->Backlogged()) {
        HardenedServer* self = this;
        const Clock::time_point arrived = first_byte;
        if (parker_->Requeue([self, sock, ssl, served, arrived] {
              self->ServeFrom(sock, ssl, served, arrived);
            })) {
          return true;  // the queued job owns the socket (and session)
        }
      }
    } else if (!stream.WaitForRequest(limits_.keep_alive_timeout, running)) {
      break;
    }
    // The request's deadline counts from its first byte, parked or not.
    const auto started =
        first_byte == Clock::time_point{} ? Clock::now() : first_byte;
    stream.BeginRequest(std::chrono::duration_cast<std::chrono::milliseconds>(
                            started + limits_.request_timeout - Clock::now()),
                        limits_.max_request_bytes);
    first_byte = Clock::time_point{};
    state.notes = RequestNotes{Clock::now(), "", "", HeadProblem{}};
    state.close_requested = false;
    const bool last = served + 1 == limits_.max_requests_per_connection;
    bool connection_closed = false;
    ok = process_request(stream, last, connection_closed, check_head);
    if (!ok || connection_closed || state.close_requested || stream.failed()) {
      break;
    }
  }
  if (ssl != nullptr) {
    // A close_notify, so that a client reading to the end sees a clean
    // one; skipped after a failure, when the session may be unusable.
    if (ok && !stream.failed()) {
      ERR_clear_error();
      SSL_shutdown(ssl);
    }
    ERR_clear_error();
    SSL_free(ssl);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace webhooks
