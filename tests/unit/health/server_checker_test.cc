// ServerChecker on a real loop against a real socket: checks repeat at the interval,
// transitions follow rise/fall.
#include "health/server_checker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

using namespace fulcrum;
using namespace fulcrum::health;

TEST(ServerChecker, GoesDownAfterFallAndBackAfterRise) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 64), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);

  core::EventLoop loop;
  CheckPlan plan;
  plan.kind = Probe::Kind::Tcp;
  std::memcpy(&plan.address, &addr, sizeof addr);
  plan.address_len = sizeof addr;
  plan.interval_ms = 20;
  plan.jitter_ms = 0;
  plan.timeout_ms = 100;
  plan.rise = 2;
  plan.fall = 3;
  std::vector<Transition> transitions;
  int results = 0;
  ServerChecker::Callbacks cb;
  cb.on_result = [&](const CheckResult&, const std::optional<Transition>& t) {
    ++results;
    if (t) transitions.push_back(*t);
  };
  ServerChecker checker(loop, plan, std::nullopt, cb, 1, false);
  auto runUntil = [&](auto cond) {
    for (int i = 0; i < 300 && !cond(); ++i) loop.runOnce(10);  // bounded
  };
  runUntil([&] { return results >= 3; });
  EXPECT_TRUE(transitions.empty());
  EXPECT_TRUE(checker.machine().confirmed());
  ::close(fd);  // now refused
  int before = results;
  runUntil([&] { return !transitions.empty(); });
  ASSERT_EQ(transitions.size(), 1u);
  EXPECT_EQ(transitions[0].to, State::Down);
  EXPECT_EQ(results - before, 3);  // exactly `fall` failures
}
