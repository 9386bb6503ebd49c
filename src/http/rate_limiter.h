#pragma once
// Shared request-protection state for one HTTP listener, kept across reloads and shared by
// every worker, so a limit means the same whatever worker a client's connections land on.
// Each is split into shards with their own mutex, taken once per request (rate limit) or once
// per connection (client connections) for a few hash-map operations: the only locks on the
// request path, and only when these features are configured.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fulcrum::http {

// Token buckets per key, as NGINX's limit_req: `rate` requests per second, `burst` more
// allowed in excess. A request beyond the burst is refused; one within it is served at
// once (nodelay) or delayed until the rate allows it.
class RateLimiter {
 public:
  struct Decision {
    bool allowed = true;
    uint64_t delay_ms = 0;        // allowed, but wait this long first (not nodelay)
    uint32_t retry_after_s = 0;   // refused: when a request would pass again
  };
  Decision check(std::string_view key, double rate, uint32_t burst, bool nodelay, size_t maxKeys, uint64_t nowMs);

 private:
  static constexpr size_t kShards = 32;
  struct Bucket {
    double excess = 0;  // requests beyond the steady rate, decaying at `rate` per second
    uint64_t last_ms = 0;
  };
  struct alignas(64) Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
  };
  Shard shards_[kShards];
};

// Open connections per client address.
class ClientConnections {
 public:
  // Counts a new connection; false (not counted) when the client is at `limit`.
  bool tryAdd(std::string_view client, uint32_t limit);
  void remove(std::string_view client);

 private:
  static constexpr size_t kShards = 32;
  struct alignas(64) Shard {
    std::mutex mutex;
    std::unordered_map<std::string, uint32_t> counts;
  };
  Shard shards_[kShards];
};

}  // namespace fulcrum::http
