// ChangeFeed: what changed in each project, as it happens, for the
// dashboard's live stream (api/activity.h). The ingress, the API handlers
// and the delivery worker publish; each open stream reads its own project's
// changes. Memory is bounded: the feed keeps the last `capacity` changes of
// all projects, and a reader that fell further behind is told so (it
// reloads instead of resuming). Changes are numbered from 1 in each run;
// `boot_id` tells one run's numbers from another's.

#ifndef WEBHOOKS_OPS_CHANGE_FEED_H_
#define WEBHOOKS_OPS_CHANGE_FEED_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace webhooks {

struct Change {
  uint64_t seq = 0;
  std::string project_id;
  std::string kind;  // "event", "delivery", "endpoint", "subscription"
  std::string data;  // one JSON object
};

class ChangeFeed {
 public:
  struct Options {
    size_t capacity = 2048;  // changes kept, all projects together
    size_t max_readers = 32;
  };

  explicit ChangeFeed(const Options& options);
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  const std::string& boot_id() const { return boot_id_; }

  // Adds a change and wakes the readers of its project. Cheap when nobody
  // reads: one lock, one append.
  void Publish(std::string_view project_id, std::string_view kind,
               std::string data);

  // Stops every reader (Wait returns kClosed) and refuses new ones: the
  // server is stopping, and a stream must not hold its worker.
  void Close();

  // One open stream's place in the feed. Destroying it frees the slot.
  class Reader {
   public:
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    enum class Result {
      kChanges,   // *out holds the project's changes after the position
      kTimedOut,  // none before the deadline
      kGap,       // changes were dropped since the position: reload
      kClosed,    // the feed is closing
    };
    // The project's changes after *position (a seq; 0 before all),
    // waiting until there is one, `deadline` passes, or the feed closes.
    // *position moves past every change looked at (other projects' too),
    // so the next call starts there.
    Result Wait(uint64_t* position,
                std::chrono::steady_clock::time_point deadline,
                std::vector<Change>* out);

   private:
    friend class ChangeFeed;
    Reader(ChangeFeed& feed, std::string project_id);
    ChangeFeed& feed_;
    const std::string project_id_;
    std::condition_variable wake_;
  };

  // A reader of `project_id`'s changes, or null when `max_readers` are
  // open or the feed is closed.
  std::unique_ptr<Reader> OpenReader(std::string project_id);

  // The position that resumes from a client's Last-Event-ID ("boot.seq"):
  // true with *after set if it is this run's and still kept (or at most
  // the newest); false if the client must reload (*after is then the
  // newest change, so that it goes on from now).
  bool Resume(std::string_view last_event_id, uint64_t* after) const;

  size_t open_readers() const;

 private:
  const Options options_;
  const std::string boot_id_;
  mutable std::mutex mu_;
  std::deque<Change> changes_;  // seq ascending, contiguous
  uint64_t last_seq_ = 0;
  bool closed_ = false;
  std::vector<Reader*> readers_;
};

}  // namespace webhooks

#endif  // WEBHOOKS_OPS_CHANGE_FEED_H_
