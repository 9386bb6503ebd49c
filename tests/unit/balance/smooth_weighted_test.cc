#include <gtest/gtest.h>

#include "balance/smooth_schedule.h"
#include "balance_test_util.h"

namespace fulcrum::balance {
namespace {

using test::FakeLoad;
using test::makeHosts;

std::vector<size_t> sequence(Picker& picker, size_t n, const HostLoad* load = nullptr) {
  std::vector<size_t> out;
  for (size_t i = 0; i < n; ++i) {
    PickRequest request;
    request.load = load;
    const auto host = picker.pick(request);
    out.push_back(host ? *host : 99);
  }
  return out;
}

TEST(SmoothWeighted, NginxOrderForFiveOneOne) {
  // a a b a c a a: the heavy server is interleaved, never given a burst of five.
  EXPECT_EQ(smoothSchedule({5, 1, 1}), (std::vector<uint32_t>{0, 0, 1, 0, 2, 0, 0}));
  auto balancer = Balancer::create(BalancerOptions{Algorithm::WeightedRoundRobin}, makeHosts({5, 1, 1}));
  auto picker = balancer->makePicker(0);
  EXPECT_EQ(sequence(*picker, 14), (std::vector<size_t>{0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0}));
}

TEST(SmoothWeighted, ScheduleIsReducedByGcd) {
  EXPECT_EQ(smoothSchedule({50, 10, 10}), smoothSchedule({5, 1, 1}));
  EXPECT_EQ(smoothSchedule({7, 7, 7}), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_TRUE(smoothSchedule({}).empty());
}

TEST(SmoothWeighted, HugeWeightsAreScaledToABoundedSchedule) {
  std::vector<uint32_t> weights(1000, 1000003);
  weights[0] = 2000006;
  weights[1] = 999983;
  const auto schedule = smoothSchedule(weights);
  EXPECT_LE(schedule.size() * weights.size(), size_t{1} << 27);
  std::vector<size_t> count(weights.size(), 0);
  for (uint32_t p : schedule) {
    ++count[p];
  }
  EXPECT_NEAR(static_cast<double>(count[0]) / static_cast<double>(count[2]), 2.0, 0.1);
  EXPECT_GT(count[1], 0u);
}

TEST(SmoothWeighted, RoundRobinRotatesAndWorkersStartApart) {
  auto balancer = Balancer::create(BalancerOptions{Algorithm::RoundRobin}, test::equalHosts(3));
  auto first = balancer->makePicker(0);
  auto second = balancer->makePicker(1);
  EXPECT_EQ(sequence(*first, 7), (std::vector<size_t>{0, 1, 2, 0, 1, 2, 0}));
  EXPECT_EQ(sequence(*second, 4), (std::vector<size_t>{1, 2, 0, 1}));
}

TEST(SmoothWeighted, ExactSharesOverWholePeriods) {
  auto balancer = Balancer::create(BalancerOptions{Algorithm::WeightedRoundRobin}, makeHosts({1, 2, 3, 4}));
  auto picker = balancer->makePicker(5);
  const auto counts = test::countPicks(*picker, 4, 10000);
  EXPECT_EQ(counts, (std::vector<size_t>{1000, 2000, 3000, 4000, 0}));
}

TEST(SmoothWeighted, SkipsUnusableHostsAndKeepsTheRestInterleaved) {
  auto balancer = Balancer::create(BalancerOptions{Algorithm::WeightedRoundRobin}, makeHosts({5, 1, 1}));
  auto picker = balancer->makePicker(0);
  FakeLoad load(3);
  load.up[1] = false;
  EXPECT_EQ(sequence(*picker, 6, &load), (std::vector<size_t>{0, 0, 0, 2, 0, 0}));
}

TEST(SmoothWeighted, HeavyHostDownFallsBackToRotation) {
  // 1000 of 1002 schedule slots belong to the unusable host: the bounded walk gives up and the
  // picker rotates over the usable ones instead of scanning the schedule.
  auto balancer = Balancer::create(BalancerOptions{Algorithm::WeightedRoundRobin}, makeHosts({1000, 1, 1}));
  auto picker = balancer->makePicker(0);
  FakeLoad load(3);
  load.up[0] = false;
  const auto counts = test::countPicks(*picker, 3, 1000, &load);
  EXPECT_EQ(counts[0] + counts[3], 0u);
  EXPECT_NEAR(static_cast<double>(counts[1]), 500.0, 50.0);
}

}  // namespace
}  // namespace fulcrum::balance
