#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "balance/hash_ring.h"
#include "hash_test_util.h"

namespace fulcrum::balance {
namespace {

using test::idsFor;
using test::movedFraction;
using test::placement;
using test::worstSpread;

constexpr size_t kKeys = 100000;

class ConsistentHashRemap : public ::testing::TestWithParam<size_t> {};

TEST_P(ConsistentHashRemap, AddingOneHostMovesAboutOneNth) {
  const size_t n = GetParam();
  const auto before = placement(Algorithm::ConsistentHash, idsFor(0, n), kKeys);
  const auto after = placement(Algorithm::ConsistentHash, idsFor(0, n + 1), kKeys);
  EXPECT_LE(movedFraction(before, after), 1.2 / static_cast<double>(n));
  // Every moved key went to the new host: nothing shuffles between the old ones.
  for (size_t k = 0; k < kKeys; ++k) {
    if (before[k] != after[k]) {
      ASSERT_EQ(after[k], test::hostId(n));
    }
  }
}

TEST_P(ConsistentHashRemap, RemovingOneHostMovesOnlyItsKeys) {
  const size_t n = GetParam();
  const auto ids = idsFor(0, n);
  for (size_t removed : {size_t{0}, n / 2, n - 1}) {
    auto fewer = ids;
    fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(removed));
    const auto before = placement(Algorithm::ConsistentHash, ids, kKeys);
    const auto after = placement(Algorithm::ConsistentHash, fewer, kKeys);
    EXPECT_LE(movedFraction(before, after), 1.2 / static_cast<double>(n)) << "removed " << removed;
    for (size_t k = 0; k < kKeys; ++k) {
      if (before[k] != after[k]) {
        ASSERT_EQ(before[k], ids[removed]);
      }
    }
  }
}

TEST_P(ConsistentHashRemap, SpreadWithinTenPercentOfFair) {
  const size_t n = GetParam();
  // A million keys, so that sampling noise (~0.7% per host at N=50) does not hide the ring's own.
  const auto ids = idsFor(0, n);
  EXPECT_LE(worstSpread(ids, placement(Algorithm::ConsistentHash, ids, 1000000)), 0.10);
}

INSTANTIATE_TEST_SUITE_P(Balance, ConsistentHashRemap, ::testing::Values(10, 50));

TEST(ConsistentHash, UnusableHostMovesOnlyItsKeysToItsRingSuccessors) {
  const auto ids = idsFor(0, 10);
  test::FakeLoad load(10);
  const auto before = placement(Algorithm::ConsistentHash, ids, 20000, &load);
  load.up[3] = false;
  const auto during = placement(Algorithm::ConsistentHash, ids, 20000, &load);
  std::set<std::string> heirs;
  for (size_t k = 0; k < before.size(); ++k) {
    if (before[k] != ids[3]) {
      ASSERT_EQ(during[k], before[k]);
    } else {
      ASSERT_NE(during[k], ids[3]);
      heirs.insert(during[k]);
    }
  }
  EXPECT_GE(heirs.size(), 8u);  // 640 points: its keys spread over the others, not one neighbour
  load.up[3] = true;
  EXPECT_EQ(placement(Algorithm::ConsistentHash, ids, 20000, &load), before);
}

TEST(ConsistentHash, SameKeySameHostInEveryPickerAndBuild) {
  const auto ids = idsFor(0, 20);
  EXPECT_EQ(placement(Algorithm::ConsistentHash, ids, 5000), placement(Algorithm::ConsistentHash, ids, 5000));
}

TEST(ConsistentHash, RingHasVnodesPerUnitOfWeight) {
  const auto tiers = splitTiers(test::makeHosts({1, 3}));
  EXPECT_EQ(HashRing(tiers[0], test::makeHosts({1, 3}), 160).size(), 640u);
  EXPECT_EQ(HashRing(tiers[0], test::makeHosts({1, 3}), 10).size(), 40u);
  // Oversized rings halve every host's count, keeping each host's first points.
  const auto heavy = test::makeHosts({100000, 1});
  const HashRing capped(splitTiers(heavy)[0], heavy, 160);
  EXPECT_LE(capped.size(), HashRing::kMaxPoints);
  EXPECT_GT(capped.size(), HashRing::kMaxPoints / 2);
}

TEST(ConsistentHash, BucketIndexMatchesBinarySearch) {
  const auto hosts = test::equalHosts(7);
  const HashRing ring(splitTiers(hosts)[0], hosts, 160);
  std::vector<uint64_t> points;
  for (size_t i = 0; i < ring.size(); ++i) {
    points.push_back(ring.point(i));
  }
  ASSERT_TRUE(std::is_sorted(points.begin(), points.end()));
  Prng rng(1);
  std::vector<uint64_t> probes{0, ~uint64_t{0}, points.front(), points.back(), points.back() + 1};
  for (int i = 0; i < 20000; ++i) {
    probes.push_back(rng.next());
  }
  for (uint64_t h : probes) {
    // Points keep their top 40 bits, so the key is compared at that precision too.
    const uint64_t target = h & ~HashRing::kOwnerMask;
    size_t expected =
        static_cast<size_t>(std::lower_bound(points.begin(), points.end(), target) - points.begin());
    if (expected == points.size()) {
      expected = 0;
    }
    ASSERT_EQ(ring.successor(h), expected) << h;
  }
}

}  // namespace
}  // namespace fulcrum::balance
