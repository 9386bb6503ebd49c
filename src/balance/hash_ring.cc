#include "balance/hash_ring.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <utility>

namespace fulcrum::balance {

HashRing::HashRing(const HostGroup& group, const std::vector<HostSpec>& hosts, uint32_t vnodes_per_weight) {
  if (vnodes_per_weight == 0) {
    vnodes_per_weight = 160;
  }
  uint64_t total = 0;
  for (uint32_t w : group.weights) {
    total += uint64_t{w} * vnodes_per_weight;
  }
  unsigned halvings = 0;
  while ((total >> halvings) > kMaxPoints) {
    ++halvings;
  }
  std::vector<std::pair<uint64_t, uint32_t>> ring;
  ring.reserve(std::min<uint64_t>(total, 2 * kMaxPoints));
  for (size_t g = 0; g < group.size(); ++g) {
    const std::string& id = hosts[group.hosts[g]].id;
    const uint64_t count = std::max<uint64_t>(1, (uint64_t{group.weights[g]} * vnodes_per_weight) >> halvings);
    for (uint64_t replica = 0; replica < count; ++replica) {
      ring.emplace_back(XXH3_64bits_withSeed(id.data(), id.size(), replica), static_cast<uint32_t>(g));
    }
  }
  std::sort(ring.begin(), ring.end());  // ties on a point resolve by position: deterministic
  points_.reserve(ring.size());
  owners_.reserve(ring.size());
  for (const auto& [point, owner] : ring) {
    points_.push_back(point);
    owners_.push_back(owner);
  }
  // About one point per bucket keeps the scan in successor() to a step or two.
  const unsigned bits = std::clamp<unsigned>(std::bit_width(points_.size()), 1, 24);
  shift_ = 64 - bits;
  buckets_.resize((size_t{1} << bits) + 1);
  size_t index = 0;
  for (size_t k = 0; k + 1 < buckets_.size(); ++k) {
    const uint64_t start = uint64_t{k} << shift_;
    while (index < points_.size() && points_[index] < start) {
      ++index;
    }
    buckets_[k] = static_cast<uint32_t>(index);
  }
  buckets_.back() = static_cast<uint32_t>(points_.size());
}

}  // namespace fulcrum::balance
