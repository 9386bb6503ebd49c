// Key names and the commands a sync sends.
#include <gtest/gtest.h>

#include "shared_state/keys.h"
#include "shared_state/scripts.h"

using namespace fulcrum::shared_state;

TEST(Keys, PrefixKindNameAndClient) {
  EXPECT_EQ(limitKey("fulcrum:", "front", "10.0.0.1"), "fulcrum:rl:front:10.0.0.1");
  EXPECT_EQ(limitKeyBase("fulcrum:", "front") + "k", limitKey("fulcrum:", "front", "k"));
  EXPECT_EQ(stickyKey("p:", "web", "::1"), "p:st:web:::1");
  EXPECT_EQ(stickyChannel("p:"), "p:st");
  // Header values are taken as they are (binary safe), including an empty one.
  EXPECT_EQ(limitKey("p:", "l", ""), "p:rl:l:");
}

TEST(Scripts, LimitCommandCarriesKeysThenFiveArgumentsEach) {
  std::vector<LimitDelta> d{{"k1", 10, 2.5, 3, 0, 4}, {"k2", 0.5, 1, 0, 2, 0}};
  auto argv = limitCommand(d);
  ASSERT_EQ(argv.size(), 3u + 2 + 10);
  EXPECT_EQ(argv[0], "EVAL");
  EXPECT_NE(argv[1].find("redis.call('TIME')"), std::string::npos);
  EXPECT_EQ(argv[2], "2");
  EXPECT_EQ(argv[3], "k1");
  EXPECT_EQ(argv[4], "k2");
  EXPECT_EQ(argv[5], "10");
  EXPECT_EQ(argv[6], "2.5");
  EXPECT_EQ(argv[7], "3");
  EXPECT_EQ(argv[8], "0");
  EXPECT_EQ(argv[9], "4");
  EXPECT_EQ(argv[10], "0.5");
  EXPECT_EQ(argv[12], "0");
  EXPECT_EQ(argv[13], "2");
}

TEST(Scripts, StickyCommandCarriesTheChannelThenThreeArgumentsEach) {
  std::vector<StickyTouch> t{{"k", "0123456789abcdef", true, 60000}};
  auto argv = stickyCommand(t, "p:st");
  ASSERT_EQ(argv.size(), 8u);
  EXPECT_EQ(argv[2], "1");
  EXPECT_EQ(argv[3], "k");
  EXPECT_EQ(argv[4], "p:st");
  EXPECT_EQ(argv[5], "0123456789abcdef");
  EXPECT_EQ(argv[6], "1");
  EXPECT_EQ(argv[7], "60000");
  EXPECT_EQ(stickyMessage("k", "s", 5), "k\ns\n5");
}
