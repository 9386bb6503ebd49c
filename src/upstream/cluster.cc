#include "upstream/cluster.h"

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

std::shared_ptr<const Cluster> HostRegistry::build(const config::Pool& pool) {
  auto cluster = std::make_shared<Cluster>();
  cluster->config = pool;
  for (const auto& server : pool.servers) {
    std::string key = pool.name + "\n" + server.address.text;
    auto state = states_[key].lock();
    if (!state) {
      state = std::make_shared<HostState>();
      states_[key] = state;
    }
    cluster->hosts.push_back(Host{server, state});
  }
  return cluster;
}

void HostRegistry::prune() {
  for (auto it = states_.begin(); it != states_.end();) {
    if (it->second.expired()) {
      it = states_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace fulcrum::upstream
