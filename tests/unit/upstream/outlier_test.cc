// Passive health, panic and slow start on real Cluster objects (no sockets needed).
#include "upstream/outlier.h"

#include <gtest/gtest.h>

#include "upstream/cluster.h"

using namespace fulcrum;
using namespace fulcrum::upstream;

namespace {

config::Pool makePool(int servers) {
  config::Pool p;
  p.name = "p";
  for (int i = 0; i < servers; ++i) {
    config::Server s;
    s.address.text = "10.0.0." + std::to_string(i + 1) + ":80";
    p.servers.push_back(s);
  }
  p.outlier_detection.enabled = true;
  p.outlier_detection.max_fails = 3;
  p.outlier_detection.fail_timeout = std::chrono::milliseconds(1000);
  p.outlier_detection.ejection_time = std::chrono::milliseconds(100);
  p.outlier_detection.max_ejection_time = std::chrono::milliseconds(350);
  p.outlier_detection.max_ejection_percent = 50;
  return p;
}

}  // namespace

TEST(Outlier, ConsecutiveFailuresWithinTheWindowEject) {
  HostRegistry reg;
  auto c = reg.build(makePool(4), 1000, true);
  EXPECT_FALSE(recordFailure(*c, 0, 1000));
  EXPECT_FALSE(recordFailure(*c, 0, 1100));
  EXPECT_TRUE(recordFailure(*c, 0, 1200));
  EXPECT_FALSE(c->hosts[0].healthy(1250));
  EXPECT_TRUE(c->hosts[0].healthy(1300));  // ejected for ejection_time (100 ms)
  EXPECT_EQ(c->pool_state->ejected.load(), 1u);
}

TEST(Outlier, ASuccessOrASlowRunDoesNotEject) {
  HostRegistry reg;
  auto c = reg.build(makePool(4), 0, true);
  recordFailure(*c, 1, 0);
  recordFailure(*c, 1, 10);
  recordSuccess(*c, 1);
  EXPECT_FALSE(recordFailure(*c, 1, 20));
  EXPECT_FALSE(recordFailure(*c, 1, 30));
  // Failures spread over more than fail_timeout start a new run.
  EXPECT_FALSE(recordFailure(*c, 1, 2000));
  EXPECT_FALSE(recordFailure(*c, 1, 2100));
  EXPECT_TRUE(recordFailure(*c, 1, 2200));
}

TEST(Outlier, RepeatedEjectionsGrowUpToTheCap) {
  HostRegistry reg;
  auto c = reg.build(makePool(2), 0, true);
  auto& s = *c->hosts[0].state;
  uint64_t now = 0;
  std::vector<uint64_t> lengths;
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(tryEject(*c, 0, now));
    lengths.push_back(s.ejected_until_ms.load() - now);
    // The control thread's sweep ends it:
    s.ejected.store(false);
    c->pool_state->ejected.fetch_sub(1);
    now += 1000;
  }
  EXPECT_EQ(lengths, (std::vector<uint64_t>{100, 200, 350, 350}));
}

TEST(Outlier, NeverEjectsMoreThanTheBudget) {
  HostRegistry reg;
  auto c = reg.build(makePool(4), 0, true);  // 50% of 4 = 2
  EXPECT_TRUE(tryEject(*c, 0, 0));
  EXPECT_TRUE(tryEject(*c, 1, 0));
  EXPECT_FALSE(tryEject(*c, 2, 0));
  EXPECT_FALSE(tryEject(*c, 0, 0));  // already ejected
  EXPECT_EQ(c->pool_state->ejected.load(), 2u);
}

TEST(ClusterLoad, PanicUsesEveryServerButDrainedOnes) {
  HostRegistry reg;
  auto pool = makePool(3);
  pool.servers[2].drain = true;
  auto c = reg.build(pool, 0, true);
  c->hosts[0].state->check_down.store(true);
  c->hosts[1].state->check_down.store(true);
  ClusterLoad normal(*c, 0);
  EXPECT_FALSE(normal.usable(0));
  EXPECT_FALSE(normal.usable(1));
  EXPECT_FALSE(normal.usable(2));
  c->pool_state->panic.store(true);
  ClusterLoad panic(*c, 0);
  EXPECT_TRUE(panic.usable(0));
  EXPECT_TRUE(panic.usable(1));
  EXPECT_FALSE(panic.usable(2));
}

TEST(SlowStart, RampsFromTenPercentToFull) {
  HostRegistry reg;
  auto pool = makePool(1);
  pool.slow_start = std::chrono::milliseconds(1000);
  auto c = reg.build(pool, 0, true);
  c->hosts[0].state->up_since_ms.store(5000);
  bool ramping = false;
  EXPECT_EQ(effectiveWeight(pool, c->hosts[0], 5000, ramping), 1u);  // 10% of weight 1 (x10 scale)
  EXPECT_TRUE(ramping);
  ramping = false;
  EXPECT_EQ(effectiveWeight(pool, c->hosts[0], 5500, ramping), 6u);  // 55%
  ramping = false;
  EXPECT_EQ(effectiveWeight(pool, c->hosts[0], 6000, ramping), 10u);
  EXPECT_FALSE(ramping);
  c->hosts[0].state->agent_weight_percent.store(50);
  EXPECT_EQ(effectiveWeight(pool, c->hosts[0], 9000, ramping), 5u);
}

TEST(HostRegistry, StateSurvivesAReloadAndNewServersRamp) {
  HostRegistry reg;
  auto pool = makePool(1);
  auto c1 = reg.build(pool, 0, true);
  c1->hosts[0].state->active.store(7);
  EXPECT_EQ(c1->hosts[0].state->up_since_ms.load(), 0u);
  pool.servers.push_back(config::Server{});
  pool.servers.back().address.text = "10.0.0.9:80";
  auto c2 = reg.build(pool, 4242, false);
  EXPECT_EQ(c2->hosts[0].state, c1->hosts[0].state);
  EXPECT_EQ(c2->hosts[0].state->active.load(), 7u);
  EXPECT_EQ(c2->hosts[1].state->up_since_ms.load(), 4242u);  // added by reload: slow start
  EXPECT_EQ(c2->pool_state, c1->pool_state);
}
