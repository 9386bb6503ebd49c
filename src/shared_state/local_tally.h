#pragma once
// LocalTally: what the Redis script computes, done in the process while Redis is unreachable, so
// that a shared limit degrades to a limit per instance (every worker's admissions summed), not
// per worker. When Redis returns, drain() hands over what was counted (the resync).
//
// Control thread only.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "shared_state/batch.h"

namespace fulcrum::shared_state {

class LocalTally {
 public:
  static constexpr size_t kMaxKeys = 1000000;

  // Adds `count` admissions to `key` (decaying at `rate` per second); returns its excess.
  double add(const std::string& key, double rate, uint32_t count, uint64_t nowMs);
  // Every key's excess left now, as deltas to add to Redis's; the tally is emptied.
  std::vector<LimitDelta> drain(uint64_t nowMs);
  size_t size() const { return keys_.size(); }

 private:
  struct Entry {
    double excess = 0;
    double rate = 0;
    uint64_t last_ms = 0;
  };
  std::unordered_map<std::string, Entry> keys_;
};

}  // namespace fulcrum::shared_state
