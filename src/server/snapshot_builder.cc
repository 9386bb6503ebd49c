#include "server/snapshot_builder.h"

#include <algorithm>

namespace fulcrum::server {

namespace {

// The HTTP listener's runtime in the snapshot being replaced (its router may be reused).
const http::ListenerRuntime* previousHttpRuntime(const Snapshot* snapshot, const std::string& name) {
  if (snapshot == nullptr) {
    return nullptr;
  }
  for (const auto& entry : snapshot->listeners) {
    if (entry.http && entry.http->listener->name == name) {
      return entry.http.get();
    }
  }
  return nullptr;
}

}  // namespace

void SnapshotBuilder::setWorkers(size_t workers) {
  workers_ = std::max<size_t>(workers, 1);
  hosts_.setWorkers(workers);
}

std::shared_ptr<stats::TrafficSet> SnapshotBuilder::statsFor(const std::string& key) {
  auto& s = stats_[key];
  if (!s) {
    s = std::make_shared<stats::TrafficSet>(workers_);
  }
  return s;
}

std::shared_ptr<Snapshot> SnapshotBuilder::build(std::shared_ptr<const config::Config> config,
                                                 const ListenerSockets& sockets,
                                                 std::shared_ptr<upstream::AccessLog> accessLog, uint64_t nowMs,
                                                 const Snapshot* previous, const TlsContexts& tls) {
  auto snap = std::make_shared<Snapshot>();
  snap->version = ++version_;
  snap->config = config;
  snap->access_log = std::move(accessLog);
  for (const auto& pool : config->pools) {
    auto client = tls.pools.find(pool.name);
    snap->clusters[pool.name] =
        hosts_.build(pool, nowMs, version_ == 1, client != tls.pools.end() ? client->second : nullptr);
  }
  for (const auto& l : config->listeners) {
    Snapshot::ListenerEntry entry{sockets.at(l.name), nullptr, nullptr};
    if (l.protocol == config::Protocol::Http) {
      // Rate-limit buckets and per-client counts outlive the snapshot (kept by name).
      auto& shared = http_state_[l.name];
      if (!shared) {
        shared = std::make_shared<http::SharedListenerState>();
      }
      auto rt = http::buildRuntime(config, l, snap->clusters, shared, previousHttpRuntime(previous, l.name),
                                   config->acme.enabled ? acme_.get() : nullptr);
      rt->stats = statsFor("l:" + l.name);
      for (const auto& r : l.http.routes) {
        rt->route_stats.push_back(statsFor("r:" + l.name + "\n" + r.name));
      }
      rt->access_log = snap->access_log;
      if (auto it = tls.listeners.find(l.name); it != tls.listeners.end()) {
        rt->tls = it->second;
      }
      entry.http = std::move(rt);
    } else {
      auto rt = std::make_shared<l4::ListenerRuntime>();
      rt->config = config;
      rt->listener = &l;
      if (!l.pool.empty()) {
        rt->cluster = snap->clusters.at(l.pool);
      }
      for (const auto& route : l.sni_routes) {
        rt->sni_clusters.push_back(snap->clusters.at(route.pool));
      }
      rt->stats = statsFor("l:" + l.name);
      rt->access_log = snap->access_log;
      if (auto it = tls.listeners.find(l.name); it != tls.listeners.end()) {
        rt->tls = it->second;
      }
      entry.runtime = std::move(rt);
    }
    snap->listeners.push_back(std::move(entry));
  }
  for (auto it = http_state_.begin(); it != http_state_.end();) {
    bool live = false;
    for (const auto& l : config->listeners) {
      live = live || (l.name == it->first && l.protocol == config::Protocol::Http);
    }
    it = live ? std::next(it) : http_state_.erase(it);
  }
  // Figures of listeners and routes that are gone are dropped (a new one of the same name
  // starts from zero, as Prometheus expects of a new series).
  for (auto it = stats_.begin(); it != stats_.end();) {
    bool live = false;
    for (const auto& l : config->listeners) {
      live = live || it->first == "l:" + l.name;
      for (const auto& r : l.http.routes) {
        live = live || it->first == "r:" + l.name + "\n" + r.name;
      }
    }
    it = live ? std::next(it) : stats_.erase(it);
  }
  return snap;
}

}  // namespace fulcrum::server
