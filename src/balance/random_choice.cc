// random: one weighted sample (alias table, O(1)).
// random_two_choices: two weighted samples, keep the less loaded by active / weight; a tie
// keeps the first draw, so with equal normalised load the share still follows weight.
#include <algorithm>
#include <array>

#include "balance/alias_table.h"
#include "balance/balancer_factories.h"
#include "balance/host_tiers.h"

namespace fulcrum::balance {
namespace {

// Draws before falling back to an exact scan; only reached when most weight is unusable.
constexpr size_t kSampleAttempts = 12;

class RandomBalancer : public Balancer {
 public:
  RandomBalancer(std::vector<HostSpec> hosts, bool two_choices)
      : Balancer(std::move(hosts)), choices_(two_choices ? 2 : 1) {
    tiers_ = splitTiers(this->hosts());
    samplers_ = tierSamplers(tiers_);
  }
  std::unique_ptr<Picker> makePicker(uint64_t seed) const override;

  const size_t choices_;
  Tiers tiers_;
  std::array<AliasTable, 2> samplers_;
};

class RandomPicker : public Picker {
 public:
  RandomPicker(const RandomBalancer& balancer, uint64_t seed) : balancer_(&balancer), rng_(seed) {}

  std::optional<size_t> pick(const PickRequest& request) override {
    const Eligibility eligible(request);
    return pickByTier(balancer_->tiers_, [&](size_t tier) { return pickIn(tier, eligible); });
  }

  // Nothing learnt but the PRNG's place; the choice count comes from the balancer.
  bool rebase(const Balancer& next) override {
    const auto* to = dynamic_cast<const RandomBalancer*>(&next);
    if (to == nullptr) {
      return false;
    }
    balancer_ = to;
    return true;
  }

 private:
  std::optional<uint32_t> pickIn(size_t tier, const Eligibility& eligible) {
    const HostGroup& group = balancer_->tiers_[tier];
    std::optional<uint32_t> best;
    uint64_t best_active = 0;
    size_t found = 0;
    const size_t wanted = std::min(balancer_->choices_, group.size());
    for (size_t attempt = 0; attempt < kSampleAttempts && found < wanted; ++attempt) {
      const uint32_t position = balancer_->samplers_[tier].sample(rng_);
      const uint32_t host = group.hosts[position];
      if (position == best || !eligible(host)) {  // a repeat draw is not a second choice
        continue;
      }
      ++found;
      if (balancer_->choices_ == 1) {
        return position;
      }
      const uint64_t active = eligible.active(host);
      if (!best || lessLoaded(active, group.weights[position], best_active, group.weights[*best])) {
        best = position;
        best_active = active;
      }
    }
    if (best) {
      return best;
    }
    if (balancer_->choices_ == 1) {
      return weightedScan(group, eligible, rng_);
    }
    return leastLoadedScan(group, eligible, rng_.below(group.size()), 0);
  }

  const RandomBalancer* balancer_;
  Prng rng_;
};

std::unique_ptr<Picker> RandomBalancer::makePicker(uint64_t seed) const {
  return std::make_unique<RandomPicker>(*this, seed);
}

}  // namespace

std::unique_ptr<const Balancer> makeRandomBalancer(std::vector<HostSpec> hosts, bool two_choices) {
  return std::make_unique<RandomBalancer>(std::move(hosts), two_choices);
}

}  // namespace fulcrum::balance
