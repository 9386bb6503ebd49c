#include "shared_state/limit_table.h"

#include <algorithm>
#include <cmath>

namespace fulcrum::shared_state {

namespace {
constexpr double kMaxWaitSeconds = 86400.0;

uint32_t retryAfter(double seconds) {
  return static_cast<uint32_t>(std::clamp(std::ceil(seconds), 1.0, kMaxWaitSeconds));
}
}  // namespace

double decayed(double excess, double rate, uint64_t elapsedMs) {
  return std::max(0.0, excess - rate * static_cast<double>(elapsedMs) / 1000.0);
}

uint32_t grantLease(double& e, const LimitDelta& d) {
  e = std::max(0.0, e + d.debt - d.returned);
  double room = std::floor(d.capacity - e + 1e-9);
  uint32_t g = room <= 0 ? 0 : static_cast<uint32_t>(std::min<double>(room, d.want));
  e += g;
  return g;
}

void LimitTable::makeRoom(size_t maxKeys) {
  if (buckets_.size() < maxKeys) {
    return;
  }
  // Keys holding nothing and owing nothing go first (a dirty_ entry left behind is skipped).
  for (auto b = buckets_.begin(); b != buckets_.end() && buckets_.size() >= maxKeys;) {
    const Bucket& k = b->second;
    bool idle = k.tokens == 0 && k.spent == 0 && k.debt == 0 && k.refused == 0;
    b = idle ? buckets_.erase(b) : std::next(b);
  }
  while (buckets_.size() >= maxKeys) {
    buckets_.erase(buckets_.begin());
  }
}

void LimitTable::markDirty(const std::string& key, Bucket& b) {
  if (!b.dirty) {
    b.dirty = true;
    dirty_.push_back(key);
  }
}

LimitTable::Decision LimitTable::check(std::string_view key, double rate, uint32_t burst, bool nodelay,
                                       size_t maxKeys, uint64_t nowMs) {
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    makeRoom(std::max<size_t>(maxKeys, 1));
    it = buckets_.emplace(std::string(key), Bucket{}).first;
    it->second.grant_ms = nowMs;
  }
  Bucket& b = it->second;
  b.rate = rate;
  b.capacity = static_cast<double>(burst) + 1.0 + rate * static_cast<double>(sync_ms_) / 1000.0;
  Decision d;
  double elapsed = static_cast<double>(nowMs > b.grant_ms ? nowMs - b.grant_ms : 0);
  if (b.tokens > 0) {
    --b.tokens;
    ++b.spent;
    markDirty(it->first, b);
    if (!nodelay) {
      // Where this request stands in the shared bucket: the excess at the grant counted every
      // granted token as spent; the unspent ones are not yet.
      double excess = decayed(b.excess - b.tokens, rate, static_cast<uint64_t>(elapsed));
      d.delay_ms = static_cast<uint64_t>(std::min(std::max(0.0, excess - 1.0) / rate, kMaxWaitSeconds) * 1000.0);
    }
    return d;
  }
  if (b.credit == 0 && b.spent == 0 && b.debt == 0 && decayed(b.excess, rate, static_cast<uint64_t>(elapsed)) <= 0) {
    b.credit = burst + 1;  // fresh: nothing known against it
  }
  if (b.credit > 0) {
    --b.credit;
    ++b.debt;
    markDirty(it->first, b);
    if (!nodelay) {
      d.delay_ms = static_cast<uint64_t>(std::min((b.debt - 1) / rate, kMaxWaitSeconds) * 1000.0);
    }
    return d;
  }
  ++b.refused;
  markDirty(it->first, b);
  d.allowed = false;
  d.retry_after_s = retryAfter(std::max(1.0, decayed(b.excess, rate, static_cast<uint64_t>(elapsed)) -
                                                 static_cast<double>(burst)) / rate);
  return d;
}

void LimitTable::takeDeltas(std::vector<LimitDelta>& out) {
  size_t n = std::min(dirty_.size(), kMaxReport);
  for (size_t i = 0; i < n; ++i) {
    auto it = buckets_.find(dirty_[i]);
    if (it == buckets_.end() || !it->second.dirty) {
      continue;
    }
    Bucket& b = it->second;
    b.dirty = false;
    LimitDelta d;
    d.key = it->first;
    d.rate = b.rate;
    d.capacity = b.capacity;
    d.debt = b.debt;
    uint32_t demand = b.spent + b.debt + b.refused;
    if (demand == 0) {
      d.returned = b.tokens;  // idle for a whole interval: let other workers have them
      b.tokens = 0;
    } else {
      // Enough for the next interval at last interval's pace, within the bucket.
      double cap = std::ceil(b.capacity);
      d.want = static_cast<uint32_t>(std::max(0.0, std::min(cap, static_cast<double>(demand) + 1) - b.tokens));
    }
    b.spent = b.debt = b.refused = 0;
    if (b.tokens > 0) {
      markDirty(it->first, b);  // to give them back after an idle interval
    }
    if (d.debt != 0 || d.returned != 0 || d.want != 0) {
      out.push_back(std::move(d));
    }
  }
  dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(n));
}

void LimitTable::apply(const LimitState& state, uint64_t nowMs) {
  auto it = buckets_.find(state.key);
  if (it == buckets_.end()) {
    return;  // forgotten meanwhile: the tokens lapse (Redis's bucket drains them)
  }
  Bucket& b = it->second;
  b.tokens += state.granted;
  b.excess = state.excess;
  b.grant_ms = nowMs;
  b.credit = 0;  // Redis's view takes over
  if (state.granted > 0) {
    markDirty(it->first, b);  // to give them back if the key goes idle
  }
}

uint32_t LimitTable::tokens(std::string_view key) const {
  auto it = buckets_.find(std::string(key));
  return it == buckets_.end() ? 0 : it->second.tokens;
}

}  // namespace fulcrum::shared_state
