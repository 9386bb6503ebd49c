#pragma once
// What an L4 connection runs under; the worker's shared state is upstream::WorkerContext.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "config/model.h"
#include "tls/server_context.h"
#include "upstream/access_log.h"
#include "upstream/cluster.h"
#include "upstream/worker_context.h"

namespace fulcrum::l4 {

// What a connection was accepted under: the config and cluster of one snapshot. A
// connection keeps it to the end, so a reload never changes a connection in flight.
struct ListenerRuntime {
  std::shared_ptr<const config::Config> config;
  const config::Listener* listener = nullptr;  // points into *config
  // The default pool; null on a tcp listener with sni_routes and no pool (unknown SNI refused).
  std::shared_ptr<const upstream::Cluster> cluster;
  // The pools of listener->sni_routes, in the same order.
  std::vector<std::shared_ptr<const upstream::Cluster>> sni_clusters;
  std::shared_ptr<stats::TrafficSet> stats;            // the listener's figures (never null)
  std::shared_ptr<upstream::AccessLog> access_log;     // null when off
  // A TLS-terminating listener's certificates and handshake settings (null: the bytes are relayed as
  // they come, TLS or not).
  std::shared_ptr<const tls::ServerContext> tls;
};

using upstream::clientHash;
using upstream::needsClientHash;
using upstream::onFdExhausted;
using upstream::pickerSeed;
using upstream::WorkerContext;

}  // namespace fulcrum::l4
