// What survives a republish on the control thread (HostRegistry keeps a pool's balancer
// while its inputs are unchanged) and on a worker (PickerSet moves the pool's picker onto
// the new balancer instead of starting over).
#include <gtest/gtest.h>

#include "upstream/cluster.h"
#include "upstream/picker_set.h"

using namespace fulcrum;
using namespace fulcrum::upstream;

namespace {

config::Pool makePool(const std::string& name, const std::vector<std::string>& addresses,
                      fulcrum::Algorithm algorithm = fulcrum::Algorithm::RoundRobin) {
  config::Pool p;
  p.name = name;
  p.algorithm = algorithm;
  for (const auto& a : addresses) {
    config::Server s;
    s.address.text = a;
    p.servers.push_back(s);
  }
  return p;
}

size_t pickOne(balance::Picker& picker) {
  balance::PickRequest request;
  return picker.pick(request).value();
}

}  // namespace

TEST(Republish, OnlyPoolsWhoseInputsChangedGetANewBalancer) {
  HostRegistry reg;
  auto a = makePool("a", {"10.0.0.1:80", "10.0.0.2:80"});
  auto b = makePool("b", {"10.0.1.1:80", "10.0.1.2:80"});
  auto a1 = reg.build(a, 0, true);
  auto b1 = reg.build(b, 0, true);
  // The same config again (a republish for another pool's slow start): both kept.
  auto a2 = reg.build(a, 10, true);
  auto b2 = reg.build(b, 10, true);
  EXPECT_EQ(a2->balancer.get(), a1->balancer.get());
  EXPECT_EQ(b2->balancer.get(), b1->balancer.get());
  // An agent halves a's first server: a is rebuilt, b is not.
  a1->hosts[0].state->agent_weight_percent.store(50);
  auto a3 = reg.build(a, 20, true);
  auto b3 = reg.build(b, 20, true);
  EXPECT_NE(a3->balancer.get(), a2->balancer.get());
  EXPECT_EQ(a3->balancer->hosts()[0].weight, 5u);
  EXPECT_EQ(b3->balancer.get(), b1->balancer.get());
  // Another algorithm is another input.
  b.algorithm = fulcrum::Algorithm::LeastConnections;
  EXPECT_NE(reg.build(b, 30, true)->balancer.get(), b1->balancer.get());
}

TEST(Republish, LayoutChangesOnlyWithTheHostList) {
  HostRegistry reg;
  auto a = makePool("a", {"10.0.0.1:80", "10.0.0.2:80"});
  auto a1 = reg.build(a, 0, true);
  a.servers[1].weight = 3;
  auto a2 = reg.build(a, 0, true);
  EXPECT_GT(a2->generation, a1->generation);
  EXPECT_EQ(a2->layout, a1->layout);  // same servers at the same indices
  a.servers.pop_back();
  auto a3 = reg.build(a, 0, true);
  EXPECT_NE(a3->layout, a2->layout);
  EXPECT_EQ(a3->pool_state, a1->pool_state);
}

TEST(Republish, PickerFollowsItsPoolAcrossSnapshots) {
  HostRegistry reg;
  uint64_t generation = 0;
  PickerSet pickers(0, generation);
  auto pool = makePool("p", {"10.0.0.1:80", "10.0.0.2:80"}, fulcrum::Algorithm::LeastResponseTime);
  auto c1 = reg.build(pool, 0, true);
  balance::Picker& first = pickers.get(c1);
  first.observe(0, 0.500, 0);  // 10.0.0.1 is slow
  first.observe(1, 0.001, 0);
  // A weight change republishes: a new cluster and balancer, the same picker, its estimates kept.
  pool.servers[1].weight = 2;
  auto c2 = reg.build(pool, 0, true);
  ASSERT_NE(c2->balancer.get(), c1->balancer.get());
  balance::Picker& second = pickers.get(c2);
  EXPECT_EQ(&second, &first);
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(pickOne(second), 1u);
  }
  EXPECT_EQ(pickers.size(), 1u);
  EXPECT_EQ(generation, 1u);  // one picker made in all
}

TEST(Republish, SessionOnAnOlderHostListGetsAStandIn) {
  HostRegistry reg;
  uint64_t generation = 0;
  PickerSet pickers(0, generation);
  auto pool = makePool("p", {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"});
  auto old_cluster = reg.build(pool, 0, true);
  pool.servers.erase(pool.servers.begin());  // the newer snapshot has two servers
  auto new_cluster = reg.build(pool, 0, true);
  balance::Picker& current = pickers.get(new_cluster);
  // A session still on the old snapshot: its indices are into three hosts.
  balance::Picker& standIn = pickers.get(old_cluster);
  EXPECT_NE(&standIn, &current);
  std::vector<bool> seen(3, false);
  for (int i = 0; i < 30; ++i) {
    seen[pickOne(standIn)] = true;
  }
  EXPECT_EQ(seen, std::vector<bool>(3, true));
  // The pool's picker is still the current snapshot's, on two hosts.
  EXPECT_EQ(&pickers.get(new_cluster), &current);
  for (int i = 0; i < 30; ++i) {
    ASSERT_LT(pickOne(current), 2u);
  }
  // An older snapshot with the same host list shares the pool's picker.
  pool.servers[0].weight = 5;
  auto newest = reg.build(pool, 0, true);
  EXPECT_EQ(&pickers.get(newest), &current);
  EXPECT_EQ(&pickers.get(new_cluster), &current);
}

TEST(Republish, ForgottenPoolsLoseTheirPickers) {
  HostRegistry reg;
  uint64_t generation = 0;
  PickerSet pickers(0, generation);
  auto a = reg.build(makePool("a", {"10.0.0.1:80"}), 0, true);
  auto b = reg.build(makePool("b", {"10.0.1.1:80"}), 0, true);
  pickers.get(a);
  pickers.get(b);
  pickers.retainOnly([&](const PoolState* p) { return p == a->pool_state.get(); });
  EXPECT_EQ(pickers.size(), 1u);
}
