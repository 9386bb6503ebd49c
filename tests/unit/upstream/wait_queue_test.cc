#include "upstream/wait_queue.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace fulcrum::upstream {
namespace {

struct Waiter {
  int id;
  std::vector<int>* served;
  bool* slot;  // one free slot shared by all: a served waiter takes it
  std::function<void()> on_try;
  bool retryFromQueue() {
    if (on_try) on_try();
    if (!*slot) return false;
    *slot = false;
    served->push_back(id);
    return true;
  }
};

TEST(WaitQueue, ServesInArrivalOrderAndKeepsPlaces) {
  core::EventLoop loop;
  for (bool stopAtFirst : {true, false}) {
    WaitQueue<Waiter> q(loop, stopAtFirst);
    std::vector<int> served;
    bool slot = false;
    std::vector<Waiter> w;
    for (int i = 0; i < 4; ++i) w.push_back(Waiter{i, &served, &slot, {}});
    for (auto& x : w) ASSERT_TRUE(q.enqueue(&x, 4));
    Waiter extra{9, &served, &slot, {}};
    EXPECT_FALSE(q.enqueue(&extra, 4)) << "the limit is kept";
    q.onSlotFreed();  // no slot: nobody goes, nobody moves
    EXPECT_TRUE(served.empty());
    for (int round = 0; round < 4; ++round) {
      slot = true;
      q.onSlotFreed();
    }
    EXPECT_EQ(served, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(q.size(), 0u);
  }
}

TEST(WaitQueue, AWaiterRemovedDuringAPassIsNotKept) {
  core::EventLoop loop;
  WaitQueue<Waiter> q(loop, false);
  std::vector<int> served;
  bool slot = false;
  Waiter a{1, &served, &slot, {}}, b{2, &served, &slot, {}}, c{3, &served, &slot, {}};
  // Trying c removes a (already tried and kept) and b: as a session closing others would.
  c.on_try = [&] {
    q.dequeue(&a);
    q.dequeue(&b);
  };
  q.enqueue(&a, 10);
  q.enqueue(&b, 10);
  q.enqueue(&c, 10);
  q.onSlotFreed();
  EXPECT_EQ(q.size(), 1u) << "only c is still waiting";
  slot = true;
  c.on_try = nullptr;
  q.onSlotFreed();
  EXPECT_EQ(served, (std::vector<int>{3}));
}

TEST(WaitQueue, OthersAreTriedWhenNotAllWaitForTheSamePool) {
  core::EventLoop loop;
  WaitQueue<Waiter> q(loop, false);
  std::vector<int> served;
  bool noSlot = false, slot = true;
  Waiter blocked{1, &served, &noSlot, {}}, ready{2, &served, &slot, {}};
  q.enqueue(&blocked, 10);
  q.enqueue(&ready, 10);
  q.onSlotFreed();
  EXPECT_EQ(served, (std::vector<int>{2}));
  EXPECT_EQ(q.size(), 1u);
  WaitQueue<Waiter> l4(loop, true);
  slot = true;
  Waiter blocked2{3, &served, &noSlot, {}}, ready2{4, &served, &slot, {}};
  l4.enqueue(&blocked2, 10);
  l4.enqueue(&ready2, 10);
  l4.onSlotFreed();
  EXPECT_EQ(served.size(), 1u) << "one pool: the oldest blocks the rest";
  EXPECT_EQ(l4.size(), 2u);
  q.dequeue(&blocked);
  l4.dequeue(&blocked2);
  l4.dequeue(&ready2);
}

}  // namespace
}  // namespace fulcrum::upstream
