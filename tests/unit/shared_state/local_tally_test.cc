// The in-process bucket used while Redis is unreachable, and the resync it hands over.
#include "shared_state/local_tally.h"

#include <gtest/gtest.h>

using namespace fulcrum::shared_state;

TEST(LocalTally, LeasesDecayAtTheRate) {
  LocalTally t;
  LimitDelta d{"k", 10, 2, 0, 0, 5};
  auto first = t.lease(d, 0);
  EXPECT_EQ(first.granted, 2u);
  EXPECT_DOUBLE_EQ(first.excess, 2);
  EXPECT_EQ(t.lease(d, 0).granted, 0u);
  EXPECT_EQ(t.lease(d, 100).granted, 1u) << "100 ms at 10/s frees one";
}

TEST(LocalTally, DrainHandsOverWhatIsLeftAsDebtsAndEmpties) {
  LocalTally t;
  t.lease(LimitDelta{"a", 10, 100, 30, 0, 0}, 0);  // 30 admitted on credit
  t.lease(LimitDelta{"b", 10, 100, 1, 0, 0}, 0);
  auto out = t.drain(1000);  // a decayed by 10, b drained
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "a");
  EXPECT_EQ(out[0].debt, 20u);
  EXPECT_EQ(out[0].want, 0u);
  EXPECT_EQ(t.size(), 0u);
}
