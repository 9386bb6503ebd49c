#include "http/upstream_request.h"

#include "common/log.h"
#include "http/sticky.h"
#include "upstream/take_host.h"
#include "upstream/worker_context.h"

namespace fulcrum::http {

bool UpstreamRequest::takePoolSlot() {
  auto& requests = cluster_->pool_state->requests;
  uint32_t limit = cluster_->config.http.max_requests;
  uint32_t n = requests.load(std::memory_order_relaxed);
  while (n < limit) {
    if (requests.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
      pool_slot_ = true;
      return true;
    }
  }
  return false;
}

bool UpstreamRequest::releasePoolSlot() {
  if (!pool_slot_) {
    return false;
  }
  cluster_->pool_state->requests.fetch_sub(1, std::memory_order_relaxed);
  pool_slot_ = false;
  return true;
}

int UpstreamRequest::pickHost(balance::Picker& picker, uint64_t nowMs, const sockaddr* peer, bool& full) {
  const auto& cluster = *cluster_;
  const auto& hosts = cluster.hosts;
  upstream::ClusterLoad load(cluster, nowMs);
  auto tried = [&](size_t i) { return !tried_.empty() && tried_[i]; };
  const auto& sticky = cluster.config.http.sticky;
  if (sticky.mode == config::StickyMode::Cookie && !sticky_id_.empty()) {
    int i = findStickyHost(cluster, sticky_id_);
    if (i >= 0 && load.usable(static_cast<size_t>(i)) && !tried(static_cast<size_t>(i))) {
      if (hosts[static_cast<size_t>(i)].tryAcquire()) {
        return i;
      }
      full = true;
    }
  } else if (sticky.mode == config::StickyMode::ClientAddress) {
    // A shared choice (AffinityFilter) names the server; else rendezvous hashing.
    int i = sticky_id_.empty() ? affinityHost(cluster, upstream::clientHash(peer), load)
                               : findStickyHost(cluster, sticky_id_);
    if (i >= 0 && load.usable(static_cast<size_t>(i)) && !tried(static_cast<size_t>(i))) {
      if (hosts[static_cast<size_t>(i)].tryAcquire()) {
        return i;
      }
      full = true;
    }
  }
  balance::PickRequest req;
  req.hash = hash_;
  req.now = static_cast<double>(nowMs) / 1000.0;
  auto taken = upstream::takeHost(cluster, picker, load, req, tried_);
  full = full || taken.full;
  return taken.host;
}

bool UpstreamRequest::releaseHost() {
  if (host_ < 0) {
    return false;
  }
  const auto& host = cluster_->hosts[static_cast<size_t>(host_)];
  host.release();
  host_ = -1;
  return host.config.max_connections > 0;
}

void UpstreamRequest::markTried() {
  if (host_ < 0) {
    return;
  }
  if (tried_.empty()) {
    tried_.assign(cluster_->hosts.size(), false);
  }
  tried_[static_cast<size_t>(host_)] = true;
}

upstream::RetryDecision UpstreamRequest::decideRetry(upstream::ErrorKind kind, upstream::AttemptState attempt,
                                                     RetryBudget& budget, uint64_t nowMs) const {
  const auto& pool = cluster_->config;
  attempt.attempts = attempts_;
  auto d = upstream::RetryPolicy(pool.http.retry_on, pool.retries).decide(upstream::classify(kind, attempt), attempt);
  if (d == upstream::RetryDecision::Retry && !budget.tryRetry(pool.http.retry_budget_min, nowMs)) {
    log::debug("retry budget spent", {{"pool", pool.name}});
    return upstream::RetryDecision::GiveUp;
  }
  return d;
}

}  // namespace fulcrum::http
