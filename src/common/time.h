#pragma once
#include <chrono>
#include <cstdint>

namespace fulcrum {

using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;
using MonoClock = std::chrono::steady_clock;
using MonoTime = MonoClock::time_point;

}  // namespace fulcrum
