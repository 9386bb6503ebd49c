#pragma once
// LimitTable: one worker's side of the shared rate limits, by leases. Redis holds each key's
// bucket (NGINX limit_req's excess, decaying at the rate); a worker spends tokens Redis granted
// it, locally, with no round trip and no lock per request, and every sync interval asks for
// more (as many as it used or refused last interval), gives back what an idle key did not
// spend, and reports what it admitted on credit. A grant never takes the bucket beyond its
// capacity, so every instance together admits the rate (plus the burst), not N times it.
// docs/design/shared_state.md says why leases and not counters.
//
// Credit: a key this worker has no lease for (new, or idle long enough that its bucket drained
// as far as this worker knows) may admit up to the bucket's capacity before the first grant
// comes back, so a fresh client's burst is not refused while Redis is asked. That is the only
// over-admission: at most one bucket per worker per fresh key.
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

// A lease applied to a bucket (the Redis script and LocalTally): `e` is the excess now (already
// decayed); adds debt, takes back returned tokens, grants up to `want` within `capacity`.
// Returns the tokens granted; `e` becomes the excess after.
uint32_t grantLease(double& e, const LimitDelta& d);

class LimitTable {
 public:
  // As http::RateLimiter::Decision.
  struct Decision {
    bool allowed = true;
    uint64_t delay_ms = 0;       // allowed, but wait this long first (not nodelay)
    uint32_t retry_after_s = 0;  // refused: when a request would pass again
  };

  // `syncMs`: the sync interval; a lease covers one interval of the rate on top of the burst.
  explicit LimitTable(uint64_t syncMs = 100) : sync_ms_(syncMs) {}
  void setSyncInterval(uint64_t syncMs) { sync_ms_ = syncMs; }

  // A request on `key` (`rate` per second, `burst` more in excess): spends a token, or credit,
  // or is refused. At most `maxKeys` keys are kept (idle ones are forgotten first).
  Decision check(std::string_view key, double rate, uint32_t burst, bool nodelay, size_t maxKeys, uint64_t nowMs);

  // Appends one lease request per key that was used, refused or holds idle tokens since the
  // last call; at most kMaxReport keys (the rest wait for the next call).
  void takeDeltas(std::vector<LimitDelta>& out);
  static constexpr size_t kMaxReport = 10000;

  // Redis's answer to this worker's lease request for `key`.
  void apply(const LimitState& state, uint64_t nowMs);

  size_t size() const { return buckets_.size(); }
  // Unspent tokens of `key` (tests).
  uint32_t tokens(std::string_view key) const;

 private:
  struct Bucket {
    double rate = 1;
    double capacity = 1;
    uint32_t tokens = 0;   // granted, not spent
    uint32_t credit = 0;   // admissions left without tokens (fresh key)
    uint32_t spent = 0;    // this interval: on tokens ...
    uint32_t debt = 0;     // ... on credit ...
    uint32_t refused = 0;  // ... and refused
    double excess = 0;     // the shared excess at the last grant
    uint64_t grant_ms = 0;
    bool dirty = false;    // in dirty_
  };
  void makeRoom(size_t maxKeys);
  void markDirty(const std::string& key, Bucket& b);

  uint64_t sync_ms_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::vector<std::string> dirty_;
};

}  // namespace fulcrum::shared_state
