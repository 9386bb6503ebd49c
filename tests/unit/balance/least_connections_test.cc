#include <gtest/gtest.h>

#include "balance_test_util.h"

namespace fulcrum::balance {
namespace {

using test::FakeLoad;
using test::makeHosts;

std::unique_ptr<const Balancer> leastConnections(std::vector<HostSpec> hosts) {
  return Balancer::create(BalancerOptions{Algorithm::LeastConnections}, std::move(hosts));
}

size_t pickWith(Picker& picker, const FakeLoad& load) {
  PickRequest request;
  request.load = &load;
  return picker.pick(request).value_or(99);
}

TEST(LeastConnections, PicksLeastActivePerWeight) {
  auto balancer = leastConnections(makeHosts({1, 2, 1}));
  auto picker = balancer->makePicker(0);
  FakeLoad load(3);
  load.conns = {5, 6, 4};  // (active + 1) / weight: 6, 3.5, 5
  EXPECT_EQ(pickWith(*picker, load), 1u);
  load.conns = {1, 9, 4};  // 2, 5, 5
  EXPECT_EQ(pickWith(*picker, load), 0u);
  load.up[0] = false;  // 5 vs 5: a tie, any of the two
  EXPECT_NE(pickWith(*picker, load), 0u);
}

TEST(LeastConnections, RotatesTies) {
  auto balancer = leastConnections(test::equalHosts(4));
  auto picker = balancer->makePicker(0);
  FakeLoad load(4);
  load.conns = {3, 3, 3, 3};
  std::vector<size_t> picks;
  for (int i = 0; i < 8; ++i) {
    picks.push_back(pickWith(*picker, load));
  }
  EXPECT_EQ(picks, (std::vector<size_t>{0, 1, 2, 3, 0, 1, 2, 3}));
}

TEST(LeastConnections, RampingHostIsFilledToItsShareNotStampeded) {
  // Four busy hosts at weight 10 with 50 connections each; a new host at effective weight 1
  // gets new connections only until it holds ~1/10 of theirs.
  auto balancer = leastConnections(makeHosts({10, 10, 10, 10, 1}));
  auto picker = balancer->makePicker(0);
  FakeLoad load(5);
  load.conns = {50, 50, 50, 50, 0};
  size_t to_new = 0;
  for (int i = 0; i < 20; ++i) {
    const size_t host = pickWith(*picker, load);
    ++load.conns[host];
    to_new += host == 4 ? 1 : 0;
  }
  EXPECT_GE(to_new, 4u);
  EXPECT_LE(to_new, 6u);
}

TEST(LeastConnections, LargePoolSamplesAndPrefersLightHosts) {
  // Above 8 hosts a pick is the best of 4 weighted samples, not a scan.
  auto balancer = leastConnections(test::equalHosts(100));
  auto picker = balancer->makePicker(3);
  FakeLoad load(100);
  for (size_t i = 0; i < 100; ++i) {
    load.conns[i] = static_cast<uint32_t>(i);
  }
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    sum += static_cast<double>(pickWith(*picker, load));
  }
  EXPECT_LT(sum / 10000, 25.0);  // uniform would be 49.5; min of 4 samples is ~19.8
}

TEST(LeastConnections, LargePoolSlowStartShare) {
  std::vector<uint32_t> weights(40, 10);
  weights[7] = 1;
  auto balancer = leastConnections(makeHosts(weights));
  auto picker = balancer->makePicker(9);
  FakeLoad load(40);
  const auto counts = test::simulate(*picker, load, 40000, 400, std::vector<double>(40, 0.01));
  double others = 0;
  for (size_t i = 0; i < 40; ++i) {
    others += i == 7 ? 0 : test::share(counts, i) / 39;
  }
  const double ratio = test::share(counts, 7) / others;
  EXPECT_GT(ratio, 0.05);
  EXPECT_LT(ratio, 0.2);
}

TEST(LeastConnections, LargePoolWithMostHostsDownStillFindsTheUsableOne) {
  auto balancer = leastConnections(test::equalHosts(200));
  auto picker = balancer->makePicker(1);
  FakeLoad load(200);
  load.up.assign(200, false);
  load.up[123] = true;
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(pickWith(*picker, load), 123u);
  }
}

}  // namespace
}  // namespace fulcrum::balance
