#include "shared_state/local_tally.h"

#include <algorithm>
#include <cmath>

#include "shared_state/limit_table.h"

namespace fulcrum::shared_state {

LimitState LocalTally::lease(const LimitDelta& d, uint64_t nowMs) {
  auto it = keys_.find(d.key);
  if (it == keys_.end()) {
    if (keys_.size() >= kMaxKeys) {
      for (auto e = keys_.begin(); e != keys_.end();) {
        e = decayed(e->second.excess, e->second.rate, nowMs - e->second.last_ms) <= 0 ? keys_.erase(e) : std::next(e);
      }
      if (keys_.size() >= kMaxKeys) {
        keys_.erase(keys_.begin());
      }
    }
    it = keys_.emplace(d.key, Entry{0, d.rate, d.capacity, nowMs}).first;
  }
  Entry& e = it->second;
  e.excess = decayed(e.excess, d.rate, nowMs > e.last_ms ? nowMs - e.last_ms : 0);
  e.rate = d.rate;
  e.capacity = d.capacity;
  e.last_ms = nowMs;
  uint32_t granted = grantLease(e.excess, d);
  return LimitState{d.key, granted, e.excess};
}

std::vector<LimitDelta> LocalTally::drain(uint64_t nowMs) {
  std::vector<LimitDelta> out;
  for (auto& [key, e] : keys_) {
    double left = decayed(e.excess, e.rate, nowMs > e.last_ms ? nowMs - e.last_ms : 0);
    if (left >= 1) {
      LimitDelta d;
      d.key = key;
      d.rate = e.rate;
      d.capacity = e.capacity;
      d.debt = static_cast<uint32_t>(std::min(std::floor(left), 4e9));
      out.push_back(std::move(d));
    }
  }
  keys_.clear();
  return out;
}

}  // namespace fulcrum::shared_state
