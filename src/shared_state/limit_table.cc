#include "shared_state/limit_table.h"

#include <algorithm>
#include <cmath>

namespace fulcrum::shared_state {

namespace {
constexpr double kMaxWaitSeconds = 86400.0;
}

double decayed(double excess, double rate, uint64_t elapsedMs) {
  return std::max(0.0, excess - rate * static_cast<double>(elapsedMs) / 1000.0);
}

void LimitTable::makeRoom(size_t maxKeys, uint64_t nowMs) {
  if (buckets_.size() < maxKeys) {
    return;
  }
  for (auto b = buckets_.begin(); b != buckets_.end();) {
    bool drained = b->second.pending == 0 && decayed(b->second.excess, b->second.rate, nowMs - b->second.last_ms) <= 0;
    b = drained ? buckets_.erase(b) : std::next(b);
  }
  while (buckets_.size() >= maxKeys) {
    buckets_.erase(buckets_.begin());  // (a dirty_ entry left behind is skipped by takeDeltas)
  }
}

LimitTable::Decision LimitTable::check(std::string_view key, double rate, uint32_t burst, bool nodelay,
                                       size_t maxKeys, uint64_t nowMs) {
  max_keys_ = std::max<size_t>(maxKeys, 1);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    makeRoom(max_keys_, nowMs);
    it = buckets_.emplace(std::string(key), Bucket{0, nowMs, rate, 0}).first;
  }
  Bucket& b = it->second;
  b.rate = rate;
  Decision d;
  double excess = decayed(b.excess, rate, nowMs > b.last_ms ? nowMs - b.last_ms : 0) + 1.0;
  // NGINX's rule (the excess counts this request too, hence burst + 1).
  if (excess > static_cast<double>(burst) + 1.0 + 1e-9) {
    d.allowed = false;
    double wait = std::ceil((excess - static_cast<double>(burst) - 1.0) / rate);
    d.retry_after_s = static_cast<uint32_t>(std::clamp(wait, 1.0, kMaxWaitSeconds));
    return d;
  }
  b.excess = excess;
  b.last_ms = nowMs;
  if (b.pending++ == 0) {
    dirty_.push_back(it->first);
  }
  if (!nodelay && excess > 1.0) {
    d.delay_ms = static_cast<uint64_t>(std::min((excess - 1.0) / rate * 1000.0, kMaxWaitSeconds * 1000.0));
  }
  return d;
}

void LimitTable::takeDeltas(std::vector<LimitDelta>& out) {
  for (auto& key : dirty_) {
    auto it = buckets_.find(key);
    if (it == buckets_.end() || it->second.pending == 0) {
      continue;
    }
    out.push_back(LimitDelta{std::move(key), it->second.rate, it->second.pending});
    it->second.pending = 0;
  }
  dirty_.clear();
}

void LimitTable::apply(std::string_view key, double excess, uint64_t nowMs) {
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (excess <= 0) {
      return;
    }
    makeRoom(max_keys_, nowMs);
    it = buckets_.emplace(std::string(key), Bucket{0, nowMs, 0, 0}).first;
  }
  Bucket& b = it->second;
  b.excess = excess + b.pending;
  b.last_ms = nowMs;
}

}  // namespace fulcrum::shared_state
