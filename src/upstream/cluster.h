#pragma once
// Cluster: the runtime view of one configured pool. Immutable once built, except the
// per-host counters in HostState, which are shared by every worker and by every
// snapshot that contains the same server, so counts survive a reload.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/model.h"

namespace fulcrum::upstream {

// Live numbers of one server. Written by every worker with relaxed atomics; aligned so
// two hosts never share a cache line.
struct alignas(64) HostState {
  std::atomic<uint32_t> active{0};        // connections open to it, all workers
  std::atomic<uint64_t> connect_failures{0};
};

struct Host {
  config::Server config;
  std::shared_ptr<HostState> state;

  // Takes a connection slot if max_connections allows; release() gives it back.
  bool tryAcquire() const;
  void release() const { state->active.fetch_sub(1, std::memory_order_relaxed); }
  bool full() const {
    return config.max_connections != 0 &&
           state->active.load(std::memory_order_relaxed) >= config.max_connections;
  }
};

struct Cluster {
  config::Pool config;
  std::vector<Host> hosts;
};

// Keeps HostState objects across reloads: the same pool name and server address get the
// same state. Control thread only.
class HostRegistry {
 public:
  std::shared_ptr<const Cluster> build(const config::Pool& pool);
  // Forget states no live cluster refers to (after a reload has been published).
  void prune();

 private:
  std::unordered_map<std::string, std::weak_ptr<HostState>> states_;
};

}  // namespace fulcrum::upstream
