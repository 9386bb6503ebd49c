// Picker::rebase(): a picker moved onto its pool's rebuilt balancer (new weights, hosts added,
// removed or reordered) keeps what it learnt, by host identity, and never returns an index of
// the old host list.
#include <gtest/gtest.h>

#include "balance_test_util.h"

namespace fulcrum::balance {
namespace {

using test::FakeLoad;
using test::hostId;

// Hosts with these ids (test::hostId numbers) and weights.
std::vector<HostSpec> hostsOf(const std::vector<size_t>& ids, const std::vector<uint32_t>& weights) {
  std::vector<HostSpec> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    out.push_back(HostSpec{hostId(ids[i]), weights[i], false});
  }
  return out;
}

std::unique_ptr<const Balancer> make(Algorithm algorithm, std::vector<HostSpec> hosts) {
  BalancerOptions options;
  options.algorithm = algorithm;
  return Balancer::create(options, std::move(hosts));
}

size_t pickOne(Picker& picker, const HostLoad* load = nullptr, double now = 0) {
  PickRequest request;
  request.load = load;
  request.now = now;
  return picker.pick(request).value();
}

TEST(Rebase, MapHostsFollowsIdsNotIndices) {
  auto from = make(Algorithm::RoundRobin, hostsOf({0, 1, 2}, {1, 1, 1}));
  auto to = make(Algorithm::RoundRobin, hostsOf({2, 3, 0}, {1, 1, 1}));
  EXPECT_EQ(mapHosts(*from, *to), (std::vector<int32_t>{2, -1, 0}));
  EXPECT_EQ(mapHosts(*from, *from), (std::vector<int32_t>{0, 1, 2}));
}

TEST(Rebase, LeastResponseTimeKeepsEstimatesOfHostsThatStay) {
  auto before = make(Algorithm::LeastResponseTime, hostsOf({0, 1, 2}, {10, 10, 10}));
  auto picker = before->makePicker(3);
  picker->observe(0, 0.500, 0);  // host 0 is slow
  picker->observe(1, 0.001, 0);
  picker->observe(2, 0.001, 0);
  // A slow-start step: new weights; host 0 moved to index 2, host 3 added at index 1.
  auto after = make(Algorithm::LeastResponseTime, hostsOf({1, 3, 0, 2}, {20, 10, 10, 20}));
  ASSERT_TRUE(picker->rebase(*after));
  before.reset();  // the picker no longer needs it
  FakeLoad load(4);
  std::vector<size_t> counts(4, 0);
  for (size_t i = 0; i < 2000; ++i) {
    ++counts[pickOne(*picker, &load)];
  }
  EXPECT_EQ(counts[2], 0u);  // the slow host is still avoided (a fresh picker would try it)
  EXPECT_GT(counts[0] + counts[3], 1000u);
}

TEST(Rebase, RoundRobinGoesOnAfterTheLastHostPicked) {
  auto before = make(Algorithm::RoundRobin, hostsOf({0, 1, 2}, {10, 10, 10}));
  for (uint64_t seed = 0; seed < 6; ++seed) {  // every start offset
    auto picker = before->makePicker(seed);
    const size_t last = pickOne(*picker);
    // An API weight change on host 2 (schedule C A B C), same host list.
    auto after = make(Algorithm::RoundRobin, hostsOf({0, 1, 2}, {10, 10, 20}));
    ASSERT_TRUE(picker->rebase(*after));
    EXPECT_EQ(pickOne(*picker), (last + 1) % 3) << "seed " << seed;
    // And back to equal weights: still in order.
    const size_t again = pickOne(*picker);
    auto equal = make(Algorithm::RoundRobin, hostsOf({0, 1, 2}, {10, 10, 10}));
    ASSERT_TRUE(picker->rebase(*equal));
    EXPECT_EQ(pickOne(*picker), (again + 1) % 3) << "seed " << seed;
  }
}

TEST(Rebase, RoundRobinSkipsToTheNextHostLeftWhenTheLastOneIsRemoved) {
  auto before = make(Algorithm::RoundRobin, hostsOf({0, 1, 2, 3}, {1, 1, 1, 1}));
  auto picker = before->makePicker(0);
  while (pickOne(*picker) != 1) {
  }
  // Host 1 (just picked) is removed: host 2, now at index 1, comes next.
  auto after = make(Algorithm::RoundRobin, hostsOf({0, 2, 3}, {1, 1, 1}));
  ASSERT_TRUE(picker->rebase(*after));
  EXPECT_EQ(pickOne(*picker), 1u);
  EXPECT_EQ(pickOne(*picker), 2u);
  EXPECT_EQ(pickOne(*picker), 0u);
}

TEST(Rebase, LeastConnectionsTiesGoOnInRotationByHost) {
  auto before = make(Algorithm::LeastConnections, hostsOf({0, 1, 2}, {1, 1, 1}));
  auto picker = before->makePicker(0);
  const size_t last = pickOne(*picker);  // equal load: ties rotate
  // Same hosts in reverse order: the one after `last` in the new order is next.
  auto after = make(Algorithm::LeastConnections, hostsOf({2, 1, 0}, {1, 1, 1}));
  ASSERT_TRUE(picker->rebase(*after));
  const size_t moved = 2 - last;
  EXPECT_EQ(pickOne(*picker), (moved + 1) % 3);
}

TEST(Rebase, AnotherAlgorithmIsRefused) {
  auto before = make(Algorithm::RoundRobin, hostsOf({0, 1}, {1, 1}));
  auto picker = before->makePicker(0);
  auto other = make(Algorithm::LeastResponseTime, hostsOf({0, 1}, {1, 1}));
  EXPECT_FALSE(picker->rebase(*other));
  EXPECT_LT(pickOne(*picker), 2u);  // unchanged, still on `before`
}

// Every algorithm: after a rebase onto a shorter list, picks are indices of the new list and
// observe() of them is safe.
class RebaseEvery : public ::testing::TestWithParam<Algorithm> {};

TEST_P(RebaseEvery, PicksIndexTheNewHostList) {
  auto before = make(GetParam(), hostsOf({0, 1, 2, 3, 4, 5, 6, 7}, {1, 2, 3, 4, 5, 6, 7, 8}));
  auto picker = before->makePicker(9);
  FakeLoad wide(8);
  for (size_t i = 0; i < 100; ++i) {
    picker->observe(pickOne(*picker, &wide, i * 0.01), 0.002 * (i % 7), i * 0.01);
  }
  auto after = make(GetParam(), hostsOf({7, 9, 3}, {2, 2, 2}));  // (equal: least_connections rotates)
  ASSERT_TRUE(picker->rebase(*after));
  before.reset();
  FakeLoad narrow(3);
  std::vector<bool> seen(3, false);
  for (size_t i = 0; i < 3000; ++i) {
    PickRequest request;
    request.hash = test::keyHash(i);
    request.load = &narrow;
    request.now = 1 + i * 0.01;
    const std::optional<size_t> host = picker->pick(request);
    ASSERT_TRUE(host.has_value());
    ASSERT_LT(*host, 3u);
    seen[*host] = true;
    picker->observe(*host, 0.001, request.now);
  }
  EXPECT_EQ(seen, std::vector<bool>(3, true));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, RebaseEvery,
                         ::testing::Values(Algorithm::RoundRobin, Algorithm::WeightedRoundRobin,
                                           Algorithm::LeastConnections, Algorithm::LeastResponseTime,
                                           Algorithm::Random, Algorithm::RandomTwoChoices, Algorithm::IpHash,
                                           Algorithm::ConsistentHash, Algorithm::Maglev),
                         [](const auto& info) { return std::string(algorithmName(info.param)); });

}  // namespace
}  // namespace fulcrum::balance
