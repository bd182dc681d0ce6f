// OutboundClient on libcurl's multi interface (see client.h for the
// contract). One easy handle per transfer, made when it leaves the queue
// and freed when Poll hands back its response; connections are kept in the
// multi handle's cache between transfers to the same receiver.

#include "http/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <string_view>

#include "http/libcurl.h"
#include "util/net.h"
#include "util/text.h"

namespace webhooks {

const char* TransferErrorName(TransferError error) {
  switch (error) {
    case TransferError::kNone:
      return "";
    case TransferError::kTimeout:
      return "timeout";
    case TransferError::kConnect:
      return "connect";
    case TransferError::kDns:
      return "dns";
    case TransferError::kTls:
      return "tls";
    case TransferError::kBlockedAddress:
      return "blocked_address";
    case TransferError::kOther:
      return "other";
  }
  return "other";
}

// ---------------------------------------------------------------------------
// One transfer
// ---------------------------------------------------------------------------

namespace {

struct EasyDeleter {
  const Libcurl* curl = nullptr;
  void operator()(CURL* easy) const { curl->easy_cleanup(easy); }
};
struct ListDeleter {
  const Libcurl* curl = nullptr;
  void operator()(curl_slist* list) const { curl->slist_free_all(list); }
};

}  // namespace

struct OutboundClient::Transfer {
  OutboundRequest request;
  OutboundResponse response;
  std::chrono::steady_clock::time_point started;
  size_t max_body = 0;
  bool deny_private = false;

  std::unique_ptr<CURL, EasyDeleter> easy;
  std::unique_ptr<curl_slist, ListDeleter> header_list;
  char error_buffer[CURL_ERROR_SIZE] = {};

  size_t header_bytes = 0;  // names and values kept in response.headers
  // The address policy's verdicts on the addresses libcurl tried.
  bool refused = false;          // at least one was refused
  bool allowed_attempt = false;  // at least one was allowed
  std::string refused_detail;    // the last refusal, for the log
};

namespace {

// RFC 9110 tchar: what a header name may be made of.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool IsHeaderName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), IsTokenChar);
}

bool IsHeaderValue(const std::string& value) {
  return value.find_first_of(std::string("\r\n\0", 3)) == std::string::npos;
}

bool HasHeader(const OutboundRequest& request, std::string_view name) {
  return std::any_of(request.headers.begin(), request.headers.end(),
                     [name](const auto& header) {
                       return EqualsIgnoringCase(header.first, name);
                     });
}

std::string_view TrimWhitespace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' ||
                           text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// The request's headers as libcurl takes them, in order. "Name;" is how
// libcurl sends an empty value ("Name:" would remove the header), and
// "Name:" removes a header libcurl would add on its own.
curl_slist* BuildHeaderList(const Libcurl& curl, const OutboundRequest& request,
                            std::string* problem) {
  std::unique_ptr<curl_slist, ListDeleter> list(nullptr, ListDeleter{&curl});
  auto append = [&curl, &list](const std::string& line) {
    curl_slist* grown = curl.slist_append(list.get(), line.c_str());
    if (grown == nullptr) return false;
    list.release();
    list.reset(grown);
    return true;
  };
  for (const auto& [name, value] : request.headers) {
    if (!IsHeaderName(name) || !IsHeaderValue(value)) {
      *problem = "header " + Printable(name, 64) +
                 " is not a valid HTTP header; nothing was sent";
      return nullptr;
    }
    if (!append(value.empty() ? name + ";" : name + ": " + value)) {
      *problem = "out of memory";
      return nullptr;
    }
  }
  // No 100-continue round trip; no form content type and no Accept that
  // the caller did not ask for.
  for (const char* name : {"Expect", "Content-Type", "Accept"}) {
    if (!HasHeader(request, name) && !append(std::string(name) + ":")) {
      *problem = "out of memory";
      return nullptr;
    }
  }
  return list.release();
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<OutboundClient::Transfer*>(user);
  const size_t bytes = size * count;
  std::string& body = transfer->response.body;
  const size_t room =
      transfer->max_body - std::min(transfer->max_body, body.size());
  if (bytes <= room) {
    body.append(data, bytes);
    return bytes;
  }
  // Keep what fits, then stop: returning fewer bytes than given aborts the
  // transfer (CURLE_WRITE_ERROR), which Finish reports as a success.
  body.append(data, room);
  transfer->response.body_truncated = true;
  return room;
}

size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<OutboundClient::Transfer*>(user);
  const size_t bytes = size * count;
  OutboundResponse& response = transfer->response;
  const std::string_view line(data, bytes);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after a 1xx, or a proxy's CONNECT answer): only
    // the final response's headers are kept.
    response.headers.clear();
    response.headers_truncated = false;
    transfer->header_bytes = 0;
    return bytes;
  }
  const std::string_view trimmed = TrimWhitespace(line);
  if (trimmed.empty()) return bytes;
  const bool continuation = line.front() == ' ' || line.front() == '\t';
  if (continuation) {
    // Obsolete line folding: part of the previous value.
    if (!response.headers.empty() && !response.headers_truncated &&
        transfer->header_bytes + trimmed.size() + 1 <=
            kMaxResponseHeaderBytes) {
      response.headers.back().second.append(" ").append(trimmed);
      transfer->header_bytes += trimmed.size() + 1;
    }
    return bytes;
  }
  const size_t colon = trimmed.find(':');
  if (colon == std::string_view::npos) return bytes;
  const std::string_view name = TrimWhitespace(trimmed.substr(0, colon));
  const std::string_view value = TrimWhitespace(trimmed.substr(colon + 1));
  if (response.headers.size() >= kMaxResponseHeaders ||
      transfer->header_bytes + name.size() + value.size() >
          kMaxResponseHeaderBytes) {
    response.headers_truncated = true;
    return bytes;
  }
  response.headers.emplace_back(std::string(name), std::string(value));
  transfer->header_bytes += name.size() + value.size();
  return bytes;
}

std::string AddressText(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, address, sizeof(v4));
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
  } else if (address->sa_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, address, sizeof(v6));
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
  }
  return text;
}

// Called by libcurl for each address it is about to connect to, resolved
// and final: the one place the policy can see what is really connected.
curl_socket_t OpenCheckedSocket(void* user, curlsocktype /*purpose*/,
                                curl_sockaddr* address) {
  auto* transfer = static_cast<OutboundClient::Transfer*>(user);
  if (const char* range =
          RefusedTargetRange(&address->addr, transfer->deny_private)) {
    transfer->refused = true;
    transfer->refused_detail = "address " + AddressText(&address->addr) +
                               " refused by the target policy (" + range + ")";
    return CURL_SOCKET_BAD;
  }
  transfer->allowed_attempt = true;
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC,
                  address->protocol);
}

TransferError ErrorOf(CURLcode code) {
  // A switch over int: -Wswitch-enum would want all of CURLcode's cases.
  switch (static_cast<int>(code)) {
    case CURLE_OK:
      return TransferError::kNone;
    case CURLE_OPERATION_TIMEDOUT:
      return TransferError::kTimeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransferError::kDns;
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_PROXY:
      return TransferError::kConnect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return TransferError::kTls;
    default:
      return TransferError::kOther;
  }
}

long ClampMs(int64_t ms) {
  return static_cast<long>(std::clamp<int64_t>(ms, 1, LONG_MAX));
}

// Sets up `transfer`'s easy handle. False (with response.error_detail) if
// libcurl refused something.
bool SetUpEasy(const Libcurl& curl, OutboundClient::Transfer* transfer,
               const ClientOptions& options) {
  transfer->easy =
      std::unique_ptr<CURL, EasyDeleter>(curl.easy_init(), EasyDeleter{&curl});
  CURL* easy = transfer->easy.get();
  if (easy == nullptr) {
    transfer->response.error_detail = "curl_easy_init failed";
    return false;
  }
  std::string problem;
  transfer->header_list = std::unique_ptr<curl_slist, ListDeleter>(
      BuildHeaderList(curl, transfer->request, &problem), ListDeleter{&curl});
  if (transfer->header_list == nullptr) {
    transfer->response.error_detail = problem;
    return false;
  }
  const OutboundRequest& request = transfer->request;
  CURLcode code = CURLE_OK;
  auto set = [&code](CURLcode result) {
    if (code == CURLE_OK) code = result;
  };
  set(curl.easy_setopt(easy, CURLOPT_PRIVATE, transfer));
  set(curl.easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer));
  set(curl.easy_setopt(easy, CURLOPT_URL, request.url.c_str()));
  set(curl.easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https"));
  set(curl.easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L));
  set(curl.easy_setopt(easy, CURLOPT_HTTP_VERSION,
                       static_cast<long>(CURL_HTTP_VERSION_1_1)));
  set(curl.easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size())));
  set(curl.easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data()));
  set(curl.easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->header_list.get()));
  if (!options.user_agent.empty() && !HasHeader(request, "User-Agent")) {
    set(curl.easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str()));
  }
  set(curl.easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L));
  set(curl.easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L));
  set(curl.easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                       ClampMs(options.connect_timeout_ms)));
  set(curl.easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                       ClampMs(options.total_timeout_ms)));
  // No SIGALRM for resolver timeouts: this runs beside other threads.
  set(curl.easy_setopt(easy, CURLOPT_NOSIGNAL, 1L));
  set(curl.easy_setopt(easy, CURLOPT_WRITEFUNCTION, WriteBody));
  set(curl.easy_setopt(easy, CURLOPT_WRITEDATA, transfer));
  set(curl.easy_setopt(easy, CURLOPT_HEADERFUNCTION, ReadHeader));
  set(curl.easy_setopt(easy, CURLOPT_HEADERDATA, transfer));
  set(curl.easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, OpenCheckedSocket));
  set(curl.easy_setopt(easy, CURLOPT_OPENSOCKETDATA, transfer));
  if (code != CURLE_OK) {
    transfer->response.error_detail = curl.easy_strerror(code);
    return false;
  }
  return true;
}

int64_t MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

OutboundClient::OutboundClient(ClientOptions options)
    : options_(std::move(options)) {}

OutboundClient::~OutboundClient() {
  if (multi_ == nullptr) return;  // never sent anything
  for (auto& [easy, transfer] : running_) {
    curl_->multi_remove_handle(multi_, easy);
  }
  running_.clear();
  curl_->multi_cleanup(multi_);
}

bool OutboundClient::Ready(std::string* problem) {
  if (multi_ != nullptr) return true;
  if (curl_ == nullptr) curl_ = LoadLibcurl(problem);
  if (curl_ == nullptr) return false;
  CURLM* multi = curl_->multi_init();
  if (multi == nullptr) {
    *problem = "curl_multi_init failed";
    return false;
  }
  std::lock_guard<std::mutex> lock(wake_mu_);
  multi_ = multi;
  // A Wakeup() that came before the multi handle did is owed to the next
  // Poll, which now waits in curl_multi_poll.
  if (wake_pending_) curl_->multi_wakeup(multi_);
  wake_pending_ = false;
  return true;
}

void OutboundClient::Start(OutboundRequest request) {
  auto transfer = std::make_unique<Transfer>();
  transfer->started = std::chrono::steady_clock::now();
  transfer->response.tag = request.tag;
  transfer->request = std::move(request);
  transfer->max_body = options_.max_response_bytes;
  transfer->deny_private = options_.deny_private_targets;
  if (running_.size() < std::max<size_t>(1, options_.max_concurrent) &&
      queued_.empty()) {
    Begin(std::move(transfer));
  } else {
    queued_.push_back(std::move(transfer));
  }
}

void OutboundClient::Begin(std::unique_ptr<Transfer> transfer) {
  std::string problem;
  bool ok = Ready(&problem);
  if (!ok) {
    transfer->response.error_detail = problem;
  } else {
    ok = SetUpEasy(*curl_, transfer.get(), options_);
  }
  if (ok && curl_->multi_add_handle(multi_, transfer->easy.get()) != CURLM_OK) {
    transfer->response.error_detail = "curl_multi_add_handle failed";
    ok = false;
  }
  if (!ok) {
    transfer->response.error = TransferError::kOther;
    transfer->response.duration_ms = MillisecondsSince(transfer->started);
    finished_early_.push_back(std::move(transfer->response));
    return;
  }
  void* easy = transfer->easy.get();
  running_.emplace(easy, std::move(transfer));
}

void OutboundClient::BeginQueued() {
  const size_t limit = std::max<size_t>(1, options_.max_concurrent);
  while (!queued_.empty() && running_.size() < limit) {
    std::unique_ptr<Transfer> next = std::move(queued_.front());
    queued_.pop_front();
    Begin(std::move(next));
  }
}

void OutboundClient::Finish(Transfer* transfer, int code,
                            std::vector<OutboundResponse>* done) {
  OutboundResponse& response = transfer->response;
  long status = 0;
  curl_->easy_getinfo(transfer->easy.get(), CURLINFO_RESPONSE_CODE, &status);
  response.status_code = static_cast<int>(status);
  const auto result = static_cast<CURLcode>(code);
  if (result == CURLE_WRITE_ERROR && response.body_truncated) {
    response.error = TransferError::kNone;  // we stopped it: enough read
  } else if (result != CURLE_OK && transfer->refused &&
             !transfer->allowed_attempt) {
    response.error = TransferError::kBlockedAddress;
    response.error_detail = transfer->refused_detail;
  } else {
    response.error = ErrorOf(result);
    if (result != CURLE_OK) {
      response.error_detail = transfer->error_buffer[0] != '\0'
                                  ? transfer->error_buffer
                                  : curl_->easy_strerror(result);
      if (transfer->refused) {
        response.error_detail += "; " + transfer->refused_detail;
      }
    }
  }
  response.duration_ms = MillisecondsSince(transfer->started);
  done->push_back(std::move(response));
}

void OutboundClient::Collect(std::vector<OutboundResponse>* done) {
  int left = 0;
  while (CURLMsg* message = curl_->multi_info_read(multi_, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    // The message is only valid until the handle is removed.
    CURL* easy = message->easy_handle;
    const CURLcode result = message->data.result;
    auto it = running_.find(easy);
    if (it == running_.end()) continue;
    curl_->multi_remove_handle(multi_, easy);
    Finish(it->second.get(), static_cast<int>(result), done);
    running_.erase(it);
  }
  BeginQueued();
}

void OutboundClient::Poll(int64_t wait_ms,
                          std::vector<OutboundResponse>* done) {
  const size_t before = done->size();
  for (OutboundResponse& response : finished_early_) {
    done->push_back(std::move(response));
  }
  finished_early_.clear();
  const int wait = static_cast<int>(std::clamp<int64_t>(wait_ms, 0, INT_MAX));
  if (multi_ == nullptr) {
    // Nothing sent yet, so libcurl is not loaded: wait for a Wakeup() here.
    if (done->size() > before) return;
    std::unique_lock<std::mutex> lock(wake_mu_);
    woken_.wait_for(lock, std::chrono::milliseconds(wait),
                    [this] { return wake_pending_; });
    wake_pending_ = false;
    return;
  }
  int running = 0;
  curl_->multi_perform(multi_, &running);
  Collect(done);
  if (done->size() > before) return;
  curl_->multi_poll(multi_, nullptr, 0, wait, nullptr);
  curl_->multi_perform(multi_, &running);
  Collect(done);
}

void OutboundClient::Wakeup() {
  std::lock_guard<std::mutex> lock(wake_mu_);
  if (multi_ != nullptr) {
    curl_->multi_wakeup(multi_);
  } else {
    wake_pending_ = true;
    woken_.notify_one();
  }
}

size_t OutboundClient::InFlight() const {
  return running_.size() + queued_.size() + finished_early_.size();
}

}  // namespace webhooks
