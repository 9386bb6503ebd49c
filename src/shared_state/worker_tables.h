#pragma once
// One worker's shared-state tables (in upstream::WorkerContext). The request path reads and
// writes them without a lock; the control thread reaches them only by posting to the worker
// (Service::Hooks::each_worker), once per sync interval.
#include <cstdint>

#include "shared_state/batch.h"
#include "shared_state/limit_table.h"
#include "shared_state/sticky_cache.h"

namespace fulcrum::shared_state {

struct WorkerTables {
  LimitTable limits;
  StickyCache sticky;

  WorkerReport takeReport() {
    WorkerReport r;
    limits.takeDeltas(r.limits);
    sticky.takeTouched(r.sticky);
    return r;
  }
  // Leases (result.limits) only on the worker that asked for them.
  void apply(const SyncResult& result, uint64_t nowMs) {
    for (const auto& l : result.limits) {
      limits.apply(l, nowMs);
    }
    for (const auto& s : result.sticky) {
      sticky.fill(s.key, s.server, s.ttl_ms, nowMs);
    }
  }
};

}  // namespace fulcrum::shared_state
