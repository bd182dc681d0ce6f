#include "api/hooks.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "api/errors.h"
#include "http/request_head.h"
#include "util/crypto.h"
#include "util/net.h"
#include "util/text.h"

namespace webhooks {
namespace {

// Paths that need an API key: the API, but not the ingress, which a
// provider calls with its signature instead.
bool NeedsApiKey(const std::string& path) {
  for (const char* prefix : {"/api/v3/", "/api/v3.1/"}) {
    if (path.rfind(prefix, 0) == 0) {
      return path.compare(std::strlen(prefix), 16, "webhook_ingress/") != 0;
    }
  }
  return false;
}

constexpr size_t kMaxHeaderCount = 100;

// Rejects, before the body is read, what the library would mishandle or
// what we never serve. Returns false with *err set to reject.
bool CheckFraming(const Config& config, const httplib::Request& req,
                  ApiError* err) {
  // The library adds REMOTE_ADDR, REMOTE_PORT, LOCAL_ADDR and LOCAL_PORT
  // after the client's headers; a second copy means the client sent one to
  // spoof its address (CVE-2025-66570).
  for (const char* name :
       {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR", "LOCAL_PORT"}) {
    if (req.get_header_value_count(name) > 1) {
      *err = MakeError(ErrorKind::kBadRequest,
                       std::string("Header ") + name + " is not allowed.");
      return false;
    }
  }
  if (req.headers.size() > kMaxHeaderCount + 4) {
    *err = MakeError(ErrorKind::kHeadersTooLarge,
                     "Too many headers: at most " +
                         std::to_string(kMaxHeaderCount) + " are accepted.");
    return false;
  }
  if (req.has_header("Transfer-Encoding")) {
    *err = MakeError(ErrorKind::kLengthRequired,
                     "Transfer-Encoding is not accepted; send Content-Length.");
    return false;
  }
  if (req.has_header("Content-Encoding")) {
    // The library would inflate it past any size limit (CVE-2026-28435).
    *err = MakeError(ErrorKind::kUnsupportedMediaType,
                     "Compressed request bodies are not accepted.");
    return false;
  }
  if (req.has_header("Range")) {
    *err = MakeError(ErrorKind::kRangeNotSatisfiable,
                     "Range requests are not supported.");
    return false;
  }
  const bool has_body_method =
      req.method == "POST" || req.method == "PATCH" || req.method == "PUT";
  if (!req.has_header("Content-Length")) {
    if (has_body_method) {
      *err = MakeError(ErrorKind::kLengthRequired,
                       req.method + " requests need a Content-Length header.");
      return false;
    }
    return true;
  }
  long long length = 0;
  if (req.get_header_value_count("Content-Length") != 1 ||
      !ParseInt(req.get_header_value("Content-Length"), 0,
                std::numeric_limits<long long>::max(), &length)) {
    *err = MakeError(ErrorKind::kBadRequest, "Invalid Content-Length header.");
    return false;
  }
  // 0.11.4 reads a body only for POST, PUT, PATCH and DELETE. On any other
  // method the bytes after the head would be parsed as the next request,
  // and behind a proxy that reuses its connections to us, one client's
  // bytes would be answered as another's request. Refused before they are
  // read, and the connection closed with the answer.
  const bool library_reads_body = has_body_method || req.method == "DELETE";
  if (length > 0 && !library_reads_body) {
    *err = MakeError(ErrorKind::kBadRequest,
                     "A " + req.method +
                         " request cannot carry a body; send it without "
                         "one (no Content-Length, or Content-Length: 0).");
    return false;
  }
  if (static_cast<unsigned long long>(length) > config.max_body) {
    *err = MakeError(ErrorKind::kPayloadTooLarge,
                     "The body is " + std::to_string(length) +
                         " bytes; the limit is " +
                         std::to_string(config.max_body) + " bytes.");
    return false;
  }
  return true;
}

// Assigns the request id: the caller's x-request-id if it is a sane token
// (our rule: 1-128 printable ASCII characters), else a fresh one.
void AssignRequestId(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.get_header_value(kRequestIdHeader);
  if (!IsTokenText(id, 128)) id = "req_" + RandomToken(20);
  res.set_header(kRequestIdHeader, id);
}

// The error for a head that RFC 9112 refuses (request_head.h): 501 for a
// method nobody implements, else 400.
ApiError HeadError(const HeadProblem& problem) {
  return MakeError(problem.status == 501 ? ErrorKind::kNotImplemented
                                         : ErrorKind::kBadRequest,
                   problem.message);
}

// 405, with the Allow header, for a path that other methods serve; else
// 404.
ApiError NoRouteError(const std::vector<CompiledRoute>& routes,
                      const httplib::Request& req, httplib::Response& res) {
  std::string allow = AllowedMethods(routes, req.path);
  if (allow.empty()) {
    return MakeError(ErrorKind::kRouteNotFound,
                     "No route for " + Printable(req.method, 16) + " " +
                         Printable(req.path, 200) + ".");
  }
  NoteRouteOf(routes, req.path);
  res.set_header("Allow", allow);
  return MakeError(
      ErrorKind::kMethodNotAllowed,
      "Method " + req.method + " is not allowed here; allowed: " + allow + ".");
}

// Whether the library can route `method` at all. It answers TRACE and
// CONNECT "400" without calling a handler or the error hook with a 404, so
// those are answered before routing, with NoRouteError; PUT and OPTIONS,
// which no route serves either, reach the error hook as a 404 that becomes
// the same 405 (after the library read a PUT's body, so the connection
// stays usable).
bool LibraryRoutes(const std::string& method) {
  return method != "TRACE" && method != "CONNECT";
}

// 0.11.4 answers with brotli, at its slowest quality (11), whenever "br"
// appears anywhere in Accept-Encoding: one 3.8 MB endpoint list cost 6.0 s
// of CPU that way (gzip: 0.2 s; none: 0.26 s), and any client may ask for
// it again and again. The offer is narrowed to gzip, or to nothing.
void NarrowAcceptEncoding(httplib::Request& req) {
  const std::string offer = req.get_header_value("Accept-Encoding");
  if (offer.find("br") == std::string::npos) return;
  const bool gzip = offer.find("gzip") != std::string::npos;
  req.headers.erase("Accept-Encoding");
  if (gzip) req.headers.emplace("Accept-Encoding", "gzip");
}

// The client's address: the peer, or behind a trusted proxy what it says
// in X-Forwarded-For (ClientAddress).
std::string ClientOf(const httplib::Request& req, const NetworkList& trusted) {
  if (trusted.empty()) return req.remote_addr;
  std::vector<std::string> forwarded;
  const size_t count = req.get_header_value_count("X-Forwarded-For");
  for (size_t i = 0; i < count; ++i) {
    forwarded.push_back(req.get_header_value("X-Forwarded-For", i));
  }
  return ClientAddress(req.remote_addr, forwarded, trusted);
}

void RejectEarly(httplib::Response& res, const ApiError& err) {
  // The body, if any, is still unread; the connection cannot carry another
  // request after this answer.
  HardenedServer::CloseConnectionAfterResponse(res);
  ReplyError(res, err);
}

}  // namespace

void InstallHooks(HardenedServer& server, const Config& config,
                  const HostPolicy& hosts, const Logger& log, Metrics& metrics,
                  const std::vector<CompiledRoute>& routes,
                  FaultInjector inject) {
  server.set_default_headers(
      {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}});

  server.set_pre_routing_handler([&config, &hosts, &routes, inject](
                                     const httplib::Request& req,
                                     httplib::Response& res) {
    AssignRequestId(req, res);
    // A throw here reaches the exception handler below (the library
    // runs pre-routing inside its try).
    InjectFault(inject, req, "pre-routing");
    // 0.11.4 applies a request's Range to whatever response is sent,
    // error bodies included (cutting the envelope, or multiplying it
    // into a multipart answer). The Request is the library's non-const
    // object, handed to us as const; emptying the parsed ranges is the
    // only way to turn that off.
    const_cast<httplib::Request&>(req).ranges.clear();
    // The same object, for the same reason: the encoding is chosen from
    // the request when the answer is written.
    NarrowAcceptEncoding(const_cast<httplib::Request&>(req));
    ApiError err;
    // What RFC 9112 refuses, judged on the head as sent; the header
    // values below are as sent too (HardenedServer).
    if (const auto* notes = HardenedServer::CurrentRequestNotes();
        notes != nullptr && notes->head_problem.status != 0) {
      RejectEarly(res, HeadError(notes->head_problem));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!hosts.Allows(req)) {
      const std::string host =
          req.has_header("Host")
              ? "Host '" + Printable(req.get_header_value("Host"), 100) + "' is"
              : "A request without a Host header is";
      RejectEarly(res, MakeError(ErrorKind::kHostNotAllowed,
                                 host + " not accepted: in local mode (no "
                                        "API keys) only localhost, loopback "
                                        "addresses, the --public-url host "
                                        "and --allowed-host names are."));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!LibraryRoutes(req.method)) {
      RejectEarly(res, NoRouteError(routes, req, res));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!CheckFraming(config, req, &err)) {
      RejectEarly(res, err);
      return httplib::Server::HandlerResponse::Handled;
    }
    // Key checks that need no database happen before the body is read;
    // the look-up happens in the handler.
    std::string key;
    if (NeedsApiKey(req.path) && !CheckKeyHeaders(req, &key, &err)) {
      NoteRouteOf(routes, req.path);
      RejectEarly(res, err);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Fills only empty error bodies: the library's own 400/404/413/414/416
  // and unknown routes. A body a handler wrote is left alone.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [&routes, inject](const httplib::Request& req, httplib::Response& res) {
        try {
          InjectFault(inject, req, "error-hook");
          if (!res.body.empty()) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          ApiError err;
          switch (res.status) {
            case 404:
              err = NoRouteError(routes, req, res);
              break;
            case 413:
              err = MakeError(ErrorKind::kPayloadTooLarge,
                              "The request is too large.");
              HardenedServer::CloseConnectionAfterResponse(res);
              break;
            case 414:
              err = MakeError(ErrorKind::kUriTooLong,
                              "The request line is too long.");
              HardenedServer::CloseConnectionAfterResponse(res);
              break;
            case 416:
              err = MakeError(ErrorKind::kRangeNotSatisfiable,
                              "Range requests are not supported.");
              HardenedServer::CloseConnectionAfterResponse(res);
              break;
            default: {
              // The library refused the head before our hooks ran (an
              // unknown method, say): the head as read tells why.
              const HeadProblem problem =
                  CheckRequestHead(HardenedServer::CurrentRequestHead());
              if (res.status == 400 && problem.status != 0) {
                err = HeadError(problem);
              } else {
                err = MakeError(res.status >= 500 ? ErrorKind::kInternal
                                                  : ErrorKind::kBadRequest,
                                res.status >= 500
                                    ? "Internal error."
                                    : "The request could not be read.");
              }
              HardenedServer::CloseConnectionAfterResponse(res);
              break;
            }
          }
          ReplyError(res, err);
          return httplib::Server::HandlerResponse::Handled;
        } catch (...) {
          // Runs outside the library's try: a throw here would end the
          // process. Answer a plain 500 in the envelope instead.
          try {
            res.headers.erase("Allow");
            ReplyError(res, MakeError(ErrorKind::kInternal, "Internal error."));
            return httplib::Server::HandlerResponse::Handled;
          } catch (...) {
            res.status = 500;
            return httplib::Server::HandlerResponse::Unhandled;
          }
        }
      }));

  // The last net. By default 0.11.4 would send what() in a header
  // (CVE-2026-28434); we log it with the request id and send nothing of it.
  server.set_exception_handler([&log](const httplib::Request&,
                                      httplib::Response& res,
                                      std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    try {
      log.Log(LogLevel::kError, "exception in a handler",
              {{"request_id", RequestIdOf(res)}, {"detail", what}});
      res.headers.erase("Allow");
      ReplyError(res, MakeError(ErrorKind::kInternal, "Internal error."));
    } catch (...) {
      res.status = 500;
    }
  });

  // Metrics count a request before its answer is written, so a scrape that
  // follows an answer always includes it.
  server.SetBeforeWrite([&metrics, inject](const httplib::Request& req,
                                           const httplib::Response& res) {
    try {
      InjectFault(inject, req, "before-write");
      const auto* notes = HardenedServer::CurrentRequestNotes();
      metrics.ObserveRequest(
          notes != nullptr && !notes->route.empty() ? notes->route
                                                    : "unmatched",
          IsKnownMethod(req.method) ? req.method : "other", res.status,
          notes == nullptr
              ? 0.0
              : std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              notes->started)
                    .count());
    } catch (...) {
    }
  });

  // One line per request, once it is answered: never a key, a body or a
  // setup value. Must not throw: it runs outside the library's try.
  // Built once: the settings were checked when parsed.
  NetworkList trusted;
  for (const std::string& cidr : config.trusted_proxies) trusted.Add(cidr);
  server.set_logger([&log, inject, trusted](const httplib::Request& req,
                                            const httplib::Response& res) {
    try {
      InjectFault(inject, req, "logger");
      if (!log.Enabled(LogLevel::kInfo)) return;
      const auto* notes = HardenedServer::CurrentRequestNotes();
      const double seconds =
          notes == nullptr
              ? 0.0
              : std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              notes->started)
                    .count();
      char duration[32];
      std::snprintf(duration, sizeof(duration), "%.3f", seconds * 1000);
      log.Log(
          LogLevel::kInfo, "request",
          {{"request_id", res.get_header_value(kRequestIdHeader)},
           {"method", req.method},
           {"route", notes != nullptr && !notes->route.empty() ? notes->route
                                                               : "unmatched"},
           {"status", std::to_string(res.status), true},
           {"duration_ms", duration, true},
           {"project_id", notes != nullptr ? notes->project_id : ""},
           {"remote", ClientOf(req, trusted)}});
    } catch (...) {
    }
  });
}

}  // namespace webhooks
