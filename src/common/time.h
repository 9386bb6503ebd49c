#pragma once
#include <chrono>
#include <cstdint>

namespace fulcrum {

using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;
using MonoClock = std::chrono::steady_clock;
using MonoTime = MonoClock::time_point;

}  // namespace fulcrum

#include <time.h>

namespace fulcrum {

// Monotonic microseconds (vDSO, ~20 ns): request timings for metrics and access logs.
inline uint64_t monoMicros() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace fulcrum
