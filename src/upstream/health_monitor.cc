#include "upstream/health_monitor.h"

#include <chrono>

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "common/log.h"
#include "tls/client_context.h"
#include "upstream/outlier.h"

namespace fulcrum::upstream {

namespace {
constexpr uint64_t kTickMs = 100;
constexpr uint64_t kRateBucketMs = 1000;

sockaddr_storage withPort(const config::SocketAddress& a, uint16_t port, socklen_t& len) {
  sockaddr_storage ss = a.storage;
  len = a.length;
  if (port != 0) {
    if (ss.ss_family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
    } else {
      reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
    }
  }
  return ss;
}

std::string planKey(const config::Pool& pool, const config::Server& s) {
  const auto& h = pool.health_check;
  // Appended piece by piece (one long a + b + ... chain trips GCC 12's -Wrestrict).
  std::string k;
  auto add = [&k](std::string_view part) {
    k.append(part);
    k += '|';
  };
  for (const std::string& part :
       {pool.name, s.address.text, std::to_string(pool.slow_start.count()), std::to_string(static_cast<int>(h.type)),
        std::to_string(h.interval.count()), std::to_string(h.jitter.count()), std::to_string(h.timeout.count()),
        std::to_string(h.rise), std::to_string(h.fall), std::to_string(h.port), h.method, h.path, h.host,
        h.body_contains, std::to_string(s.agent.port), std::to_string(s.agent.interval.count()),
        std::to_string(s.agent.timeout.count())}) {
    add(part);
  }
  for (auto [lo, hi] : h.expect_status) {
    add(std::to_string(lo) + "-" + std::to_string(hi));
  }
  return k;
}
}  // namespace

HealthMonitor::HealthMonitor(core::EventLoop& loop, Hooks hooks)
    : loop_(loop), hooks_(std::move(hooks)), tick_timer_([this] { tick(); }) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::stop() {
  checked_.clear();
  clusters_.clear();
  loop_.timers().cancel(tick_timer_);
}

const health::ServerChecker* HealthMonitor::checker(const std::string& pool, const std::string& server) const {
  for (const auto& [k, c] : checked_) {
    if (c->pool == pool && c->server == server) {
      return c->checker.get();
    }
  }
  return nullptr;
}

void HealthMonitor::update(const std::vector<std::shared_ptr<const Cluster>>& clusters, uint64_t drainMs) {
  // Servers that left their pool: give back an ejection slot they still hold, and forget
  // what the sweep kept about them.
  std::unordered_set<const HostState*> live;
  for (const auto& c : clusters) {
    for (const auto& h : c->hosts) {
      live.insert(h.state.get());
    }
  }
  for (const auto& c : clusters_) {
    for (const auto& h : c->hosts) {
      if (!live.count(h.state.get()) && h.state->ejected.exchange(false)) {
        c->pool_state->ejected.fetch_sub(1, std::memory_order_relaxed);
      }
    }
  }
  auto gone = [&](const auto& kv) { return !live.count(kv.first.get()); };
  std::erase_if(windows_, gone);
  std::erase_if(drain_since_, gone);
  std::erase_if(ejection_ended_, gone);
  clusters_ = clusters;
  drain_ms_ = drainMs;
  std::unordered_map<std::string, std::unique_ptr<Checked>> next;
  bool republishNeeded = false;
  for (const auto& cluster : clusters) {
    const auto& pool = cluster->config;
    const auto& hc = pool.health_check;
    for (const auto& host : cluster->hosts) {
      const auto& server = host.config;
      if (server.agent.port == 0) {
        // No agent (any more): what an earlier one said no longer holds.
        auto& st = *host.state;
        if (st.agent_down.exchange(false) | st.agent_drain.exchange(false) | (st.agent_weight_percent.exchange(100) != 100)) {
          republishNeeded = true;
        }
      }
      if (hc.type == config::CheckType::None && server.agent.port == 0) {
        host.state->check_down.store(false, std::memory_order_relaxed);
        continue;
      }
      std::string key = planKey(pool, server);
      if (cluster->tls) {
        // A reload that rebuilt the pool's TLS context (new CA, new client certificate) makes
        // new checks; a quiet republish keeps the context, so the checks.
        key += "tls:" + std::to_string(reinterpret_cast<uintptr_t>(cluster->tls.get()));
      }
      if (auto it = checked_.find(key); it != checked_.end() && it->second->state == host.state) {
        next[key] = std::move(it->second);
        continue;
      }
      auto c = std::make_unique<Checked>();
      c->pool = pool.name;
      c->server = server.address.text;
      c->plan_key = key;
      c->state = host.state;
      std::optional<health::CheckPlan> check;
      if (hc.type != config::CheckType::None) {
        health::CheckPlan p;
        p.kind = hc.type == config::CheckType::Http ? health::Probe::Kind::Http : health::Probe::Kind::Tcp;
        p.address = withPort(server.address, hc.port, p.address_len);
        p.interval_ms = static_cast<uint32_t>(hc.interval.count());
        p.jitter_ms = static_cast<uint32_t>(hc.jitter.count());
        p.timeout_ms = static_cast<uint32_t>(hc.timeout.count());
        p.rise = hc.rise;
        p.fall = hc.fall;
        p.http.method = hc.method;
        p.http.path = hc.path;
        p.http.host = hc.host;
        p.http.statuses = hc.expect_status;
        p.http.body_contains = hc.body_contains;
        if (cluster->tls && hc.type == config::CheckType::Http) {
          // As the pool's requests go (the name checked, the client certificate), without
          // session reuse: one connection per interval.
          p.http.tls = [ctx = cluster->tls, server](int fd) -> std::unique_ptr<net::Transport> {
            return ctx->connect(fd, server, nullptr, nullptr);
          };
        }
        check = p;
      } else {
        host.state->check_down.store(false, std::memory_order_relaxed);
      }
      std::optional<health::CheckPlan> agent;
      if (server.agent.port != 0) {
        health::CheckPlan p;
        p.kind = health::Probe::Kind::Agent;
        p.address = withPort(server.address, server.agent.port, p.address_len);
        p.interval_ms = static_cast<uint32_t>(server.agent.interval.count());
        p.jitter_ms = p.interval_ms / 10;
        p.timeout_ms = static_cast<uint32_t>(server.agent.timeout.count());
        agent = p;
      }
      Checked* raw = c.get();
      bool slowStart = pool.slow_start.count() > 0;
      health::ServerChecker::Callbacks cb;
      cb.on_result = [this, raw, slowStart](const health::CheckResult& r, const std::optional<health::Transition>& t) {
        onCheck(*raw, r, t, slowStart);
      };
      cb.on_agent = [this, raw](const health::CheckResult& r, const std::optional<health::AgentReport>& rep) {
        onAgent(*raw, r, rep);
      };
      bool wasDown = host.state->check_down.load(std::memory_order_relaxed);
      c->checker = std::make_unique<health::ServerChecker>(loop_, check, agent, std::move(cb), ++seed_, wasDown);
      next[key] = std::move(c);
    }
  }
  checked_ = std::move(next);
  if (republishNeeded && hooks_.republish) {
    hooks_.republish();
  }
  if (!tick_timer_.armed()) {
    loop_.timers().schedule(tick_timer_, kTickMs);
  }
}

void HealthMonitor::onCheck(Checked& c, const health::CheckResult& r, const std::optional<health::Transition>& t,
                            bool slowStart) {
  (r.ok ? c.state->checks_ok : c.state->checks_failed).fetch_add(1, std::memory_order_relaxed);
  c.state->last_check_latency_ms.store(r.latency_ms, std::memory_order_relaxed);
  c.state->last_check_unix_ms.store(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                              std::chrono::system_clock::now().time_since_epoch())
                                                              .count()),
                                    std::memory_order_relaxed);
  if (!t) {
    if (!r.ok) {
      log::debug("health check failed", {{"pool", c.pool}, {"server", c.server}, {"reason", r.reason}});
    }
    return;
  }
  bool down = t->to == health::State::Down;
  c.state->check_down.store(down, std::memory_order_relaxed);
  log::warn("server health changed", {{"pool", c.pool},
                                      {"server", c.server},
                                      {"from", health::stateName(t->from)},
                                      {"to", health::stateName(t->to)},
                                      {"reason", t->reason},
                                      {"check_latency_ms", r.latency_ms}});
  if (!down) {
    // Checks that pass again end a passive ejection (Envoy does the same): the next sweep lifts
    // it, so a server back from a crash is not kept out for the rest of its ejection time.
    if (c.state->ejected.load(std::memory_order_relaxed)) {
      c.state->ejected_until_ms.store(0, std::memory_order_relaxed);
    }
    c.state->up_since_ms.store(loop_.nowMs(), std::memory_order_relaxed);
    if (slowStart && hooks_.republish) {
      hooks_.republish();
    }
  }
}

void HealthMonitor::onAgent(Checked& c, const health::CheckResult& r, const std::optional<health::AgentReport>& rep) {
  std::string summary = rep ? rep->text : "failed: " + r.reason;
  if (summary != c.agent_last) {
    (rep ? log::info : log::warn)("agent check", {{"pool", c.pool}, {"server", c.server}, {"answer", summary}});
    c.agent_last = summary;
  }
  if (!rep) {
    return;  // an agent that cannot be reached changes nothing: the health check decides
  }
  auto& s = *c.state;
  bool changed = false;
  if (rep->state) {
    bool down = *rep->state == health::State::Down;
    if (s.agent_down.exchange(down) != down) {
      changed = true;
      if (!down) {
        s.up_since_ms.store(loop_.nowMs(), std::memory_order_relaxed);
      }
    }
  }
  if (s.agent_drain.exchange(rep->drain) != rep->drain) {
    changed = true;
  }
  if (rep->weight_percent && s.agent_weight_percent.exchange(*rep->weight_percent) != *rep->weight_percent) {
    changed = true;
  }
  if (changed && hooks_.republish) {
    hooks_.republish();
  }
}

void HealthMonitor::tick() {
  uint64_t now = loop_.nowMs();
  bool rateTick = now - last_rate_ms_ >= kRateBucketMs;
  if (rateTick) {
    last_rate_ms_ = now;
  }
  bool republish = false;
  for (const auto& cluster : clusters_) {
    sweepCluster(*cluster, now, rateTick, republish);
  }
  if (republish && hooks_.republish) {
    last_ramp_publish_ms_ = now;
    hooks_.republish();
  }
  loop_.timers().schedule(tick_timer_, kTickMs);
}

void HealthMonitor::sweepCluster(const Cluster& cluster, uint64_t now, bool rateTick, bool& republish) {
  const auto& pool = cluster.config;
  const auto& od = pool.outlier_detection;
  size_t primaries = 0, healthyPrimaries = 0, healthyBackups = 0;
  for (size_t i = 0; i < cluster.hosts.size(); ++i) {
    const Host& host = cluster.hosts[i];
    HostState& s = *host.state;
    // End ejections whose time is up.
    if (s.ejected.load(std::memory_order_relaxed) && s.ejected_until_ms.load(std::memory_order_relaxed) <= now) {
      s.ejected.store(false, std::memory_order_relaxed);
      cluster.pool_state->ejected.fetch_sub(1, std::memory_order_relaxed);
      s.up_since_ms.store(now, std::memory_order_relaxed);
      ejection_ended_[host.state] = now;
      log::info("server ejection ended", {{"pool", pool.name}, {"server", host.config.address.text}});
      republish = republish || pool.slow_start.count() > 0;
    }
    // Healthy long enough after an ejection: the next one starts short again.
    if (auto it = ejection_ended_.find(host.state); it != ejection_ended_.end()) {
      if (s.ejected.load(std::memory_order_relaxed)) {
        ejection_ended_.erase(it);  // ejected again: its count keeps growing
      } else if (now - it->second > static_cast<uint64_t>(od.max_ejection_time.count())) {
        s.ejection_count.store(0, std::memory_order_relaxed);
        ejection_ended_.erase(it);
      }
    }
    // Error rate over the window, one bucket per second.
    if (rateTick && od.enabled && od.error_rate_percent > 0) {
      uint64_t req = s.requests.load(std::memory_order_relaxed);
      uint64_t fail = s.failures.load(std::memory_order_relaxed);
      auto [wit, fresh] = windows_.try_emplace(host.state);
      auto& w = wit->second;
      size_t nb = std::max<size_t>(1, static_cast<size_t>(od.error_rate_window.count() / kRateBucketMs));
      if (fresh || w.buckets.size() != nb) {
        // Start from now: counts from before the rule was on are not this window's.
        w.buckets.assign(nb, {0, 0});
        w.next = 0;
        w.last_requests = req;
        w.last_failures = fail;
      }
      w.buckets[w.next] = {req - w.last_requests, fail - w.last_failures};
      w.next = (w.next + 1) % nb;
      w.last_requests = req;
      w.last_failures = fail;
      uint64_t tr = 0, tf = 0;
      for (auto [r, f] : w.buckets) {
        tr += r;
        tf += f;
      }
      if (tr >= od.error_rate_min_requests && tf * 100 >= tr * od.error_rate_percent) {
        if (tryEject(cluster, i, now)) {
          w.buckets.assign(nb, {0, 0});
        }
      }
    }
    // Drain: after the drain timeout, close what is still open to a draining server.
    if (host.draining()) {
      auto [it, fresh] = drain_since_.try_emplace(host.state, now);
      if (!fresh && it->second != 0 && now - it->second >= drain_ms_) {
        it->second = 0;  // once
        log::info("drain timeout: closing the server's remaining connections",
                  {{"pool", pool.name}, {"server", host.config.address.text}});
        if (hooks_.close_sessions) {
          hooks_.close_sessions(host.state);
        }
      }
    } else {
      drain_since_.erase(host.state);
    }
    if (!host.config.backup) {
      ++primaries;
      healthyPrimaries += host.healthy(now) ? 1 : 0;
    } else {
      healthyBackups += host.healthy(now) ? 1 : 0;
    }
  }
  // Healthy backups are what backups are for: no panic while one can serve.
  bool panic = pool.panic_threshold > 0 && primaries > 0 && healthyBackups == 0 &&
               healthyPrimaries * 100 < primaries * pool.panic_threshold;
  if (cluster.pool_state->panic.exchange(panic) != panic) {
    (panic ? log::warn : log::info)(panic ? "panic mode: too few healthy servers, balancing across all of them"
                                          : "panic mode ended",
                                    {{"pool", pool.name},
                                     {"healthy", healthyPrimaries},
                                     {"servers", primaries},
                                     {"threshold_percent", pool.panic_threshold}});
  }
  if (cluster.ramping) {
    uint64_t step = std::max<uint64_t>(kTickMs, static_cast<uint64_t>(pool.slow_start.count()) / 10);
    republish = republish || now - last_ramp_publish_ms_ >= step;
  }
}

}  // namespace fulcrum::upstream
