#include "config/duration.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace fulcrum::config {
namespace {

using namespace std::chrono_literals;

Millis parsed(std::string_view text) {
  Millis out{-1};
  std::string error;
  EXPECT_TRUE(parseDuration(text, out, error)) << text << ": " << error;
  return out;
}

std::string failure(std::string_view text) {
  Millis out{-1};
  std::string error;
  EXPECT_FALSE(parseDuration(text, out, error)) << text;
  EXPECT_EQ(out, Millis{-1}) << "output must be untouched on failure: " << text;
  EXPECT_FALSE(parseDuration(text, out)) << text;
  return error;
}

TEST(DurationTest, Units) {
  EXPECT_EQ(parsed("250ms"), 250ms);
  EXPECT_EQ(parsed("5s"), 5s);
  EXPECT_EQ(parsed("2m"), 2min);
  EXPECT_EQ(parsed("1h"), 1h);
  EXPECT_EQ(parsed("0s"), 0ms);  // parses; the loader applies the 1ms..24h range
  EXPECT_EQ(parsed("300s"), 300s);
}

TEST(DurationTest, DecimalsAndCompounds) {
  EXPECT_EQ(parsed("1.5s"), 1500ms);
  EXPECT_EQ(parsed("0.5m"), 30s);
  EXPECT_EQ(parsed("1.250s"), 1250ms);
  EXPECT_EQ(parsed("2.000000000000000000000000s"), 2s);
  EXPECT_EQ(parsed("1m30s"), 90s);
  EXPECT_EQ(parsed("1h1m1s1ms"), 3'661'001ms);
}

TEST(DurationTest, TwoArgumentOverload) {
  Millis out{};
  EXPECT_TRUE(parseDuration("10s", out));
  EXPECT_EQ(out, 10s);
  EXPECT_FALSE(parseDuration("10", out));
}

TEST(DurationTest, BareNumberNeedsUnit) {
  EXPECT_NE(failure("30").find("a unit is required (ms, s, m, h or d), e.g. \"30s\" or \"30ms\""),
            std::string::npos);
  EXPECT_NE(failure("1.5").find("a unit is required"), std::string::npos);
  EXPECT_NE(failure("1m30").find("every number needs a unit"), std::string::npos);
}

TEST(DurationTest, Rejects) {
  EXPECT_NE(failure("").find("expected a duration such as 250ms"), std::string::npos);
  EXPECT_NE(failure("s").find("expected a duration"), std::string::npos);
  EXPECT_NE(failure("-5s").find("expected a duration"), std::string::npos);
  EXPECT_NE(failure(".5s").find("expected a duration"), std::string::npos);
  EXPECT_NE(failure("5.s").find("a digit must follow the decimal point"), std::string::npos);
  EXPECT_NE(failure("5sec").find("unknown duration unit \"sec\""), std::string::npos);
  EXPECT_NE(failure("5us").find("expected ms, s, m, h or d"), std::string::npos);
  EXPECT_NE(failure("5 s").find("unknown duration unit"), std::string::npos);
  EXPECT_NE(failure("1.5ms").find("finer than the 1ms resolution"), std::string::npos);
  EXPECT_NE(failure("0.0001s").find("finer than the 1ms resolution"), std::string::npos);
  EXPECT_NE(failure("99999999999999999999999h").find("too large"), std::string::npos);
  EXPECT_NE(failure("9999999999h").find("too large"), std::string::npos);
}

TEST(DurationTest, Format) {
  EXPECT_EQ(formatDuration(0ms), "0ms");
  EXPECT_EQ(formatDuration(1500ms), "1500ms");
  EXPECT_EQ(formatDuration(5s), "5s");
  EXPECT_EQ(formatDuration(2min), "2m");
  EXPECT_EQ(formatDuration(24h), "24h");
}

}  // namespace
}  // namespace fulcrum::config
