#include "upstream/picker_set.h"

#include "upstream/worker_context.h"

namespace fulcrum::upstream {

std::unique_ptr<balance::Picker> PickerSet::make(const Cluster& cluster) {
  return cluster.balancer->makePicker(pickerSeed(worker_index_, ++generation_));
}

balance::Picker& PickerSet::get(const std::shared_ptr<const Cluster>& cluster) {
  Entry& e = entries_[cluster->pool_state.get()];
  if (e.cluster == cluster) {
    return *e.picker;
  }
  if (!e.picker) {
    e.picker = make(*cluster);
    e.cluster = cluster;
    return *e.picker;
  }
  if (cluster->generation > e.cluster->generation) {
    // Pickers point into their balancer: move the picker before letting the old cluster go.
    if (cluster->balancer != e.cluster->balancer && !e.picker->rebase(*cluster->balancer)) {
      e.picker = make(*cluster);
    }
    e.cluster = cluster;
    return *e.picker;
  }
  // An older snapshot: the same servers at the same indices can share the pool's picker.
  if (cluster->layout == e.cluster->layout) {
    return *e.picker;
  }
  if (e.old_cluster != cluster) {
    e.old_picker = make(*cluster);
    e.old_cluster = cluster;
  }
  return *e.old_picker;
}

}  // namespace fulcrum::upstream
