#pragma once
// Hierarchical timing wheel for per-connection timeouts (connect, idle, handshake...).
//
// Pure: it never reads a clock. The owner passes absolute millisecond ticks (the event
// loop's cached monotonic ms) to the constructor and to advance(); schedule() is relative
// to the tick of the last advance() (see now()).
//
// Layout: 4 levels x 256 slots. Level L slots are 256^L ms wide, so the wheel spans
// 2^32 ms (~49.7 days). A timer goes to the lowest level whose span holds its distance
// from the wheel's cursor and is moved down ("cascaded") when the cursor reaches the
// start of its slot, so it always fires from level 0 at exactly its deadline tick.
// Deadlines farther than the span are parked at the far end of the last level and
// re-placed each time they cascade. schedule/cancel are O(1); a per-level bitmap of
// non-empty slots lets advance() jump over idle time and nextTimeoutMs() answer cheaply.
//
// Not thread-safe: one wheel per event loop, used only from that loop's thread.
#include <cstddef>
#include <cstdint>
#include <functional>

namespace fulcrum::core {

class TimerWheel;

namespace detail {
// Link of an intrusive circular doubly-linked list; a list head (sentinel) points to itself
// when empty.
struct TimerLink {
  TimerLink* prev = this;
  TimerLink* next = this;
};
}  // namespace detail

// A timer owned by the object it times (a connection); the wheel never allocates or owns
// timers. Destroying an armed timer disarms it. Not copyable or movable, because the wheel
// links to it by address.
class Timer : private detail::TimerLink {
 public:
  explicit Timer(std::function<void()> cb = {});
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Replaces the callback. Allowed at any time, also from inside the callback itself.
  void setCallback(std::function<void()> cb);
  bool armed() const { return wheel_ != nullptr; }
  // Absolute tick the timer fires at (the last one it was scheduled for once disarmed).
  uint64_t deadline() const { return deadline_; }

 private:
  friend class TimerWheel;
  std::function<void()> cb_;
  TimerWheel* wheel_ = nullptr;  // non-null exactly while armed
  uint64_t deadline_ = 0;
  uint32_t slot_ = 0;            // list the timer is linked in (see TimerWheel::placeInWheel)
  bool* destroyed_ = nullptr;    // set while its callback runs, so advance() sees a delete
};

class TimerWheel {
 public:
  static constexpr int kLevels = 4;
  static constexpr int kSlotBits = 8;
  static constexpr size_t kSlots = size_t{1} << kSlotBits;
  // nextTimeoutMs() never returns more than this, so the loop re-checks at least once a second
  // whatever happens to its clock, and the value always fits epoll_wait's int.
  static constexpr int64_t kMaxTimeoutMs = 1000;

  explicit TimerWheel(uint64_t nowMs);
  ~TimerWheel();  // disarms every timer still armed (their later destruction is then a no-op)
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms `t` to fire at now() + delayMs (saturating). Re-arming an armed timer cancels it first
  // (also when it is armed on another wheel). A deadline <= now() fires on the next advance().
  void schedule(Timer& t, uint64_t delayMs);
  // Same with an absolute deadline tick.
  void scheduleAt(Timer& t, uint64_t deadlineMs);
  // Disarms `t`; no-op if it is not armed.
  void cancel(Timer& t);

  // Moves time to nowMs (a smaller value than now() counts as now()) and fires every timer
  // with deadline <= nowMs, in deadline order (ties in unspecified order). Timers whose
  // deadline had already passed when they were scheduled fire first. Returns the number fired.
  //
  // A timer is disarmed before its callback runs. A callback may:
  //  - schedule or cancel any timer, including itself and timers due in this same advance()
  //    that have not fired yet (a cancelled one then does not fire);
  //  - destroy any Timer, including the one firing (e.g. `delete connection` from its own
  //    timeout): the callback object is moved out of the Timer for the call, so its captures
  //    stay valid until it returns;
  //  - call now(), size(), nextTimeoutMs().
  // Timers armed from a callback never fire in the same advance(): a deadline <= nowMs waits
  // for the next advance() (so a callback re-arming itself with delay 0 cannot loop).
  // A callback must not call advance() (asserted; a no-op returning 0 in release builds) and
  // must not destroy the wheel.
  size_t advance(uint64_t nowMs);

  // Milliseconds from now() until the wheel next has work, for epoll_wait's timeout:
  // -1 if no timer is armed, 0 if one is already due, else in [1, kMaxTimeoutMs]. Never later
  // than the earliest deadline; may be earlier (a deadline >= 256 ms away is reported as the
  // tick its slot cascades at), which just costs an extra wake-up with nothing to fire.
  int64_t nextTimeoutMs() const;
  // Same, measured from nowMs (the caller's clock may have moved since the last advance()).
  int64_t nextTimeoutMs(uint64_t nowMs) const;

  uint64_t now() const { return now_; }
  size_t size() const { return size_; }  // armed timers

 private:
  using Link = detail::TimerLink;
  static constexpr size_t kWords = kSlots / 64;

  void placeInWheel(Timer& t);
  void unlinkArmed(Timer& t);
  void cascade(int level, size_t slot);
  // First tick >= cursor_ at which some non-empty slot is visited; UINT64_MAX if none.
  uint64_t nextVisit() const;
  // Moves every timer of `from` to the local list `to`, marking them as due.
  void takeDue(Link& from, Link& to);
  size_t fireAll(Link& due);

  Link slots_[kLevels][kSlots];
  uint64_t occupied_[kLevels][kWords] = {};  // bit set <=> slot list non-empty
  Link ready_;     // armed with a deadline already passed: fire at the next advance()
  uint64_t now_;     // tick of the last advance() (or construction)
  uint64_t cursor_;  // next tick whose slots are still to visit; == now_ + 1 outside advance()
  size_t size_ = 0;
  bool advancing_ = false;
};

}  // namespace fulcrum::core
