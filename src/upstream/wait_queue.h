#pragma once
// WaitQueue: one worker's connections (L4) or requests (HTTP) waiting for a free server slot
// (max_connections, max_requests), served first come, first served. A slot freed on this
// worker calls onSlotFreed(); slots freed on other workers are not signalled, so a 5 ms timer
// polls while anyone waits.
#include <cstddef>
#include <cstdint>
#include <deque>

#include "core/event_loop.h"
#include "core/timer_wheel.h"

namespace fulcrum::upstream {

// Waiter::retryFromQueue(): true when the waiter left the queue (served, or gone); false
// when it must keep waiting, in its place.
template <class Waiter>
class WaitQueue {
 public:
  // stopAtFirstBlocked: every waiter wants the same pool (an L4 listener has one), so when the
  // oldest cannot go none can; otherwise (HTTP routes to many pools) each one is tried.
  WaitQueue(core::EventLoop& loop, bool stopAtFirstBlocked)
      : loop_(loop), stop_at_first_(stopAtFirstBlocked), poll_([this] { poll(); }) {}
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  // False when `limit` waiters are already there.
  bool enqueue(Waiter* w, size_t limit) {
    if (queue_.size() >= limit) {
      return false;
    }
    queue_.push_back(w);
    if (!poll_.armed()) {
      loop_.timers().schedule(poll_, kPollMs);
    }
    return true;
  }

  void dequeue(Waiter* w) {
    // During a pass a waiter may be in the pass's lists rather than in queue_.
    for (auto* q : {&queue_, &pending_, &kept_}) {
      for (auto it = q->begin(); it != q->end(); ++it) {
        if (*it == w) {
          q->erase(it);
          break;
        }
      }
    }
    if (queue_.empty() && !in_pass_) {
      loop_.timers().cancel(poll_);
    }
  }

  // Lets the oldest waiters try again. A waiter that gets a slot may fail at once and free it
  // again, which calls back here: one pass at a time.
  void onSlotFreed() {
    if (in_pass_ || queue_.empty()) {
      return;
    }
    in_pass_ = true;
    pending_.swap(queue_);
    while (!pending_.empty()) {
      Waiter* w = pending_.front();
      pending_.pop_front();
      if (w->retryFromQueue()) {
        continue;
      }
      kept_.push_back(w);  // still waiting, in its place
      if (stop_at_first_) {
        kept_.insert(kept_.end(), pending_.begin(), pending_.end());
        pending_.clear();
      }
    }
    // Those who came during the pass go after those who were already waiting.
    kept_.insert(kept_.end(), queue_.begin(), queue_.end());
    queue_.swap(kept_);
    kept_.clear();
    in_pass_ = false;
    if (queue_.empty()) {
      loop_.timers().cancel(poll_);
    }
  }

  size_t size() const { return queue_.size(); }

 private:
  static constexpr uint64_t kPollMs = 5;

  void poll() {
    onSlotFreed();
    if (!queue_.empty()) {
      loop_.timers().schedule(poll_, kPollMs);
    }
  }

  core::EventLoop& loop_;
  bool stop_at_first_;
  std::deque<Waiter*> queue_;
  std::deque<Waiter*> pending_;  // during a pass: not yet tried
  std::deque<Waiter*> kept_;     // during a pass: tried, still waiting
  core::Timer poll_;
  bool in_pass_ = false;
};

}  // namespace fulcrum::upstream
