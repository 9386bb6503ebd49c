// Cluster and HostRegistry beyond passive health (outlier_test.cc): where live state is kept
// across builds, effective weights, and what ClusterLoad lets a pick use.
#include "upstream/cluster.h"

#include <gtest/gtest.h>

using namespace fulcrum;
using namespace fulcrum::upstream;

namespace {

config::Server server(const char* address, uint32_t weight = 1) {
  config::Server s;
  s.address.text = address;
  s.weight = weight;
  return s;
}

config::Pool makePool(const char* name, std::vector<config::Server> servers) {
  config::Pool p;
  p.name = name;
  p.servers = std::move(servers);
  return p;
}

}  // namespace

TEST(HostRegistry, StateIsKeyedByPoolNameAndAddress) {
  HostRegistry reg;
  auto a = reg.build(makePool("a", {server("10.0.0.1:80"), server("10.0.0.2:80")}), 0, true);
  auto b = reg.build(makePool("b", {server("10.0.0.1:80")}), 0, true);
  EXPECT_NE(a->hosts[0].state, b->hosts[0].state) << "one server in two pools: two sets of numbers";
  EXPECT_NE(a->pool_state, b->pool_state);

  // Reordered, reweighted: each state follows its address, not its position.
  auto a2 = reg.build(makePool("a", {server("10.0.0.2:80", 5), server("10.0.0.1:80")}), 0, false);
  EXPECT_EQ(a2->hosts[0].state, a->hosts[1].state);
  EXPECT_EQ(a2->hosts[1].state, a->hosts[0].state);
  EXPECT_EQ(a2->pool_state, a->pool_state);
  EXPECT_NE(a2->layout, a->layout) << "host indexes mean other servers now";
  EXPECT_GT(a2->generation, a->generation);
}

TEST(HostRegistry, AServerRemovedAndPrunedComesBackAsNew) {
  HostRegistry reg;
  auto pool = makePool("p", {server("10.0.0.1:80"), server("10.0.0.2:80")});
  pool.slow_start = std::chrono::milliseconds(1000);
  auto c1 = reg.build(pool, 0, true);
  auto old = c1->hosts[1].state;
  old->active.store(3);
  old->ejection_count.store(2);

  pool.servers.pop_back();
  auto c2 = reg.build(pool, 100, false);
  // While an older snapshot still holds it (connections open), re-adding finds the same state.
  pool.servers.push_back(server("10.0.0.2:80"));
  EXPECT_EQ(reg.build(pool, 200, false)->hosts[1].state, old);

  pool.servers.pop_back();
  c2 = reg.build(pool, 300, false);
  c1.reset();
  std::weak_ptr<HostState> gone = old;
  old.reset();
  reg.prune();
  EXPECT_TRUE(gone.expired());
  pool.servers.push_back(server("10.0.0.2:80"));
  auto c3 = reg.build(pool, 400, false);
  const HostState& fresh = *c3->hosts[1].state;
  EXPECT_EQ(fresh.active.load(), 0u);
  EXPECT_EQ(fresh.ejection_count.load(), 0u);
  EXPECT_EQ(fresh.up_since_ms.load(), 400u) << "added by a reload: slow start";
  EXPECT_TRUE(c3->ramping);
  EXPECT_EQ(c3->hosts[0].state, c2->hosts[0].state) << "the server that stayed keeps its state";
}

TEST(HostRegistry, APoolDroppedAndPrunedStartsOverWithFreshPoolState) {
  HostRegistry reg;
  auto pool = makePool("p", {server("10.0.0.1:80")});
  auto c1 = reg.build(pool, 0, true);
  c1->pool_state->requests.store(4);
  std::weak_ptr<PoolState> old = c1->pool_state;
  c1.reset();
  reg.prune();
  EXPECT_TRUE(old.expired());
  auto c2 = reg.build(pool, 0, false);
  EXPECT_EQ(c2->pool_state->requests.load(), 0u);
  ASSERT_NE(c2->pool_state->traffic, nullptr);
}

TEST(EffectiveWeight, WeightTimesAgentPercentTimesSlowStart) {
  HostRegistry reg;
  auto pool = makePool("p", {server("10.0.0.1:80", 4)});
  pool.slow_start = std::chrono::milliseconds(2000);
  auto c = reg.build(pool, 0, true);
  const Host& h = c->hosts[0];
  bool ramping = false;
  EXPECT_EQ(effectiveWeight(pool, h, 10'000, ramping), 40u) << "weights are scaled by 10";
  EXPECT_FALSE(ramping) << "up_since 0: a server of the first config starts at full weight";

  h.state->agent_weight_percent.store(50);
  EXPECT_EQ(effectiveWeight(pool, h, 10'000, ramping), 20u);
  h.state->agent_weight_percent.store(0);
  EXPECT_EQ(effectiveWeight(pool, h, 10'000, ramping), 0u) << "an agent's 0% takes no new traffic";

  h.state->agent_weight_percent.store(50);
  h.state->up_since_ms.store(10'000);
  EXPECT_EQ(effectiveWeight(pool, h, 10'000, ramping), 2u);  // 4 x 50% x 10%
  EXPECT_TRUE(ramping);
  ramping = false;
  EXPECT_EQ(effectiveWeight(pool, h, 11'000, ramping), 11u);  // 4 x 50% x 55% = 1.1
  EXPECT_TRUE(ramping);
  ramping = false;
  EXPECT_EQ(effectiveWeight(pool, h, 12'000, ramping), 20u);
  EXPECT_FALSE(ramping) << "the ramp is over";

  pool.slow_start = std::chrono::milliseconds(0);
  EXPECT_EQ(effectiveWeight(pool, h, 10'000, ramping), 20u) << "slow start off: no ramp";
}

TEST(EffectiveWeight, ASmallShareOfWeightOneIsStillAShare) {
  HostRegistry reg;
  auto pool = makePool("p", {server("10.0.0.1:80", 1)});
  auto c = reg.build(pool, 0, true);
  const Host& h = c->hosts[0];
  bool ramping = false;
  h.state->agent_weight_percent.store(3);  // "up 3%": 0.3 of a unit rounds to nothing
  EXPECT_EQ(effectiveWeight(pool, h, 10'000, ramping), 1u) << "a server that is up keeps some traffic";
  h.state->agent_weight_percent.store(0);
  EXPECT_EQ(effectiveWeight(pool, h, 10'000, ramping), 0u);
}

TEST(Host, TryAcquireHonoursMaxConnections) {
  HostRegistry reg;
  auto pool = makePool("p", {server("10.0.0.1:80"), server("10.0.0.2:80")});
  pool.servers[0].max_connections = 2;
  auto c = reg.build(pool, 0, true);
  const Host& limited = c->hosts[0];
  EXPECT_TRUE(limited.tryAcquire());
  EXPECT_FALSE(limited.full());
  EXPECT_TRUE(limited.tryAcquire());
  EXPECT_TRUE(limited.full());
  EXPECT_FALSE(limited.tryAcquire());
  EXPECT_EQ(limited.state->active.load(), 2u) << "a refused acquire takes nothing";
  limited.release();
  EXPECT_TRUE(limited.tryAcquire());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(c->hosts[1].tryAcquire()) << "0 = unlimited";
  }
  EXPECT_FALSE(c->hosts[1].full());
}

TEST(ClusterLoad, FullDrainingEjectedAndDownServersAreNotUsable) {
  HostRegistry reg;
  auto pool = makePool("p", {server("10.0.0.1:80"), server("10.0.0.2:80"), server("10.0.0.3:80"),
                             server("10.0.0.4:80"), server("10.0.0.5:80")});
  pool.servers[0].max_connections = 1;
  pool.servers[1].drain = true;
  auto c = reg.build(pool, 0, true);
  ASSERT_TRUE(c->hosts[0].tryAcquire());              // 0: full
  c->hosts[2].state->ejected.store(true);             // 2: ejected until 5000
  c->hosts[2].state->ejected_until_ms.store(5000);
  c->hosts[3].state->check_down.store(true);          // 3: down by its checks
  ClusterLoad load(*c, 1000);
  EXPECT_FALSE(load.usable(0));
  EXPECT_FALSE(load.usable(1));
  EXPECT_FALSE(load.usable(2));
  EXPECT_FALSE(load.usable(3));
  EXPECT_TRUE(load.usable(4));
  EXPECT_EQ(load.active(0), 1u);
  EXPECT_TRUE(load.anyFull()) << "server 0 would take it but for its limit: worth waiting";

  // An ejection whose time is up counts as over before the sweep clears the flag.
  EXPECT_TRUE(ClusterLoad(*c, 5000).usable(2));

  // Full but down: a slot there would not help, so nothing is worth waiting for.
  c->hosts[0].state->check_down.store(true);
  EXPECT_FALSE(ClusterLoad(*c, 1000).anyFull());
}

TEST(ClusterLoad, PanicSkipsOnlyDrainingAndFullServers) {
  HostRegistry reg;
  auto pool = makePool("p", {server("10.0.0.1:80"), server("10.0.0.2:80"), server("10.0.0.3:80")});
  pool.servers[0].max_connections = 1;
  pool.servers[1].disabled = true;
  auto c = reg.build(pool, 0, true);
  for (const Host& h : c->hosts) {
    h.state->check_down.store(true);
  }
  ASSERT_TRUE(c->hosts[0].tryAcquire());
  c->hosts[2].state->ejected.store(true);
  c->hosts[2].state->ejected_until_ms.store(5000);
  EXPECT_FALSE(ClusterLoad(*c, 1000).anyFull());
  c->pool_state->panic.store(true);
  ClusterLoad panic(*c, 1000);
  EXPECT_FALSE(panic.usable(0)) << "full";
  EXPECT_FALSE(panic.usable(1)) << "disabled";
  EXPECT_TRUE(panic.usable(2)) << "down and ejected, but in panic every server takes traffic";
  EXPECT_TRUE(panic.anyFull()) << "in panic a full down server is worth waiting for";
}
