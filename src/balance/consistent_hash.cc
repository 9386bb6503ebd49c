// consistent_hash: a ring of virtual nodes (HashRing), looked up with multi-probe consistent
// hashing (Appleton & O'Reilly, 2015): the key is hashed kProbes times and goes to the ring
// point closest after any probe. With V points per host the per-host load spread shrinks from
// ~1/sqrt(V) (one probe) to ~0.45/sqrt(V) (three), for the same memory, and a key still only
// moves when its winning point comes or goes, so adding or removing one of N hosts remaps
// ~1/N of keys. An ineligible owner passes the key to the next ring point clockwise.
#include <algorithm>
#include <array>

#include "balance/balancer_factories.h"
#include "balance/hash_ring.h"
#include "balance/host_tiers.h"
#include "balance/stateless_picker.h"

namespace fulcrum::balance {
namespace {

constexpr size_t kProbes = 3;
// Ring steps tried before the exact rendezvous fallback (many hosts ineligible).
constexpr size_t kMaxWalk = 64;

class ConsistentHashBalancer : public Balancer {
 public:
  ConsistentHashBalancer(std::vector<HostSpec> hosts, uint32_t vnodes_per_weight)
      : Balancer(std::move(hosts)) {
    tiers_ = splitTiers(this->hosts());
    for (size_t t = 0; t < tiers_.size(); ++t) {
      rings_[t] = HashRing(tiers_[t], this->hosts(), vnodes_per_weight);
    }
  }
  std::unique_ptr<Picker> makePicker(uint64_t seed) const override;

  std::optional<size_t> choose(const PickRequest& request) const {
    const Eligibility eligible(request);
    return pickByTier(tiers_, [&](size_t tier) { return pickIn(tier, eligible, request.hash); });
  }

 private:
  std::optional<uint32_t> pickIn(size_t tier, const Eligibility& eligible, uint64_t key) const {
    const HashRing& ring = rings_[tier];
    std::array<uint64_t, kProbes> probes;
    probes[0] = key;
    for (size_t p = 1; p < kProbes; ++p) {
      probes[p] = mix64(key + p * 0x9e3779b97f4a7c15ULL);
    }
    const std::array<size_t, kProbes> found = ring.successors(probes);
    size_t index = found[0];
    uint64_t distance = ring.point(index) - key;  // unsigned wrap-around is the clockwise distance
    for (size_t p = 1; p < kProbes; ++p) {
      const uint64_t d = ring.point(found[p]) - probes[p];
      if (d < distance) {
        index = found[p];
        distance = d;
      }
    }
    const size_t steps = std::min(ring.size(), kMaxWalk);
    for (size_t step = 0; step < steps; ++step) {
      const uint32_t position = ring.owner(index);
      if (eligible(tiers_[tier].hosts[position])) {
        return position;
      }
      if (++index == ring.size()) {
        index = 0;
      }
    }
    return rendezvousScan(tiers_[tier], eligible, key);
  }

  Tiers tiers_;
  std::array<HashRing, 2> rings_;
};


std::unique_ptr<Picker> ConsistentHashBalancer::makePicker(uint64_t) const {
  return std::make_unique<StatelessPicker<ConsistentHashBalancer>>(*this);
}

}  // namespace

std::unique_ptr<const Balancer> makeConsistentHashBalancer(std::vector<HostSpec> hosts,
                                                           uint32_t vnodes_per_weight) {
  return std::make_unique<ConsistentHashBalancer>(std::move(hosts), vnodes_per_weight);
}

}  // namespace fulcrum::balance
