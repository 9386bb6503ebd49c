#pragma once
// HealthMonitor: the control thread's side of server health. It runs the active and
// agent checks of every server (health::ServerChecker), writes what they find into the
// shared HostState, logs every transition with its reason, and runs a 100 ms sweep that
// ends passive ejections, applies the error-rate rule, decides panic mode, enforces the
// drain timeout and asks for new snapshots while servers ramp up (slow start).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "health/server_checker.h"
#include "upstream/cluster.h"

namespace fulcrum::upstream {

class HealthMonitor {
 public:
  struct Hooks {
    std::function<void()> republish;  // effective weights changed: build a new snapshot
    std::function<void(std::shared_ptr<HostState>)> close_sessions;  // drain timeout reached
  };

  HealthMonitor(core::EventLoop& loop, Hooks hooks);
  ~HealthMonitor();

  // After every published snapshot: start checkers for new servers, keep those whose
  // server and check settings did not change, stop the rest.
  void update(const std::vector<std::shared_ptr<const Cluster>>& clusters, uint64_t drainMs);
  void stop();

  // Read-only views for the admin API (later): last results and state per server.
  const health::ServerChecker* checker(const std::string& pool, const std::string& server) const;

 private:
  struct Checked {
    std::string pool;
    std::string server;
    std::string plan_key;
    std::shared_ptr<HostState> state;
    std::unique_ptr<health::ServerChecker> checker;
    std::string agent_last;  // last agent answer or failure, to log changes only
  };
  struct RateWindow {
    uint64_t last_requests = 0;
    uint64_t last_failures = 0;
    std::vector<std::pair<uint64_t, uint64_t>> buckets;  // per second: requests, failures
    size_t next = 0;
  };

  void tick();
  void onCheck(Checked& c, const health::CheckResult& r, const std::optional<health::Transition>& t,
               bool slowStart);
  void onAgent(Checked& c, const health::CheckResult& r, const std::optional<health::AgentReport>& report);
  void sweepCluster(const Cluster& cluster, uint64_t now, bool rateTick, bool& republish);

  core::EventLoop& loop_;
  Hooks hooks_;
  std::unordered_map<std::string, std::unique_ptr<Checked>> checked_;
  std::vector<std::shared_ptr<const Cluster>> clusters_;
  uint64_t drain_ms_ = 30000;
  // Keyed by shared_ptr: a freed HostState's address can be reused by a new one.
  std::unordered_map<std::shared_ptr<HostState>, RateWindow> windows_;
  std::unordered_map<std::shared_ptr<HostState>, uint64_t> drain_since_;
  std::unordered_map<std::shared_ptr<HostState>, uint64_t> ejection_ended_;
  uint64_t last_rate_ms_ = 0;
  uint64_t last_ramp_publish_ms_ = 0;
  uint64_t seed_ = 0x5eed;
  core::Timer tick_timer_;
};

}  // namespace fulcrum::upstream
