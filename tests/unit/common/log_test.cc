#include "common/log.h"

#include <gtest/gtest.h>

using namespace fulcrum;

TEST(Log, KeyValueLineWithQuoting) {
  std::string line = log::format(log::Level::Warn, "connect failed",
                                 {{"server", "127.0.0.1:9000"}, {"error", "Connection refused"}, {"attempt", 2}});
  EXPECT_EQ(line.rfind("ts=", 0), 0u);
  EXPECT_NE(line.find(" level=warn msg=\"connect failed\" server=127.0.0.1:9000 error=\"Connection refused\" attempt=2\n"),
            std::string::npos)
      << line;
}

TEST(Log, EscapesControlCharactersAndQuotes) {
  std::string line = log::format(log::Level::Info, "x", {{"v", "a\"b\nc\x01"}});
  EXPECT_NE(line.find("v=\"a\\\"b\\nc\\x01\"\n"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line, always
}

TEST(Log, ParsesLevels) {
  log::Level l;
  EXPECT_TRUE(log::parseLevel("debug", l));
  EXPECT_EQ(l, log::Level::Debug);
  EXPECT_TRUE(log::parseLevel("error", l));
  EXPECT_EQ(l, log::Level::Error);
  EXPECT_FALSE(log::parseLevel("loud", l));
}
