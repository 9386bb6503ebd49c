// Properties every algorithm must have: tiers (backups), exclusion, usability, weight 0,
// weighted spread, slow-start share, empty pools.
#include <gtest/gtest.h>

#include "balance/algorithm.h"
#include "balance/balancer.h"
#include "balance_test_util.h"

namespace fulcrum::balance {
namespace {

using test::countPicks;
using test::equalHosts;
using test::FakeLoad;
using test::makeHosts;
using test::share;
using test::simulate;

class AllAlgorithms : public ::testing::TestWithParam<Algorithm> {
 protected:
  std::unique_ptr<const Balancer> build(std::vector<HostSpec> hosts) const {
    BalancerOptions options;
    options.algorithm = GetParam();
    return Balancer::create(options, std::move(hosts));
  }
  // Load-aware algorithms are measured in a closed loop, where picks open connections.
  bool loadAware() const {
    return GetParam() == Algorithm::LeastConnections || GetParam() == Algorithm::LeastResponseTime ||
           GetParam() == Algorithm::RandomTwoChoices;
  }
  std::vector<size_t> spread(Picker& picker, size_t hosts, size_t picks) const {
    if (loadAware()) {
      FakeLoad load(hosts);
      return simulate(picker, load, picks, 200, std::vector<double>(hosts, 0.01));
    }
    return countPicks(picker, hosts, picks);
  }
};

TEST_P(AllAlgorithms, EmptyHostListPicksNothing) {
  auto balancer = build({});
  EXPECT_EQ(balancer->size(), 0u);
  auto picker = balancer->makePicker(1);
  FakeLoad load(0);
  EXPECT_EQ(picker->pick(PickRequest{}), std::nullopt);
  EXPECT_EQ(picker->pick(PickRequest{42, &load, nullptr, 0}), std::nullopt);
}

TEST_P(AllAlgorithms, NothingUsablePicksNothing) {
  auto balancer = build(makeHosts({1, 2, 3}, 2));
  auto picker = balancer->makePicker(1);
  FakeLoad load(5);
  load.up.assign(5, false);
  const auto counts = countPicks(*picker, 5, 200, &load);
  EXPECT_EQ(counts[5], 200u);
}

TEST_P(AllAlgorithms, BackupsOnlyWhenNoPrimaryUsable) {
  auto balancer = build(makeHosts({1, 1, 1}, 2));  // 0-2 primaries, 3-4 backups
  auto picker = balancer->makePicker(3);
  FakeLoad load(5);
  auto counts = countPicks(*picker, 5, 600, &load);
  EXPECT_EQ(counts[3] + counts[4] + counts[5], 0u);
  EXPECT_GT(counts[0] * counts[1] * counts[2], 0u);

  load.up[0] = load.up[2] = false;  // one primary left: it takes everything
  counts = countPicks(*picker, 5, 600, &load);
  EXPECT_EQ(counts[1], 600u);

  load.up[1] = false;  // no primary: backups share the traffic
  counts = countPicks(*picker, 5, 600, &load);
  EXPECT_EQ(counts[3] + counts[4], 600u);
  EXPECT_GT(counts[3], 0u);
  EXPECT_GT(counts[4], 0u);

  load.up[2] = true;  // a primary recovers: backups stop at once
  counts = countPicks(*picker, 5, 600, &load);
  EXPECT_EQ(counts[2], 600u);
}

TEST_P(AllAlgorithms, ExcludedHostsAreNotPicked) {
  auto balancer = build(makeHosts({1, 1, 1}, 1));
  auto picker = balancer->makePicker(5);
  std::vector<bool> exclude(4, false);
  exclude[0] = true;
  auto counts = countPicks(*picker, 4, 600, nullptr, &exclude);
  EXPECT_EQ(counts[0] + counts[3] + counts[4], 0u);
  EXPECT_GT(counts[1], 0u);
  EXPECT_GT(counts[2], 0u);

  exclude[1] = exclude[2] = true;  // every primary tried: the backup is next
  counts = countPicks(*picker, 4, 100, nullptr, &exclude);
  EXPECT_EQ(counts[3], 100u);

  exclude[3] = true;
  counts = countPicks(*picker, 4, 100, nullptr, &exclude);
  EXPECT_EQ(counts[4], 100u);
}

TEST_P(AllAlgorithms, WeightZeroIsNeverPicked) {
  auto balancer = build(makeHosts({0, 1, 1}));
  auto picker = balancer->makePicker(1);
  FakeLoad load(3);
  auto counts = countPicks(*picker, 3, 1000, &load);
  EXPECT_EQ(counts[0], 0u);
  EXPECT_EQ(counts[3], 0u);

  load.up[1] = load.up[2] = false;  // only the weight-0 host is usable: still never
  counts = countPicks(*picker, 3, 100, &load);
  EXPECT_EQ(counts[3], 100u);

  auto with_backup = build(makeHosts({0, 0}, 1));
  auto backup_picker = with_backup->makePicker(1);
  counts = countPicks(*backup_picker, 3, 100);
  EXPECT_EQ(counts[2], 100u);
}

TEST_P(AllAlgorithms, SpreadFollowsWeightWithinFivePercent) {
  auto balancer = build(makeHosts({1, 1, 2}));
  auto picker = balancer->makePicker(11);
  const auto counts = spread(*picker, 3, 10000);
  // A ring with 160 points per unit of weight is only good to about +-10%.
  const double tolerance = GetParam() == Algorithm::ConsistentHash ? 0.10 : 0.05;
  const double expected[] = {0.25, 0.25, 0.5};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(share(counts, i), expected[i], expected[i] * tolerance) << "host " << i;
  }
}

TEST_P(AllAlgorithms, SlowStartingHostGetsItsSmallShare) {
  // Host 3 ramps up at 10% of the others' effective weight.
  auto balancer = build(makeHosts({10, 10, 10, 1}));
  auto picker = balancer->makePicker(13);
  const auto counts = spread(*picker, 4, 40000);
  const double others = (share(counts, 0) + share(counts, 1) + share(counts, 2)) / 3;
  const double ratio = share(counts, 3) / others;
  EXPECT_GT(ratio, 0.06);
  EXPECT_LT(ratio, 0.15);
}

TEST_P(AllAlgorithms, EveryHostOfALargePoolIsReachable) {
  auto balancer = build(equalHosts(100));
  auto picker = balancer->makePicker(17);
  const auto counts = spread(*picker, 100, 20000);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_GT(counts[i], 0u) << "host " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Balance, AllAlgorithms,
                         ::testing::Values(Algorithm::RoundRobin, Algorithm::WeightedRoundRobin,
                                           Algorithm::LeastConnections, Algorithm::LeastResponseTime,
                                           Algorithm::Random, Algorithm::RandomTwoChoices, Algorithm::IpHash,
                                           Algorithm::ConsistentHash, Algorithm::Maglev),
                         [](const ::testing::TestParamInfo<Algorithm>& info) {
                           return std::string(algorithmName(info.param));
                         });

TEST(AlgorithmNames, RoundTrip) {
  ASSERT_EQ(algorithmNames().size(), 9u);
  for (std::string_view name : algorithmNames()) {
    const std::optional<Algorithm> algorithm = parseAlgorithm(name);
    ASSERT_TRUE(algorithm.has_value()) << name;
    EXPECT_EQ(algorithmName(*algorithm), name);
  }
  EXPECT_EQ(parseAlgorithm("maglev"), Algorithm::Maglev);
  EXPECT_EQ(parseAlgorithm("least_conn"), std::nullopt);
  EXPECT_EQ(parseAlgorithm(""), std::nullopt);
  EXPECT_EQ(parseAlgorithm("Round_Robin"), std::nullopt);
}

TEST(HashKey, IsXxh3WithAFixedSeed) {
  EXPECT_EQ(hashKey("10.0.0.1"), hashKey("10.0.0.1"));
  EXPECT_NE(hashKey("10.0.0.1"), hashKey("10.0.0.2"));
}

}  // namespace
}  // namespace fulcrum::balance
