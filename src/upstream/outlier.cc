#include "upstream/outlier.h"

#include <algorithm>

#include "common/log.h"

namespace fulcrum::upstream {

void recordSuccess(const Cluster& cluster, size_t host) {
  auto& s = *cluster.hosts[host].state;
  s.requests.fetch_add(1, std::memory_order_relaxed);
  if (s.consecutive_failures.load(std::memory_order_relaxed) != 0) {
    s.consecutive_failures.store(0, std::memory_order_relaxed);
  }
}

bool recordFailure(const Cluster& cluster, size_t host, uint64_t nowMs) {
  auto& s = *cluster.hosts[host].state;
  s.requests.fetch_add(1, std::memory_order_relaxed);
  s.failures.fetch_add(1, std::memory_order_relaxed);
  const auto& od = cluster.config.outlier_detection;
  if (!od.enabled) {
    return false;
  }
  uint32_t n = s.consecutive_failures.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n == 1) {
    s.first_failure_ms.store(nowMs, std::memory_order_relaxed);
  }
  // Workers' cached clocks differ by a little: a start "in the future" is inside the window.
  uint64_t first = s.first_failure_ms.load(std::memory_order_relaxed);
  if (nowMs > first && nowMs - first > static_cast<uint64_t>(od.fail_timeout.count())) {
    // The run started too long ago: this failure starts a new one.
    s.consecutive_failures.store(1, std::memory_order_relaxed);
    s.first_failure_ms.store(nowMs, std::memory_order_relaxed);
    return false;
  }
  if (n < od.max_fails) {
    return false;
  }
  return tryEject(cluster, host, nowMs);
}

bool tryEject(const Cluster& cluster, size_t host, uint64_t nowMs) {
  auto& s = *cluster.hosts[host].state;
  auto& pool = *cluster.pool_state;
  const auto& od = cluster.config.outlier_detection;
  if (s.ejected.load(std::memory_order_relaxed)) {
    return false;
  }
  // Budget: never eject more than max_ejection_percent of the pool (at least... none
  // when the percentage allows none), so passive checks cannot empty a pool.
  uint32_t allowed = static_cast<uint32_t>(cluster.hosts.size() * od.max_ejection_percent / 100);
  uint32_t cur = pool.ejected.load(std::memory_order_relaxed);
  do {
    if (cur >= allowed) {
      return false;
    }
  } while (!pool.ejected.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed));
  // The deadline is written before the flag, so the control thread's sweep never ends a
  // new ejection by reading the previous deadline.
  uint32_t k = std::min<uint32_t>(s.ejection_count.load(std::memory_order_relaxed), 16);
  uint64_t base = static_cast<uint64_t>(od.ejection_time.count());
  uint64_t len = std::min<uint64_t>(base << k, static_cast<uint64_t>(od.max_ejection_time.count()));
  s.ejected_until_ms.store(nowMs + len, std::memory_order_release);
  bool expected = false;
  if (!s.ejected.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
    pool.ejected.fetch_sub(1, std::memory_order_relaxed);  // another worker won the race
    return false;
  }
  s.ejection_count.fetch_add(1, std::memory_order_relaxed);
  s.ejections_total.fetch_add(1, std::memory_order_relaxed);
  s.consecutive_failures.store(0, std::memory_order_relaxed);
  log::warn("server ejected", {{"pool", cluster.config.name},
                               {"server", cluster.hosts[host].config.address.text},
                               {"for_ms", len},
                               {"ejections", k + 1}});
  return true;
}

}  // namespace fulcrum::upstream
