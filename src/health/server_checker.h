#pragma once
// ServerChecker: the periodic active check of one server (TCP or HTTP), and optionally
// its agent check, on the control thread's loop. It owns the server's state machine and
// reports every result; transitions come with their reason and latency. It never blocks:
// each check is a Probe bounded by its timeout, and the next one is scheduled only when
// the previous one has ended, so a hanging server cannot pile checks up.
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "health/probe.h"
#include "health/state_machine.h"

namespace fulcrum::health {

struct CheckPlan {
  Probe::Kind kind = Probe::Kind::Tcp;
  sockaddr_storage address{};
  socklen_t address_len = 0;
  uint32_t interval_ms = 2000;
  uint32_t jitter_ms = 200;
  uint32_t timeout_ms = 1000;
  uint32_t rise = 2;
  uint32_t fall = 3;
  HttpExpect http;
};

class ServerChecker {
 public:
  struct Callbacks {
    // After every active check (and its transition, if it caused one).
    std::function<void(const CheckResult&, const std::optional<Transition>&)> on_result;
    // After every agent answer or agent failure (report is nullopt then).
    std::function<void(const CheckResult&, const std::optional<AgentReport>&)> on_agent;
  };

  // initiallyDown: continue a state known from before a reload.
  ServerChecker(core::EventLoop& loop, std::optional<CheckPlan> check, std::optional<CheckPlan> agent,
                Callbacks callbacks, uint64_t seed, bool initiallyDown);
  ~ServerChecker();
  const HealthStateMachine& machine() const { return machine_; }

 private:
  void runCheck();
  void runAgent();
  uint64_t jittered(const CheckPlan& plan);

  core::EventLoop& loop_;
  std::optional<CheckPlan> check_;
  std::optional<CheckPlan> agent_;
  Callbacks callbacks_;
  HealthStateMachine machine_;
  std::mt19937_64 rng_;
  core::Timer check_timer_;
  core::Timer agent_timer_;
  std::unique_ptr<Probe> check_probe_;
  std::unique_ptr<Probe> agent_probe_;
};

}  // namespace fulcrum::health
