#include "health/server_checker.h"

namespace fulcrum::health {

ServerChecker::ServerChecker(core::EventLoop& loop, std::optional<CheckPlan> check, std::optional<CheckPlan> agent,
                             Callbacks callbacks, uint64_t seed, bool initiallyDown)
    : loop_(loop),
      check_(std::move(check)),
      agent_(std::move(agent)),
      callbacks_(std::move(callbacks)),
      machine_(check_ ? check_->rise : 1, check_ ? check_->fall : 1),
      rng_(seed),
      check_timer_([this] { runCheck(); }),
      agent_timer_([this] { runAgent(); }) {
  if (initiallyDown && check_) {
    // Carry a Down state over a reload: it still needs `rise` successes.
    machine_.record(CheckResult{loop_.nowMs(), false, 0, "down before reload"});
  }
  // The first check runs soon, spread by jitter so that many servers do not all connect
  // in the same millisecond.
  if (check_) {
    loop_.timers().schedule(check_timer_, jittered(*check_) % (check_->jitter_ms + 1));
  }
  if (agent_) {
    loop_.timers().schedule(agent_timer_, jittered(*agent_) % (agent_->jitter_ms + 1));
  }
}

ServerChecker::~ServerChecker() {
  // In-flight probes may have events in the current batch: let the loop free them.
  for (auto* probe : {&check_probe_, &agent_probe_}) {
    if (*probe) {
      (*probe)->cancel();
      loop_.deferDelete(std::move(*probe));
    }
  }
}

uint64_t ServerChecker::jittered(const CheckPlan& plan) {
  if (plan.jitter_ms == 0) {
    return 0;
  }
  return std::uniform_int_distribution<uint64_t>(0, plan.jitter_ms)(rng_);
}

void ServerChecker::runCheck() {
  check_probe_ = std::make_unique<Probe>(
      loop_, check_->kind, reinterpret_cast<const sockaddr*>(&check_->address), check_->address_len,
      check_->timeout_ms, &check_->http, [this](CheckResult r, std::optional<AgentReport>) {
        auto t = machine_.record(r);
        // It may be on the stack, or have events later in this epoll batch.
        loop_.deferDelete(std::move(check_probe_));
        loop_.timers().schedule(check_timer_, check_->interval_ms + jittered(*check_));
        if (callbacks_.on_result) {
          callbacks_.on_result(r, t);
        }
      });
  check_probe_->start();
}

void ServerChecker::runAgent() {
  agent_probe_ = std::make_unique<Probe>(
      loop_, Probe::Kind::Agent, reinterpret_cast<const sockaddr*>(&agent_->address), agent_->address_len,
      agent_->timeout_ms, nullptr, [this](CheckResult r, std::optional<AgentReport> report) {
        loop_.deferDelete(std::move(agent_probe_));
        loop_.timers().schedule(agent_timer_, agent_->interval_ms + jittered(*agent_));
        if (callbacks_.on_agent) {
          callbacks_.on_agent(r, report);
        }
      });
  agent_probe_->start();
}

}  // namespace fulcrum::health
