// The head of an HTTP/1.1 request (its request line and header lines, up to
// and including the empty line that ends them), checked as the bytes that
// were sent against RFC 9112's grammar.
//
// cpp-httplib 0.11.4 parses heads leniently: it skips a header line that
// ends in a bare LF (so "Content-Length: 5\n" silently vanishes), keeps
// whitespace before the colon as part of the name, takes a folded line for
// a header of its own, accepts NUL and bare CR in values, any number of Host
// headers or none, and percent-decodes every header value ("x-api-key:
// %61lice" reaches a handler as "alice"). Each is a way for two parsers on
// one path (a proxy and us) to disagree about a request, which is how
// requests are smuggled. RFC 9112 sections 2.2, 3, 3.2 and 5 say to refuse
// them; this file decides what to refuse, and gives back the header values
// as sent so that nothing downstream sees a decoded one.

#ifndef WEBHOOKS_HTTP_REQUEST_HEAD_H_
#define WEBHOOKS_HTTP_REQUEST_HEAD_H_

#include <string>
#include <string_view>
#include <vector>

namespace webhooks {

// Why a head is refused. `status` 0 means nothing was found wrong.
struct HeadProblem {
  int status = 0;       // 400 (malformed) or 501 (a method nobody implements)
  std::string message;  // for the error body; never echoes raw bytes
};

// Checks `head`: a request line, then header lines, each ending in CRLF,
// then an empty line. A head cut short (the parser gave up before its end)
// is checked as far as it goes: a bad request line is still reported.
HeadProblem CheckRequestHead(std::string_view head);

// True if `method` is one RFC 9110 defines (GET, HEAD, POST, PUT, DELETE,
// CONNECT, OPTIONS, TRACE) or PATCH (RFC 5789). Methods are case-sensitive:
// "get" is not one of them.
bool IsKnownMethod(std::string_view method);

// A header field as sent: the name, and the value without the optional
// whitespace around it; no percent-decoding.
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// The header fields of a head that CheckRequestHead accepted, in the order
// sent. The views point into `head`.
std::vector<HeaderField> HeaderFieldsOf(std::string_view head);

}  // namespace webhooks

#endif  // WEBHOOKS_HTTP_REQUEST_HEAD_H_
