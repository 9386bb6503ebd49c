#pragma once
// LimitTable: one worker's view of the shared rate limits (batched counters). A request is
// decided here, at once, from the excess every instance counted up to the last sync plus what
// this worker admitted since: no Redis round trip and no lock per request. Every sync interval
// the worker hands its counts over (takeDeltas) and gets the keys' shared excess back (apply).
// docs/design/shared_state.md says why counters rather than leases.
//
// Owned by one worker thread; not thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shared_state/batch.h"

namespace fulcrum::shared_state {

// NGINX limit_req's decay: what is left of `excess` after `elapsedMs` at `rate` per second.
double decayed(double excess, double rate, uint64_t elapsedMs);

class LimitTable {
 public:
  // As http::RateLimiter::Decision.
  struct Decision {
    bool allowed = true;
    uint64_t delay_ms = 0;       // allowed, but wait this long first (not nodelay)
    uint32_t retry_after_s = 0;  // refused: when a request would pass again
  };

  // The same rule as http::RateLimiter (`rate` per second, `burst` more in excess), on the
  // shared excess; an admitted request is counted for the next takeDeltas. At most `maxKeys`
  // keys are kept (drained ones are forgotten first).
  Decision check(std::string_view key, double rate, uint32_t burst, bool nodelay, size_t maxKeys, uint64_t nowMs);

  // Appends one delta per key that admitted requests since the last call, and resets them.
  void takeDeltas(std::vector<LimitDelta>& out);

  // `excess`: the key's excess counted by every instance, as of nowMs, including the deltas
  // taken from this table so far. Admissions since the last takeDeltas are added on top. A key
  // this worker has not seen is added (another worker or instance is using it), up to the last
  // maxKeys given to check().
  void apply(std::string_view key, double excess, uint64_t nowMs);

  size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double excess = 0;  // as of last_ms
    uint64_t last_ms = 0;
    double rate = 0;     // 0 until check() saw the key (then it is known and decays)
    uint32_t pending = 0;  // admitted here since the last takeDeltas
  };
  void makeRoom(size_t maxKeys, uint64_t nowMs);

  std::unordered_map<std::string, Bucket> buckets_;
  std::vector<std::string> dirty_;  // keys with pending > 0, each once
  size_t max_keys_ = 100000;
};

}  // namespace fulcrum::shared_state
