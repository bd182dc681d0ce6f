// CheckRequestHead and HeaderFieldsOf: RFC 9112's request head grammar, as
// strict as the RFC asks a server to be. See request_head.h for why.

#include "http/request_head.h"

#include <array>
#include <cstddef>

#include "util/text.h"

namespace webhooks {
namespace {

// RFC 9110 section 5.6.2: the characters of a token (method, field name).
bool IsTokenChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// RFC 9110 section 5.5: field-vchar is VCHAR or obs-text; SP and HTAB may
// sit between them. Every other control character, NUL first, is refused
// (a recipient "MUST either reject the message or replace" CR, LF and NUL;
// we reject, and the other controls with them).
bool IsFieldValueChar(unsigned char c) {
  return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

bool IsSpaceOrTab(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimWhitespace(std::string_view text) {
  while (!text.empty() && IsSpaceOrTab(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpaceOrTab(text.back())) text.remove_suffix(1);
  return text;
}

// uri-host [":" port] (RFC 3986 characters of reg-name, IP-literal and
// port). Empty is allowed: RFC 9112 section 3.2 has clients send an empty
// Host when the target has no authority.
bool IsHostValue(std::string_view value) {
  for (unsigned char c : value) {
    const bool allowed =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') ||
        std::string_view("-._~!$&'()*+,;=%:[]").find(static_cast<char>(c)) !=
            std::string_view::npos;
    if (!allowed) return false;
  }
  return true;
}

HeadProblem Malformed(std::string message) {
  return HeadProblem{400, std::move(message)};
}

// The next line of `*rest`, without its CRLF; false at the end of what
// arrived or on a line ending that is not CRLF (reported in *problem).
bool NextLine(std::string_view* rest, std::string_view* line,
              HeadProblem* problem) {
  const size_t lf = rest->find('\n');
  const size_t cr = rest->find('\r');
  if (cr != std::string_view::npos &&
      (lf == std::string_view::npos || cr + 1 < lf)) {
    // A CR with something other than LF after it (or at the very end of a
    // cut-short head, which is where a lone CR is still unfinished).
    if (cr + 1 < rest->size() || lf != std::string_view::npos) {
      *problem = Malformed(
          "The request contains a bare CR: lines must end "
          "with CRLF.");
    }
    return false;
  }
  if (lf == std::string_view::npos) return false;  // cut short
  if (lf == 0 || (*rest)[lf - 1] != '\r') {
    *problem =
        Malformed("The request contains a bare LF: lines must end with CRLF.");
    return false;
  }
  *line = rest->substr(0, lf - 1);
  rest->remove_prefix(lf + 1);
  return true;
}

HeadProblem CheckMethod(std::string_view method) {
  if (!IsToken(method)) {
    return Malformed("The request method is not a valid token.");
  }
  if (!IsKnownMethod(method)) {
    return HeadProblem{501, "Method " + std::string(method) +
                                " is not implemented (methods are "
                                "case-sensitive)."};
  }
  return HeadProblem{};
}

HeadProblem CheckRequestLine(std::string_view line) {
  const size_t first = line.find(' ');
  const size_t second =
      first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos ||
      line.find(' ', second + 1) != std::string_view::npos) {
    return Malformed(
        "The request line must be METHOD SP TARGET SP HTTP-VERSION, with "
        "single spaces.");
  }
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, second - first - 1);
  const std::string_view version = line.substr(second + 1);
  if (HeadProblem problem = CheckMethod(method); problem.status != 0) {
    return problem;
  }
  if (target.empty()) return Malformed("The request target is empty.");
  for (unsigned char c : target) {
    if (c <= 0x20 || c >= 0x7f) {
      return Malformed(
          "The request target holds a byte that must be percent-encoded.");
    }
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return Malformed("Only HTTP/1.1 and HTTP/1.0 are served.");
  }
  return HeadProblem{};
}

// Checks one header line; counts Host headers in *hosts.
HeadProblem CheckHeaderLine(std::string_view line, int* hosts) {
  if (IsSpaceOrTab(line.front())) {
    return Malformed(
        "A header line starts with whitespace (obsolete line folding); send "
        "each header on one line.");
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return Malformed("A header line has no colon.");
  }
  const std::string_view name = line.substr(0, colon);
  if (!name.empty() && IsSpaceOrTab(name.back())) {
    return Malformed(
        "A header name is followed by whitespace before its colon.");
  }
  if (!IsToken(name)) return Malformed("A header name is not a valid token.");
  const std::string_view value = TrimWhitespace(line.substr(colon + 1));
  for (unsigned char c : value) {
    if (c == 0) {
      return Malformed("Header " + std::string(name) + " contains a NUL.");
    }
    if (!IsFieldValueChar(c)) {
      return Malformed("Header " + std::string(name) +
                       " contains a control character.");
    }
  }
  if (EqualsIgnoringCase(name, "Host")) {
    ++*hosts;
    if (!IsHostValue(value)) {
      return Malformed("The Host header is not a valid host[:port].");
    }
  }
  return HeadProblem{};
}

}  // namespace

bool IsKnownMethod(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kMethods = {
      "GET",     "HEAD",    "POST",  "PUT",  "DELETE",
      "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (std::string_view known : kMethods) {
    if (method == known) return true;
  }
  return false;
}

HeadProblem CheckRequestHead(std::string_view head) {
  HeadProblem problem;
  std::string_view rest = head;
  std::string_view line;
  if (!NextLine(&rest, &line, &problem)) {
    if (problem.status != 0) return problem;
    // The request line was cut short: judge the method if it is whole.
    const size_t space = rest.find(' ');
    return space == std::string_view::npos ? problem
                                           : CheckMethod(rest.substr(0, space));
  }
  problem = CheckRequestLine(line);
  if (problem.status != 0) return problem;
  const bool http_1_1 = line.substr(line.size() - 8) == "HTTP/1.1";
  int hosts = 0;
  for (;;) {
    if (!NextLine(&rest, &line, &problem)) return problem;  // cut short
    if (line.empty()) break;                                // the end
    problem = CheckHeaderLine(line, &hosts);
    if (problem.status != 0) return problem;
  }
  // RFC 9112 section 3.2: 400 for an HTTP/1.1 request without Host, and for
  // any request with more than one.
  if (hosts > 1) return Malformed("The request has more than one Host header.");
  if (hosts == 0 && http_1_1) {
    return Malformed("An HTTP/1.1 request needs a Host header.");
  }
  return problem;
}

std::vector<HeaderField> HeaderFieldsOf(std::string_view head) {
  std::vector<HeaderField> fields;
  size_t start = head.find("\r\n");
  while (start != std::string_view::npos) {
    start += 2;
    const size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos || end == start) break;
    const std::string_view line = head.substr(start, end - start);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      fields.push_back(
          {line.substr(0, colon), TrimWhitespace(line.substr(colon + 1))});
    }
    start = end;
  }
  return fields;
}

}  // namespace webhooks
