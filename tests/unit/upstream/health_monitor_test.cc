// HealthMonitor on an EventLoop driven by a ManualClock: its 100 ms sweep (ejections ending,
// error-rate ejections, panic, drain timeout) and an active check that ends an ejection early,
// all on real Cluster objects, without sleeping.
#include "upstream/health_monitor.h"

#include <gtest/gtest.h>

#include <functional>

#include "../loopback.h"
#include "upstream/outlier.h"

using namespace fulcrum;
using namespace fulcrum::upstream;

namespace {

// Four servers that are never connected to (no active checks), ejections of 1 s up to 4 s.
config::Pool makePool() {
  config::Pool pool;
  pool.name.push_back('p');  // (not = "p": GCC 12 -Wrestrict false positive)
  pool.outlier_detection.ejection_time = std::chrono::milliseconds(1000);
  pool.outlier_detection.max_ejection_time = std::chrono::milliseconds(4000);
  pool.outlier_detection.max_ejection_percent = 100;
  for (int i = 0; i < 4; ++i) {
    config::Server s;
    s.address = test::loopbackAddress(static_cast<uint16_t>(9001 + i));
    pool.servers.push_back(s);
  }
  return pool;
}

class HealthMonitorTest : public ::testing::Test {
 protected:
  HealthMonitorTest()
      : loop(clock),
        monitor(loop, HealthMonitor::Hooks{[this] { ++republishes; },
                                           [this](std::shared_ptr<HostState> s) { closed.push_back(s); }}),
        pool(makePool()) {}

  // Builds the cluster from `pool` and hands it to the monitor, as a publish does.
  void publish(uint64_t drainMs = 30000) {
    cluster = registry.build(pool, loop.nowMs(), cluster == nullptr);
    monitor.update({cluster}, drainMs);
  }
  // Moves the clock in sweep-sized steps, letting each sweep run at its own time.
  // Server 0 listens on loopback, is TCP-checked every 10 s (rise 1, fall 1) and, when
  // ejected, stays out 30 s; the socket is returned to keep it listening.
  core::Fd checkedServerEjectedForLong() {
    core::Fd server = test::listenLoopback();
    pool.servers.resize(2);
    pool.servers[0].address = test::loopbackAddress(test::localPort(server.get()));
    pool.outlier_detection.ejection_time = std::chrono::milliseconds(30'000);
    pool.outlier_detection.max_ejection_time = std::chrono::milliseconds(30'000);
    pool.health_check.type = config::CheckType::Tcp;
    pool.health_check.interval = std::chrono::milliseconds(10'000);
    pool.health_check.timeout = std::chrono::milliseconds(1000);
    pool.health_check.rise = 1;
    pool.health_check.fall = 1;
    return server;
  }
  // The first check (started at once, no jitter) completes on loopback: at most 2 s of real time.
  void waitForFirstCheck() {
    for (int i = 0; i < 400 && host(0).checks_ok.load() == 0; ++i) {
      loop.runOnce(5);
    }
  }

  void pass(uint64_t ms) {
    for (uint64_t done = 0; done < ms;) {
      uint64_t step = std::min<uint64_t>(100, ms - done);
      clock.advanceMs(step);
      loop.runOnce(0);
      done += step;
    }
  }
  uint64_t now() const { return loop.nowMs(); }
  HostState& host(size_t i) { return *cluster->hosts[i].state; }

  core::ManualClock clock;
  core::EventLoop loop;
  int republishes = 0;
  std::vector<std::shared_ptr<HostState>> closed;
  HealthMonitor monitor;
  HostRegistry registry;
  config::Pool pool;
  std::shared_ptr<const Cluster> cluster;
};

}  // namespace

TEST_F(HealthMonitorTest, TheSweepEndsAnEjectionWhenItsTimeIsUp) {
  publish();
  ASSERT_TRUE(tryEject(*cluster, 0, now()));  // 1000 ms
  EXPECT_EQ(cluster->pool_state->ejected.load(), 1u);
  pass(900);
  EXPECT_TRUE(host(0).ejected.load()) << "900 ms into a 1000 ms ejection";
  pass(100);
  EXPECT_FALSE(host(0).ejected.load());
  EXPECT_EQ(cluster->pool_state->ejected.load(), 0u) << "the pool's ejection budget is given back";
  EXPECT_EQ(host(0).up_since_ms.load(), now()) << "slow start counts from the end of the ejection";
  EXPECT_TRUE(cluster->hosts[0].healthy(now()));
}

TEST_F(HealthMonitorTest, AnEjectionCountStartsOverAfterAHealthySpell) {
  publish();
  ASSERT_TRUE(tryEject(*cluster, 0, now()));
  pass(1000);  // ended
  ASSERT_FALSE(host(0).ejected.load());
  EXPECT_EQ(host(0).ejection_count.load(), 1u);
  pass(4000);  // healthy for max_ejection_time
  EXPECT_EQ(host(0).ejection_count.load(), 1u) << "not more than max_ejection_time yet";
  pass(100);
  EXPECT_EQ(host(0).ejection_count.load(), 0u) << "the next ejection is short again";
  ASSERT_TRUE(tryEject(*cluster, 0, now()));
  EXPECT_EQ(host(0).ejected_until_ms.load() - now(), 1000u);
}

TEST_F(HealthMonitorTest, AHighErrorRateOverTheWindowEjects) {
  pool.outlier_detection.max_fails = 1000;  // only the rate rule
  pool.outlier_detection.error_rate_percent = 50;
  pool.outlier_detection.error_rate_min_requests = 10;
  pool.outlier_detection.error_rate_window = std::chrono::milliseconds(2000);
  publish();
  pass(100);  // the first rate tick takes the baseline
  host(0).requests.store(20);
  host(0).failures.store(9);  // 45%: under the rate
  host(1).requests.store(20);
  host(1).failures.store(10);  // 50%
  host(2).requests.store(5);
  host(2).failures.store(5);  // 100%, but too few requests
  pass(900);
  EXPECT_FALSE(host(1).ejected.load()) << "rates are taken once a second";
  pass(100);
  EXPECT_FALSE(host(0).ejected.load());
  EXPECT_TRUE(host(1).ejected.load());
  EXPECT_FALSE(host(2).ejected.load());
  EXPECT_EQ(host(1).ejected_until_ms.load(), now() + 1000);
}

TEST_F(HealthMonitorTest, PanicBelowTheThresholdUnlessABackupIsHealthy) {
  pool.panic_threshold = 50;
  publish();
  pass(100);
  EXPECT_FALSE(cluster->pool_state->panic.load());
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tryEject(*cluster, i, now()));
  }
  pass(100);
  EXPECT_TRUE(cluster->pool_state->panic.load()) << "1 of 4 healthy is under 50%";
  pass(1000);  // the ejections end
  EXPECT_FALSE(cluster->pool_state->panic.load());

  // The same with a healthy backup: it serves, no panic.
  pool.servers.back().backup = true;
  config::Server extra = pool.servers[0];
  extra.address = test::loopbackAddress(9009);
  pool.servers.insert(pool.servers.begin(), extra);  // 4 primaries again, one backup
  publish();
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tryEject(*cluster, i, now()));
  }
  pass(100);
  EXPECT_FALSE(cluster->pool_state->panic.load());
}

TEST_F(HealthMonitorTest, DrainTimeoutClosesTheServersSessionsOnce) {
  pool.servers[1].drain = true;
  publish(/*drainMs=*/1000);
  pass(100);  // the sweep notes the drain start
  pass(900);
  EXPECT_TRUE(closed.empty());
  pass(100);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0], cluster->hosts[1].state);
  pass(2000);
  EXPECT_EQ(closed.size(), 1u) << "once";
}

TEST_F(HealthMonitorTest, APassingActiveCheckEndsAnEjectionEarly) {
  core::Fd server = checkedServerEjectedForLong();
  cluster = registry.build(pool, now(), true);
  // Down by its checks and ejected by traffic (a crash): now it is back.
  host(0).check_down.store(true);
  ASSERT_TRUE(tryEject(*cluster, 0, now()));
  monitor.update({cluster}, 30000);
  waitForFirstCheck();
  ASSERT_EQ(host(0).checks_ok.load(), 1u);
  EXPECT_FALSE(host(0).check_down.load());
  pass(100);
  EXPECT_FALSE(host(0).ejected.load()) << "lifted at the next sweep, not after 30 s";
  EXPECT_EQ(cluster->pool_state->ejected.load(), 0u);
  EXPECT_TRUE(cluster->hosts[0].healthy(now()));
}

TEST_F(HealthMonitorTest, ChecksThatKeepPassingDoNotEndAnEjection) {
  // Passive health ejects servers that pass their checks but fail traffic: only a check that
  // brings a server back up ends an ejection early.
  core::Fd server = checkedServerEjectedForLong();
  publish();
  ASSERT_TRUE(tryEject(*cluster, 0, now()));
  waitForFirstCheck();
  ASSERT_EQ(host(0).checks_ok.load(), 1u);
  pass(1000);
  EXPECT_TRUE(host(0).ejected.load());
  EXPECT_FALSE(cluster->hosts[0].healthy(now()));
}

TEST_F(HealthMonitorTest, SlowStartAsksForNewSnapshotsWhileServersRamp) {
  pool.slow_start = std::chrono::milliseconds(1000);
  publish();                 // first build: full weight at once
  pass(500);
  EXPECT_EQ(republishes, 0);
  config::Server added = pool.servers[0];
  added.address = test::loopbackAddress(9010);
  pool.servers.push_back(added);
  publish();  // added by a reload: ramps
  ASSERT_TRUE(cluster->ramping);
  pass(100);
  EXPECT_GE(republishes, 1) << "the weights move: a new snapshot is needed";
  int before = republishes;
  pass(1000);
  EXPECT_GT(republishes, before);
  EXPECT_LE(republishes - before, 10) << "one step per slow_start/10 at most";
}
