#include <gtest/gtest.h>

#include "hash_test_util.h"

namespace fulcrum::balance {
namespace {

using test::idsFor;
using test::placement;

TEST(IpHash, SameClientSameHostAcrossPickersAndBuilds) {
  const auto ids = idsFor(0, 12);
  const auto first = placement(Algorithm::IpHash, ids, 5000);
  EXPECT_EQ(placement(Algorithm::IpHash, ids, 5000), first);
  auto balancer = Balancer::create(BalancerOptions{Algorithm::IpHash}, test::equalHosts(12));
  auto a = balancer->makePicker(1);
  auto b = balancer->makePicker(99);
  for (size_t k = 0; k < 1000; ++k) {
    PickRequest request;
    request.hash = test::keyHash(k);
    const auto pick = a->pick(request);
    ASSERT_EQ(pick, a->pick(request));  // repeated requests of one client stay put
    ASSERT_EQ(pick, b->pick(request));  // and every worker agrees
  }
}

TEST(IpHash, RawAddressKeysAreMixed) {
  // Callers should pass hashKey(address), but a raw IPv4 number must still spread.
  auto balancer = Balancer::create(BalancerOptions{Algorithm::IpHash}, test::equalHosts(4));
  auto picker = balancer->makePicker(0);
  std::vector<size_t> counts(4, 0);
  for (uint64_t ip = 0x0a000001; ip < 0x0a000001 + 4000; ++ip) {
    PickRequest request;
    request.hash = ip;
    ++counts[*picker->pick(request)];
  }
  for (size_t c : counts) {
    EXPECT_NEAR(static_cast<double>(c), 1000.0, 100.0);
  }
}

TEST(IpHash, UnusableHostMovesOnlyItsClients) {
  const auto ids = idsFor(0, 6);
  test::FakeLoad load(6);
  const auto before = placement(Algorithm::IpHash, ids, 10000, &load);
  load.up[4] = false;
  const auto during = placement(Algorithm::IpHash, ids, 10000, &load);
  for (size_t k = 0; k < before.size(); ++k) {
    if (before[k] != ids[4]) {
      ASSERT_EQ(during[k], before[k]);
    } else {
      ASSERT_NE(during[k], ids[4]);
    }
  }
}

}  // namespace
}  // namespace fulcrum::balance
