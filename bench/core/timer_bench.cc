// TimerWheel: arming, re-arming and cancelling with many timers armed (a connection's timeout
// moves on every request), and the cost of firing.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "core/timer_wheel.h"

using fulcrum::core::Timer;
using fulcrum::core::TimerWheel;

namespace {

// range(0) timers armed at spread deadlines; one of them is re-armed per iteration.
void rearm(benchmark::State& state) {
  TimerWheel wheel(0);
  std::vector<std::unique_ptr<Timer>> timers;
  for (int64_t i = 0; i < state.range(0); ++i) {
    timers.push_back(std::make_unique<Timer>([] {}));
    wheel.schedule(*timers.back(), 1000 + static_cast<uint64_t>(i % 60000));
  }
  size_t i = 0;
  for (auto _ : state) {
    wheel.schedule(*timers[i], 60000);
    i = (i + 1) % timers.size();
  }
}
BENCHMARK(rearm)->Arg(1)->Arg(10000)->Arg(100000);

void scheduleAndCancel(benchmark::State& state) {
  TimerWheel wheel(0);
  Timer t([] {});
  for (auto _ : state) {
    wheel.schedule(t, 30000);
    wheel.cancel(t);
  }
}
BENCHMARK(scheduleAndCancel);

// Per timer fired: range(0) timers due within one second, advanced a millisecond at a time.
void fire(benchmark::State& state) {
  const int64_t n = state.range(0);
  uint64_t fired = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto wheel = std::make_unique<TimerWheel>(0);
    std::vector<std::unique_ptr<Timer>> timers;
    for (int64_t i = 0; i < n; ++i) {
      timers.push_back(std::make_unique<Timer>([&fired] { ++fired; }));
      wheel->schedule(*timers.back(), static_cast<uint64_t>(i % 1000));
    }
    state.ResumeTiming();
    for (uint64_t ms = 0; ms <= 1000; ++ms) {
      wheel->advance(ms);
    }
    state.PauseTiming();
    timers.clear();
    wheel.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(fired));
}
BENCHMARK(fire)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
