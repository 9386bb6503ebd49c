#pragma once
// What a worker hands the control thread at each sync, and what the control thread hands every
// worker back. Plain values: they cross threads by EventLoop::post, once per sync interval.
#include <cstdint>
#include <string>
#include <vector>

namespace fulcrum::shared_state {

// One worker's lease request for a shared rate-limit key (limit_table.h): what it admitted
// without tokens, what it gives back, and how many tokens it wants for the next interval.
struct LimitDelta {
  std::string key;        // the Redis key (keys.h)
  double rate = 0;        // requests per second, > 0
  double capacity = 1;    // the bucket: burst + 1 + what the rate gives in one sync interval
  uint32_t debt = 0;      // admitted on credit (a key new to the worker), to add to the excess
  uint32_t returned = 0;  // tokens granted earlier and not spent (the key went idle)
  uint32_t want = 0;      // tokens asked for
};

// A client-address choice a worker made or used (sticky_cache.h).
struct StickyTouch {
  std::string key;     // the Redis key (keys.h)
  std::string server;  // the server's sticky id (http/sticky.h)
  bool replace = false;  // the stored server was unusable: this choice replaces it
  uint64_t ttl_ms = 0;
};

struct WorkerReport {
  size_t worker = 0;  // whose tables: lease grants go back to that worker only
  std::vector<LimitDelta> limits;
  std::vector<StickyTouch> sticky;
  bool empty() const { return limits.empty() && sticky.empty(); }
};

// The answer to a LimitDelta: tokens granted, and the key's excess (NGINX limit_req's word:
// requests beyond the steady rate, decaying at the rate) counting every instance's admissions
// and grants.
struct LimitState {
  std::string key;
  uint32_t granted = 0;
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
