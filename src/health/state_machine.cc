#include "health/state_machine.h"

namespace fulcrum::health {

const char* stateName(State s) { return s == State::Up ? "up" : "down"; }

std::optional<Transition> HealthStateMachine::record(CheckResult result) {
  std::optional<Transition> t;
  if (result.ok) {
    ++successes_;
    failures_ = 0;
    if (state_ == State::Up) {
      confirmed_ = true;
    } else if (successes_ >= rise_) {
      t = Transition{State::Down, State::Up, result.reason};
      state_ = State::Up;
      confirmed_ = true;
    }
  } else {
    ++failures_;
    successes_ = 0;
    if (state_ == State::Up && (failures_ >= fall_ || !confirmed_)) {
      t = Transition{State::Up, State::Down, result.reason};
      state_ = State::Down;
    }
  }
  if (t) {
    state_reason_ = result.reason;
  }
  history_[next_] = std::move(result);
  next_ = (next_ + 1) % kHistory;
  ++count_;
  return t;
}

}  // namespace fulcrum::health
