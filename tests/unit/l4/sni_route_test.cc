// pickSniRoute: exact names before wildcards, one label per wildcard, no SNI -> the default.
#include "l4/sni_route.h"

#include <gtest/gtest.h>

namespace fulcrum::l4 {
namespace {

std::vector<config::SniRoute> routes() {
  return {{{"*.example.com"}, "wild"}, {{"a.example.com", "b.test"}, "exact"}, {{"*.b.example.com"}, "deep"}};
}

TEST(SniRoute, ExactBeforeWildcardWhateverTheOrder) {
  EXPECT_EQ(pickSniRoute(routes(), "a.example.com"), 1);
  EXPECT_EQ(pickSniRoute(routes(), "b.test"), 1);
  EXPECT_EQ(pickSniRoute(routes(), "z.example.com"), 0);
}

TEST(SniRoute, WildcardCoversOneLabel) {
  EXPECT_EQ(pickSniRoute(routes(), "x.b.example.com"), 2);
  EXPECT_EQ(pickSniRoute(routes(), "x.y.c.example.com"), -1);
  EXPECT_EQ(pickSniRoute(routes(), "example.com"), -1);
}

TEST(SniRoute, NoOrUnknownName) {
  EXPECT_EQ(pickSniRoute(routes(), ""), -1);
  EXPECT_EQ(pickSniRoute(routes(), "other.test"), -1);
  EXPECT_EQ(pickSniRoute({}, "a.example.com"), -1);
}

}  // namespace
}  // namespace fulcrum::l4
