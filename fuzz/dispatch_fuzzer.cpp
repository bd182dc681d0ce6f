// libFuzzer target: the input is the bytes a client sends on one connection
// (any number of requests, pipelined), served by the whole server in
// process: the hardened connection loop, cpp-httplib's parser, our hooks,
// the route table, the handlers and a :memory: store in local mode.
//
// Beyond crashes, leaks and undefined behaviour (ASan+UBSan), it checks what
// the server promises for any input: every answer is an HTTP/1.1 response,
// none is a 5xx but 501 for an unknown method (a 500 here would be an
// exception or a store failure on client input), and none carries the
// library's exception header.

#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/auth.h"
#include "api/context.h"
#include "api/hooks.h"
#include "api/routes.h"
#include "config.h"
#include "http/hardened_server.h"
#include "ops/logger.h"
#include "ops/metrics.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "toolkits/catalog.h"

namespace webhooks {
namespace {

// Everything server.cpp's Run() builds, without the signal handling and
// the listening loop.
class InProcessServer {
 public:
  InProcessServer()
      : catalog_(ToolkitCatalog::Builtin()),
        log_(/*json=*/true, LogLevel::kError),
        server_(Limits()) {
    config_.db_path = ":memory:";
    if (!OpenSqliteStore(":memory:", &store_).ok()) std::abort();
    std::string error;
    // Bound, never accepting: the connection loop serves only while the
    // server is "running", which means having a listening socket.
    if (server_.Bind("127.0.0.1", 0, &error) < 0) std::abort();
    context_ = std::make_unique<Context>(Context{config_, keys_, catalog_,
                                                 *store_, "http://fuzz.test",
                                                 log_, metrics_, nullptr});
    RegisterRoutes(server_, FullRouteTable(*context_), /*inject=*/nullptr,
                   &compiled_);
    // Local mode checks Host; the seeds call the server "x".
    config_.allowed_hosts = {"x"};
    hosts_ = BuildHostPolicy(config_, /*local_mode=*/true);
    InstallHooks(server_, config_, hosts_, log_, metrics_, compiled_,
                 /*inject=*/nullptr);
  }

  // Sends `input` on a fresh connection, closes the sending side, and
  // returns everything the server answered.
  std::string Exchange(const uint8_t* data, size_t size) {
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
      std::abort();
    }
    // Two threads: the input may be larger than the socket's buffer, and so
    // may the answers.
    std::thread sender([fd = ends[1], data, size] {
      size_t sent = 0;
      while (sent < size) {
        ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server closed the connection
        sent += static_cast<size_t>(n);
      }
      ::shutdown(fd, SHUT_WR);
    });
    std::string answers;
    std::thread receiver([fd = ends[1], &answers] {
      char buffer[16384];
      for (;;) {
        ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        answers.append(buffer, static_cast<size_t>(n));
      }
    });
    server_.ServeConnection(ends[0]);  // closes ends[0]
    sender.join();
    receiver.join();
    ::close(ends[1]);
    return answers;
  }

 private:
  static HardenedServer::Limits Limits() {
    HardenedServer::Limits limits;
    // Every byte is there at once; a stall means a bug, not a slow client.
    limits.request_timeout = std::chrono::milliseconds(1000);
    limits.write_timeout = std::chrono::milliseconds(1000);
    limits.keep_alive_timeout = std::chrono::milliseconds(1000);
    return limits;
  }

  Config config_;
  KeyPolicy keys_;  // empty: local mode, any key is its own project
  HostPolicy hosts_;
  ToolkitCatalog catalog_;
  std::unique_ptr<Store> store_;
  const Logger log_;
  Metrics metrics_;
  HardenedServer server_;
  std::unique_ptr<Context> context_;
  std::vector<CompiledRoute> compiled_;
};

void CheckAnswers(const std::string& answers) {
  if (answers.empty()) return;  // closed without an answer: allowed
  if (answers.rfind("HTTP/1.1 ", 0) != 0) __builtin_trap();
  for (size_t at = answers.find("HTTP/1.1 5"); at != std::string::npos;
       at = answers.find("HTTP/1.1 5", at + 1)) {
    // 501 is the answer to a method nobody implements: the client's doing,
    // and it closes the connection. 503 is the store saying "busy or full",
    // which :memory: never is.
    if (answers.compare(at, 13, "HTTP/1.1 501 ") == 0) continue;
    std::fprintf(stderr, "5xx answer:\n%s\n", answers.substr(at, 600).c_str());
    __builtin_trap();
  }
  // The library's way of leaking an exception's text (CVE-2026-28434), as a
  // header line (a body may echo the name: bodies escape CR and LF).
  if (answers.find("\r\nEXCEPTION_WHAT:") != std::string::npos) {
    __builtin_trap();
  }
}

}  // namespace
}  // namespace webhooks

// One server for the whole run, made before the first input: libFuzzer's
// leak check after each input would otherwise see its threads' first
// allocations. Its :memory: database grows by at most a few rows per
// input, a few MB per minute of fuzzing.
webhooks::InProcessServer* server = nullptr;

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  server = new webhooks::InProcessServer();  // lives as long as the process
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  webhooks::CheckAnswers(server->Exchange(data, size));
  return 0;
}
