#include "core/timer_wheel.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <limits>
#include <utility>

namespace fulcrum::core {

namespace {

using Link = detail::TimerLink;

// Timer::slot_ values: level * kSlots + slot while in the wheel, or one of these.
constexpr uint32_t kReadySlot = TimerWheel::kLevels * TimerWheel::kSlots;
constexpr uint32_t kDueSlot = kReadySlot + 1;  // in advance()'s local list of timers to fire

constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kSlotMask = TimerWheel::kSlots - 1;
// Farthest distance from the cursor that the last level still resolves.
constexpr uint64_t kMaxSpan = (uint64_t{1} << (TimerWheel::kLevels * TimerWheel::kSlotBits)) - 1;

bool empty(const Link& head) { return head.next == &head; }

void linkBefore(Link& head, Link& l) {
  l.prev = head.prev;
  l.next = &head;
  head.prev->next = &l;
  head.prev = &l;
}

void unlink(Link& l) {
  l.prev->next = l.next;
  l.next->prev = l.prev;
  l.prev = &l;
  l.next = &l;
}

// Offset (0..255) from `start` to the next set bit, wrapping around; the caller ensures one is set.
size_t nextSetOffset(const uint64_t* bits, size_t start) {
  constexpr size_t kWords = TimerWheel::kSlots / 64;
  size_t w = start / 64;
  size_t b = start % 64;
  uint64_t word = bits[w] & (~uint64_t{0} << b);
  for (size_t i = 0; i <= kWords; ++i) {
    if (word != 0) {
      size_t idx = ((w + i) % kWords) * 64 + static_cast<size_t>(std::countr_zero(word));
      return (idx - start) & kSlotMask;
    }
    // After a full turn, look at the low bits of the starting word we skipped.
    word = (i + 1 < kWords) ? bits[(w + i + 1) % kWords] : bits[w] & ~(~uint64_t{0} << b);
  }
  assert(false && "nextSetOffset on an empty bitmap");
  return 0;
}

}  // namespace

Timer::Timer(std::function<void()> cb) : cb_(std::move(cb)) {}

Timer::~Timer() {
  if (wheel_ != nullptr) {
    wheel_->cancel(*this);
  }
  if (destroyed_ != nullptr) {
    *destroyed_ = true;
  }
}

void Timer::setCallback(std::function<void()> cb) { cb_ = std::move(cb); }

TimerWheel::TimerWheel(uint64_t nowMs) : now_(nowMs), cursor_(nowMs + 1) {}

TimerWheel::~TimerWheel() {
  auto disarmAll = [](Link& head) {
    while (!empty(head)) {
      Timer& t = *static_cast<Timer*>(head.next);
      unlink(t);
      t.wheel_ = nullptr;
    }
  };
  for (auto& level : slots_) {
    for (Link& head : level) {
      disarmAll(head);
    }
  }
  disarmAll(ready_);
}

void TimerWheel::schedule(Timer& t, uint64_t delayMs) {
  uint64_t deadline = delayMs > kNever - now_ ? kNever : now_ + delayMs;
  scheduleAt(t, deadline);
}

void TimerWheel::scheduleAt(Timer& t, uint64_t deadlineMs) {
  if (t.wheel_ != nullptr) {
    t.wheel_->cancel(t);
  }
  t.deadline_ = deadlineMs;
  t.wheel_ = this;
  ++size_;
  // <= now_ rather than < cursor_: inside advance() this keeps timers armed by callbacks out
  // of the ticks still being processed, so nothing fires twice (or forever) in one advance().
  if (deadlineMs <= now_) {
    t.slot_ = kReadySlot;
    linkBefore(ready_, t);
    return;
  }
  placeInWheel(t);
}

void TimerWheel::placeInWheel(Timer& t) {
  // Invariant: deadline >= cursor_, so slot `deadline >> 8L` at level L is first visited
  // (fired at level 0, cascaded above) exactly when the cursor reaches the start of that slot.
  assert(t.deadline_ >= cursor_);
  uint64_t key = t.deadline_;
  uint64_t distance = key - cursor_;
  int level = 0;
  if (distance >= kSlots) {
    level = (std::bit_width(distance) - 1) / kSlotBits;
    if (level >= kLevels) {
      // Too far for the wheel: park it at its far end; it is re-placed when that slot cascades.
      level = kLevels - 1;
      key = cursor_ + kMaxSpan;
    }
  }
  size_t slot = (key >> (level * kSlotBits)) & kSlotMask;
  t.slot_ = static_cast<uint32_t>(level * kSlots + slot);
  linkBefore(slots_[level][slot], t);
  occupied_[level][slot / 64] |= uint64_t{1} << (slot % 64);
}

void TimerWheel::cancel(Timer& t) {
  if (t.wheel_ == nullptr) {
    return;
  }
  if (t.wheel_ != this) {
    t.wheel_->cancel(t);
    return;
  }
  unlinkArmed(t);
}

void TimerWheel::unlinkArmed(Timer& t) {
  unlink(t);
  if (t.slot_ < kReadySlot) {
    size_t level = t.slot_ / kSlots;
    size_t slot = t.slot_ % kSlots;
    if (empty(slots_[level][slot])) {
      occupied_[level][slot / 64] &= ~(uint64_t{1} << (slot % 64));
    }
  }
  t.wheel_ = nullptr;
  --size_;
}

void TimerWheel::cascade(int level, size_t slot) {
  Link& head = slots_[level][slot];
  occupied_[level][slot / 64] &= ~(uint64_t{1} << (slot % 64));
  // Detach the whole list first: a far-future timer may be re-placed into this same slot.
  Link moving;
  takeDue(head, moving);
  while (!empty(moving)) {
    Timer& t = *static_cast<Timer*>(moving.next);
    unlink(t);
    placeInWheel(t);
  }
}

uint64_t TimerWheel::nextVisit() const {
  uint64_t best = kNever;
  for (int level = 0; level < kLevels; ++level) {
    const uint64_t* bits = occupied_[level];
    if ((bits[0] | bits[1] | bits[2] | bits[3]) == 0) {
      continue;
    }
    static_assert(kWords == 4);
    // Level L slots are visited at ticks that are multiples of 256^L, one slot after another.
    int shift = level * kSlotBits;
    uint64_t width = uint64_t{1} << shift;
    uint64_t first = (cursor_ + width - 1) & ~(width - 1);
    size_t offset = nextSetOffset(bits, (first >> shift) & kSlotMask);
    best = std::min(best, first + (static_cast<uint64_t>(offset) << shift));
  }
  return best;
}

void TimerWheel::takeDue(Link& from, Link& to) {
  if (empty(from)) {
    return;
  }
  to.next = from.next;
  to.prev = from.prev;
  to.next->prev = &to;
  to.prev->next = &to;
  from.next = &from;
  from.prev = &from;
  for (Link* l = to.next; l != &to; l = l->next) {
    static_cast<Timer*>(l)->slot_ = kDueSlot;
  }
}

size_t TimerWheel::fireAll(Link& due) {
  size_t fired = 0;
  // Pop one at a time: callbacks may cancel or destroy any timer still in `due`.
  while (!empty(due)) {
    Timer& t = *static_cast<Timer*>(due.next);
    unlinkArmed(t);
    bool destroyed = false;
    t.destroyed_ = &destroyed;
    std::function<void()> cb = std::move(t.cb_);
    t.cb_ = nullptr;
    ++fired;
    if (cb) {
      cb();
    }
    if (!destroyed) {
      t.destroyed_ = nullptr;
      if (!t.cb_) {  // unless the callback installed a new one
        t.cb_ = std::move(cb);
      }
    }
  }
  return fired;
}

size_t TimerWheel::advance(uint64_t nowMs) {
  assert(!advancing_ && "TimerWheel::advance called from a timer callback");
  if (advancing_) {
    return 0;
  }
  advancing_ = true;
  now_ = std::max(now_, nowMs);
  size_t fired = 0;

  Link due;
  takeDue(ready_, due);
  fired += fireAll(due);

  // Jump from one occupied slot visit to the next; skipped ticks only had empty slots.
  for (uint64_t tick = nextVisit(); tick <= now_; tick = nextVisit()) {
    cursor_ = tick;
    for (int level = kLevels - 1; level > 0; --level) {
      int shift = level * kSlotBits;
      if ((tick & ((uint64_t{1} << shift) - 1)) == 0) {
        size_t slot = (tick >> shift) & kSlotMask;
        if (occupied_[level][slot / 64] & (uint64_t{1} << (slot % 64))) {
          cascade(level, slot);
        }
      }
    }
    size_t slot = tick & kSlotMask;
    occupied_[0][slot / 64] &= ~(uint64_t{1} << (slot % 64));
    takeDue(slots_[0][slot], due);
    cursor_ = tick + 1;
    fired += fireAll(due);
  }
  cursor_ = now_ + 1;
  advancing_ = false;
  return fired;
}

int64_t TimerWheel::nextTimeoutMs() const { return nextTimeoutMs(now_); }

int64_t TimerWheel::nextTimeoutMs(uint64_t nowMs) const {
  if (size_ == 0) {
    return -1;
  }
  if (!empty(ready_)) {
    return 0;
  }
  uint64_t tick = nextVisit();
  if (tick <= nowMs) {
    return 0;
  }
  return static_cast<int64_t>(std::min<uint64_t>(tick - nowMs, kMaxTimeoutMs));
}

}  // namespace fulcrum::core
