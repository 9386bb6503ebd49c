// The worker's copy of shared client-address choices: what it reports and what it accepts.
#include "shared_state/sticky_cache.h"

#include <gtest/gtest.h>

using namespace fulcrum::shared_state;

TEST(StickyCache, AChoiceIsUsedLocallyAndReportedOnce) {
  StickyCache c;
  EXPECT_TRUE(c.use("k", 0).empty());
  EXPECT_EQ(c.choose("k", "aaaa", false, 1000, 0), "aaaa");
  EXPECT_EQ(c.use("k", 10), "aaaa");
  std::vector<StickyTouch> out;
  c.takeTouched(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "k");
  EXPECT_EQ(out[0].server, "aaaa");
  EXPECT_FALSE(out[0].replace);
  EXPECT_EQ(out[0].ttl_ms, 1000u);
  out.clear();
  c.use("k", 20);
  c.takeTouched(out);
  EXPECT_TRUE(out.empty()) << "a use soon after a report is not reported again";
  c.use("k", 400);  // a quarter of the TTL later: the TTL in Redis is refreshed
  c.takeTouched(out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(StickyCache, EntriesExpireAfterTheirTtlWithoutUse) {
  StickyCache c;
  c.choose("k", "aaaa", false, 1000, 0);
  EXPECT_EQ(c.use("k", 900), "aaaa");
  EXPECT_EQ(c.use("k", 1800), "aaaa") << "a use extends it";
  EXPECT_TRUE(c.use("k", 2900).empty());
}

TEST(StickyCache, AnotherInstancesChoiceReplacesOurFirstGuessButNotOurReplacement) {
  StickyCache c;
  c.choose("k", "mine", false, 1000, 0);
  c.fill("k", "theirs", 1000, 1);
  EXPECT_EQ(c.use("k", 2), "theirs");
  c.choose("k", "fixed", true, 1000, 3);  // "theirs" was unusable here
  c.fill("k", "theirs", 1000, 4);          // a late publish of the old choice
  EXPECT_EQ(c.use("k", 5), "fixed");
  std::vector<StickyTouch> out;
  c.takeTouched(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].server, "fixed");
  EXPECT_TRUE(out[0].replace);
}

TEST(StickyCache, ReportAllSendsEveryLiveEntryAgain) {
  StickyCache c;
  c.fill("a", "x", 1000, 0);
  c.fill("b", "y", 10, 0);
  std::vector<StickyTouch> out;
  c.takeTouched(out);
  EXPECT_TRUE(out.empty()) << "filled from Redis: nothing to tell it";
  c.reportAll(100);  // b has expired
  c.takeTouched(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "a");
}
