#pragma once
// Consistent-hash ring of virtual nodes (ketama style) with an O(1) bucket index over it.
#include <array>
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

  // Index of the first point at or after `hash`, wrapping to 0. The ring must not be empty.
  size_t successor(uint64_t hash) const {
    size_t i = buckets_[hash >> shift_];
    const size_t end = buckets_[(hash >> shift_) + 1];
    while (i < end && points_[i] < hash) {
      ++i;
    }
    return i == points_.size() ? 0 : i;
  }
  // successor() of several hashes at once. Every probe's loads are issued before any is used,
  // so on a ring larger than the cache the misses overlap instead of queueing.
  template <size_t N>
  std::array<size_t, N> successors(const std::array<uint64_t, N>& hashes) const {
    std::array<size_t, N> index;
    std::array<size_t, N> end;
    for (size_t p = 0; p < N; ++p) {
      index[p] = buckets_[hashes[p] >> shift_];
      end[p] = buckets_[(hashes[p] >> shift_) + 1];
    }
    for (size_t p = 0; p < N; ++p) {
      __builtin_prefetch(points_.data() + index[p]);
    }
    for (size_t p = 0; p < N; ++p) {
      while (index[p] < end[p] && points_[index[p]] < hashes[p]) {
        ++index[p];
      }
      index[p] = index[p] == points_.size() ? 0 : index[p];
    }
    return index;
  }
  uint64_t point(size_t index) const { return points_[index]; }
  uint32_t owner(size_t index) const { return owners_[index]; }  // position in the group
  size_t size() const { return points_.size(); }

 private:
  std::vector<uint64_t> points_;   // sorted
  std::vector<uint32_t> owners_;   // parallel to points_
  std::vector<uint32_t> buckets_;  // first point >= (k << shift_), k in [0, 2^bits]
  unsigned shift_ = 63;
};

}  // namespace fulcrum::balance
