// A raw HTTP/1.1 client connection for the black-box suites: sends any
// bytes (pipelined requests, broken framing) and reads responses one by one,
// so a test sees exactly what the server wrote and when it closed; and the
// requests it sends, built as raw bytes.

#ifndef WEBHOOKS_TESTS_RAW_HTTP_H_
#define WEBHOOKS_TESTS_RAW_HTTP_H_

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tests/test_util.h"

namespace webhooks::testing {

// A response as the tests see it.
struct Reply {
  int status = 0;  // 0: no response came
  httplib::Headers headers;
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

inline Reply ToReply(const httplib::Result& result) {
  if (!result) return Reply{};
  return Reply{result->status, result->headers, result->body};
}

// A request as raw bytes: `header_lines` each end in CRLF; with a body, a
// Content-Length for it.
inline std::string RawRequest(
    const std::string& method, const std::string& path,
    const std::string& header_lines,
    const std::optional<std::string>& body = std::nullopt) {
  std::string request =
      method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header_lines;
  if (body)
    request += "Content-Length: " + std::to_string(body->size()) + "\r\n";
  return request + "\r\n" + body.value_or("");
}

inline std::string KeyLine(const std::string& key) {
  return "x-api-key: " + key + "\r\n";
}

// A create request as raw bytes: this key, JSON, `extra_headers` (each
// ending in CRLF).
inline std::string RawCreate(const std::string& key, const std::string& body,
                             const std::string& extra_headers = "") {
  return RawRequest(
      "POST", kCreatePath,
      KeyLine(key) + "Content-Type: application/json\r\n" + extra_headers,
      body);
}

class RawConnection {
 public:
  enum class Outcome { kClosed, kReset, kData, kTimeout };

  explicit RawConnection(
      int port, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : timeout_(timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address),
                              sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool connected() const { return fd_ >= 0; }
  // Why the last ReadResponse or WaitForClose stopped.
  Outcome last_outcome() const { return last_outcome_; }

  // Writes all of `bytes`. False if the peer closed or the write stalled.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      pollfd pfd{fd_, POLLOUT, 0};
      if (::poll(&pfd, 1, static_cast<int>(timeout_.count())) <= 0) {
        return false;
      }
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response (status line, headers, a Content-Length body, or a
  // body up to the close). Bytes after it stay buffered for the next call.
  // False if the connection ended or stalled before a whole response.
  bool ReadResponse(Reply* reply) {
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (Fill() != Outcome::kData) return false;
    }
    std::string head = buffer_.substr(0, head_end);
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
      last_outcome_ = Outcome::kData;
      return false;
    }
    Reply parsed;
    parsed.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string line = head.substr(pos, next - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        size_t value_start = line.find_first_not_of(' ', colon + 1);
        parsed.headers.emplace(
            line.substr(0, colon),
            value_start == std::string::npos ? "" : line.substr(value_start));
      }
      pos = next + 2;
    }
    const size_t body_start = head_end + 4;
    const std::string length = parsed.Header("Content-Length");
    if (length.empty()) {
      Outcome outcome;
      while ((outcome = Fill()) == Outcome::kData) {
      }
      if (outcome == Outcome::kTimeout) return false;
      parsed.body = buffer_.substr(body_start);
      buffer_.clear();
    } else {
      const size_t size = std::stoul(length);
      while (buffer_.size() < body_start + size) {
        if (Fill() != Outcome::kData) return false;
      }
      parsed.body = buffer_.substr(body_start, size);
      buffer_.erase(0, body_start + size);
    }
    *reply = std::move(parsed);
    return true;
  }

  // After a response: waits for what the server does next with this
  // connection. kClosed means read() returned 0.
  Outcome WaitForClose() {
    if (!buffer_.empty()) return Outcome::kData;
    return Fill();
  }

 protected:
  int fd() const { return fd_; }

 private:
  // Appends what arrives next to buffer_.
  Outcome Fill() {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout_.count())) <= 0) {
      return last_outcome_ = Outcome::kTimeout;
    }
    char chunk[16 * 1024];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        return last_outcome_ = Outcome::kData;
      }
      if (n == 0) return last_outcome_ = Outcome::kClosed;
      if (errno == EINTR) continue;
      return last_outcome_ =
                 errno == ECONNRESET ? Outcome::kReset : Outcome::kClosed;
    }
  }

  const std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_;
  Outcome last_outcome_ = Outcome::kData;
};

inline const char* OutcomeName(RawConnection::Outcome outcome) {
  switch (outcome) {
    case RawConnection::Outcome::kClosed:
      return "closed";
    case RawConnection::Outcome::kReset:
      return "reset";
    case RawConnection::Outcome::kData:
      return "data that is not a response";
    case RawConnection::Outcome::kTimeout:
      return "timeout (connection left open)";
  }
  return "?";
}

}  // namespace webhooks::testing

#endif  // WEBHOOKS_TESTS_RAW_HTTP_H_
