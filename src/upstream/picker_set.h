#pragma once
// PickerSet: one worker's pickers, one per pool, kept across snapshots. Keyed by the pool's
// identity (its PoolState, which HostRegistry keeps across reloads by name), not by the
// Cluster of one snapshot: a republish (slow-start step, agent or API weight, reload) moves
// the pool's picker onto the new balancer with Picker::rebase(), so least_response_time keeps
// its latency estimates and the rotations their place, instead of starting over.
//
// A picker's indices always refer to the host list of the cluster it is asked for: a session
// still on an older snapshot whose host list differs (a server added or removed since) gets a
// stand-in picker of its own. Worker thread only.
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "balance/balancer.h"
#include "upstream/cluster.h"

namespace fulcrum::upstream {

class PickerSet {
 public:
  // Seeds come from pickerSeed(workerIndex, ++generation): `generation` is the worker's
  // counter (WorkerContext::picker_generation), shared by its frontends.
  PickerSet(size_t workerIndex, uint64_t& generation) : worker_index_(workerIndex), generation_(generation) {}

  // The picker for `cluster`: indices it returns and takes are into cluster->hosts. The same
  // cluster as last time is one hash lookup and a pointer compare; a newer cluster of the pool
  // rebases the pool's picker (or makes one when the algorithm changed). The reference stays
  // valid until the next call of get() or retainOnly().
  balance::Picker& get(const std::shared_ptr<const Cluster>& cluster);

  // Forgets the pickers of pools for which keep(const PoolState*) is false (pools a new
  // runtime no longer uses; a session still on an old one gets a fresh picker if it asks).
  template <class Keep>
  void retainOnly(Keep&& keep) {
    std::erase_if(entries_, [&](const auto& kv) { return !keep(kv.first); });
  }

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::shared_ptr<const Cluster> cluster;  // the newest seen; `picker` works on its balancer
    std::unique_ptr<balance::Picker> picker;
    // For a session on an older snapshot whose host list differs from `cluster`'s.
    std::shared_ptr<const Cluster> old_cluster;
    std::unique_ptr<balance::Picker> old_picker;
  };

  std::unique_ptr<balance::Picker> make(const Cluster& cluster);

  size_t worker_index_;
  uint64_t& generation_;
  std::unordered_map<const PoolState*, Entry> entries_;
};

}  // namespace fulcrum::upstream
