// OutboundClient: the one outbound POST, on libcurl's multi interface, so
// that one thread (the delivery worker) drives many transfers at once.
// ../shared/spec/subscriptions-and-delivery.md, "Attempts, retries,
// outcomes" and "Where deliveries may go", is the contract it serves:
//
// - POST only, HTTP/1.1, the body as given (binary and NUL bytes included),
//   no "Expect: 100-continue" wait, redirects never followed (a 3xx is a
//   status like any other).
// - TLS peer and host verification on, against the system's CA store.
// - A connect timeout and a total timeout per transfer; a receiver that
//   answers slowly, byte by byte, or never, ends as kTimeout within the
//   total.
// - At most max_response_bytes of the body are kept; then the transfer is
//   stopped, which is not an error (body_truncated). Memory stays bounded
//   whatever the receiver sends: the body is capped, response headers are
//   capped at kMaxResponseHeaders and kMaxResponseHeaderBytes (the rest are
//   dropped, headers_truncated), and libcurl refuses a header line over
//   100 KB on its own.
// - The address policy (util/net.h, RefusedTargetRange) is applied to every
//   address a connection is about to be made to, after resolution and
//   before the socket exists: libcurl connects to the address it resolved
//   and we checked, with no second lookup. A refused address ends the
//   transfer as kBlockedAddress (unless another address of the same name
//   was allowed and answered).
// - Proxies: libcurl honours http_proxy, https_proxy, all_proxy and
//   no_proxy from the environment. Through a proxy, the address connected
//   to is the proxy's, so the policy judges the proxy's address (a proxy on
//   loopback is refused with deny_private_targets) and the target's address
//   is the proxy's business; an operator who sets a proxy for deliveries
//   must make the proxy enforce the policy on its side.

#ifndef WEBHOOKS_HTTP_CLIENT_H_
#define WEBHOOKS_HTTP_CLIENT_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace webhooks {

struct Libcurl;  // http/libcurl.h

struct OutboundRequest {
  uint64_t tag = 0;  // the caller's, echoed in the response
  std::string url;   // absolute http:// or https://
  // Sent as given, in order. A name must be an RFC 9110 token and a value
  // must hold no CR, LF or NUL, or the transfer fails at once (kOther).
  // Without a content-type header none is sent (libcurl's form default is
  // removed); libcurl adds host and content-length itself.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // POSTed
};

enum class TransferError {
  kNone,            // an HTTP status was received (and the body as far as
                    // it was kept)
  kTimeout,         // the connect or the total timeout passed
  kConnect,         // refused, reset, closed early, or a send/receive error
  kDns,             // the name (or the proxy's) did not resolve
  kTls,             // the handshake or the certificate check failed
  kBlockedAddress,  // every address tried was refused by the policy
  kOther,           // a bad URL or header, a protocol violation, no memory
};

// The spec's error class for `error`: "timeout", "connect", "dns", "tls",
// "blocked_address"; kOther is "other" (our choice: none of the spec's
// classes describes a malformed URL or a receiver that breaks HTTP, and
// calling it "connect" would send an operator looking at the network);
// kNone is "".
const char* TransferErrorName(TransferError error);

struct OutboundResponse {
  uint64_t tag = 0;
  // kNone: an HTTP status was received. Otherwise the exchange failed; if
  // a status line had already arrived (say the body was cut short),
  // status_code still holds it.
  TransferError error = TransferError::kNone;
  int status_code = 0;  // 0 when none was received
  // The final response's headers as received, in order, values without
  // surrounding whitespace; at most kMaxResponseHeaders of them and
  // kMaxResponseHeaderBytes of names and values in all, the rest dropped.
  std::vector<std::pair<std::string, std::string>> headers;
  bool headers_truncated = false;  // some were dropped
  std::string body;                // the first max_response_bytes at most
  bool body_truncated = false;     // there was more, and it was not read
  int64_t duration_ms = 0;         // from Start to completion
  // libcurl's message or the policy's reason, for the log. Never holds
  // request headers or the body.
  std::string error_detail;
};

struct ClientOptions {
  int64_t connect_timeout_ms = 5000;
  int64_t total_timeout_ms = 15000;  // from when the transfer leaves the queue
  size_t max_response_bytes = 20000;
  // Also refuse loopback, private and the other special ranges (util/net.h),
  // not only link-local and metadata addresses.
  bool deny_private_targets = false;
  size_t max_concurrent = 64;  // transfers beyond this wait inside the
                               // client, in order (0 is taken as 1)
  std::string user_agent;      // sent as user-agent unless headers has one
};

inline constexpr size_t kMaxResponseHeaders = 100;
inline constexpr size_t kMaxResponseHeaderBytes = 16 * 1024;

// Many transfers driven from one thread through libcurl's multi interface.
// Not thread-safe except Wakeup(): Start, Poll, InFlight and the destructor
// must be called from one thread at a time. libcurl is opened by the first
// transfer (http/libcurl.h), not before: a server that never delivers never
// loads it. If it cannot be opened, every transfer fails as kOther, with
// the reason in error_detail.
class OutboundClient {
 public:
  explicit OutboundClient(ClientOptions options);
  ~OutboundClient();  // aborts transfers still running
  OutboundClient(const OutboundClient&) = delete;
  OutboundClient& operator=(const OutboundClient&) = delete;

  // Begins a transfer, or queues it behind max_concurrent running ones.
  // Never blocks: nothing is resolved or connected until Poll. A request
  // that cannot be sent at all (a bad header) is finished at once and
  // comes out of the next Poll.
  void Start(OutboundRequest request);

  // Drives the transfers and appends those that finished to *done, in the
  // order libcurl reports them. If none finished, waits up to wait_ms for
  // socket activity or a timer, drives them again and returns (so it may
  // return with nothing). Returns early when Wakeup() is called, even one
  // that came before this call.
  void Poll(int64_t wait_ms, std::vector<OutboundResponse>* done);

  // Makes a Poll in progress (or the next one) return early. Thread-safe.
  void Wakeup();

  // Transfers started and not yet returned by Poll, queued ones included.
  size_t InFlight() const;

  // One transfer's state, defined in client.cpp (public only so that
  // libcurl's callbacks there can name it).
  struct Transfer;

 private:
  void Begin(std::unique_ptr<Transfer> transfer);
  void BeginQueued();
  void Collect(std::vector<OutboundResponse>* done);
  void Finish(Transfer* transfer, int code,
              std::vector<OutboundResponse>* done);
  // Opens libcurl and makes the multi handle if not yet done; false, and
  // *problem says why, if it cannot.
  bool Ready(std::string* problem);

  const ClientOptions options_;
  const Libcurl* curl_ = nullptr;  // once the first transfer opened it
  // CURLM*, kept out of this header; made by the first transfer. Written
  // once, under wake_mu_, by the polling thread, which alone reads it
  // without the lock; Wakeup() reads it under the lock.
  void* multi_ = nullptr;
  // Until multi_ exists, Poll waits on woken_ for a Wakeup().
  std::mutex wake_mu_;
  std::condition_variable woken_;
  bool wake_pending_ = false;  // guarded by wake_mu_
  // Running transfers, by their easy handle.
  std::unordered_map<void*, std::unique_ptr<Transfer>> running_;
  std::deque<std::unique_ptr<Transfer>> queued_;
  // Finished without running (refused in Start), for the next Poll.
  std::vector<OutboundResponse> finished_early_;
};

}  // namespace webhooks

#endif  // WEBHOOKS_HTTP_CLIENT_H_
