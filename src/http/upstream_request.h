#pragma once
// UpstreamRequest: one request's way to a server, without I/O. It holds the pool's request
// slot (max_requests), the server chosen for the current attempt and its slot (per-server
// max_connections), the servers already tried and the attempts made, and decides retries
// with the pool's RetryPolicy and retry budget. The session does the connecting and the
// exchange and tells it what happened; an HTTP/2 stream will use it the same way.
//
// Slots are counters shared by every worker (atomics in the cluster's state): whatever this
// object takes, release*() gives back; the destructor does not (the session releases, and
// wakes the requests waiting for a slot).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "balance/balancer.h"
#include "http/retry_budget.h"
#include "upstream/cluster.h"
#include "upstream/retry_policy.h"

struct sockaddr;

namespace fulcrum::http {

class UpstreamRequest {
 public:
  // `hash`: the pool's balancing key; `sticky_id`: the server the client's sticky cookie names.
  UpstreamRequest(std::shared_ptr<const upstream::Cluster> cluster, uint64_t hash, std::string sticky_id)
      : cluster_(std::move(cluster)), hash_(hash), sticky_id_(std::move(sticky_id)) {}

  const upstream::Cluster& cluster() const { return *cluster_; }
  const std::shared_ptr<const upstream::Cluster>& clusterPtr() const { return cluster_; }
  const std::string& stickyId() const { return sticky_id_; }

  // One of the pool's max_requests slots; false when all are taken. (Whether the pool has a
  // limit at all is the caller's check.)
  bool takePoolSlot();
  bool hasPoolSlot() const { return pool_slot_; }
  // Gives the pool slot back; true when one was held (a waiting request may now go on).
  bool releasePoolSlot();

  // A usable server for the next attempt, its slot taken: the sticky cookie's server, else
  // the client address's (sticky by address), else the picker's; never one already tried
  // unless all were. -1 when none, with `full` set when one would be usable but for
  // max_connections (the request may wait for a slot).
  int pickHost(balance::Picker& picker, uint64_t nowMs, const sockaddr* peer, bool& full);
  // The attempt on `host` (from pickHost) begins.
  void beginAttempt(int host) {
    host_ = host;
    ++attempts_;
  }
  // The current attempt's server, or -1.
  int host() const { return host_; }
  const upstream::Host* currentHost() const {
    return host_ >= 0 ? &cluster_->hosts[static_cast<size_t>(host_)] : nullptr;
  }
  // Gives the server's slot back; true when the server has a max_connections (a request
  // waiting for it may now go on).
  bool releaseHost();
  // The current server failed this request: a retry goes elsewhere while others are left.
  void markTried();
  // The last attempt did not count (a failure that was not the server's).
  void forgiveAttempt() { --attempts_; }
  uint32_t attempts() const { return attempts_; }

  // Whether to try again after an attempt failed with `kind`, in `attempt` state: the pool's
  // RetryPolicy, then (for Retry) the pool's retry budget, which a Retry spends.
  upstream::RetryDecision decideRetry(upstream::ErrorKind kind, upstream::AttemptState attempt, RetryBudget& budget,
                                      uint64_t nowMs) const;

 private:
  std::shared_ptr<const upstream::Cluster> cluster_;
  uint64_t hash_ = 0;
  std::string sticky_id_;
  std::vector<bool> tried_;  // empty until a server fails: no allocation for most requests
  uint32_t attempts_ = 0;
  int host_ = -1;
  bool pool_slot_ = false;
};

}  // namespace fulcrum::http
