#include "http/filters/affinity_filter.h"

#include "balance/balancer.h"
#include "http/sticky.h"
#include "shared_state/keys.h"
#include "shared_state/worker_tables.h"
#include "upstream/worker_context.h"

namespace fulcrum::http {

FilterStatus AffinityFilter::onRequestHead(RequestState& s) const {
  const upstream::Cluster& cluster = *s.cluster;
  const auto& pool = cluster.config;
  if (upstream::needsClientHash(cluster)) {
    bool found = false;
    switch (pool.hash_key.source) {
      case config::HashKeySource::ClientAddress:
        s.hash = upstream::clientHash(s.peer);
        break;
      case config::HashKeySource::Header: {
        const Header* f = s.request.find(pool.hash_key.name);
        s.hash = balance::hashKey(f ? f->value : std::string_view());
        break;
      }
      case config::HashKeySource::Cookie:
        s.hash = balance::hashKey(cookieValue(s.request, pool.hash_key.name, found));
        break;
      case config::HashKeySource::Path:
        s.hash = balance::hashKey(s.request.path);
        break;
    }
  }
  if (pool.http.sticky.mode == config::StickyMode::Cookie) {
    bool found = false;
    s.sticky_id = cookieValue(s.request, pool.http.sticky.cookie_name, found);
  } else if (pool.http.sticky.mode == config::StickyMode::ClientAddress && pool.http.sticky.shared &&
             s.shared != nullptr) {
    sharedClientAddress(s);
  }
  return FilterStatus::Continue;
}

void AffinityFilter::sharedClientAddress(RequestState& s) const {
  const upstream::Cluster& cluster = *s.cluster;
  auto& cache = s.shared->sticky;
  std::string key = shared_state::stickyKey(key_prefix_, cluster.config.name, s.client_ip);
  upstream::ClusterLoad load(cluster, s.now_ms);
  std::string_view stored = cache.use(key, s.now_ms);
  if (!stored.empty()) {
    int host = findStickyHost(cluster, stored);
    if (host >= 0 && load.usable(static_cast<size_t>(host))) {
      s.sticky_id = stored;  // (the cache is not changed before the session copies it)
      return;
    }
  }
  int host = affinityHost(cluster, upstream::clientHash(s.peer), load);
  if (host < 0) {
    return;  // no usable server: the pick reports it
  }
  uint64_t ttl = static_cast<uint64_t>(cluster.config.http.sticky.ttl.count());
  s.sticky_id = cache.choose(key, stickyId(cluster, static_cast<size_t>(host)), !stored.empty(), ttl, s.now_ms);
}

}  // namespace fulcrum::http
