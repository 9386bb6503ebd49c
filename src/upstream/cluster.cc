#include "upstream/cluster.h"

#include <algorithm>

namespace fulcrum::upstream {

bool Host::tryAcquire() const {
  uint32_t limit = config.max_connections;
  uint32_t prev = state->active.fetch_add(1, std::memory_order_relaxed);
  if (limit != 0 && prev >= limit) {
    state->active.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

bool Host::healthy(uint64_t nowMs) const {
  const auto& s = *state;
  return !draining() && !s.check_down.load(std::memory_order_relaxed) &&
         !s.agent_down.load(std::memory_order_relaxed) &&
         !(s.ejected.load(std::memory_order_relaxed) && s.ejected_until_ms.load(std::memory_order_relaxed) > nowMs);
}

ClusterLoad::ClusterLoad(const Cluster& c, uint64_t nowMs)
    : cluster_(c), now_ms_(nowMs), panic_(c.pool_state->panic.load(std::memory_order_relaxed)) {}

bool ClusterLoad::usable(size_t i) const {
  const Host& h = cluster_.hosts[i];
  if (h.full()) {
    return false;
  }
  // In panic every server that is not being drained takes traffic: spreading over all
  // of them beats crushing the few that still pass their checks.
  return panic_ ? !h.draining() : h.healthy(now_ms_);
}

bool ClusterLoad::anyFull() const {
  for (const Host& h : cluster_.hosts) {
    if (h.full() && (panic_ ? !h.draining() : h.healthy(now_ms_))) {
      return true;
    }
  }
  return false;
}

uint32_t ClusterLoad::active(size_t i) const {
  return cluster_.hosts[i].state->active.load(std::memory_order_relaxed);
}

uint32_t effectiveWeight(const config::Pool& pool, const Host& host, uint64_t nowMs, bool& ramping) {
  double w = host.config.weight;
  w *= host.state->agent_weight_percent.load(std::memory_order_relaxed) / 100.0;
  uint64_t since = host.state->up_since_ms.load(std::memory_order_relaxed);
  auto slow = static_cast<uint64_t>(pool.slow_start.count());
  if (slow > 0 && since != 0 && nowMs < since + slow) {
    double f = 0.1 + 0.9 * static_cast<double>(nowMs - since) / static_cast<double>(slow);
    w *= std::min(1.0, f);
    ramping = true;
  }
  // Weights are integers: scale by 10 so a 10% ramp of weight 1 is still a share (the
  // balancers divide by the common factor, so equal weights cost nothing).
  auto scaled = static_cast<uint32_t>(std::max(0.0, w * 10.0 + 0.5));
  return w > 0 && scaled == 0 ? 1 : scaled;  // a small share ("up 3%" of weight 1) is not none
}

std::shared_ptr<const Cluster> HostRegistry::build(const config::Pool& pool, uint64_t nowMs, bool firstBuild,
                                                   std::shared_ptr<const tls::ClientContext> tls) {
  auto cluster = std::make_shared<Cluster>();
  cluster->config = pool;
  cluster->tls = std::move(tls);
  cluster->generation = ++builds_;
  PoolRecord& record = pools_[pool.name];
  cluster->pool_state = record.state.lock();
  if (!cluster->pool_state) {
    auto fresh = std::make_shared<PoolState>();
    fresh->traffic = std::make_unique<stats::TrafficSet>(workers_);
    cluster->pool_state = fresh;
    record = PoolRecord{};
    record.state = cluster->pool_state;
  }
  std::vector<balance::HostSpec> specs;
  for (const auto& server : pool.servers) {
    std::string key = pool.name + "\n" + server.address.text;
    auto state = states_[key].lock();
    if (!state) {
      state = std::make_shared<HostState>();
      state->traffic = std::make_unique<stats::TrafficSet>(workers_);
      if (!firstBuild) {
        state->up_since_ms.store(nowMs, std::memory_order_relaxed);  // new by reload: slow start
      }
      states_[key] = state;
    }
    cluster->hosts.push_back(Host{server, state});
    bool ramping = false;
    specs.push_back({server.address.text, effectiveWeight(pool, cluster->hosts.back(), nowMs, ramping),
                     server.backup});
    cluster->ramping = cluster->ramping || ramping;
  }
  balance::BalancerOptions options;
  options.algorithm = pool.algorithm;
  options.vnodes_per_weight = pool.vnodes;
  // Most republishes (a slow-start step, an agent's or the API's weight for one pool) leave
  // most pools as they were: those keep their balancer, and the workers their pickers as is.
  std::shared_ptr<const balance::Balancer> previous = record.balancer.lock();
  if (previous && record.options == options && previous->hosts() == specs) {
    cluster->balancer = std::move(previous);
    cluster->layout = record.layout;
    return cluster;
  }
  bool sameHosts = previous && previous->size() == specs.size();
  for (size_t i = 0; sameHosts && i < specs.size(); ++i) {
    sameHosts = previous->hosts()[i].id == specs[i].id;
  }
  if (!sameHosts) {
    record.layout = ++layouts_;
  }
  cluster->layout = record.layout;
  cluster->balancer = balance::Balancer::create(options, std::move(specs));
  ++balancers_built_;
  record.balancer = cluster->balancer;
  record.options = options;
  return cluster;
}

void HostRegistry::prune() {
  std::erase_if(states_, [](const auto& kv) { return kv.second.expired(); });
  std::erase_if(pools_, [](const auto& kv) { return kv.second.state.expired(); });
}

}  // namespace fulcrum::upstream
