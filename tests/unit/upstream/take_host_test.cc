// takeHost: the one pick loop of L4 TCP, UDP and HTTP, on real Cluster objects.
#include "upstream/take_host.h"

#include <gtest/gtest.h>

#include <set>

using namespace fulcrum;
using namespace fulcrum::upstream;

namespace {

std::shared_ptr<const Cluster> makeCluster(HostRegistry& reg, int servers, uint32_t maxConnections) {
  config::Pool p;
  p.name = "p";
  for (int i = 0; i < servers; ++i) {
    config::Server s;
    s.address.text = "10.0.0.";  // (appended: GCC 12 warns falsely on "a" + std::string, -Wrestrict)
    s.address.text += std::to_string(i + 1);
    s.address.text += ":80";
    s.max_connections = maxConnections;
    p.servers.push_back(s);
  }
  return reg.build(p, 1000, true);
}

}  // namespace

TEST(TakeHost, TakesSlotsUntilEveryServerIsFullThenSaysSo) {
  HostRegistry reg;
  auto c = makeCluster(reg, 3, 1);
  auto picker = c->balancer->makePicker(1);
  ClusterLoad load(*c, 1000);
  std::vector<bool> tried;
  std::set<int> taken;
  for (int i = 0; i < 3; ++i) {
    auto t = takeHost(*c, *picker, load, {}, tried);
    ASSERT_GE(t.host, 0);
    taken.insert(t.host);
  }
  EXPECT_EQ(taken.size(), 3u);
  auto none = takeHost(*c, *picker, load, {}, tried);
  EXPECT_EQ(none.host, -1);
  EXPECT_TRUE(none.full) << "a request may wait for a slot";
  c->hosts[1].release();
  EXPECT_EQ(takeHost(*c, *picker, load, {}, tried).host, 1);
  EXPECT_TRUE(tried.empty()) << "no allocation for a request that failed nowhere";
}

TEST(TakeHost, SkipsServersTriedThenGoesRoundAgain) {
  HostRegistry reg;
  auto c = makeCluster(reg, 2, 0);
  auto picker = c->balancer->makePicker(1);
  ClusterLoad load(*c, 1000);
  std::vector<bool> tried{true, false};
  for (int i = 0; i < 4; ++i) {
    auto t = takeHost(*c, *picker, load, {}, tried);
    EXPECT_EQ(t.host, 1);
    c->hosts[1].release();
  }
  tried = {true, true};
  auto t = takeHost(*c, *picker, load, {}, tried);
  EXPECT_GE(t.host, 0) << "every usable server was tried: round again";
  EXPECT_TRUE(tried.empty());
  EXPECT_FALSE(t.full);
}

TEST(TakeHost, NoUsableServerIsNotFull) {
  HostRegistry reg;
  config::Pool p;
  p.name = "p";
  config::Server s;
  s.address.text = "10.0.0.1:80";
  s.disabled = true;
  p.servers.push_back(s);
  auto c = reg.build(p, 1000, true);
  auto picker = c->balancer->makePicker(1);
  ClusterLoad load(*c, 1000);
  std::vector<bool> tried;
  auto t = takeHost(*c, *picker, load, {}, tried);
  EXPECT_EQ(t.host, -1);
  EXPECT_FALSE(t.full) << "nothing to wait for: 503 at once";
}
