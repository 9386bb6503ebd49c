#pragma once
// LocalTally: the Redis script's bucket, kept in the process while Redis is unreachable, so
// that a shared limit degrades to a limit per instance (its workers' leases come from one
// bucket), not per worker. When Redis returns, drain() hands over what was taken meanwhile
// (the resync).
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

  // grantLease (limit_table.h) on the key's bucket, decayed to nowMs.
  LimitState lease(const LimitDelta& d, uint64_t nowMs);
  // Every key's excess left now, as debts for Redis's buckets; the tally is emptied.
  std::vector<LimitDelta> drain(uint64_t nowMs);
  size_t size() const { return keys_.size(); }

 private:
  struct Entry {
    double excess = 0;
    double rate = 1;
    double capacity = 1;
    uint64_t last_ms = 0;
  };
  std::unordered_map<std::string, Entry> keys_;
};

}  // namespace fulcrum::shared_state
