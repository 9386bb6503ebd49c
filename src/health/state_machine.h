#pragma once
// HealthStateMachine: one server's health from its check results. Pure: the caller
// passes each result with its time; nothing here reads a clock or touches a socket.
//
// Up -> Down after `fall` consecutive failures; Down -> Up after `rise` consecutive
// successes, so a flapping server cannot change state faster than rise/fall allow.
// A server starts Up (so a start or reload sends traffic at once) but unconfirmed: until
// its first success, a single failure takes it Down, so a server dead at start is found
// after one check rather than `fall` of them.
#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace fulcrum::health {

enum class State { Up, Down };
const char* stateName(State s);

struct CheckResult {
  uint64_t time_ms = 0;       // when it completed (caller's clock)
  bool ok = false;
  uint32_t latency_ms = 0;
  std::string reason;         // "connect refused", "status 500", "timeout", "ok (200)"
};

struct Transition {
  State from;
  State to;
  std::string reason;  // the result that caused it
};

class HealthStateMachine {
 public:
  static constexpr size_t kHistory = 10;

  HealthStateMachine(uint32_t rise, uint32_t fall) : rise_(rise), fall_(fall) {}

  // Records a result; returns the transition it caused, if any.
  std::optional<Transition> record(CheckResult result);

  State state() const { return state_; }
  bool confirmed() const { return confirmed_; }
  uint32_t consecutiveSuccesses() const { return successes_; }
  uint32_t consecutiveFailures() const { return failures_; }
  // Why it is in its current state (the result that caused the last transition, or
  // "initial" before any).
  const std::string& stateReason() const { return state_reason_; }
  // The last results, oldest first (at most kHistory).
  template <class F>
  void forEachResult(F&& f) const {
    size_t n = count_ < kHistory ? count_ : kHistory;
    for (size_t i = 0; i < n; ++i) {
      f(history_[(next_ + kHistory - n + i) % kHistory]);
    }
  }
  size_t resultCount() const { return count_ < kHistory ? count_ : kHistory; }

 private:
  uint32_t rise_;
  uint32_t fall_;
  State state_ = State::Up;
  bool confirmed_ = false;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
  std::string state_reason_ = "initial";
  std::array<CheckResult, kHistory> history_{};
  size_t next_ = 0;
  size_t count_ = 0;
};

}  // namespace fulcrum::health
