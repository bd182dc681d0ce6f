// LogSink: a bounded queue of lines and the thread that writes them to a
// descriptor without ever blocking for good. See log_sink.h for why.

#include "ops/log_sink.h"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string_view>
#include <utility>

namespace webhooks {
namespace {

// How long the writer waits for the descriptor to take bytes before it
// looks again whether it should give up (the sink is closing).
constexpr int kPollMillis = 100;

// How long the first line of a batch waits for others to join it. Waking
// the writer for every line cost a context switch per request: GET /healthz
// at one connection went from 15,500 to 10,000 requests a second. Batched,
// the writer wakes at most once per this time or per kMaxLineBytes of
// lines, and a line reaches the reader this much later at most.
constexpr std::chrono::milliseconds kGatherFor{50};

}  // namespace

struct LogSink::Queue {
  explicit Queue(int out) : fd(out) {}

  const int fd;
  std::mutex mu;
  std::condition_variable queued;   // a line came, or stopping
  std::condition_variable written;  // a batch went out, or the writer ended
  // Guarded by mu.
  std::deque<std::string> lines;
  size_t queued_bytes = 0;
  bool writing = false;   // a batch taken from `lines` is being written
  bool stopping = false;  // write what is queued, then end
  int flushing = 0;       // callers waiting in Flush: write without gathering
  bool ended = false;     // the writer has returned
  // Read by the writer without mu while it waits for the descriptor.
  std::atomic<bool> abandoned{false};  // stop even with lines queued
  std::atomic<uint64_t> dropped{0};
};

namespace {

// Writes all of `bytes` (at most PIPE_BUF) to `fd`, each write after
// POLLOUT so that it does not block. Returns false if the descriptor failed
// (a pipe without reader, a closed descriptor) or `abandoned` became true.
bool WriteOut(int fd, const std::atomic<bool>& abandoned,
              std::string_view bytes) {
  while (!bytes.empty()) {
    if (abandoned) return false;
    pollfd out{fd, POLLOUT, 0};
    const int ready = ::poll(&out, 1, kPollMillis);
    if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
    if (ready < 0 || (out.revents & (POLLERR | POLLNVAL)) != 0) return false;
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      // EAGAIN: another process set O_NONBLOCK on the shared description.
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// `line` with its newline, cut to kMaxLineBytes with kCutMark at the end.
// The cut backs off to a UTF-8 character boundary.
std::string Terminated(std::string line) {
  if (line.size() + 1 > LogSink::kMaxLineBytes) {
    const std::string_view mark = LogSink::kCutMark;
    size_t cut = LogSink::kMaxLineBytes - 1 - mark.size();
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    line.resize(cut);
    line += mark;
  }
  line += '\n';
  return line;
}

}  // namespace

// The writer thread: takes as many whole lines as fit in one PIPE_BUF write
// (fewer system calls under load), writes them with no lock held, and ends
// once stopping with nothing queued, or at once when abandoned.
void LogSink::RunWriter(const std::shared_ptr<Queue>& shared) {
  Queue& queue = *shared;
  std::string batch;
  std::unique_lock<std::mutex> lock(queue.mu);
  for (;;) {
    queue.queued.wait(lock,
                      [&] { return !queue.lines.empty() || queue.stopping; });
    queue.queued.wait_for(lock, kGatherFor, [&] {
      return queue.queued_bytes >= kMaxLineBytes || queue.stopping ||
             queue.flushing > 0;
    });
    if (queue.lines.empty() || queue.abandoned) break;
    batch.clear();
    size_t count = 0;
    while (!queue.lines.empty() &&
           batch.size() + queue.lines.front().size() <= kMaxLineBytes) {
      batch += queue.lines.front();
      queue.queued_bytes -= queue.lines.front().size();
      queue.lines.pop_front();
      ++count;
    }
    queue.writing = true;
    lock.unlock();
    const bool ok = WriteOut(queue.fd, queue.abandoned, batch);
    lock.lock();
    queue.writing = false;
    if (!ok) queue.dropped += count;
    queue.written.notify_all();
  }
  queue.dropped += queue.lines.size();
  queue.lines.clear();
  queue.queued_bytes = 0;
  queue.ended = true;
  queue.written.notify_all();
}

LogSink::LogSink(int fd)
    : queue_(std::make_shared<Queue>(fd)),
      writer_([queue = queue_] { RunWriter(queue); }) {}

LogSink::~LogSink() {
  bool ended;
  {
    std::unique_lock<std::mutex> lock(queue_->mu);
    queue_->stopping = true;
    queue_->queued.notify_all();
    ended = queue_->written.wait_for(lock, kCloseWait,
                                     [this] { return queue_->ended; });
    if (!ended) {
      queue_->abandoned = true;
      queue_->queued.notify_all();
    }
  }
  // An abandoned writer returns within one poll interval, unless a write
  // that followed POLLOUT blocks after all (another process filled the
  // pipe in between): then it must not hold this thread, and the queue it
  // holds stays alive without us.
  if (ended) {
    writer_.join();
  } else {
    writer_.detach();
  }
}

void LogSink::Write(std::string line) const {
  line = Terminated(std::move(line));
  std::lock_guard<std::mutex> lock(queue_->mu);
  if (queue_->stopping ||
      queue_->queued_bytes + line.size() > kMaxQueuedBytes) {
    ++queue_->dropped;
    return;
  }
  // The writer is woken when a batch begins and when it fills, never for
  // the lines in between (see kGatherFor).
  const bool begins_batch = queue_->lines.empty();
  const bool fills_batch = queue_->queued_bytes < kMaxLineBytes &&
                           queue_->queued_bytes + line.size() >= kMaxLineBytes;
  queue_->queued_bytes += line.size();
  queue_->lines.push_back(std::move(line));
  if (begins_batch || fills_batch) queue_->queued.notify_one();
}

bool LogSink::Flush(std::chrono::milliseconds limit) const {
  std::unique_lock<std::mutex> lock(queue_->mu);
  ++queue_->flushing;
  queue_->queued.notify_all();
  const bool done = queue_->written.wait_for(lock, limit, [this] {
    return queue_->ended || (queue_->lines.empty() && !queue_->writing);
  });
  --queue_->flushing;
  return done;
}

uint64_t LogSink::dropped_lines() const { return queue_->dropped; }

}  // namespace webhooks
