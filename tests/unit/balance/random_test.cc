#include <gtest/gtest.h>

#include "balance/alias_table.h"
#include "balance_test_util.h"

namespace fulcrum::balance {
namespace {

using test::FakeLoad;
using test::makeHosts;

TEST(AliasTable, SamplesFollowWeights) {
  const AliasTable table({1, 0, 3, 6});
  Prng rng(1);
  std::vector<size_t> counts(4, 0);
  for (int i = 0; i < 200000; ++i) {
    ++counts[table.sample(rng)];
  }
  EXPECT_EQ(counts[1], 0u);
  EXPECT_NEAR(counts[0] / 200000.0, 0.1, 0.005);
  EXPECT_NEAR(counts[2] / 200000.0, 0.3, 0.005);
  EXPECT_NEAR(counts[3] / 200000.0, 0.6, 0.005);
}

TEST(Random, SameSeedSamePicks) {
  auto balancer = Balancer::create(BalancerOptions{Algorithm::Random}, test::equalHosts(50));
  auto a = balancer->makePicker(42);
  auto b = balancer->makePicker(42);
  auto c = balancer->makePicker(43);
  EXPECT_EQ(test::countPicks(*a, 50, 1000), test::countPicks(*b, 50, 1000));
  EXPECT_NE(test::countPicks(*a, 50, 1000), test::countPicks(*c, 50, 1000));
}

TEST(RandomTwoChoices, IdleSpreadFollowsWeight) {
  // No load at all: every comparison ties and the first weighted draw wins.
  auto balancer = Balancer::create(BalancerOptions{Algorithm::RandomTwoChoices}, makeHosts({1, 2, 3, 4}));
  auto picker = balancer->makePicker(3);
  FakeLoad load(4);
  const auto counts = test::countPicks(*picker, 4, 100000, &load);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(test::share(counts, i), (i + 1) / 10.0, (i + 1) / 10.0 * 0.05);
  }
}

TEST(RandomTwoChoices, TwoDistinctCandidatesTheLessLoadedWins) {
  auto balancer = Balancer::create(BalancerOptions{Algorithm::RandomTwoChoices}, test::equalHosts(2));
  auto picker = balancer->makePicker(3);
  FakeLoad load(2);
  load.conns = {10, 9};
  EXPECT_EQ(test::countPicks(*picker, 2, 1000, &load)[1], 1000u);
}

TEST(RandomTwoChoices, BeatsRandomOnMaxLoad) {
  // Balls into bins: with two choices the fullest bin stays close to the mean.
  auto run = [](Algorithm algorithm) {
    auto balancer = Balancer::create(BalancerOptions{algorithm}, test::equalHosts(100));
    auto picker = balancer->makePicker(8);
    FakeLoad load(100);
    for (int i = 0; i < 10000; ++i) {
      PickRequest request;
      request.load = &load;
      ++load.conns[picker->pick(request).value()];
    }
    return *std::max_element(load.conns.begin(), load.conns.end());
  };
  EXPECT_LE(run(Algorithm::RandomTwoChoices), 103u);
  EXPECT_GT(run(Algorithm::Random), 115u);
}

}  // namespace
}  // namespace fulcrum::balance
