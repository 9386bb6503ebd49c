#include "balance/hash_ring.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>

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
  entries_.reserve(std::min<uint64_t>(total, 2 * kMaxPoints) + kPadding);
  for (size_t g = 0; g < group.size(); ++g) {
    const std::string& id = hosts[group.hosts[g]].id;
    const uint64_t count =
        std::max<uint64_t>(1, (uint64_t{group.weights[g]} * vnodes_per_weight) >> halvings);
    for (uint64_t replica = 0; replica < count; ++replica) {
      entries_.push_back((XXH3_64bits_withSeed(id.data(), id.size(), replica) & ~kOwnerMask) | g);
    }
  }
  std::sort(entries_.begin(), entries_.end());  // equal points order by owner: deterministic
  // 2-4 points per bucket: the scan stays within a cache line and the index stays small enough
  // to live in cache (256 KB for 1,000 hosts of weight 1).
  const unsigned bits = std::clamp<int>(std::bit_width(entries_.size()) - 2, 1, 24);
  shift_ = 64 - bits;
  buckets_.resize((size_t{1} << bits) + 1);
  size_t index = 0;
  for (size_t k = 0; k + 1 < buckets_.size(); ++k) {
    const uint64_t start = uint64_t{k} << shift_;
    while (index < entries_.size() && entries_[index] < start) {
      ++index;
    }
    buckets_[k] = static_cast<uint32_t>(index);
  }
  buckets_.back() = static_cast<uint32_t>(entries_.size());
  size_ = entries_.size();
  entries_.resize(size_ + kPadding, ~uint64_t{0});
}

}  // namespace fulcrum::balance
