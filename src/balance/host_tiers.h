#pragma once
// What every algorithm shares: the split of a pool into primary and backup tiers, the
// per-request eligibility test, and the exact O(n) fallbacks used when a fast path (sampling,
// schedule walk, rehash) finds nothing eligible within its bounded number of tries.
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "balance/balancer.h"
#include "balance/prng.h"

namespace fulcrum::balance {

// The hosts of one tier that have non-zero weight. Algorithms work with positions in a group;
// `hosts[position]` maps back to the index in Balancer::hosts().
struct HostGroup {
  std::vector<uint32_t> hosts;
  std::vector<uint32_t> weights;
  std::vector<uint64_t> id_hashes;  // hashKey(id): deterministic identity for rendezvous
  uint64_t total_weight = 0;
  bool uniform = true;  // all weights equal

  size_t size() const { return hosts.size(); }
  bool empty() const { return hosts.empty(); }
};

// [0] primaries, [1] backups. Weight-0 hosts are in neither: they are never picked.
using Tiers = std::array<HostGroup, 2>;
Tiers splitTiers(const std::vector<HostSpec>& hosts);

// For Picker::rebase(): the position in `to` of the host at `position` in `from`, given
// `moved` = mapHosts() of their balancers; nullopt when the host is gone or changed tier.
std::optional<uint32_t> movedPosition(const HostGroup& from, size_t position, const HostGroup& to,
                                      const std::vector<int32_t>& moved);
// For Picker::rebase() of a rotation whose next position is `cursor` in `from`: the position
// in `to` that continues it (after the host picked last; if that one is gone, the next one
// left), or the cursor wrapped to the new size when no host is left.
size_t movedCursor(const HostGroup& from, size_t cursor, const HostGroup& to, const std::vector<int32_t>& moved);

// Whether a host may take this request: usable and not already tried.
class Eligibility {
 public:
  explicit Eligibility(const PickRequest& request) : load_(request.load), exclude_(request.exclude) {}

  bool operator()(uint32_t host) const {
    if (exclude_ != nullptr && host < exclude_->size() && (*exclude_)[host]) {
      return false;
    }
    return load_ == nullptr || load_->usable(host);
  }
  uint32_t active(uint32_t host) const { return load_ == nullptr ? 0 : load_->active(host); }
  double latency(uint32_t host) const { return load_ == nullptr ? 0.0 : load_->latencyEwma(host); }

 private:
  const HostLoad* load_;
  const std::vector<bool>* exclude_;
};

// Primaries first; backups only when pickIn found no eligible primary. pickIn(tier) returns a
// position in tiers[tier].
template <class PickIn>
std::optional<size_t> pickByTier(const Tiers& tiers, PickIn&& pickIn) {
  for (size_t tier = 0; tier < tiers.size(); ++tier) {
    if (tiers[tier].empty()) {
      continue;
    }
    if (std::optional<uint32_t> position = pickIn(tier)) {
      return tiers[tier].hosts[*position];
    }
  }
  return std::nullopt;
}

// active_a / weight_a < active_b / weight_b, exactly (both products fit in 64 bits).
inline bool lessLoaded(uint64_t active_a, uint64_t weight_a, uint64_t active_b, uint64_t weight_b) {
  return active_a * weight_b < active_b * weight_a;
}

// Exact least (active + bias) / weight over the eligible hosts, scanning from `start` so that
// ties go to the first in rotation order.
std::optional<uint32_t> leastLoadedScan(const HostGroup& group, const Eligibility& eligible, size_t start,
                                        uint32_t bias);
// Weighted random choice among the eligible hosts (two passes).
std::optional<uint32_t> weightedScan(const HostGroup& group, const Eligibility& eligible, Prng& rng);
// Deterministic per key: the eligible host with the highest mix(key, id hash) (rendezvous).
std::optional<uint32_t> rendezvousScan(const HostGroup& group, const Eligibility& eligible, uint64_t key);

}  // namespace fulcrum::balance
