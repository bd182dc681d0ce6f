// LogSink: the log's way out to standard error, which never makes a caller
// wait.
//
// Whatever reads our standard error (a terminal, journald, a test harness
// that captured it) may be slow, or may never read at all: a pipe nobody
// reads holds 64 KiB, and then every write to it blocks. Nothing that serves
// a request or stops the process may wait for that. So lines go into a
// bounded queue that a thread of the sink's own writes out in batches (a
// line at most 50 ms late); a line that does not fit is dropped and counted
// (GET /metrics shows the count). The writer itself never blocks for good
// either: it waits for POLLOUT with a short timeout, then writes at most
// PIPE_BUF bytes, which a pipe with room takes at once. The descriptor stays
// blocking: its open file description may be shared with other processes, so
// its flags are not ours to change.

#ifndef WEBHOOKS_OPS_LOG_SINK_H_
#define WEBHOOKS_OPS_LOG_SINK_H_

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace webhooks {

class LogSink {
 public:
  // The longest line, newline included, that is written as one piece
  // (PIPE_BUF: the most a pipe takes in one write). A longer line is cut to
  // this size and ends in kCutMark, so a reader sees that it was cut.
  static constexpr size_t kMaxLineBytes = PIPE_BUF;
  static constexpr char kCutMark[] = "...[cut]";
  // Bytes of queued lines at most: about a thousand request lines, enough
  // for a burst that a terminal or journald catches up with. Beyond it the
  // reader is not keeping up, and new lines are dropped.
  static constexpr size_t kMaxQueuedBytes = 256 * 1024;
  // How long the destructor waits for queued lines to be written.
  static constexpr std::chrono::milliseconds kCloseWait{1000};

  // Starts the writer thread on `fd`, which must stay open while the sink
  // lives (standard error: for the whole process).
  explicit LogSink(int fd);
  // Waits up to kCloseWait for the queued lines to be written, then stops
  // the writer; lines it could not write by then are dropped. Returns within
  // about kCloseWait whatever the reader does.
  ~LogSink();
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  // Queues `line`, to which a newline is added, cut as kMaxLineBytes says.
  // Never waits for the descriptor: if the queue is full, or the sink is
  // closing, the line is dropped and counted. Thread-safe (hence const, as
  // every method here: the queue is shared state behind a pointer).
  void Write(std::string line) const;
  // Waits until every queued line is written (or dropped), or `limit`
  // passes. Returns true if the queue was emptied in time.
  bool Flush(std::chrono::milliseconds limit) const;
  // Lines dropped so far: the queue was full, writing failed (a closed
  // pipe), or the sink closed before writing them.
  uint64_t dropped_lines() const;

 private:
  // The queue and its flags, shared with the writer thread, which may
  // outlive the sink by one poll interval if the reader is stuck (then it is
  // detached, and this keeps what it uses alive).
  struct Queue;
  // The writer thread's body.
  static void RunWriter(const std::shared_ptr<Queue>& queue);

  std::shared_ptr<Queue> queue_;
  std::thread writer_;
};

}  // namespace webhooks

#endif  // WEBHOOKS_OPS_LOG_SINK_H_
