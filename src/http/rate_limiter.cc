#include "http/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace fulcrum::http {

namespace {
constexpr double kMaxWaitSeconds = 86400.0;
}

RateLimiter::Decision RateLimiter::check(std::string_view key, double rate, uint32_t burst, bool nodelay,
                                         size_t maxKeys, uint64_t nowMs) {
  size_t h = std::hash<std::string_view>{}(key);
  Shard& shard = shards_[h % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(std::string(key));
  Decision d;
  if (it == shard.buckets.end()) {
    size_t perShard = maxKeys / kShards + 1;
    if (shard.buckets.size() >= perShard) {
      // Full: forget the buckets that have drained (they hold no history worth keeping),
      // else the first one found.
      for (auto b = shard.buckets.begin(); b != shard.buckets.end();) {
        double left = b->second.excess - rate * static_cast<double>(nowMs - b->second.last_ms) / 1000.0;
        b = left <= 0 ? shard.buckets.erase(b) : std::next(b);
      }
      if (shard.buckets.size() >= perShard) {
        shard.buckets.erase(shard.buckets.begin());
      }
    }
    shard.buckets.emplace(std::string(key), Bucket{0, nowMs});
    return d;
  }
  Bucket& b = it->second;
  double elapsed = static_cast<double>(nowMs > b.last_ms ? nowMs - b.last_ms : 0) / 1000.0;
  // NGINX's order: decay and this request, then the floor at 0. Flooring before adding the
  // request would refuse every request after the first with burst 0, whatever the pace.
  double excess = std::max(0.0, b.excess - rate * elapsed + 1.0);
  if (excess > static_cast<double>(burst) + 1e-9) {
    d.allowed = false;
    // Clamped: a very small configured rate must not overflow the conversions.
    double wait = std::ceil((excess - static_cast<double>(burst)) / rate);
    d.retry_after_s = static_cast<uint32_t>(std::clamp(wait, 1.0, kMaxWaitSeconds));
    return d;
  }
  b.excess = excess;
  b.last_ms = nowMs;
  if (!nodelay) {
    d.delay_ms = static_cast<uint64_t>(std::min(excess / rate * 1000.0, kMaxWaitSeconds * 1000.0));
  }
  return d;
}

bool ClientConnections::tryAdd(std::string_view client, uint32_t limit) {
  Shard& shard = shards_[std::hash<std::string_view>{}(client) % kShards];
  std::lock_guard lock(shard.mutex);
  uint32_t& n = shard.counts[std::string(client)];
  if (n >= limit) {
    if (n == 0) {
      shard.counts.erase(std::string(client));
    }
    return false;
  }
  ++n;
  return true;
}

void ClientConnections::remove(std::string_view client) {
  Shard& shard = shards_[std::hash<std::string_view>{}(client) % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.counts.find(std::string(client));
  if (it != shard.counts.end() && --it->second == 0) {
    shard.counts.erase(it);
  }
}

}  // namespace fulcrum::http
