#pragma once
// StickyCache: one worker's copy of the client-address choices every instance shares. A request
// reads the cache only (no Redis round trip); choices made here are reported at the next sync,
// and choices made elsewhere arrive by the sync's answer or Redis pub/sub (fill). A client new
// to this instance and not yet published is placed by rendezvous hashing, which every instance
// computes alike while they see the same healthy servers.
//
// Owned by one worker thread; not thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shared_state/batch.h"

namespace fulcrum::shared_state {

class StickyCache {
 public:
  static constexpr size_t kMaxEntries = 100000;

  // The server id stored for `key`, or empty (none, or expired). The view is valid until the
  // cache is next changed. A hit refreshes the entry here and, at most every ttl/4, in Redis.
  std::string_view use(std::string_view key, uint64_t nowMs);

  // This worker placed the client on `server` (replace: a stored server was unusable, so this
  // one replaces it everywhere). Returns the stored id (valid until the cache next changes).
  std::string_view choose(std::string_view key, std::string_view server, bool replace, uint64_t ttlMs, uint64_t nowMs);

  // What Redis holds for `key` (another instance's choice, or ours confirmed).
  void fill(std::string_view key, std::string_view server, uint64_t ttlMs, uint64_t nowMs);

  // Appends the choices and refreshes to report since the last call, at most kMaxReport (the
  // rest wait for the next call).
  void takeTouched(std::vector<StickyTouch>& out);
  static constexpr size_t kMaxReport = 10000;

  // Reports every live entry at the next takeTouched (Redis came back, maybe empty).
  void reportAll(uint64_t nowMs);

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string server;
    uint64_t expires_ms = 0;
    uint64_t ttl_ms = 0;
    uint64_t reported_ms = 0;  // when Redis was last told (0 = never)
    bool report = false;       // in touched_
    bool replace = false;
  };
  Entry* insert(std::string_view key, uint64_t nowMs);
  void markForReport(const std::string& key, Entry& e);

  std::unordered_map<std::string, Entry> entries_;
  std::vector<std::string> touched_;
};

}  // namespace fulcrum::shared_state
