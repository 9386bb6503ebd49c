#include "http/runtime.h"

#include <algorithm>

#include "http/filters/acme_challenge_filter.h"
#include "http/filters/affinity_filter.h"
#include "http/filters/client_limit_filter.h"
#include "http/filters/client_certificate_filter.h"
#include "http/filters/forwarded_filter.h"
#include "http/filters/header_edits_filter.h"
#include "http/filters/observer.h"
#include "http/filters/rate_limit_filter.h"
#include "http/filters/route_filter.h"
#include "http/filters/split_filter.h"
#include "http/filters/terminal_filter.h"
#include "shared_state/keys.h"

namespace fulcrum::http {

namespace {

RouteTarget resolve(const std::vector<config::WeightedPool>& pools,
                    const std::unordered_map<std::string, std::shared_ptr<const upstream::Cluster>>& clusters) {
  RouteTarget t;
  for (const auto& p : pools) {
    auto it = clusters.find(p.pool);
    if (it == clusters.end() || p.weight == 0) {
      continue;  // (the loader checked every name; weight 0 takes nothing)
    }
    t.clusters.push_back(it->second);
    t.weights.push_back(p.weight);
    t.total_weight += p.weight;
  }
  return t;
}

bool sameValues(const std::vector<config::ValueMatch>& a, const std::vector<config::ValueMatch>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.name == y.name && x.kind == y.kind && x.value == y.value;
  });
}

bool sameMatch(const config::RouteMatch& a, const config::RouteMatch& b) {
  return a.hosts == b.hosts && a.path_kind == b.path_kind && a.path == b.path && a.methods == b.methods &&
         sameValues(a.headers, b.headers) && sameValues(a.query, b.query) && sameValues(a.cookies, b.cookies) &&
         sameValues(a.client_certificate, b.client_certificate);
}

}  // namespace

bool sameMatches(const std::vector<config::Route>& a, const std::vector<config::Route>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return sameMatch(x.match, y.match); });
}

namespace {

Limits parserLimits(const config::HttpListener& h) {
  Limits l;
  l.maxRequestLine = h.max_request_line;
  l.maxHeaderBytes = h.max_header_bytes;
  l.maxHeaders = h.max_headers;
  if (h.max_body_size != 0) {
    l.maxBodySize = h.max_body_size;
  }
  return l;
}

}  // namespace

std::shared_ptr<ListenerRuntime> buildTerminalRuntime(std::shared_ptr<const config::Config> config,
                                                      const config::Listener& listener, TerminalHandler& handler) {
  auto rt = std::make_shared<ListenerRuntime>();
  rt->config = std::move(config);
  rt->listener = &listener;
  rt->limits = parserLimits(listener.http);
  rt->shared = std::make_shared<SharedListenerState>();
  rt->stats = std::make_shared<stats::TrafficSet>(1);
  rt->filters.add(std::make_unique<TerminalFilter>(handler));
  rt->terminal = &handler;
  return rt;
}

std::shared_ptr<ListenerRuntime> buildRuntime(
    std::shared_ptr<const config::Config> config, const config::Listener& listener,
    const std::unordered_map<std::string, std::shared_ptr<const upstream::Cluster>>& clusters,
    std::shared_ptr<SharedListenerState> shared, const ListenerRuntime* previous, const tls::AcmeChallenges* acme) {
  auto rt = std::make_shared<ListenerRuntime>();
  rt->config = std::move(config);
  rt->listener = &listener;
  if (previous != nullptr && previous->router && sameMatches(previous->listener->http.routes, listener.http.routes)) {
    rt->router = previous->router;  // RE2 compiles are the costly part of a republish
  } else {
    rt->router = std::make_shared<Router>(listener.http.routes);
  }
  for (const auto& route : listener.http.routes) {
    rt->targets.push_back(resolve(route.pools, clusters));
  }
  if (!listener.pool.empty()) {
    rt->default_target = resolve({{listener.pool, 1}}, clusters);
  }
  const auto& h = listener.http;
  rt->limits = parserLimits(h);
  rt->shared = shared ? std::move(shared) : std::make_shared<SharedListenerState>();
  // Always present, even off: a connection counted before a reload is released after it.
  rt->connection_filters.add(
      std::make_unique<ClientLimitFilter>(h.max_connections_per_client, rt->shared->client_connections));
  if (acme != nullptr) {
    rt->filters.add(std::make_unique<AcmeChallengeFilter>(*acme));
  }
  rt->filters.add(std::make_unique<ForwardedFilter>(h.forwarded));
  if (listener.tls.client_certificates.enabled()) {
    rt->filters.add(std::make_unique<ClientCertificateFilter>(listener.tls.client_certificates));
  }
  if (h.rate_limit.enabled) {
    rt->filters.add(std::make_unique<RateLimitFilter>(
        h.rate_limit, rt->shared->rate_limiter,
        shared_state::limitKeyBase(rt->config->shared_state.key_prefix, listener.name)));
  }
  rt->filters.add(std::make_unique<RouteFilter>(*rt->router, h.routes, rt->targets, rt->default_target));
  rt->filters.add(std::make_unique<SplitFilter>());
  rt->filters.add(std::make_unique<AffinityFilter>(rt->config->shared_state.key_prefix));
  rt->filters.add(std::make_unique<HeaderEditsFilter>());
  rt->filters.observe(std::make_unique<MetricsObserver>(*rt));
  rt->filters.observe(std::make_unique<AccessLogObserver>(*rt));
  return rt;
}

}  // namespace fulcrum::http
