#pragma once
// SnapshotBuilder: how the control thread turns a config into the Snapshot its workers get, and
// the state that outlives snapshots. Kept from one build to the next: server states and
// balancers (HostRegistry: a balancer is rebuilt only when its inputs change), each HTTP
// listener's shared state (rate-limit buckets, per-client connection counts) and the figures of
// listeners and routes, all by name; an HTTP listener's compiled router while its routes match
// on the same conditions. What belongs to a listener or route that is gone is dropped.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "config/model.h"
#include "http/runtime.h"
#include "server/listener_registry.h"
#include "server/snapshot.h"
#include "server/tls_contexts.h"
#include "stats/counters.h"
#include "upstream/access_log.h"
#include "upstream/cluster.h"

namespace fulcrum::server {

class SnapshotBuilder {
 public:
  // Figures and server states count per worker.
  void setWorkers(size_t workers);

  // `sockets` holds a group for every listener of `config` (ListenerRegistry::prepare);
  // `previous` is the snapshot this one replaces (null at the first build); `accessLog` is
  // null when the access log is off. Cannot fail: everything that can was checked before.
  // `tls`: the contexts of the TLS listeners and of the pools with TLS to servers
  // (buildTlsContexts).
  std::shared_ptr<Snapshot> build(std::shared_ptr<const config::Config> config, const ListenerSockets& sockets,
                                  std::shared_ptr<upstream::AccessLog> accessLog, uint64_t nowMs,
                                  const Snapshot* previous, const TlsContexts& tls = {});

  // The pending ACME challenges every http listener answers (HTTP-01) while the config has an
  // acme section; outlives every snapshot.
  void setAcmeChallenges(std::shared_ptr<const tls::AcmeChallenges> c) { acme_ = std::move(c); }

  // A listener's ("l:name") or route's ("r:listener\nroute") figures, kept across builds.
  std::shared_ptr<stats::TrafficSet> statsFor(const std::string& key);
  upstream::HostRegistry& hosts() { return hosts_; }
  uint64_t version() const { return version_; }  // of the last build; 0 before the first

 private:
  size_t workers_ = 1;
  std::shared_ptr<const tls::AcmeChallenges> acme_;
  uint64_t version_ = 0;
  upstream::HostRegistry hosts_;
  std::unordered_map<std::string, std::shared_ptr<http::SharedListenerState>> http_state_;  // by listener name
  std::unordered_map<std::string, std::shared_ptr<stats::TrafficSet>> stats_;  // "l:name", "r:listener\nroute"
};

}  // namespace fulcrum::server
