#pragma once
// Cluster: the runtime view of one configured pool in one snapshot. Immutable once
// built, except the live numbers in HostState and PoolState, which are shared by every
// worker and by every snapshot that contains the same server or pool, so counts, health
// and ejections survive a reload.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "balance/balancer.h"
#include "config/model.h"
#include "stats/counters.h"

namespace fulcrum::tls {
class ClientContext;
}

namespace fulcrum::upstream {

// Live numbers of one server. Written by workers and the control thread with relaxed
// atomics; aligned so two hosts never share a cache line.
struct alignas(64) HostState {
  std::atomic<uint32_t> active{0};  // connections open to it, all workers
  std::atomic<uint64_t> connect_failures{0};
  // Active checks and the agent (control thread writes, workers read).
  std::atomic<bool> check_down{false};
  std::atomic<bool> agent_down{false};
  std::atomic<bool> agent_drain{false};
  std::atomic<uint32_t> agent_weight_percent{100};
  std::atomic<uint64_t> up_since_ms{0};  // when it last became usable; slow start ramps from here
  // Passive health (workers write on every outcome; see outlier.h).
  std::atomic<uint32_t> consecutive_failures{0};
  std::atomic<uint64_t> first_failure_ms{0};
  std::atomic<bool> ejected{false};
  std::atomic<uint64_t> ejected_until_ms{0};
  std::atomic<uint32_t> ejection_count{0};  // grows the next ejection's length
  std::atomic<uint64_t> requests{0};        // outcomes, for the error-rate window
  std::atomic<uint64_t> failures{0};
  // For metrics and the admin API (control thread writes).
  std::atomic<uint64_t> ejections_total{0};
  std::atomic<uint64_t> checks_ok{0};
  std::atomic<uint64_t> checks_failed{0};
  std::atomic<uint32_t> last_check_latency_ms{0};  // how long the last active check took
  std::atomic<uint64_t> last_check_unix_ms{0};  // when it ended (wall clock)
  std::unique_ptr<stats::TrafficSet> traffic;   // per-worker figures (never null once built)
  // Rates for the admin API, smoothed over a few seconds (control thread only).
  double request_rate = 0;
  double connection_rate = 0;
  uint64_t rate_requests = 0;
  uint64_t rate_connections = 0;
  uint64_t rate_at_ms = 0;
};

// Live numbers of one pool, kept across reloads by pool name.
struct alignas(64) PoolState {
  std::atomic<uint32_t> ejected{0};  // hosts ejected by passive health right now
  std::atomic<bool> panic{false};    // too few healthy servers: balance over all of them
  std::atomic<uint32_t> requests{0}; // HTTP requests in flight to the pool (max_requests)
  std::unique_ptr<stats::TrafficSet> traffic;  // per-worker figures (never null once built)
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
  // Draining or disabled: no new connections (disabled also ignores sticky sessions).
  bool draining() const {
    return config.drain || config.disabled || state->agent_drain.load(std::memory_order_relaxed);
  }
  // Healthy and willing: checks pass, agent agrees, not ejected, not draining.
  bool healthy(uint64_t nowMs) const;
};

struct Cluster {
  config::Pool config;
  std::vector<Host> hosts;
  std::shared_ptr<PoolState> pool_state;  // the pool's identity across snapshots
  // Built over the effective weights; the previous snapshot's own when its inputs (algorithm,
  // addresses, effective weights, backup flags) are the same, so workers keep their pickers.
  std::shared_ptr<const balance::Balancer> balancer;
  bool ramping = false;  // some host is in slow start: rebuild weights again soon
  // TLS to the servers (pools[].tls): built with the config's other TLS contexts
  // (server/tls_contexts); null for plain connections.
  std::shared_ptr<const tls::ClientContext> tls;
  // HostRegistry's build counter: of two clusters of one pool, the larger is the newer.
  uint64_t generation = 0;
  // Equal for two clusters of one pool when their host lists hold the same addresses in
  // the same order: a host index means the same server in both.
  uint64_t layout = 0;
};

// What a pick sees of a cluster: usability and load, read from the shared atomics.
class ClusterLoad final : public balance::HostLoad {
 public:
  ClusterLoad(const Cluster& c, uint64_t nowMs);
  bool usable(size_t host) const override;
  uint32_t active(size_t host) const override;
  // Some server would be usable but for its max_connections: a request may wait for a slot.
  bool anyFull() const;
  double latencyEwma(size_t host) const override { return 0; }  // pickers keep their own (observe)

 private:
  const Cluster& cluster_;
  uint64_t now_ms_;
  bool panic_;
};

// The effective weight: configured weight x agent percentage x slow-start ramp (from 10%
// to 100% over slow_start since up_since_ms). Never 0 for a weight-1 server that is up.
uint32_t effectiveWeight(const config::Pool& pool, const Host& host, uint64_t nowMs, bool& ramping);

// Keeps HostState and PoolState across reloads: the same pool name and server address
// get the same state. Control thread only.
class HostRegistry {
 public:
  // Each new state gets per-worker counters for this many workers.
  void setWorkers(size_t workers) { workers_ = workers; }
  // nowMs: for slow start. firstBuild: servers in the very first config start at full
  // weight; a server added later by a reload ramps up.
  // The balancer is the previous build's while its inputs are unchanged.
  // `tls`: the pool's context for TLS to its servers, or null.
  std::shared_ptr<const Cluster> build(const config::Pool& pool, uint64_t nowMs, bool firstBuild,
                                       std::shared_ptr<const tls::ClientContext> tls = nullptr);
  // Forget states no live cluster refers to (after a reload has been published).
  void prune();
  // Balancers built so far (not reused): for tests and the debug log.
  uint64_t balancersBuilt() const { return balancers_built_; }

 private:
  struct PoolRecord {
    std::weak_ptr<PoolState> state;
    std::weak_ptr<const balance::Balancer> balancer;  // the last build's
    balance::BalancerOptions options;                 // what it was built with
    uint64_t layout = 0;
  };
  std::unordered_map<std::string, std::weak_ptr<HostState>> states_;
  std::unordered_map<std::string, PoolRecord> pools_;
  size_t workers_ = 1;
  uint64_t builds_ = 0;
  uint64_t layouts_ = 0;
  uint64_t balancers_built_ = 0;
};

}  // namespace fulcrum::upstream
