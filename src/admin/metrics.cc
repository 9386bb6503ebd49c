#include "admin/metrics.h"

#include "stats/prometheus.h"

namespace fulcrum::admin {

namespace {
using stats::Labels;
using Type = stats::PromWriter::Type;

const char* protocolName(config::Protocol p) {
  switch (p) {
    case config::Protocol::Tcp: return "tcp";
    case config::Protocol::Udp: return "udp";
    case config::Protocol::Http: return "http";
  }
  return "?";
}

void statuses(stats::PromWriter& w, const std::string& name, Labels labels, const stats::TrafficTotals& t) {
  for (const auto& [code, n] : t.statuses) {
    std::string c = code ? std::to_string(code) : "other";
    Labels l = labels;
    l.emplace_back("class", stats::statusClass(code));
    l.emplace_back("code", c);
    // (views into c: used before it goes)
    w.sample(name, l, static_cast<double>(n));
  }
}

// Every family, in the order written: name, type, help.
struct FamilySpec {
  const char* name;
  Type type;
  const char* help;
};
constexpr FamilySpec kFamilies[] = {
    {"fulcrum_build_info", Type::Gauge, "Build version (the value is 1)."},
    {"fulcrum_start_time_seconds", Type::Gauge, "When the process started (unix time)."},
    {"fulcrum_workers", Type::Gauge, "Worker threads."},
    {"fulcrum_config_version", Type::Gauge, "Config generation: +1 on each reload or API change applied."},
    {"fulcrum_config_reloads_total", Type::Counter, "Config reloads by result."},
    {"fulcrum_config_last_reload_success_timestamp_seconds", Type::Gauge, "When a config was last applied (unix time)."},
    {"fulcrum_listener_connections_total", Type::Counter, "Client connections accepted."},
    {"fulcrum_listener_connections_active", Type::Gauge, "Client connections open."},
    {"fulcrum_listener_requests_total", Type::Counter, "HTTP requests answered, by status."},
    {"fulcrum_listener_bytes_received_total", Type::Counter, "Bytes received from clients."},
    {"fulcrum_listener_bytes_sent_total", Type::Counter, "Bytes sent to clients."},
    {"fulcrum_listener_rate_limited_total", Type::Counter, "Requests refused by the rate limit or the per-client connection limit."},
    {"fulcrum_listener_tls_handshakes_total", Type::Counter, "TLS handshakes by version and result (full, resumed, failed, abandoned)."},
    {"fulcrum_listener_tls_client_certificate_failures_total", Type::Counter,
     "Handshakes refused for the client certificate (mTLS), by reason (missing, untrusted, revoked, expired, invalid)."},
    {"fulcrum_listener_tls_cipher_handshakes_total", Type::Counter, "Completed TLS handshakes by version, cipher and result (full, resumed); at most 8 ciphers per listener, the rest as cipher=\"other\"."},
    {"fulcrum_listener_tls_handshake_duration_seconds", Type::Histogram, "TLS handshake time of completed handshakes, from the accept to the handshake's end."},
    {"fulcrum_tls_certificate_expiry_seconds", Type::Gauge, "Seconds until a served certificate expires (negative: expired)."},
    {"fulcrum_acme_orders_total", Type::Counter, "ACME orders by result: success (a certificate stored) or failure (retried after a backoff)."},
    {"fulcrum_listener_sni_refused_total", Type::Counter, "TCP connections closed before a pool was picked: not a TLS ClientHello, or an SNI that no sni_routes entry or default pool takes."},
    {"fulcrum_listener_request_duration_seconds", Type::Histogram, "HTTP request time, from the complete request head to the end of the response."},
    {"fulcrum_route_requests_total", Type::Counter, "HTTP requests answered per route, by status."},
    {"fulcrum_route_request_duration_seconds", Type::Histogram, "HTTP request time per route."},
    {"fulcrum_pool_requests_total", Type::Counter, "HTTP requests answered for the pool, by status."},
    {"fulcrum_pool_retries_total", Type::Counter, "Requests tried again on another server."},
    {"fulcrum_pool_tls_handshakes_total", Type::Counter, "TLS handshakes with the pool's servers by version and result (full, resumed, failed, abandoned)."},
    {"fulcrum_pool_tls_errors_total", Type::Counter, "Failed TLS handshakes with the pool's servers: the server's certificate refused (certificate) or another failure (handshake)."},
    {"fulcrum_pool_queue_length", Type::Gauge, "Requests or connections waiting for a free server."},
    {"fulcrum_pool_queue_timeouts_total", Type::Counter, "Waiters that gave up after timeouts.queue."},
    {"fulcrum_pool_servers", Type::Gauge, "Servers in the pool."},
    {"fulcrum_pool_servers_healthy", Type::Gauge, "Servers taking new traffic."},
    {"fulcrum_pool_panic", Type::Gauge, "1 while too few servers are healthy and all of them are used."},
    {"fulcrum_pool_health_check_interval_seconds", Type::Gauge, "Active health check interval."},
    {"fulcrum_server_up", Type::Gauge, "1 when the server takes new traffic."},
    {"fulcrum_server_draining", Type::Gauge, "1 while draining."},
    {"fulcrum_server_disabled", Type::Gauge, "1 while disabled (maintenance)."},
    {"fulcrum_server_ejected", Type::Gauge, "1 while ejected by passive health."},
    {"fulcrum_server_weight", Type::Gauge, "Configured weight."},
    {"fulcrum_server_effective_weight", Type::Gauge, "Weight after agent and slow start."},
    {"fulcrum_server_requests_total", Type::Counter, "HTTP responses the server gave, by status."},
    {"fulcrum_server_connections_total", Type::Counter, "Connections opened to the server."},
    {"fulcrum_server_connections_active", Type::Gauge, "Connections to the server in use."},
    {"fulcrum_server_connect_errors_total", Type::Counter, "Failed connection attempts."},
    {"fulcrum_server_timeouts_total", Type::Counter, "Connect and response timeouts."},
    {"fulcrum_server_bytes_received_total", Type::Counter, "Bytes received from the server."},
    {"fulcrum_server_bytes_sent_total", Type::Counter, "Bytes sent to the server."},
    {"fulcrum_server_response_duration_seconds", Type::Histogram, "Time from the request sent to the server's response head."},
    {"fulcrum_server_ejections_total", Type::Counter, "Passive health ejections."},
    {"fulcrum_server_checks_total", Type::Counter, "Active health checks by result."},
    {"fulcrum_server_check_duration_seconds", Type::Gauge, "Duration of the last active check."},
    {"fulcrum_server_last_check_timestamp_seconds", Type::Gauge, "When the last active check ended (unix time)."},
    {"fulcrum_shared_state_up", Type::Gauge, "1 while Redis (shared_state) answers; 0 while limits and stickiness are local."},
    {"fulcrum_shared_state_unreachable_total", Type::Counter, "Times Redis became unreachable."},
    {"fulcrum_shared_state_syncs_total", Type::Counter, "Redis answers applied (shared counts and choices)."},
    {"fulcrum_shared_state_local_syncs_total", Type::Counter, "Worker reports counted locally while Redis was unreachable."},
};

}  // namespace

bool serverUsable(const upstream::Host& h, uint64_t nowMs) { return h.healthy(nowMs); }

const char* serverState(const upstream::Cluster& c, const upstream::Host& h, uint64_t nowMs) {
  const auto& s = *h.state;
  if (h.config.disabled) return "disabled";
  if (h.draining()) return "draining";
  if (s.check_down.load(std::memory_order_relaxed) || s.agent_down.load(std::memory_order_relaxed)) return "down";
  if (s.ejected.load(std::memory_order_relaxed) && s.ejected_until_ms.load(std::memory_order_relaxed) > nowMs) {
    return "ejected";
  }
  if (c.config.health_check.type == config::CheckType::None) return "unchecked";
  return "up";
}

std::string renderMetrics(const View& v) {
  stats::PromWriter w;
  for (const auto& f : kFamilies) {
    w.family(f.name, f.type, f.help);
  }
  w.sample("fulcrum_build_info", {{"version", FULCRUM_VERSION}}, 1);
  w.sample("fulcrum_start_time_seconds", {}, v.start_time);
  w.sample("fulcrum_workers", {}, static_cast<double>(v.workers));
  w.sample("fulcrum_config_version", {}, static_cast<double>(v.generation));
  w.sample("fulcrum_config_reloads_total", {{"result", "success"}}, static_cast<double>(v.reloads_ok));
  w.sample("fulcrum_config_reloads_total", {{"result", "failure"}}, static_cast<double>(v.reloads_failed));
  w.sample("fulcrum_config_last_reload_success_timestamp_seconds", {}, v.last_reload_time);
  if (v.shared_state != nullptr && v.shared_state->enabled) {
    const auto& s = *v.shared_state;
    w.sample("fulcrum_shared_state_up", {}, s.up ? 1 : 0);
    w.sample("fulcrum_shared_state_unreachable_total", {}, static_cast<double>(s.unreachable_total));
    w.sample("fulcrum_shared_state_syncs_total", {}, static_cast<double>(s.syncs_total));
    w.sample("fulcrum_shared_state_local_syncs_total", {}, static_cast<double>(s.local_total));
  }

  if (v.acme) {
    w.sample("fulcrum_acme_orders_total", {{"result", "success"}}, static_cast<double>(v.acme_issued));
    w.sample("fulcrum_acme_orders_total", {{"result", "failure"}}, static_cast<double>(v.acme_failures));
  }

  for (const auto& l : v.listeners) {
    const std::string& name = l.config->name;
    auto t = l.stats->sum();
    const char* proto = protocolName(l.config->protocol);
    w.sample("fulcrum_listener_connections_total", {{"listener", name}, {"protocol", proto}},
             static_cast<double>(t.connections));
    w.sample("fulcrum_listener_connections_active", {{"listener", name}, {"protocol", proto}},
             static_cast<double>(t.active));
    w.sample("fulcrum_listener_bytes_received_total", {{"listener", name}}, static_cast<double>(t.bytes_in));
    w.sample("fulcrum_listener_bytes_sent_total", {{"listener", name}}, static_cast<double>(t.bytes_out));
    if (l.config->tls.enabled()) {
      auto hs = [&](const char* version, const char* result, uint64_t n) {
        w.sample("fulcrum_listener_tls_handshakes_total", {{"listener", name}, {"version", version}, {"result", result}},
                 static_cast<double>(n));
      };
      hs("TLSv1.2", "full", t.tls12_full);
      hs("TLSv1.2", "resumed", t.tls12_resumed);
      hs("TLSv1.3", "full", t.tls13_full);
      hs("TLSv1.3", "resumed", t.tls13_resumed);
      hs("none", "failed", t.tls_failed);  // (no version was agreed)
      hs("none", "abandoned", t.tls_abandoned);
      if (l.config->tls.client_certificates.enabled()) {
        auto cf = [&](const char* reason, uint64_t n) {
          w.sample("fulcrum_listener_tls_client_certificate_failures_total", {{"listener", name}, {"reason", reason}},
                   static_cast<double>(n));
        };
        cf("missing", t.client_cert_missing);
        cf("untrusted", t.client_cert_untrusted);
        cf("revoked", t.client_cert_revoked);
        cf("expired", t.client_cert_expired);
        cf("invalid", t.client_cert_invalid);
      }
      for (const auto& [cipher, n] : t.tls_ciphers) {
        // OpenSSL names the TLS 1.3 suites TLS_*; every other suite it negotiates here is TLS 1.2.
        const char* version = cipher == "other" ? "other" : cipher.starts_with("TLS_") ? "TLSv1.3" : "TLSv1.2";
        auto byCipher = [&](const char* result, uint64_t count) {
          w.sample("fulcrum_listener_tls_cipher_handshakes_total",
                   {{"listener", name}, {"version", version}, {"cipher", cipher}, {"result", result}},
                   static_cast<double>(count));
        };
        byCipher("full", n.full);
        byCipher("resumed", n.resumed);
      }
      w.histogram("fulcrum_listener_tls_handshake_duration_seconds", {{"listener", name}}, t.tls_handshake_time);
      for (const auto& c : l.certificates) {
        w.sample("fulcrum_tls_certificate_expiry_seconds", {{"listener", name}, {"file", c.file}, {"names", c.names}},
                 static_cast<double>(c.not_after) - v.now);
      }
    }
    if (!l.config->sni_routes.empty()) {
      w.sample("fulcrum_listener_sni_refused_total", {{"listener", name}}, static_cast<double>(t.sni_refused));
    }
    if (l.config->protocol != config::Protocol::Http) {
      continue;
    }
    statuses(w, "fulcrum_listener_requests_total", {{"listener", name}}, t);
    w.sample("fulcrum_listener_rate_limited_total", {{"listener", name}}, static_cast<double>(t.rate_limited));
    w.histogram("fulcrum_listener_request_duration_seconds", {{"listener", name}}, t.request_time);
    for (size_t i = 0; i < l.routes.size() && i < l.config->http.routes.size(); ++i) {
      auto rt = l.routes[i]->sum();
      const std::string& route = l.config->http.routes[i].name;
      statuses(w, "fulcrum_route_requests_total", {{"listener", name}, {"route", route}}, rt);
      w.histogram("fulcrum_route_request_duration_seconds", {{"listener", name}, {"route", route}}, rt.request_time);
    }
  }

  for (const auto& c : v.clusters) {
    const std::string& pool = c->config.name;
    auto pt = c->pool_state->traffic->sum();
    statuses(w, "fulcrum_pool_requests_total", {{"pool", pool}}, pt);
    w.sample("fulcrum_pool_retries_total", {{"pool", pool}}, static_cast<double>(pt.retries));
    if (c->config.tls.enabled) {
      auto hs = [&](const char* version, const char* result, uint64_t n) {
        w.sample("fulcrum_pool_tls_handshakes_total", {{"pool", pool}, {"version", version}, {"result", result}},
                 static_cast<double>(n));
      };
      hs("TLSv1.2", "full", pt.tls12_full);
      hs("TLSv1.2", "resumed", pt.tls12_resumed);
      hs("TLSv1.3", "full", pt.tls13_full);
      hs("TLSv1.3", "resumed", pt.tls13_resumed);
      hs("none", "failed", pt.tls_failed);
      hs("none", "abandoned", pt.tls_abandoned);
      w.sample("fulcrum_pool_tls_errors_total", {{"pool", pool}, {"reason", "certificate"}},
               static_cast<double>(pt.tls_certificate_rejected));
      w.sample("fulcrum_pool_tls_errors_total", {{"pool", pool}, {"reason", "handshake"}},
               static_cast<double>(pt.tls_failed - pt.tls_certificate_rejected));
    }
    w.sample("fulcrum_pool_queue_length", {{"pool", pool}}, static_cast<double>(pt.queued));
    w.sample("fulcrum_pool_queue_timeouts_total", {{"pool", pool}}, static_cast<double>(pt.queue_timeouts));
    size_t healthy = 0;
    for (const auto& h : c->hosts) healthy += serverUsable(h, v.now_ms) ? 1 : 0;
    w.sample("fulcrum_pool_servers", {{"pool", pool}}, static_cast<double>(c->hosts.size()));
    w.sample("fulcrum_pool_servers_healthy", {{"pool", pool}}, static_cast<double>(healthy));
    w.sample("fulcrum_pool_panic", {{"pool", pool}}, c->pool_state->panic.load(std::memory_order_relaxed) ? 1 : 0);
    bool checked = c->config.health_check.type != config::CheckType::None;
    if (checked) {
      w.sample("fulcrum_pool_health_check_interval_seconds", {{"pool", pool}},
               static_cast<double>(c->config.health_check.interval.count()) / 1000.0);
    }
    for (const auto& h : c->hosts) {
      const std::string& server = h.config.address.text;
      Labels l{{"pool", pool}, {"server", server}};
      const auto& s = *h.state;
      auto t = s.traffic->sum();
      bool ramping = false;
      w.sample("fulcrum_server_up", l, serverUsable(h, v.now_ms) ? 1 : 0);
      w.sample("fulcrum_server_draining", l, h.draining() && !h.config.disabled ? 1 : 0);
      w.sample("fulcrum_server_disabled", l, h.config.disabled ? 1 : 0);
      w.sample("fulcrum_server_ejected", l,
               s.ejected.load(std::memory_order_relaxed) && s.ejected_until_ms.load(std::memory_order_relaxed) > v.now_ms
                   ? 1
                   : 0);
      w.sample("fulcrum_server_weight", l, h.config.weight);
      // In the config's units (the balancers work in tenths).
      w.sample("fulcrum_server_effective_weight", l, upstream::effectiveWeight(c->config, h, v.now_ms, ramping) / 10.0);
      statuses(w, "fulcrum_server_requests_total", l, t);
      w.sample("fulcrum_server_connections_total", l, static_cast<double>(t.connections));
      w.sample("fulcrum_server_connections_active", l, s.active.load(std::memory_order_relaxed));
      w.sample("fulcrum_server_connect_errors_total", l, static_cast<double>(t.connect_errors));
      w.sample("fulcrum_server_timeouts_total", l, static_cast<double>(t.timeouts));
      w.sample("fulcrum_server_bytes_received_total", l, static_cast<double>(t.bytes_in));
      w.sample("fulcrum_server_bytes_sent_total", l, static_cast<double>(t.bytes_out));
      w.histogram("fulcrum_server_response_duration_seconds", l, t.response_time);
      w.sample("fulcrum_server_ejections_total", l, static_cast<double>(s.ejections_total.load()));
      if (checked) {
        Labels ok = l;
        ok.emplace_back("result", "success");
        Labels bad = l;
        bad.emplace_back("result", "failure");
        w.sample("fulcrum_server_checks_total", ok, static_cast<double>(s.checks_ok.load()));
        w.sample("fulcrum_server_checks_total", bad, static_cast<double>(s.checks_failed.load()));
        uint64_t at = s.last_check_unix_ms.load();
        if (at != 0) {
          w.sample("fulcrum_server_check_duration_seconds", l, s.last_check_latency_ms.load() / 1000.0);
          w.sample("fulcrum_server_last_check_timestamp_seconds", l, static_cast<double>(at) / 1000.0);
        }
      }
    }
  }
  return w.str();
}

}  // namespace fulcrum::admin
