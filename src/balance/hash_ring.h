#pragma once
// Consistent-hash ring of virtual nodes (ketama style) with an O(1) bucket index over it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "balance/balancer.h"
#include "balance/host_tiers.h"

namespace fulcrum::balance {

class HashRing {
 public:
  HashRing() = default;
  // Host g gets vnodes_per_weight x weight points at XXH3(id, seed = replica). When the ring
  // would exceed kMaxPoints every count is halved (power-of-two steps, each host keeps >= 1)
  // so small weight changes keep the same points.
  HashRing(const HostGroup& group, const std::vector<HostSpec>& hosts, uint32_t vnodes_per_weight);

  static constexpr size_t kMaxPoints = size_t{1} << 20;
  // A point keeps its top 40 bits and carries its owner in the low 24: one load per probe
  // instead of two. Plenty for both: 2^-40 of the ring, 16M hosts.
  static constexpr unsigned kOwnerBits = 24;
  static constexpr uint64_t kOwnerMask = (uint64_t{1} << kOwnerBits) - 1;

  // Index of the first point at or after `hash`, wrapping to 0. The ring must not be empty.
  size_t successor(uint64_t hash) const { return successors(std::array<uint64_t, 1>{hash})[0]; }

  // successor() of several hashes at once. Every probe's loads are issued before any is used,
  // so on a ring larger than the cache the misses overlap instead of queueing.
  template <size_t N>
  std::array<size_t, N> successors(const std::array<uint64_t, N>& hashes) const {
    std::array<size_t, N> index;
    for (size_t p = 0; p < N; ++p) {
      index[p] = buckets_[hashes[p] >> shift_];
      __builtin_prefetch(entries_.data() + index[p]);
    }
    for (size_t p = 0; p < N; ++p) {
      // Entries past the bucket (and the padding) are >= target, so counting the smaller ones
      // in a fixed window finds the successor without a data-dependent branch.
      const uint64_t target = hashes[p] & ~kOwnerMask;
      const uint64_t* e = entries_.data() + index[p];
      size_t below = 0;
      for (size_t k = 0; k < kPadding; ++k) {
        below += e[k] < target ? 1 : 0;
      }
      index[p] += below;
      if (below == kPadding) {  // a crowded bucket: rare
        while (index[p] < size_ && entries_[index[p]] < target) {
          ++index[p];
        }
      }
      index[p] = index[p] >= size_ ? 0 : index[p];
    }
    return index;
  }
  uint64_t point(size_t index) const { return entries_[index] & ~kOwnerMask; }
  uint32_t owner(size_t index) const { return static_cast<uint32_t>(entries_[index] & kOwnerMask); }
  size_t size() const { return size_; }

 private:
  static constexpr size_t kPadding = 8;

  size_t size_ = 0;
  std::vector<uint64_t> entries_;  // point | owner (position in the group), sorted, then padding
  std::vector<uint32_t> buckets_;  // first entry >= (k << shift_), k in [0, 2^bits]
  unsigned shift_ = 63;
};

}  // namespace fulcrum::balance
