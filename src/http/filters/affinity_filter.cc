#include "http/filters/affinity_filter.h"

#include "balance/balancer.h"
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
  }
  return FilterStatus::Continue;
}

}  // namespace fulcrum::http
