// The durability order of webhooks-server (issue 7, "Faults: nothing
// acknowledged is ever lost"), under strace, through the machinery in
// fault_fixture.h: each 201 is written after a sync of the WAL that followed
// a WAL write made after its request was read.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/fault/fault_fixture.h"
#include "tests/test_util.h"

namespace webhooks::fault {
namespace {

using testing::Contains;
using testing::EndsWith;
using testing::RandomKey;
using testing::ServerBinary;

// ===========================================================================
// The durability order, under strace
// ===========================================================================

// The full path of `program` found on PATH, or "".
std::string FindProgram(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    const std::string candidate =
        std::string(dirs.substr(0, colon)) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    dirs = colon == std::string_view::npos ? "" : dirs.substr(colon + 1);
  }
  return "";
}

// One system call from the log of `strace -f -yy`, its two halves joined
// when another thread's call came between them (strace then prints
// "<unfinished ...>" and later "<... name resumed>"). strace handles one
// stop at a time and a traced thread waits at each stop until strace has
// printed it, so the order of the log's lines is the order of the events:
// a call whose return is printed before another's start returned before
// that one started.
struct Syscall {
  size_t start = 0;  // line where it started
  size_t end = 0;    // line where it returned
  std::string name;
  std::string fd;    // what -yy printed for the first argument: a path or
                     // "TCP:[local->peer]"
  std::string text;  // the call as printed, data included
  long long result = -1;
};

std::vector<Syscall> ParseStraceLog(const std::string& log) {
  std::vector<Syscall> calls;
  std::map<std::string, Syscall> unfinished;  // by thread id
  static constexpr std::string_view kUnfinished = " <unfinished ...>";
  size_t line_number = 0;
  size_t begin = 0;
  while (begin < log.size()) {
    size_t newline = log.find('\n', begin);
    if (newline == std::string::npos) newline = log.size();
    const std::string line = log.substr(begin, newline - begin);
    begin = newline + 1;
    ++line_number;
    // "<thread id> <time> <call>", the id padded with spaces to a width.
    const size_t id_end = line.find(' ');
    const size_t time_start = line.find_first_not_of(' ', id_end);
    const size_t time_end = line.find(' ', time_start);
    const size_t call_start = line.find_first_not_of(' ', time_end);
    if (call_start == std::string::npos) continue;
    const std::string thread = line.substr(0, id_end);
    std::string rest = line.substr(call_start);
    if (rest.rfind("+++", 0) == 0 || rest.rfind("---", 0) == 0) continue;
    Syscall call;
    if (rest.rfind("<... ", 0) == 0) {
      auto started = unfinished.find(thread);
      const size_t resumed = rest.find(" resumed>");
      if (started == unfinished.end() || resumed == std::string::npos) continue;
      call = started->second;
      unfinished.erase(started);
      call.text += rest.substr(resumed + std::string_view(" resumed>").size());
    } else {
      call.start = line_number;
      call.text = rest;
      if (rest.size() >= kUnfinished.size() &&
          rest.compare(rest.size() - kUnfinished.size(), kUnfinished.size(),
                       kUnfinished) == 0) {
        call.text.resize(rest.size() - kUnfinished.size());
        unfinished[thread] = call;
        continue;
      }
    }
    call.end = line_number;
    const size_t paren = call.text.find('(');
    if (paren == std::string::npos) continue;
    call.name = call.text.substr(0, paren);
    size_t p = paren + 1;
    while (p < call.text.size() && call.text[p] >= '0' && call.text[p] <= '9') {
      ++p;
    }
    if (p < call.text.size() && call.text[p] == '<') {
      // A socket's annotation contains "->", so it ends at "]>".
      const bool socket = call.text.compare(p + 1, 4, "TCP:") == 0;
      const size_t annotation_end =
          socket ? call.text.find("]>", p) + 1 : call.text.find('>', p);
      if (annotation_end != std::string::npos && annotation_end > p) {
        call.fd = call.text.substr(p + 1, annotation_end - p - 1);
      }
    }
    const size_t equals = call.text.rfind(" = ");
    if (equals != std::string::npos) {
      call.result = std::strtoll(call.text.c_str() + equals + 3, nullptr, 10);
    }
    calls.push_back(std::move(call));
  }
  return calls;
}

bool IsSocketWrite(const Syscall& call, const std::string& connection) {
  return call.fd == connection &&
         (call.name == "sendto" || call.name == "write" ||
          call.name == "writev" || call.name == "sendmsg");
}

// A create as the client saw it: its 201 carried `endpoint_id`. `alone`:
// no other request was in flight while it was.
struct ObservedCreate {
  std::string client_id;
  std::string endpoint_id;
  bool alone = false;
};

// For each create, from the trace: R, the read of its request (the recvfrom
// holding its client id); W, the first write on that connection after R,
// which must be the 201 carrying its id. Required: a write to the WAL that
// started after R returned, then a successful fdatasync/fsync of the WAL
// that started after that write returned and returned before W started.
// The row cannot have been written before its request was read, so this is
// a sync of a WAL that may hold the row; which frames it holds strace
// cannot show. For a create that was alone, every WAL write between R and W
// must be followed by such a sync before W: nothing written for it was left
// unsynced when it was answered. Returns the problems found.
std::vector<std::string> CheckDurabilityOrder(
    const std::vector<Syscall>& calls,
    const std::vector<ObservedCreate>& creates, const std::string& wal) {
  std::vector<std::string> problems;
  std::vector<const Syscall*> wal_writes, wal_syncs;
  for (const Syscall& call : calls) {
    if (!EndsWith(call.fd, wal)) continue;
    if (call.name == "pwrite64" || call.name == "write" ||
        call.name == "pwritev" || call.name == "writev") {
      if (call.result > 0) wal_writes.push_back(&call);
    } else if ((call.name == "fdatasync" || call.name == "fsync") &&
               call.result == 0) {
      wal_syncs.push_back(&call);
    }
  }
  if (wal_writes.empty()) return {"no write to " + wal + " in the trace"};
  // A sync of the WAL that started after `after` and returned before
  // `before` (line numbers), if any.
  auto synced_between = [&](size_t after, size_t before) {
    return std::any_of(wal_syncs.begin(), wal_syncs.end(),
                       [&](const Syscall* sync) {
                         return sync->start > after && sync->end < before;
                       });
  };
  for (const ObservedCreate& create : creates) {
    const std::string needle = create.client_id + "\\\"";  // as strace quotes
    auto request =
        std::find_if(calls.begin(), calls.end(), [&](const Syscall& c) {
          return c.name == "recvfrom" && c.result > 0 &&
                 Contains(c.text, needle);
        });
    if (request == calls.end()) {
      problems.push_back(create.client_id +
                         ": its request is not in the trace");
      continue;
    }
    const std::string connection = request->fd;
    auto response = std::find_if(request, calls.end(), [&](const Syscall& c) {
      return IsSocketWrite(c, connection) && c.start > request->end;
    });
    if (response == calls.end() || !Contains(response->text, "HTTP/1.1 201")) {
      problems.push_back(create.client_id +
                         ": no 201 after its request (line " +
                         std::to_string(request->end) + ")");
      continue;
    }
    auto next_write = std::find_if(
        response + 1, calls.end(),
        [&](const Syscall& c) { return IsSocketWrite(c, connection); });
    if (!Contains(response->text, create.endpoint_id) &&
        (next_write == calls.end() ||
         !Contains(next_write->text, create.endpoint_id))) {
      problems.push_back(create.client_id + ": the 201 at line " +
                         std::to_string(response->start) + " is not for " +
                         create.endpoint_id);
      continue;
    }
    bool synced = false;
    bool unsynced_write = false;
    for (const Syscall* wal_write : wal_writes) {
      if (wal_write->start <= request->end ||
          wal_write->end >= response->start) {
        continue;
      }
      if (synced_between(wal_write->end, response->start)) {
        synced = true;
      } else {
        unsynced_write = true;
      }
    }
    if (!synced) {
      problems.push_back(
          create.client_id + " (" + create.endpoint_id +
          "): its 201 was written (line " + std::to_string(response->start) +
          ") with no WAL sync after a WAL write that followed its request "
          "(line " +
          std::to_string(request->end) + ")");
    } else if (create.alone && unsynced_write) {
      problems.push_back(create.client_id + " (" + create.endpoint_id +
                         "): its 201 was written (line " +
                         std::to_string(response->start) +
                         ") before a sync of the WAL written for it");
    }
  }
  return problems;
}

TEST(FaultDurabilityOrder, EachCreateIsAnsweredAfterItsWalWriteIsSynced) {
  const std::string strace = FindProgram("strace");
  if (strace.empty()) {
    GTEST_SKIP() << "strace is not installed (scripts/install-deps.sh "
                    "--for-tests installs it)";
  }
  const auto generous = Clock::now() + std::chrono::seconds(30);
  {
    Child probe;
    ASSERT_TRUE(
        probe.Start({strace, "-f", "-o", "/dev/null", "/bin/true"}, {}));
    ASSERT_TRUE(probe.WaitUntil(generous));
    if (probe.exit_code() != 0) {
      GTEST_SKIP() << "ptrace is not permitted here: " << probe.Stderr();
    }
  }
  TempDir dir;
  const std::string db = dir.File("durable.db");
  const std::string trace = dir.File("trace.log");
  Child server;
  Child::Options group;
  group.own_process_group = true;
  group.asan_options = "detect_leaks=0";  // LeakSanitizer fails under ptrace
  // -yy names each descriptor (file path, or TCP addresses) at each call;
  // -s 1024 keeps requests and responses whole.
  ASSERT_TRUE(server.Start(
      {strace, "-f", "-tt", "-yy", "-s", "1024", "-e",
       "trace=fdatasync,fsync,pwrite64,recvfrom,sendto,write,writev", "-o",
       trace, ServerBinary(), "--port", "0", "--db", db, "--log-level", "warn"},
      group));
  std::string line;
  ASSERT_TRUE(server.ReadLine(generous, &line)) << server.Stderr();
  ASSERT_EQ(line.rfind("listening on http://", 0), 0u) << line;
  const int port = std::stoi(line.substr(line.rfind(':') + 1));
  const std::string key = RandomKey("fault_");

  // The key's first use registers its project, a write of its own: it is
  // left out of the checks.
  auto client = NewClient(port, kRequestTimeout);
  auto warm_up = PostCreate(*client, key, "durable-warm-up");
  ASSERT_TRUE(warm_up && warm_up->status == 201) << Describe(warm_up);

  constexpr int kSequential = 24;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 8;
  std::mutex mu;
  std::vector<ObservedCreate> creates;
  std::vector<std::string> failures;
  auto create = [&](httplib::Client& with, const std::string& client_id,
                    bool alone) {
    auto result = PostCreate(with, key, client_id);
    std::lock_guard<std::mutex> lock(mu);
    if (!result || result->status != 201) {
      failures.push_back(client_id + ": " + Describe(result));
      return;
    }
    creates.push_back(
        {client_id, StringField(result->body, "id").value_or(""), alone});
  };
  for (int i = 0; i < kSequential; ++i) {
    create(*client, Numbered("durable-s", i), /*alone=*/true);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto own = NewClient(port, kRequestTimeout);
      for (int i = 0; i < kPerThread; ++i) {
        create(*own, Numbered("durable-t" + std::to_string(t) + "-", i),
               /*alone=*/false);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(failures.empty()) << ProblemList(failures);

  // SIGTERM to the group: strace -o FILE ignores it, the server stops
  // cleanly, and strace exits after it with the trace complete.
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.WaitUntil(Clock::now() + std::chrono::seconds(30)));
  EXPECT_EQ(server.exit_code(), 0) << server.Stderr();
  const std::vector<Syscall> calls = ParseStraceLog(ReadFile(trace));
  ASSERT_EQ(creates.size(), size_t{kSequential + kThreads * kPerThread});
  const std::vector<std::string> problems =
      CheckDurabilityOrder(calls, creates, "durable.db-wal");
  EXPECT_TRUE(problems.empty())
      << problems.size() << " of " << creates.size()
      << " creates answered without a WAL sync after their request:"
      << ProblemList(problems);
  std::printf("[ summary  ] %zu creates checked against %zu traced calls\n",
              creates.size(), calls.size());
}

}  // namespace
}  // namespace webhooks::fault
