#include "watch/verdict.h"

namespace fulcrum::watch {

bool Verdict::onProbe(bool passed) {
  if (passed) {
    fails_ = 0;
    if (!up_ && ++passes_ >= rise_) {
      up_ = true;
      return true;
    }
    return false;
  }
  passes_ = 0;
  if (up_ && ++fails_ >= fall_) {
    up_ = false;
    fails_ = 0;
    return true;
  }
  return false;
}

bool Verdict::onDeath() {
  passes_ = fails_ = 0;
  bool changed = up_;
  up_ = false;
  return changed;
}

void Verdict::onNewProcess() {
  passes_ = fails_ = 0;
  up_ = false;
}

}  // namespace fulcrum::watch
