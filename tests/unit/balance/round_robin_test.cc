#include "balance/round_robin.h"

#include <gtest/gtest.h>

#include <vector>

using fulcrum::balance::RoundRobin;

namespace {
struct Host {
  bool up = true;
  bool backup = false;
};

std::vector<size_t> picks(RoundRobin& rr, const std::vector<Host>& hosts, int n) {
  std::vector<size_t> out;
  for (int i = 0; i < n; ++i) {
    auto p = rr.pick(
        hosts.size(), [&](size_t k) { return hosts[k].up; }, [&](size_t k) { return hosts[k].backup; });
    out.push_back(p ? *p : 99);
  }
  return out;
}
}  // namespace

TEST(RoundRobin, RotatesInOrder) {
  RoundRobin rr;
  std::vector<Host> hosts(3);
  EXPECT_EQ(picks(rr, hosts, 7), (std::vector<size_t>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(RoundRobin, SkipsIneligibleWithoutSkewingTheRest) {
  RoundRobin rr;
  std::vector<Host> hosts(3);
  hosts[1].up = false;
  EXPECT_EQ(picks(rr, hosts, 4), (std::vector<size_t>{0, 2, 0, 2}));
}

TEST(RoundRobin, BackupsOnlyWhenNoPrimaryIsEligible) {
  RoundRobin rr;
  std::vector<Host> hosts{{true, false}, {true, true}, {true, true}};
  EXPECT_EQ(picks(rr, hosts, 3), (std::vector<size_t>{0, 0, 0}));
  hosts[0].up = false;
  EXPECT_EQ(picks(rr, hosts, 4), (std::vector<size_t>{1, 2, 1, 2}));
  hosts[0].up = true;
  EXPECT_EQ(picks(rr, hosts, 1), (std::vector<size_t>{0}));
}

TEST(RoundRobin, NothingEligible) {
  RoundRobin rr;
  std::vector<Host> hosts{{false, false}, {false, true}};
  EXPECT_EQ(picks(rr, hosts, 1), (std::vector<size_t>{99}));
  std::vector<Host> none;
  EXPECT_EQ(picks(rr, none, 1), (std::vector<size_t>{99}));
}

TEST(RoundRobin, StartOffsetSpreadsWorkers) {
  RoundRobin w0(0), w1(1);
  std::vector<Host> hosts(3);
  EXPECT_EQ(picks(w0, hosts, 2), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(picks(w1, hosts, 2), (std::vector<size_t>{1, 2}));
}
