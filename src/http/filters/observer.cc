#include "http/filters/observer.h"

#include "http/runtime.h"

namespace fulcrum::http {

void MetricsObserver::onStreamEnd(const StreamEnd& e) const {
  const RequestAccounting& a = e.acct;
  auto& l = rt_.stats->worker(e.worker);
  l.statuses.add(e.status);
  l.request_time.observe(e.total_us);
  if (a.route >= 0 && static_cast<size_t>(a.route) < rt_.route_stats.size()) {
    auto& r = rt_.route_stats[static_cast<size_t>(a.route)]->worker(e.worker);
    r.statuses.add(e.status);
    r.request_time.observe(e.total_us);
  }
  if (a.cluster) {
    auto& p = a.cluster->pool_state->traffic->worker(e.worker);
    p.statuses.add(e.status);
    p.request_time.observe(e.total_us);
  }
}

void AccessLogObserver::onStreamEnd(const StreamEnd& e) const {
  auto* log = rt_.access_log.get();
  if (!log) {
    return;
  }
  const RequestAccounting& a = e.acct;
  upstream::AccessRecord r;
  r.client = e.client_ip;
  r.listener = rt_.listener->name;
  r.protocol = a.protocol ? a.protocol : "http";
  if (a.route >= 0 && static_cast<size_t>(a.route) < rt_.listener->http.routes.size()) {
    r.route = rt_.listener->http.routes[static_cast<size_t>(a.route)].name;
  }
  if (a.cluster) {
    r.pool = a.cluster->config.name;
  }
  if (a.host) {
    r.server = a.host->config.address.text;
  }
  r.method = a.method;
  r.path = a.path;
  r.termination = e.termination;
  r.status = e.status;
  r.bytes_in = e.bytes_in;
  r.bytes_out = e.bytes_out;
  r.queue_us = a.queue_us;
  r.connect_us = a.connect_us;
  r.response_us = a.response_us;
  r.total_us = static_cast<int64_t>(e.total_us);
  r.retries = a.retries;
  log->write(e.worker, r);
}

}  // namespace fulcrum::http
