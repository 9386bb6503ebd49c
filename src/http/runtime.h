#pragma once
// What an HTTP connection is accepted under: one snapshot's listener config, compiled
// router and resolved pools. A request reads one runtime from start to end; a keep-alive
// connection takes the frontend's newest runtime for each new request, so a reload (a canary
// weight change) applies to the next request, not only to new connections.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "codec/limits.h"
#include "config/model.h"
#include "http/filters/connection_filter.h"
#include "http/filters/filter.h"
#include "http/rate_limiter.h"
#include "http/router.h"
#include "tls/server_context.h"
#include "upstream/access_log.h"
#include "upstream/cluster.h"

namespace fulcrum::http {

// The pools a forwarding route sends to, with their split weights.
struct RouteTarget {
  std::vector<std::shared_ptr<const upstream::Cluster>> clusters;
  std::vector<uint32_t> weights;
  uint32_t total_weight = 0;
  bool empty() const { return total_weight == 0; }
};

// Listener state that lives across reloads and is shared by every worker.
struct SharedListenerState {
  RateLimiter rate_limiter;
  ClientConnections client_connections;
};

struct ListenerRuntime {
  std::shared_ptr<const config::Config> config;
  const config::Listener* listener = nullptr;  // points into *config
  std::shared_ptr<const Router> router;  // the previous runtime's while the routes' matches are the same
  std::vector<RouteTarget> targets;  // parallel to listener->http.routes
  RouteTarget default_target;        // listener->pool, or empty
  Limits limits;
  std::shared_ptr<SharedListenerState> shared;
  std::shared_ptr<stats::TrafficSet> stats;                      // the listener's figures (never null)
  std::vector<std::shared_ptr<stats::TrafficSet>> route_stats;   // parallel to routes (never null)
  std::shared_ptr<upstream::AccessLog> access_log;               // null when off
  // At accept and close (the per-client connection limit); the same filters in every snapshot.
  ConnectionFilterChain connection_filters;
  FilterChain filters;  // the request decision, in order (built last: refers to the above)
  // When the chain ends in a terminal filter: its handler, which also shapes the answers to
  // requests refused before the chain (a bad head, a head timeout), so they look like its own.
  TerminalHandler* terminal = nullptr;
  // A TLS listener's certificates and handshake settings (null: plain).
  std::shared_ptr<const tls::ServerContext> tls;
};

// Built on the control thread; `clusters` holds every pool of the snapshot by name; `shared`
// is the listener's state kept across reloads (null: a fresh one).
// `previous`: the listener's runtime in the snapshot being replaced, if any; its compiled
// router (RE2) is reused when every route matches on the same conditions.
// `acme`: the pending ACME challenges (outliving the runtime), answered before routing (HTTP-01);
// null when the config has no acme section.
std::shared_ptr<ListenerRuntime> buildRuntime(
    std::shared_ptr<const config::Config> config, const config::Listener& listener,
    const std::unordered_map<std::string, std::shared_ptr<const upstream::Cluster>>& clusters,
    std::shared_ptr<SharedListenerState> shared, const ListenerRuntime* previous = nullptr,
    const tls::AcmeChallenges* acme = nullptr);

// A listener whose every request `handler` answers itself (terminal_filter.h): no routes, no
// pools, no rate limit; `config` gives the timeouts and `listener` the parser limits. The
// figures go to a TrafficSet of one worker, in no metric (the admin listener is not traffic).
std::shared_ptr<ListenerRuntime> buildTerminalRuntime(std::shared_ptr<const config::Config> config,
                                                      const config::Listener& listener, TerminalHandler& handler);

// Whether two route lists compile to the same Router (the same match conditions in order).
bool sameMatches(const std::vector<config::Route>& a, const std::vector<config::Route>& b);

}  // namespace fulcrum::http
