#pragma once
// What a worker hands the control thread at each sync, and what the control thread hands every
// worker back. Plain values: they cross threads by EventLoop::post, once per sync interval.
#include <cstdint>
#include <string>
#include <vector>

namespace fulcrum::shared_state {

// Requests a worker admitted for one shared rate-limit key since its last report.
struct LimitDelta {
  std::string key;  // the Redis key (keys.h)
  double rate = 0;  // requests per second, > 0
  uint32_t count = 0;
};

// A client-address choice a worker made or used (sticky_cache.h).
struct StickyTouch {
  std::string key;     // the Redis key (keys.h)
  std::string server;  // the server's sticky id (http/sticky.h)
  bool replace = false;  // the stored server was unusable: this choice replaces it
  uint64_t ttl_ms = 0;
};

struct WorkerReport {
  std::vector<LimitDelta> limits;
  std::vector<StickyTouch> sticky;
  bool empty() const { return limits.empty() && sticky.empty(); }
};

// A key's excess (NGINX limit_req's word: requests beyond the steady rate, decaying at the
// rate) as every instance counted it.
struct LimitState {
  std::string key;
  double excess = 0;
};

// The server every instance sends a client to.
struct StickyEntry {
  std::string key;
  std::string server;
  uint64_t ttl_ms = 0;
};

struct SyncResult {
  std::vector<LimitState> limits;
  std::vector<StickyEntry> sticky;
  bool empty() const { return limits.empty() && sticky.empty(); }
};

}  // namespace fulcrum::shared_state
