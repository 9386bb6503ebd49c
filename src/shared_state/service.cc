#include "shared_state/service.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>

#include <algorithm>

#include "common/log.h"
#include "shared_state/keys.h"
#include "shared_state/reply.h"
#include "shared_state/scripts.h"

namespace fulcrum::shared_state {

namespace {

// Between attempts to reach Redis again: short, so that a restarted Redis is used within a
// fraction of a second; one attempt costs a connect on loopback or the LAN.
constexpr uint64_t kRetryMs = 200;
constexpr size_t kMaxResyncChoices = 100000;

bool sameConfig(const config::SharedState& a, const config::SharedState& b) {
  auto texts = [](const std::vector<config::SocketAddress>& v) {
    std::vector<std::string> t;
    for (const auto& x : v) {
      t.push_back(x.text);
    }
    return t;
  };
  return a.enabled == b.enabled && a.redis.text == b.redis.text && texts(a.sentinels) == texts(b.sentinels) &&
         a.master_name == b.master_name && a.key_prefix == b.key_prefix && a.timeout == b.timeout &&
         a.sync_interval == b.sync_interval;
}

// The IP text and port of a configured address (hiredis connects by text).
void hostPort(const config::SocketAddress& a, std::string& host, uint16_t& port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family() == AF_INET6) {
    const auto* s = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
    port = ntohs(s->sin6_port);
  } else {
    const auto* s = reinterpret_cast<const sockaddr_in*>(&a.storage);
    inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
    port = ntohs(s->sin_port);
  }
  host = buf;
}

}  // namespace

Service::Service(core::EventLoop& loop, Hooks hooks)
    : loop_(loop), hooks_(std::move(hooks)), tick_timer_([this] { tick(); }) {}

Service::~Service() { closeAll(); }

void Service::configure(const config::SharedState& config) {
  if (running_ && sameConfig(config, config_)) {
    return;
  }
  closeAll();
  status_.up = false;
  reported_ = Reported::None;  // a new Redis (or none): its first connection is logged
  config_ = config;
  status_.enabled = config.enabled;
  running_ = config.enabled;
  if (!running_) {
    loop_.timers().cancel(tick_timer_);
    status_.up = false;
    return;
  }
  channel_ = stickyChannel(config_.key_prefix);
  uint64_t syncMs = static_cast<uint64_t>(config_.sync_interval.count());
  hooks_.each_worker([syncMs](size_t, WorkerTables& tables, uint64_t) { tables.limits.setSyncInterval(syncMs); });
  retry_at_ms_ = 0;
  connect();
  loop_.timers().schedule(tick_timer_, static_cast<uint64_t>(config_.sync_interval.count()));
}

void Service::stop() {
  running_ = false;
  loop_.timers().cancel(tick_timer_);
  closeAll();
}

void Service::closeAll() {
  connecting_ = false;
  RedisConnection::close(std::move(sentinel_));
  RedisConnection::close(std::move(conn_));
  RedisConnection::close(std::move(sub_));
}

void Service::tick() {
  if (!running_) {
    return;
  }
  uint64_t now = loop_.nowMs();
  uint64_t timeout = static_cast<uint64_t>(config_.timeout.count());
  if (connecting_ && now - connect_started_ms_ > timeout) {
    markDown("no connection within " + std::to_string(timeout) + " ms");
  } else if (conn_ && conn_->oldestPendingMs() != 0 && now - conn_->oldestPendingMs() > timeout) {
    markDown("no reply within " + std::to_string(timeout) + " ms");
  }
  if (!connecting_ && !status_.up && now >= retry_at_ms_) {
    connect();
  }
  // Ask every worker for its report; each comes back to this loop on its own.
  core::EventLoop* control = &loop_;
  hooks_.each_worker([this, control](size_t worker, WorkerTables& tables, uint64_t) {
    auto report = std::make_shared<WorkerReport>(tables.takeReport());
    report->worker = worker;
    if (!report->empty()) {
      control->post([this, report] {
        if (running_) {
          onReport(*report);
        }
      });
    }
  });
  if (!fills_.empty()) {
    SyncResult r;
    r.sticky = std::move(fills_);
    fills_.clear();
    publish(std::move(r));
  }
  loop_.timers().schedule(tick_timer_, static_cast<uint64_t>(config_.sync_interval.count()));
}

void Service::connect() {
  closeAll();
  connecting_ = true;
  connect_started_ms_ = loop_.nowMs();
  if (config_.sentinels.empty()) {
    std::string host;
    uint16_t port = 0;
    hostPort(config_.redis, host, port);
    connectMaster(host, port);
    return;
  }
  sentinels_tried_ = 0;
  askSentinel();
}

void Service::askSentinel() {
  if (sentinels_tried_ >= config_.sentinels.size()) {
    markDown("no Sentinel gave the master of " + config_.master_name);
    return;
  }
  ++sentinels_tried_;
  const auto& addr = config_.sentinels[next_sentinel_++ % config_.sentinels.size()];
  std::string host;
  uint16_t port = 0;
  hostPort(addr, host, port);
  RedisConnection::Callbacks cb;
  cb.up = [this] {
    sentinel_->command({"SENTINEL", "get-master-addr-by-name", config_.master_name}, [this](redisReply* reply) {
      if (reply == nullptr) {
        return;  // the connection ended: its down callback asks the next Sentinel
      }
      std::string error;
      auto master = parseMasterAddress(reply, error);
      std::string from = sentinel_ ? sentinel_->address() : "";
      RedisConnection::close(std::move(sentinel_));
      if (!master) {
        log::debug("Sentinel did not give the master", {{"sentinel", from}, {"error", error}});
        askSentinel();
        return;
      }
      --next_sentinel_;  // ask the one that answered first next time
      connectMaster(master->host, master->port);
    });
  };
  cb.down = [this](const std::string& why) {
    log::debug("Sentinel unreachable", {{"error", why}});
    RedisConnection::close(std::move(sentinel_));
    askSentinel();
  };
  std::string error;
  sentinel_ = RedisConnection::open(loop_, host, port, std::move(cb), error);
  if (!sentinel_) {
    log::debug("Sentinel unreachable", {{"sentinel", addr.text}, {"error", error}});
    askSentinel();
  }
}

void Service::connectMaster(const std::string& host, uint16_t port) {
  std::string error;
  RedisConnection::Callbacks cb;
  cb.up = [this] {
    if (sub_ && sub_->connected()) {
      onMasterUp();
    }
  };
  cb.down = [this](const std::string& why) { markDown(why); };
  conn_ = RedisConnection::open(loop_, host, port, cb, error);
  if (!conn_) {
    markDown(error);
    return;
  }
  RedisConnection::Callbacks subCb;
  subCb.up = [this] {
    sub_->subscribe(channel_, [this](redisReply* reply) {
      if (auto e = parseStickyMessage(reply)) {
        fills_.push_back(std::move(*e));
      }
    });
    if (conn_ && conn_->connected()) {
      onMasterUp();
    }
  };
  subCb.down = cb.down;
  sub_ = RedisConnection::open(loop_, host, port, subCb, error);
  if (!sub_) {
    markDown(error);
  }
}

void Service::onMasterUp() {
  connecting_ = false;
  status_.up = true;
  status_.redis = conn_->address();
  if (reported_ == Reported::Down) {
    log::info("shared state: Redis reachable again, resynchronising", {{"redis", status_.redis}});
  } else if (reported_ == Reported::None) {
    log::info("shared state: connected to Redis", {{"redis", status_.redis}});
  }
  reported_ = Reported::Up;
  // The resync: what was counted and chosen while Redis was away, and every choice the workers
  // hold (a restarted Redis may have lost them).
  hooks_.each_worker([](size_t, WorkerTables& tables, uint64_t nowMs) { tables.sticky.reportAll(nowMs); });
  auto counted = tally_.drain(loop_.nowMs());
  if (!counted.empty()) {
    sendLimits(kNoWorker, std::move(counted));
  }
  if (!resync_sticky_.empty()) {
    std::vector<StickyTouch> touches;
    for (auto& [key, t] : resync_sticky_) {
      touches.push_back(std::move(t));
    }
    resync_sticky_.clear();
    sendSticky(std::move(touches));
  }
}

void Service::markDown(const std::string& why) {
  closeAll();
  status_.up = false;
  retry_at_ms_ = loop_.nowMs() + kRetryMs;
  if (reported_ != Reported::Down) {
    ++status_.unreachable_total;
    log::warn("shared state: Redis unreachable, serving with local state (limits per instance) until it returns",
              {{"error", why}});
    reported_ = Reported::Down;
  }
}

void Service::onReport(const WorkerReport& report) {
  if (!report.limits.empty()) {
    if (status_.up) {
      sendLimits(report.worker, report.limits);
    } else {
      countLocally(report.worker, report.limits);
    }
  }
  if (!report.sticky.empty()) {
    if (status_.up) {
      sendSticky(report.sticky);
    } else {
      keepForResync(report.sticky);
    }
  }
}

void Service::sendLimits(size_t worker, std::vector<LimitDelta> deltas) {
  auto held = std::make_shared<std::vector<LimitDelta>>(std::move(deltas));
  bool sent = conn_ && conn_->command(limitCommand(*held), [this, worker, held](redisReply* reply) {
    std::string error;
    auto leases = parseLimitReply(reply, held->size(), error);
    if (!leases) {
      countLocally(worker, *held);
      if (reply != nullptr) {
        markDown("rate-limit sync: " + error);  // e.g. READONLY: a replica since a failover
      }
      return;
    }
    ++status_.syncs_total;
    SyncResult r;
    for (size_t i = 0; i < held->size(); ++i) {
      r.limits.push_back(LimitState{std::move((*held)[i].key), (*leases)[i].granted, (*leases)[i].excess});
    }
    publishTo(worker, std::move(r));
  });
  if (!sent) {
    countLocally(worker, *held);
  }
}

void Service::sendSticky(std::vector<StickyTouch> touches) {
  auto held = std::make_shared<std::vector<StickyTouch>>(std::move(touches));
  bool sent = conn_ && conn_->command(stickyCommand(*held, channel_), [this, held](redisReply* reply) {
    std::string error;
    auto stored = parseStickyReply(reply, held->size(), error);
    if (!stored) {
      keepForResync(*held);
      if (reply != nullptr) {
        markDown("sticky sync: " + error);
      }
      return;
    }
    ++status_.syncs_total;
    SyncResult r;
    for (size_t i = 0; i < held->size(); ++i) {
      r.sticky.push_back(StickyEntry{std::move((*held)[i].key), std::move((*stored)[i]), (*held)[i].ttl_ms});
    }
    publish(std::move(r));
  });
  if (!sent) {
    keepForResync(*held);
  }
}

void Service::countLocally(size_t worker, const std::vector<LimitDelta>& deltas) {
  ++status_.local_total;
  uint64_t now = loop_.nowMs();
  SyncResult r;
  for (const auto& d : deltas) {
    r.limits.push_back(tally_.lease(d, now));
  }
  publishTo(worker, std::move(r));
}

void Service::keepForResync(const std::vector<StickyTouch>& touches) {
  for (const auto& t : touches) {
    if (resync_sticky_.size() >= kMaxResyncChoices && resync_sticky_.find(t.key) == resync_sticky_.end()) {
      continue;  // the oldest choices are kept; the rest are made again on the clients' next requests
    }
    StickyTouch& kept = resync_sticky_[t.key];
    bool replace = kept.replace || t.replace;
    kept = t;
    kept.replace = replace;
  }
}

void Service::publish(SyncResult result) {
  if (result.empty()) {
    return;
  }
  auto shared = std::make_shared<const SyncResult>(std::move(result));
  hooks_.each_worker([shared](size_t, WorkerTables& tables, uint64_t nowMs) { tables.apply(*shared, nowMs); });
}

void Service::publishTo(size_t worker, SyncResult result) {
  if (result.empty() || worker == kNoWorker) {
    return;
  }
  auto shared = std::make_shared<const SyncResult>(std::move(result));
  hooks_.on_worker(worker, [shared](size_t, WorkerTables& tables, uint64_t nowMs) { tables.apply(*shared, nowMs); });
}

}  // namespace fulcrum::shared_state
