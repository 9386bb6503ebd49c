#include "health/state_machine.h"

#include <gtest/gtest.h>

using namespace fulcrum::health;

namespace {
CheckResult ok(uint64_t t = 0) { return {t, true, 1, "ok"}; }
CheckResult bad(uint64_t t = 0, std::string why = "connect refused") { return {t, false, 1, std::move(why)}; }
}  // namespace

TEST(HealthStateMachine, UnconfirmedServerGoesDownOnFirstFailure) {
  HealthStateMachine m(2, 3);
  EXPECT_EQ(m.state(), State::Up);
  auto t = m.record(bad());
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, State::Down);
  EXPECT_EQ(m.stateReason(), "connect refused");
}

TEST(HealthStateMachine, ConfirmedServerNeedsFallFailures) {
  HealthStateMachine m(2, 3);
  EXPECT_FALSE(m.record(ok()).has_value());
  EXPECT_TRUE(m.confirmed());
  EXPECT_FALSE(m.record(bad()).has_value());
  EXPECT_FALSE(m.record(bad()).has_value());
  auto t = m.record(bad(0, "timeout"));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, State::Up);
  EXPECT_EQ(t->to, State::Down);
  EXPECT_EQ(t->reason, "timeout");
}

TEST(HealthStateMachine, RiseConsecutiveSuccessesBringItBack) {
  HealthStateMachine m(2, 3);
  m.record(bad());
  EXPECT_FALSE(m.record(ok()).has_value());
  EXPECT_FALSE(m.record(bad()).has_value());  // the run of successes starts again
  EXPECT_FALSE(m.record(ok()).has_value());
  auto t = m.record(ok());
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, State::Up);
  EXPECT_EQ(m.state(), State::Up);
}

TEST(HealthStateMachine, FlappingCannotBeatRiseAndFall) {
  HealthStateMachine m(2, 3);
  m.record(ok());
  int transitions = 0;
  for (int i = 0; i < 100; ++i) {
    transitions += m.record(i % 2 ? ok() : bad()).has_value();
  }
  EXPECT_EQ(transitions, 0);
  EXPECT_EQ(m.state(), State::Up);
}

TEST(HealthStateMachine, KeepsTheLastResultsOldestFirst) {
  HealthStateMachine m(1, 1);
  for (uint64_t t = 1; t <= 15; ++t) {
    m.record(t % 2 ? ok(t) : bad(t));
  }
  EXPECT_EQ(m.resultCount(), HealthStateMachine::kHistory);
  std::vector<uint64_t> times;
  m.forEachResult([&](const CheckResult& r) { times.push_back(r.time_ms); });
  ASSERT_EQ(times.size(), 10u);
  EXPECT_EQ(times.front(), 6u);
  EXPECT_EQ(times.back(), 15u);
}
