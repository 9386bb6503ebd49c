#pragma once
// Verdict: whether the watched Fulcrum may hold the service address, from what the watcher
// saw. Pure. A dead process is down at once (nothing to wait for); readiness needs `rise`
// passing probes in a row to come up and `fall` failing ones to go down, so one slow answer
// under load does not move the address back and forth.
#include <cstdint>

namespace fulcrum::watch {

class Verdict {
 public:
  Verdict(uint32_t rise, uint32_t fall) : rise_(rise == 0 ? 1 : rise), fall_(fall == 0 ? 1 : fall) {}

  // A readiness probe's outcome; true when the verdict changed.
  bool onProbe(bool passed);
  // The process is gone; true when the verdict changed.
  bool onDeath();
  // A (new) process is watched: its readiness is unknown, so down until it rises.
  void onNewProcess();

  bool up() const { return up_; }

 private:
  uint32_t rise_;
  uint32_t fall_;
  uint32_t passes_ = 0;  // in a row
  uint32_t fails_ = 0;   // in a row
  bool up_ = false;
};

}  // namespace fulcrum::watch
