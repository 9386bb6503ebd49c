#include "core/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <vector>

namespace fulcrum::core {
namespace {

constexpr uint64_t kStart = 1'000'000;  // an arbitrary, unaligned-ish start tick
constexpr uint64_t kHour = 3'600'000;
constexpr uint64_t kDay = 24 * kHour;

TEST(TimerWheel, FiresInDeadlineOrder) {
  TimerWheel wheel(kStart);
  std::vector<int> order;
  std::vector<std::unique_ptr<Timer>> timers;
  // Deliberately scheduled out of order and across levels.
  const uint64_t delays[] = {300, 5, 70'000, 1, 256, 255, 257, 65'536, 100};
  for (uint64_t d : delays) {
    timers.push_back(std::make_unique<Timer>([&order, d] { order.push_back(static_cast<int>(d)); }));
    wheel.schedule(*timers.back(), d);
  }
  EXPECT_EQ(wheel.size(), 9u);
  EXPECT_EQ(wheel.advance(kStart + 100'000), 9u);
  EXPECT_EQ(order, (std::vector<int>{1, 5, 100, 255, 256, 257, 300, 65'536, 70'000}));
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, NotFiredEarly) {
  TimerWheel wheel(kStart);
  int fired = 0;
  Timer t([&] { ++fired; });
  wheel.schedule(t, 10);
  EXPECT_EQ(t.deadline(), kStart + 10);
  EXPECT_TRUE(t.armed());
  EXPECT_EQ(wheel.advance(kStart + 9), 0u);
  EXPECT_EQ(fired, 0);
  EXPECT_TRUE(t.armed());
  EXPECT_EQ(wheel.advance(kStart + 10), 1u);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t.armed());
  EXPECT_EQ(wheel.advance(kStart + 1000), 0u);
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, ExactTickForEveryLevelBoundary) {
  // Delays around each level's span, from several start phases; step 1 ms near the deadline.
  for (uint64_t start : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{65'535}, kStart + 123}) {
    for (uint64_t delay : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{257},
                           uint64_t{65'535}, uint64_t{65'536}, uint64_t{65'537}, uint64_t{1} << 24,
                           (uint64_t{1} << 24) + 1, (uint64_t{1} << 32) - 1, uint64_t{1} << 32,
                           (uint64_t{1} << 32) + 5}) {
      TimerWheel wheel(start);
      std::vector<uint64_t> firedAt;
      Timer t([&] { firedAt.push_back(wheel.now()); });
      wheel.schedule(t, delay);
      const uint64_t deadline = start + delay;
      // Big jump to just before the deadline, then 1 ms steps.
      const uint64_t from = deadline > start + 3 ? deadline - 3 : start;
      wheel.advance(from == start ? start : from - 1);
      ASSERT_TRUE(firedAt.empty() || delay == 0) << "start=" << start << " delay=" << delay;
      for (uint64_t now = from; now <= deadline + 2; ++now) {
        wheel.advance(now);
      }
      EXPECT_EQ(firedAt, std::vector<uint64_t>{deadline}) << "start=" << start << " delay=" << delay;
    }
  }
}

TEST(TimerWheel, LongDelaysWithBigJumps) {
  TimerWheel wheel(kStart);
  uint64_t hourFiredAt = 0, monthFiredAt = 0, sixtyDaysFiredAt = 0;
  Timer hour([&] { hourFiredAt = wheel.now(); });
  Timer month([&] { monthFiredAt = wheel.now(); });
  Timer sixtyDays([&] { sixtyDaysFiredAt = wheel.now(); });  // beyond the 2^32 ms span
  wheel.schedule(hour, kHour);
  wheel.schedule(month, 30 * kDay);
  wheel.schedule(sixtyDays, 60 * kDay);

  EXPECT_EQ(wheel.advance(kStart + kHour - 1), 0u);
  EXPECT_EQ(wheel.advance(kStart + kHour), 1u);
  EXPECT_EQ(hourFiredAt, kStart + kHour);

  EXPECT_EQ(wheel.advance(kStart + 30 * kDay - 1), 0u);
  EXPECT_EQ(wheel.advance(kStart + 30 * kDay), 1u);
  EXPECT_EQ(monthFiredAt, kStart + 30 * kDay);

  EXPECT_EQ(wheel.advance(kStart + 60 * kDay - 1), 0u);
  EXPECT_EQ(wheel.advance(kStart + 60 * kDay), 1u);
  EXPECT_EQ(sixtyDaysFiredAt, kStart + 60 * kDay);
}

TEST(TimerWheel, OneBigJumpFiresEverythingInOrder) {
  TimerWheel wheel(kStart);
  std::vector<uint64_t> deadlines;
  Timer a([&] { deadlines.push_back(1); });
  Timer b([&] { deadlines.push_back(2); });
  Timer c([&] { deadlines.push_back(3); });
  wheel.schedule(c, 60 * kDay);
  wheel.schedule(b, 30 * kDay);
  wheel.schedule(a, kHour);
  EXPECT_EQ(wheel.advance(kStart + 365 * kDay), 3u);
  EXPECT_EQ(deadlines, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(TimerWheel, LongDelayStepByStep) {
  TimerWheel wheel(kStart);
  uint64_t firedAt = 0;
  size_t fires = 0;
  Timer t([&] {
    firedAt = wheel.now();
    ++fires;
  });
  wheel.schedule(t, kHour);
  for (uint64_t now = kStart + 1; now <= kStart + kHour + 10; ++now) {
    wheel.advance(now);
  }
  EXPECT_EQ(fires, 1u);
  EXPECT_EQ(firedAt, kStart + kHour);
}

TEST(TimerWheel, MonthDelayCoarseSteps) {
  // 997 ms steps (not aligned with any level) over 30 days: fires at the first step past the deadline.
  TimerWheel wheel(kStart);
  uint64_t firedAt = 0;
  Timer t([&] { firedAt = wheel.now(); });
  const uint64_t deadline = kStart + 30 * kDay + 17;
  wheel.scheduleAt(t, deadline);
  uint64_t now = kStart;
  while (firedAt == 0) {
    uint64_t prev = now;
    now += 997;
    wheel.advance(now);
    if (firedAt != 0) {
      EXPECT_LT(prev, deadline);
      EXPECT_GE(now, deadline);
    }
    ASSERT_LE(now, deadline + 997);
  }
}

TEST(TimerWheel, EventLoopSleepingNextTimeoutFiresExactlyOnTime) {
  // Simulates the event loop: sleep exactly nextTimeoutMs(), then advance.
  TimerWheel wheel(kStart);
  std::vector<std::unique_ptr<Timer>> timers;
  std::vector<uint64_t> firedAt;
  const uint64_t delays[] = {0, 1, 7, 255, 256, 1000, 1001, 65'535, 65'536, 100'000, kHour, kDay + 3};
  for (uint64_t d : delays) {
    size_t i = timers.size();
    firedAt.push_back(0);
    timers.push_back(std::make_unique<Timer>([&, i] { firedAt[i] = wheel.now(); }));
    wheel.schedule(*timers.back(), d);
  }
  uint64_t now = kStart;
  for (int64_t timeout = wheel.nextTimeoutMs(); timeout >= 0; timeout = wheel.nextTimeoutMs()) {
    ASSERT_LE(timeout, TimerWheel::kMaxTimeoutMs);
    now += static_cast<uint64_t>(timeout);
    wheel.advance(now);
  }
  for (size_t i = 0; i < timers.size(); ++i) {
    EXPECT_EQ(firedAt[i], kStart + delays[i]) << "delay " << delays[i];
  }
}

TEST(TimerWheel, NextTimeoutMs) {
  TimerWheel wheel(kStart);
  EXPECT_EQ(wheel.nextTimeoutMs(), -1);
  Timer t([] {});
  wheel.schedule(t, 42);
  EXPECT_EQ(wheel.nextTimeoutMs(), 42);
  EXPECT_EQ(wheel.nextTimeoutMs(kStart + 40), 2);
  EXPECT_EQ(wheel.nextTimeoutMs(kStart + 50), 0);
  wheel.schedule(t, 0);
  EXPECT_EQ(wheel.nextTimeoutMs(), 0);
  wheel.schedule(t, kDay);
  EXPECT_GE(wheel.nextTimeoutMs(), 1);
  EXPECT_LE(wheel.nextTimeoutMs(), TimerWheel::kMaxTimeoutMs);
  wheel.cancel(t);
  EXPECT_EQ(wheel.nextTimeoutMs(), -1);
}

TEST(TimerWheel, ZeroDelayFiresOnNextAdvanceEvenAtSameTime) {
  TimerWheel wheel(kStart);
  int fired = 0;
  Timer t([&] { ++fired; });
  wheel.schedule(t, 0);
  EXPECT_EQ(wheel.advance(kStart), 1u);
  EXPECT_EQ(fired, 1);
  // A deadline in the past also fires at once.
  wheel.scheduleAt(t, kStart - 100);
  EXPECT_EQ(wheel.advance(kStart), 1u);
  EXPECT_EQ(fired, 2);
}

TEST(TimerWheel, TimeNeverGoesBackwards) {
  TimerWheel wheel(kStart);
  int fired = 0;
  Timer t([&] { ++fired; });
  wheel.schedule(t, 5);
  EXPECT_EQ(wheel.advance(kStart - 100), 0u);
  EXPECT_EQ(wheel.now(), kStart);
  EXPECT_EQ(wheel.advance(kStart + 5), 1u);
}

TEST(TimerWheel, Cancel) {
  TimerWheel wheel(kStart);
  int fired = 0;
  Timer a([&] { ++fired; });
  Timer b([&] { fired += 10; });
  wheel.schedule(a, 10);
  wheel.schedule(b, 100'000);
  wheel.cancel(a);
  wheel.cancel(a);  // no-op
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(wheel.size(), 1u);
  wheel.cancel(b);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.nextTimeoutMs(), -1);
  EXPECT_EQ(wheel.advance(kStart + kDay), 0u);
  EXPECT_EQ(fired, 0);
  Timer never([] {});
  wheel.cancel(never);  // never armed: no-op
}

TEST(TimerWheel, RescheduleWhileArmed) {
  TimerWheel wheel(kStart);
  uint64_t firedAt = 0;
  int fires = 0;
  Timer t([&] {
    firedAt = wheel.now();
    ++fires;
  });
  wheel.schedule(t, 10);
  wheel.schedule(t, 500);  // later
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_EQ(wheel.advance(kStart + 10), 0u);
  wheel.schedule(t, 3);  // earlier, relative to the new now
  EXPECT_EQ(wheel.size(), 1u);
  for (uint64_t now = kStart + 11; now <= kStart + 600; ++now) {
    wheel.advance(now);
  }
  EXPECT_EQ(fires, 1);
  EXPECT_EQ(firedAt, kStart + 13);
}

TEST(TimerWheel, CallbackRearmsItself) {
  TimerWheel wheel(kStart);
  std::vector<uint64_t> ticks;
  Timer t;
  t.setCallback([&] {
    ticks.push_back(wheel.now());
    if (ticks.size() < 5) {
      wheel.schedule(t, 100);
    }
  });
  wheel.schedule(t, 100);
  for (uint64_t now = kStart; now <= kStart + 1000; ++now) {
    wheel.advance(now);
  }
  EXPECT_EQ(ticks, (std::vector<uint64_t>{kStart + 100, kStart + 200, kStart + 300, kStart + 400, kStart + 500}));
}

TEST(TimerWheel, CallbackRearmingWithZeroDelayDoesNotLoop) {
  TimerWheel wheel(kStart);
  int fires = 0;
  Timer t;
  t.setCallback([&] {
    ++fires;
    wheel.schedule(t, 0);
  });
  wheel.schedule(t, 5);
  EXPECT_EQ(wheel.advance(kStart + 5), 1u);
  EXPECT_EQ(wheel.nextTimeoutMs(), 0);
  EXPECT_EQ(wheel.advance(kStart + 5), 1u);
  EXPECT_EQ(wheel.advance(kStart + 6), 1u);
  EXPECT_EQ(fires, 3);
}

TEST(TimerWheel, CallbackArmingDueTimerWaitsForNextAdvance) {
  // Armed from a callback during a big jump with a deadline inside the jump: next advance().
  TimerWheel wheel(kStart);
  int other = 0;
  Timer b([&] { ++other; });
  Timer a([&] { wheel.scheduleAt(b, kStart + 50); });
  wheel.schedule(a, 10);
  EXPECT_EQ(wheel.advance(kStart + 100), 1u);
  EXPECT_EQ(other, 0);
  EXPECT_TRUE(b.armed());
  EXPECT_EQ(wheel.advance(kStart + 100), 1u);
  EXPECT_EQ(other, 1);
}

TEST(TimerWheel, CallbackCancelsAnotherDueTimer) {
  TimerWheel wheel(kStart);
  std::vector<char> fired;
  Timer b([&] { fired.push_back('b'); });
  Timer c([&] { fired.push_back('c'); });
  Timer a([&] {
    fired.push_back('a');
    wheel.cancel(b);  // same tick, not fired yet
    wheel.cancel(c);  // later tick in the same advance
  });
  wheel.schedule(a, 10);
  wheel.schedule(b, 10);
  wheel.schedule(c, 20);
  EXPECT_EQ(wheel.advance(kStart + 100), 1u);
  EXPECT_EQ(fired, (std::vector<char>{'a'}));
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, CallbackReschedulesAnotherDueTimer) {
  TimerWheel wheel(kStart);
  std::vector<uint64_t> bFiredAt;
  Timer b([&] { bFiredAt.push_back(wheel.now()); });
  Timer a([&] { wheel.schedule(b, 50); });
  wheel.schedule(a, 10);
  wheel.schedule(b, 10);
  wheel.advance(kStart + 10);
  EXPECT_TRUE(bFiredAt.empty());
  wheel.advance(kStart + 59);
  EXPECT_TRUE(bFiredAt.empty());
  wheel.advance(kStart + 60);
  EXPECT_EQ(bFiredAt, (std::vector<uint64_t>{kStart + 60}));
}

TEST(TimerWheel, CallbackDestroysOtherDueTimers) {
  TimerWheel wheel(kStart);
  int fired = 0;
  auto b = std::make_unique<Timer>([&] { ++fired; });
  auto c = std::make_unique<Timer>([&] { ++fired; });
  Timer a([&] {
    ++fired;
    b.reset();
    c.reset();
  });
  wheel.schedule(a, 10);
  wheel.schedule(*b, 10);
  wheel.schedule(*c, 11);
  EXPECT_EQ(wheel.advance(kStart + 11), 1u);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, CallbackDestroysItsOwnTimer) {
  // The connection-timeout pattern: the callback deletes the object owning the timer.
  struct Conn {
    explicit Conn(TimerWheel& w, int& closed) : timer([this, &closed] {
      ++closed;
      delete this;
    }) {
      w.schedule(timer, 5);
    }
    Timer timer;
  };
  TimerWheel wheel(kStart);
  int closed = 0;
  new Conn(wheel, closed);
  new Conn(wheel, closed);
  EXPECT_EQ(wheel.advance(kStart + 5), 2u);
  EXPECT_EQ(closed, 2);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, CallbackRearmsThenDestroysItsOwnTimer) {
  TimerWheel wheel(kStart);
  int fired = 0;
  auto t = std::make_unique<Timer>();
  t->setCallback([&] {
    ++fired;
    wheel.schedule(*t, 10);
    t.reset();
  });
  wheel.schedule(*t, 1);
  EXPECT_EQ(wheel.advance(kStart + 1), 1u);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.advance(kStart + 100), 0u);
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, CallbackReplacesItsCallback) {
  TimerWheel wheel(kStart);
  std::vector<int> calls;
  Timer t;
  t.setCallback([&] {
    calls.push_back(1);
    t.setCallback([&] { calls.push_back(2); });
    wheel.schedule(t, 1);
  });
  wheel.schedule(t, 1);
  wheel.advance(kStart + 1);
  wheel.advance(kStart + 2);
  EXPECT_EQ(calls, (std::vector<int>{1, 2}));
}

TEST(TimerWheel, DestroyingArmedTimerDisarms) {
  TimerWheel wheel(kStart);
  int fired = 0;
  {
    Timer t([&] { ++fired; });
    wheel.schedule(t, 10);
    Timer far([&] { ++fired; });
    wheel.schedule(far, 40 * kDay);
    EXPECT_EQ(wheel.size(), 2u);
  }
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.nextTimeoutMs(), -1);
  EXPECT_EQ(wheel.advance(kStart + 50 * kDay), 0u);
  EXPECT_EQ(fired, 0);
}

TEST(TimerWheel, WheelDestroyedBeforeTimers) {
  Timer t([] {});
  {
    TimerWheel wheel(kStart);
    wheel.schedule(t, 10);
  }
  EXPECT_FALSE(t.armed());
}

TEST(TimerWheel, MoveBetweenWheels) {
  TimerWheel w1(kStart);
  TimerWheel w2(kStart);
  int fired = 0;
  Timer t([&] { ++fired; });
  w1.schedule(t, 10);
  w2.schedule(t, 10);
  EXPECT_EQ(w1.size(), 0u);
  EXPECT_EQ(w2.size(), 1u);
  EXPECT_EQ(w1.advance(kStart + 10), 0u);
  EXPECT_EQ(w2.advance(kStart + 10), 1u);
  EXPECT_EQ(fired, 1);
}

// 100k timers with delays across every level (and beyond the span), random cancels and
// re-schedules, random advance steps: each fires exactly once, never before its deadline,
// at the first advance() that reaches it, and in deadline order within an advance().
TEST(TimerWheel, RandomizedTimersFireExactlyOnceOnTime) {
  constexpr size_t kTimers = 100'000;
  std::mt19937_64 rng(20261130);
  auto randomDelay = [&rng]() -> uint64_t {
    switch (rng() % 6) {
      case 0: return rng() % 4;
      case 1: return rng() % 300;
      case 2: return rng() % 70'000;
      case 3: return rng() % (20 * 1'000'000ULL);
      case 4: return rng() % (uint64_t{1} << 32);
      default: return rng() % (60 * kDay);
    }
  };

  TimerWheel wheel(kStart);
  std::vector<std::unique_ptr<Timer>> timers(kTimers);
  std::vector<int> fires(kTimers, 0);
  std::multiset<uint64_t> armed;  // deadlines of armed timers
  uint64_t prevNow = kStart;
  uint64_t lastFiredDeadline = 0;
  bool failed = false;
  for (size_t i = 0; i < kTimers; ++i) {
    timers[i] = std::make_unique<Timer>([&, i] {
      Timer& t = *timers[i];
      ++fires[i];
      // deadline == prevNow: scheduled with delay 0 just before this advance().
      if (t.deadline() > wheel.now() || t.deadline() < prevNow || t.deadline() < lastFiredDeadline) {
        failed = true;
      }
      lastFiredDeadline = t.deadline();
      armed.erase(armed.find(t.deadline()));
    });
    wheel.schedule(*timers[i], randomDelay());
    armed.insert(timers[i]->deadline());
  }
  ASSERT_EQ(wheel.size(), kTimers);

  size_t cancelled = 0;
  size_t steps = 0;
  while (wheel.size() > 0) {
    // Before moving on: nextTimeoutMs never points past the earliest deadline.
    int64_t timeout = wheel.nextTimeoutMs();
    ASSERT_GE(timeout, 0);
    ASSERT_LE(timeout, TimerWheel::kMaxTimeoutMs);
    ASSERT_LE(wheel.now() + static_cast<uint64_t>(timeout), *armed.begin());
    if (*armed.begin() - wheel.now() < 256) {  // level 0 work is reported exactly
      ASSERT_LE(static_cast<uint64_t>(timeout), *armed.begin() - wheel.now());
    }

    // Occasionally cancel or re-schedule a random armed timer.
    if (steps % 3 == 0) {
      Timer& t = *timers[rng() % kTimers];
      if (t.armed()) {
        armed.erase(armed.find(t.deadline()));
        if (rng() % 2 == 0) {
          wheel.cancel(t);
          ++cancelled;
        } else {
          wheel.schedule(t, randomDelay());
          armed.insert(t.deadline());
        }
      }
    }

    uint64_t step;
    switch (rng() % 5) {
      case 0: step = static_cast<uint64_t>(timeout); break;
      case 1: step = rng() % 3; break;
      case 2: step = rng() % 1000; break;
      case 3: step = rng() % 2'000'000; break;
      default: step = rng() % (uint64_t{1} << 28); break;
    }
    prevNow = wheel.now();
    lastFiredDeadline = 0;
    size_t before = wheel.size();
    size_t fired = wheel.advance(prevNow + step);
    ASSERT_EQ(before - fired, wheel.size());
    ASSERT_FALSE(failed) << "timer fired early, late or out of order at step " << steps;
    // Nothing due is left behind.
    ASSERT_TRUE(armed.empty() || *armed.begin() > wheel.now());
    ++steps;
  }
  size_t firedOnce = 0;
  for (size_t i = 0; i < kTimers; ++i) {
    ASSERT_LE(fires[i], 1) << i;
    firedOnce += static_cast<size_t>(fires[i]);
  }
  EXPECT_EQ(firedOnce + cancelled, kTimers);
}

}  // namespace
}  // namespace fulcrum::core
