#include "http/filters/split_filter.h"

#include "http/runtime.h"

namespace fulcrum::http {

FilterStatus SplitFilter::onRequestHead(RequestState& s) const {
  const RouteTarget& t = *s.target;
  size_t pick = 0;
  if (t.clusters.size() > 1) {
    uint64_t r = (*s.rng)() % t.total_weight;
    while (r >= t.weights[pick]) {
      r -= t.weights[pick++];
    }
  }
  s.cluster_index = pick;
  s.cluster = t.clusters[pick].get();
  return FilterStatus::Continue;
}

}  // namespace fulcrum::http
