#pragma once
// Clock: where an event loop, and everything that runs on it, reads the time. Injected so that
// timeouts are unit-tested without sleeping: a test drives a loop with a ManualClock and
// advances it. Monotonic; milliseconds for timers and timeouts, microseconds for timings
// reported in metrics and access logs.
#include <time.h>

#include <cstdint>

namespace fulcrum::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t nowUs() const = 0;
  uint64_t nowMs() const { return nowUs() / 1000; }
};

// CLOCK_MONOTONIC through the vDSO (~20 ns a read).
class SystemClock final : public Clock {
 public:
  uint64_t nowUs() const override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  }
  // The one every production loop uses.
  static const SystemClock& instance() {
    static const SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t startUs = 1'000'000'000) : now_us_(startUs) {}
  uint64_t nowUs() const override { return now_us_; }
  void advanceMs(uint64_t ms) { now_us_ += ms * 1000; }

 private:
  uint64_t now_us_;
};

}  // namespace fulcrum::core
