#pragma once
// Passive health: what real traffic says about a server. Workers report each outcome;
// `max_fails` consecutive failures within `fail_timeout` eject the server for
// ejection_time x 2^(ejections so far), capped at max_ejection_time, unless that would
// take the pool past max_ejection_percent ejected. Lock-free: relaxed atomics in
// HostState/PoolState; the control thread's sweep ends ejections and applies the
// error-rate rule (HealthMonitor).
#include <cstdint>

#include "upstream/cluster.h"

namespace fulcrum::upstream {

// Worker threads. A success resets the run of failures.
void recordSuccess(const Cluster& cluster, size_t host);
// Returns true when this failure ejected the server (the caller logs it).
bool recordFailure(const Cluster& cluster, size_t host, uint64_t nowMs);

// Ejects host if the pool's ejection budget allows; returns false if it does not (or it is
// already ejected). Used by recordFailure and by the error-rate rule.
bool tryEject(const Cluster& cluster, size_t host, uint64_t nowMs);

}  // namespace fulcrum::upstream
