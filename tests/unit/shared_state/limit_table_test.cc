// Lease accounting: a worker spends granted tokens locally, asks for what it used, gives back
// what it did not, and several workers leasing from one bucket admit the rate in total.
#include "shared_state/limit_table.h"

#include <gtest/gtest.h>

#include "shared_state/local_tally.h"

using namespace fulcrum::shared_state;

namespace {

const std::string kKey = "p:rl:front:10.0.0.1";

// A sync round for one table against a bucket (the Redis script's math in LocalTally).
void sync(LimitTable& t, LocalTally& bucket, uint64_t nowMs) {
  std::vector<LimitDelta> deltas;
  t.takeDeltas(deltas);
  for (const auto& d : deltas) {
    t.apply(bucket.lease(d, nowMs), nowMs);
  }
}

}  // namespace

TEST(GrantLease, GrantsWithinTheCapacityAfterDebtAndReturns) {
  double e = 0;
  LimitDelta d;
  d.capacity = 3;
  d.want = 5;
  EXPECT_EQ(grantLease(e, d), 3u);  // only what the bucket holds
  EXPECT_DOUBLE_EQ(e, 3);
  d.want = 1;
  EXPECT_EQ(grantLease(e, d), 0u);  // full
  d.returned = 2;
  d.want = 0;
  EXPECT_EQ(grantLease(e, d), 0u);
  EXPECT_DOUBLE_EQ(e, 1);  // the returned tokens are free again
  d.returned = 0;
  d.debt = 4;  // admitted on credit: counted even beyond the capacity
  d.want = 1;
  EXPECT_EQ(grantLease(e, d), 0u);
  EXPECT_DOUBLE_EQ(e, 5);
  d.debt = 0;
  d.returned = 100;  // more than it holds: never below zero
  EXPECT_EQ(grantLease(e, d), 1u);
  EXPECT_DOUBLE_EQ(e, 1);
}

TEST(LimitTable, AFreshKeyIsServedOnCreditUpToItsBurstThenWaitsForAGrant) {
  LimitTable t(100);
  // 2/s, burst 3, nodelay: the bucket holds 4 at once, as the local limiter does.
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(t.check(kKey, 2.0, 3, true, 100, 1000).allowed) << i;
  }
  auto refused = t.check(kKey, 2.0, 3, true, 100, 1000);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GE(refused.retry_after_s, 1u);
  std::vector<LimitDelta> deltas;
  t.takeDeltas(deltas);
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].key, kKey);
  EXPECT_EQ(deltas[0].debt, 4u);
  EXPECT_GE(deltas[0].want, 1u);
  EXPECT_DOUBLE_EQ(deltas[0].capacity, 3 + 1 + 2.0 * 0.1);
  deltas.clear();
  t.takeDeltas(deltas);
  EXPECT_TRUE(deltas.empty()) << "reported once";
}

TEST(LimitTable, GrantedTokensAreSpentLocallyAndIdleOnesGivenBack) {
  LimitTable t(100);
  EXPECT_TRUE(t.check(kKey, 100.0, 0, true, 100, 0).allowed);  // credit
  std::vector<LimitDelta> deltas;
  t.takeDeltas(deltas);
  ASSERT_EQ(deltas.size(), 1u);
  t.apply(LimitState{kKey, 5, 6}, 10);
  EXPECT_EQ(t.tokens(kKey), 5u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(t.check(kKey, 100.0, 0, true, 100, 20).allowed);
  }
  EXPECT_EQ(t.tokens(kKey), 2u);
  deltas.clear();
  t.takeDeltas(deltas);
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].debt, 0u);
  EXPECT_EQ(deltas[0].returned, 0u);
  EXPECT_EQ(deltas[0].want, 2u) << "3 used + 1, less the 2 still held";
  // A whole interval without a request: the tokens go back for other workers.
  deltas.clear();
  t.takeDeltas(deltas);
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].returned, 2u);
  EXPECT_EQ(deltas[0].want, 0u);
  EXPECT_EQ(t.tokens(kKey), 0u);
}

TEST(LimitTable, WithoutNodelayTokensWithinTheBurstAreDelayedToTheRate) {
  LimitTable t(100);
  t.check(kKey, 10.0, 5, false, 100, 0);
  std::vector<LimitDelta> deltas;
  t.takeDeltas(deltas);
  // Redis granted 3 tokens and counts the bucket at 4 (the credit and the 3).
  t.apply(LimitState{kKey, 3, 4}, 0);
  EXPECT_EQ(t.check(kKey, 10.0, 5, false, 100, 0).delay_ms, 100u);
  EXPECT_EQ(t.check(kKey, 10.0, 5, false, 100, 0).delay_ms, 200u);
  EXPECT_EQ(t.check(kKey, 10.0, 5, false, 100, 0).delay_ms, 300u);
}

TEST(LimitTable, KeysAreBoundedAndIdleOnesGoFirst) {
  LimitTable t(100);
  for (int i = 0; i < 10; ++i) {
    std::string key = "k";
    key += std::to_string(i);
    t.check(key, 1.0, 0, true, 4, 0);
  }
  EXPECT_LE(t.size(), 4u);
}

// Workers of two instances leasing from one bucket for 10 s of made-up time, each offered far
// more than the rate: together they admit the rate (plus the burst and one lease), not 4x.
TEST(LimitTable, FourWorkersSharingOneBucketAdmitTheRateInTotal) {
  LocalTally bucket;
  std::vector<LimitTable> workers(4, LimitTable(100));
  const double rate = 20;
  int admitted = 0;
  for (uint64_t now = 0; now < 10000; ++now) {  // a request per worker per ms
    for (auto& w : workers) {
      admitted += w.check(kKey, rate, 0, true, 100, now).allowed ? 1 : 0;
    }
    if (now % 100 == 99) {
      for (auto& w : workers) {
        sync(w, bucket, now);
      }
    }
  }
  EXPECT_GE(admitted, 190);
  // 200 + the first credits (one per worker) + a lease's worth of the rate.
  EXPECT_LE(admitted, 210);
}

TEST(LimitTable, AWorkerAloneBelowTheRateIsNeverRefused) {
  LocalTally bucket;
  LimitTable t(100);
  int refused = 0;
  for (uint64_t now = 0; now < 10000; ++now) {
    if (now % 100 == 50) {  // 10/s against 20/s
      refused += t.check(kKey, 20, 0, true, 100, now).allowed ? 0 : 1;
    }
    if (now % 100 == 99) {
      sync(t, bucket, now);
    }
  }
  EXPECT_EQ(refused, 0);
}
