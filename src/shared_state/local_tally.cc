#include "shared_state/local_tally.h"

#include <cmath>

#include "shared_state/limit_table.h"

namespace fulcrum::shared_state {

double LocalTally::add(const std::string& key, double rate, uint32_t count, uint64_t nowMs) {
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    if (keys_.size() >= kMaxKeys) {
      for (auto e = keys_.begin(); e != keys_.end();) {
        e = decayed(e->second.excess, e->second.rate, nowMs - e->second.last_ms) <= 0 ? keys_.erase(e) : std::next(e);
      }
      if (keys_.size() >= kMaxKeys) {
        keys_.erase(keys_.begin());
      }
    }
    it = keys_.emplace(key, Entry{0, rate, nowMs}).first;
  }
  Entry& e = it->second;
  e.excess = decayed(e.excess, rate, nowMs > e.last_ms ? nowMs - e.last_ms : 0) + count;
  e.rate = rate;
  e.last_ms = nowMs;
  return e.excess;
}

std::vector<LimitDelta> LocalTally::drain(uint64_t nowMs) {
  std::vector<LimitDelta> out;
  for (auto& [key, e] : keys_) {
    double left = decayed(e.excess, e.rate, nowMs > e.last_ms ? nowMs - e.last_ms : 0);
    if (left >= 1) {
      out.push_back(LimitDelta{key, e.rate, static_cast<uint32_t>(std::min(std::floor(left), 4e9))});
    }
  }
  keys_.clear();
  return out;
}

}  // namespace fulcrum::shared_state
