#include <gtest/gtest.h>

#include "balance_test_util.h"

namespace fulcrum::balance {
namespace {

using test::FakeLoad;

std::unique_ptr<const Balancer> leastResponseTime(size_t n) {
  return Balancer::create(BalancerOptions{Algorithm::LeastResponseTime}, test::equalHosts(n));
}

std::vector<size_t> countAt(Picker& picker, const FakeLoad& load, double now, size_t picks) {
  std::vector<size_t> counts(load.conns.size(), 0);
  for (size_t i = 0; i < picks; ++i) {
    PickRequest request;
    request.load = &load;
    request.now = now;
    ++counts[picker.pick(request).value()];
  }
  return counts;
}

TEST(LeastResponseTime, PrefersFastHostWithoutStampedingIt) {
  auto balancer = leastResponseTime(10);
  auto picker = balancer->makePicker(1);
  for (size_t i = 0; i < 10; ++i) {
    picker->observe(i, i == 0 ? 0.001 : 0.010, 0);
  }
  FakeLoad load(10);
  const auto counts = countAt(*picker, load, 0, 10000);
  // Fair is 10%; the fast host wins every comparison it is in (~20%) and no more.
  EXPECT_GT(counts[0], 1500u);
  EXPECT_LT(counts[0], 2500u);
}

TEST(LeastResponseTime, OutstandingRequestsRaiseTheCost) {
  auto balancer = leastResponseTime(2);
  auto picker = balancer->makePicker(1);
  picker->observe(0, 0.001, 0);
  picker->observe(1, 0.010, 0);
  FakeLoad load(2);
  load.conns = {20, 0};  // 0.001 x 21 > 0.010 x 1
  EXPECT_EQ(countAt(*picker, load, 0, 100)[1], 100u);
}

TEST(LeastResponseTime, SlowHostIsProbedAgainAfterDecay) {
  auto balancer = leastResponseTime(3);
  auto picker = balancer->makePicker(2);
  FakeLoad load(3);
  picker->observe(0, 1.0, 0);  // one very slow answer
  picker->observe(1, 0.010, 0);
  picker->observe(2, 0.010, 0);
  EXPECT_EQ(countAt(*picker, load, 0, 1000)[0], 0u);
  EXPECT_EQ(countAt(*picker, load, 5, 1000)[0], 0u);  // half a time constant: still avoided

  // 100 s later (10 time constants) the others are still being measured, host 0 is not.
  picker->observe(1, 0.010, 100);
  picker->observe(2, 0.010, 100);
  const auto counts = countAt(*picker, load, 100, 1000);
  EXPECT_GT(counts[0], 100u);

  picker->observe(0, 1.0, 100);  // the probe is slow again: peak sensitivity drops it at once
  EXPECT_EQ(countAt(*picker, load, 100, 1000)[0], 0u);
}

TEST(LeastResponseTime, PeakSensitive) {
  auto balancer = leastResponseTime(2);
  auto picker = balancer->makePicker(3);
  for (int i = 0; i < 100; ++i) {
    picker->observe(0, 0.010, i * 0.01);
    picker->observe(1, 0.012, i * 0.01);
  }
  FakeLoad load(2);
  EXPECT_EQ(countAt(*picker, load, 1, 100)[0], 100u);
  picker->observe(0, 0.200, 1);  // one slow sample counts in full, not averaged away
  EXPECT_EQ(countAt(*picker, load, 1, 100)[1], 100u);
}

TEST(LeastResponseTime, UnmeasuredHostsUseSharedEstimateThenMean) {
  auto balancer = leastResponseTime(3);
  auto picker = balancer->makePicker(4);
  FakeLoad load(3);
  load.latency = {0.5, 0.01, 0.0};  // host 2: nobody knows yet
  picker->observe(1, 0.01, 0);      // the worker's mean is now 0.01
  const auto counts = countAt(*picker, load, 0, 3000);
  EXPECT_EQ(counts[0], 0u);
  EXPECT_GT(counts[2], 1000u);  // treated like an average host, not avoided or stampeded
  EXPECT_LT(counts[2], 2000u);
}

TEST(LeastResponseTime, FastHostDoesNotTakeEverythingUnderLoad) {
  std::vector<double> latency(10, 0.010);
  latency[0] = 0.002;
  auto balancer = leastResponseTime(10);
  auto picker = balancer->makePicker(5);
  FakeLoad load(10);
  const auto counts = test::simulate(*picker, load, 20000, 100, latency);
  EXPECT_GT(test::share(counts, 0), 0.12);
  EXPECT_LT(test::share(counts, 0), 0.4);
}

}  // namespace
}  // namespace fulcrum::balance
