#include "ops/change_feed.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "util/crypto.h"

namespace webhooks {

ChangeFeed::ChangeFeed(const Options& options)
    : options_(options), boot_id_(RandomToken(8)) {}

void ChangeFeed::Publish(std::string_view project_id, std::string_view kind,
                         std::string data) {
  std::lock_guard<std::mutex> lock(mu_);
  Change& change = changes_.emplace_back();
  change.seq = ++last_seq_;
  change.project_id = project_id;
  change.kind = kind;
  change.data = std::move(data);
  if (changes_.size() > options_.capacity) changes_.pop_front();
  // Only this project's readers: with many streams open, a busy project
  // must not wake every other project's worker for each change.
  for (Reader* reader : readers_) {
    if (reader->project_id_ == project_id) reader->wake_.notify_one();
  }
}

void ChangeFeed::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (Reader* reader : readers_) reader->wake_.notify_one();
}

std::unique_ptr<ChangeFeed::Reader> ChangeFeed::OpenReader(
    std::string project_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || readers_.size() >= options_.max_readers) return nullptr;
  std::unique_ptr<Reader> reader(new Reader(*this, std::move(project_id)));
  readers_.push_back(reader.get());
  return reader;
}

bool ChangeFeed::Resume(std::string_view last_event_id, uint64_t* after) const {
  std::lock_guard<std::mutex> lock(mu_);
  *after = last_seq_;
  const size_t dot = last_event_id.find('.');
  if (dot == std::string_view::npos ||
      last_event_id.substr(0, dot) != boot_id_) {
    return false;
  }
  const std::string_view number = last_event_id.substr(dot + 1);
  uint64_t seq = 0;
  auto [end, error] =
      std::from_chars(number.data(), number.data() + number.size(), seq);
  if (error != std::errc() || end != number.data() + number.size() ||
      seq > last_seq_) {
    return false;
  }
  // Everything after `seq` must still be kept.
  const uint64_t oldest = changes_.empty() ? last_seq_ + 1 : changes_[0].seq;
  if (seq + 1 < oldest) return false;
  *after = seq;
  return true;
}

size_t ChangeFeed::open_readers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return readers_.size();
}

ChangeFeed::Reader::Reader(ChangeFeed& feed, std::string project_id)
    : feed_(feed), project_id_(std::move(project_id)) {}

ChangeFeed::Reader::~Reader() {
  std::lock_guard<std::mutex> lock(feed_.mu_);
  auto& readers = feed_.readers_;
  readers.erase(std::remove(readers.begin(), readers.end(), this),
                readers.end());
}

ChangeFeed::Reader::Result ChangeFeed::Reader::Wait(
    uint64_t* position, std::chrono::steady_clock::time_point deadline,
    std::vector<Change>* out) {
  out->clear();
  std::unique_lock<std::mutex> lock(feed_.mu_);
  while (true) {
    if (feed_.closed_) return Result::kClosed;
    const auto& changes = feed_.changes_;
    const uint64_t oldest =
        changes.empty() ? feed_.last_seq_ + 1 : changes[0].seq;
    const bool gap = *position + 1 < oldest;
    for (size_t i = gap ? 0 : static_cast<size_t>(*position + 1 - oldest);
         !gap && i < changes.size(); ++i) {
      if (changes[i].project_id == project_id_) out->push_back(changes[i]);
    }
    *position = feed_.last_seq_;
    if (gap) return Result::kGap;
    if (!out->empty()) return Result::kChanges;
    if (wake_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return Result::kTimedOut;
    }
  }
}

}  // namespace webhooks
