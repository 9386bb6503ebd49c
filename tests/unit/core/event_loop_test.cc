// EventLoop driven by a ManualClock: timers fire when the clock says so (no sleeping), I/O
// handlers get their events, posted work runs after the batch, deferred deletes after that.
#include "core/event_loop.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>

using namespace fulcrum::core;

TEST(EventLoop, TimersFireWhenTheInjectedClockReachesThem) {
  ManualClock clock;
  EventLoop loop(clock);
  int fired = 0;
  Timer t([&] { ++fired; });
  loop.timers().schedule(t, 100);
  loop.runOnce(0);
  EXPECT_EQ(fired, 0);
  clock.advanceMs(99);
  loop.runOnce(0);
  EXPECT_EQ(fired, 0);
  clock.advanceMs(1);
  loop.runOnce(0);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(loop.nowMs(), clock.nowMs());
  EXPECT_FALSE(t.armed());
}

TEST(EventLoop, ItsClockIsTheOneGiven) {
  ManualClock clock(5'000'000);
  EventLoop loop(clock);
  EXPECT_EQ(&loop.clock(), &clock);
  EXPECT_EQ(loop.nowMs(), 5000u);
  EventLoop real;
  EXPECT_EQ(&real.clock(), &SystemClock::instance());
}

namespace {

struct Counter : IoHandler {
  void onIoEvents(uint32_t events) override {
    last = events;
    ++calls;
  }
  uint32_t last = 0;
  int calls = 0;
};

struct Deletable : DeferredDeletable {
  explicit Deletable(bool& flag) : gone(flag) {}
  ~Deletable() override { gone = true; }
  bool& gone;
};

}  // namespace

TEST(EventLoop, HandlersGetEventsThenPostedWorkThenDeferredDeletes) {
  ManualClock clock;
  EventLoop loop(clock);
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  Counter handler;
  ASSERT_TRUE(loop.add(efd, EPOLLIN | EPOLLET, &handler));
  uint64_t one = 1;
  ASSERT_EQ(::write(efd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  std::vector<std::string> order;
  bool gone = false;
  std::thread other([&] { loop.post([&] { order.push_back(gone ? "posted after delete" : "posted"); }); });
  other.join();
  loop.deferDelete(std::make_unique<Deletable>(gone));
  EXPECT_FALSE(gone) << "not in place: the object may be on the caller's stack";
  loop.runOnce(1000);  // (returns at once: the eventfd and the post are ready)
  EXPECT_EQ(handler.calls, 1);
  EXPECT_TRUE(handler.last & EPOLLIN);
  EXPECT_TRUE(gone);
  ASSERT_EQ(order.size(), 1u);
  EXPECT_EQ(order[0], "posted") << "posted work runs before the turn's deferred deletes";
  loop.remove(efd);
  ::close(efd);
}
