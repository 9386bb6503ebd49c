// ip_hash: the client key picks a slot in [0, total weight) and the host owning that slot
// serves it (binary search over cumulative weights; O(1) with equal weights). Keys stay put
// while the host list does, but unlike consistent_hash/maglev adding a host remaps most keys.
// An ineligible host sends the key to a rehashed slot (as NGINX does, up to 20 times), then to
// a rendezvous choice among the eligible hosts: deterministic for a given key and state.
#include <algorithm>
#include <array>

#include "balance/balancer_factories.h"
#include "balance/host_tiers.h"
#include "balance/stateless_picker.h"

namespace fulcrum::balance {
namespace {

constexpr uint64_t kRehashAttempts = 20;

// The first position whose cumulative weight exceeds `slot`: a branch-free binary search, which
// beats std::upper_bound here because the branches on random keys are unpredictable.
uint32_t owningPosition(const std::vector<uint64_t>& cumulative, uint64_t slot) {
  const uint64_t* base = cumulative.data();
  size_t n = cumulative.size();
  while (n > 1) {
    const size_t half = n / 2;
    base = base[half - 1] <= slot ? base + half : base;
    n -= half;
  }
  return static_cast<uint32_t>(base - cumulative.data()) + (*base <= slot ? 1 : 0);
}

class IpHashBalancer : public Balancer {
 public:
  explicit IpHashBalancer(std::vector<HostSpec> hosts) : Balancer(std::move(hosts)) {
    tiers_ = splitTiers(this->hosts());
    for (size_t t = 0; t < tiers_.size(); ++t) {
      uint64_t sum = 0;
      for (uint32_t w : tiers_[t].weights) {
        sum += w;
        cumulative_[t].push_back(sum);
      }
    }
  }

  std::unique_ptr<Picker> makePicker(uint64_t seed) const override;

  // Stateless, so pickers only forward here.
  std::optional<size_t> choose(const PickRequest& request) const {
    const Eligibility eligible(request);
    return pickByTier(tiers_, [&](size_t tier) { return pickIn(tier, eligible, request.hash); });
  }

 private:
  std::optional<uint32_t> pickIn(size_t tier, const Eligibility& eligible, uint64_t key) const {
    const HostGroup& group = tiers_[tier];
    const std::vector<uint64_t>& cumulative = cumulative_[tier];
    for (uint64_t attempt = 0; attempt < kRehashAttempts; ++attempt) {
      const uint64_t h = mix64(key + attempt * 0x9e3779b97f4a7c15ULL);
      uint32_t position;
      if (group.uniform) {
        position = static_cast<uint32_t>(fastRange(h, group.size()));
      } else {
        position = owningPosition(cumulative, fastRange(h, group.total_weight));
      }
      if (eligible(group.hosts[position])) {
        return position;
      }
    }
    return rendezvousScan(group, eligible, key);
  }

  Tiers tiers_;
  std::array<std::vector<uint64_t>, 2> cumulative_;
};


std::unique_ptr<Picker> IpHashBalancer::makePicker(uint64_t) const {
  return std::make_unique<StatelessPicker<IpHashBalancer>>(*this);
}

}  // namespace

std::unique_ptr<const Balancer> makeIpHashBalancer(std::vector<HostSpec> hosts) {
  return std::make_unique<IpHashBalancer>(std::move(hosts));
}

}  // namespace fulcrum::balance
