// HardenedServer: Debian's cpp-httplib 0.11.4 server with the connection
// handling it lacks. The library reads a request line, a header line or a
// chunked body without bound, lets one slow client hold a worker forever,
// loses pipelined requests, cannot close a connection from a handler, binds
// with SO_REUSEPORT (a second server on the same port silently takes half the
// traffic) and listens with a backlog of 5. See ../shared/notes/platform.md,
// sections 1.3 to 1.5, for the measurements behind each point.
//
// This class replaces the library's per-connection loop with one that keeps
// one stream per connection (so pipelined bytes are kept) and gives every
// request an absolute deadline and a byte budget, parks connections that are
// idle or still sending their headers so that they hold no worker, and
// replaces the bind with one that fails on a busy port and listens with a
// real backlog. It keeps each request's head as sent, so that the hooks can
// refuse what RFC 9112 refuses and handlers see header values as sent, not
// percent-decoded (request_head.h). With SetTls() it speaks TLS on the same
// listener, under the same deadlines and parking (see the .cpp for the one
// difference). Everything else (parsing, routing, hooks) is the library's.

#ifndef WEBHOOKS_HTTP_HARDENED_SERVER_H_
#define WEBHOOKS_HTTP_HARDENED_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "http/request_head.h"
#include "http/tls.h"

namespace webhooks {

class WorkerPool;

class HardenedServer : public httplib::Server {
 public:
  struct Limits {
    // The whole request (line, headers and body) must arrive within this
    // time of its first byte; a slower client is disconnected.
    std::chrono::milliseconds request_timeout{5000};
    // A response write that makes no progress for this long fails.
    std::chrono::milliseconds write_timeout{5000};
    // An idle keep-alive connection is closed after this long.
    std::chrono::milliseconds keep_alive_timeout{5000};
    // Bytes of one request (line + headers + body) read at most; a request
    // that needs more fails and its connection is closed.
    size_t max_request_bytes = 64 * 1024 + 16 * 1024;
    // Requests served on one connection before it is closed.
    size_t max_requests_per_connection = 1000;
    // The listen(2) backlog.
    int listen_backlog = 1024;
  };

  explicit HardenedServer(const Limits& limits);
  ~HardenedServer() override;

  // Binds `host`:`port` (0 picks a free port) without SO_REUSEPORT and starts
  // listening. Returns the bound port, or -1 with *error saying why (for
  // example that the port is already in use).
  int Bind(const std::string& host, int port, std::string* error);

  // Speaks TLS (HTTPS) on every connection accepted from now on, with
  // `context`. The first call must come before Serve(). A later one (a
  // certificate reload) is safe from any thread: handshakes that begin
  // after it use the new context, connections already made keep theirs.
  void SetTls(TlsContext context);
  bool tls() const { return tls_.load(std::memory_order_acquire); }

  // Serves until Stop() is called. Call after a successful Bind().
  bool Serve();

  // Stops Serve() (or makes it return at once if it has not begun): closes
  // the listening socket, then Serve() finishes the requests in progress.
  // Unlike the library's stop(), which does nothing until the accept loop
  // runs, a call that comes before it is not lost. Safe from any thread.
  void Stop();

  // Serves one connection that is already open (one end of a socketpair,
  // say) on the calling thread until it ends, then closes it: how the fuzz
  // targets drive the whole server in process. Call after Bind().
  bool ServeConnection(socket_t sock) { return process_and_close_socket(sock); }

  // Closes the connection serving the current request after `res` is sent,
  // and says so in `res` ("Connection: close"). Call only from a handler or
  // hook running for that request (they run on the connection's thread);
  // elsewhere only the header is set.
  static void CloseConnectionAfterResponse(httplib::Response& res);

  // Runs `hook` for every response just before it is written (after the
  // library's own headers are set): what must be counted before the client
  // can see the answer, such as metrics. It must not throw.
  void SetBeforeWrite(
      std::function<void(const httplib::Request&, const httplib::Response&)>
          hook) {
    before_write_ = std::move(hook);
  }

  // What is known about the request being served, for the hooks and the
  // access log: 0.11.4's Request has no slot for data of ours. Reset for
  // each request.
  struct RequestNotes {
    std::chrono::steady_clock::time_point started;  // its first byte
    std::string route;       // the route template, once one matched
    std::string project_id;  // once authenticated
    // What is wrong with the request's head as sent (request_head.h), set
    // once the library parsed it and before the pre-routing hook runs;
    // status 0 if nothing. The hooks answer it: this class knows no error
    // format.
    HeadProblem head_problem;
  };

  // The notes of the request this thread is serving, or null outside one
  // (hooks and handlers run on the connection's thread).
  static RequestNotes* CurrentRequestNotes();

  // Whether the client of the request this thread is serving has closed
  // its end (or the connection failed): for a handler that streams a long
  // response and would otherwise learn it only at its next write. False
  // outside a request, and while the client may still read.
  static bool CurrentPeerClosed();

  // The head of the request this thread is serving, as far as it was read,
  // byte for byte; empty outside one. Where the library refused a head
  // before the hooks ran (an unknown method, say), this tells why.
  static std::string_view CurrentRequestHead();

 private:
  class Parker;
  friend class Parker;

  bool process_and_close_socket(socket_t sock) override;
  // Serves `sock` from its `served`+1-th request on. `first_byte` is when
  // that request's first byte arrived, if it has (a connection resumed from
  // the parker). Closes it at the end, unless it hands it to the parker.
  // `ssl` is the connection's TLS session (owned from here on), or null
  // for plain HTTP and for a TLS connection whose handshake has not begun.
  bool ServeFrom(socket_t sock, SSL* ssl, size_t served,
                 std::chrono::steady_clock::time_point first_byte);
  // Completes the TLS handshake on `sock` by `deadline`. Returns the
  // session, or null (the connection is to be closed).
  SSL* AcceptTls(socket_t sock, std::chrono::steady_clock::time_point deadline);

  const Limits limits_;
  // While Serve() runs: holds connections that are idle or still sending
  // their headers, so that they hold no worker (see the .cpp).
  std::unique_ptr<Parker> parker_;
  // The pool serving requests while Serve() runs, if it is a WorkerPool:
  // a worker lets go of its connection when others wait for a worker.
  std::atomic<const WorkerPool*> worker_pool_{nullptr};
  std::function<void(const httplib::Request&, const httplib::Response&)>
      before_write_;
  std::atomic<bool> tls_{false};
  std::mutex tls_mu_;
  TlsContext tls_context_;  // guarded by tls_mu_
};

}  // namespace webhooks

#endif  // WEBHOOKS_HTTP_HARDENED_SERVER_H_
