// least_connections: the host with the least (active + 1) / weight, i.e. the least loaded once
// this connection is added (HAProxy's weighted leastconn). Counting the new connection makes a
// run of picks apportion connections exactly by weight, so a slow-starting host with a small
// effective weight gets its small share instead of every new connection.
//
// Small tiers are scanned exactly, ties going to the next host in rotation. Large tiers use
// power-of-k choices over the shared counts (weighted samples, best of kChoices): O(1), no
// shared mutable state beyond the caller's relaxed atomics. See docs/algorithms.md.
#include <array>

#include "balance/alias_table.h"
#include "balance/balancer_factories.h"
#include "balance/host_tiers.h"

namespace fulcrum::balance {
namespace {

constexpr size_t kExactScanMax = 8;
constexpr size_t kChoices = 4;
constexpr size_t kSampleAttempts = 4 * kChoices;

class LeastConnectionsBalancer : public Balancer {
 public:
  explicit LeastConnectionsBalancer(std::vector<HostSpec> hosts) : Balancer(std::move(hosts)) {
    tiers_ = splitTiers(this->hosts());
    samplers_ = tierSamplers(tiers_);
  }
  std::unique_ptr<Picker> makePicker(uint64_t seed) const override;

  Tiers tiers_;
  std::array<AliasTable, 2> samplers_;
};

class LeastConnectionsPicker : public Picker {
 public:
  LeastConnectionsPicker(const LeastConnectionsBalancer& balancer, uint64_t seed)
      : balancer_(&balancer), rng_(seed) {
    for (size_t t = 0; t < cursors_.size(); ++t) {
      const size_t n = balancer.tiers_[t].size();
      cursors_[t] = n == 0 ? 0 : seed % n;
    }
  }

  std::optional<size_t> pick(const PickRequest& request) override {
    const Eligibility eligible(request);
    return pickByTier(balancer_->tiers_, [&](size_t tier) { return pickIn(tier, eligible); });
  }

  // Ties keep going round from where they were; the PRNG goes on.
  bool rebase(const Balancer& next) override {
    const auto* to = dynamic_cast<const LeastConnectionsBalancer*>(&next);
    if (to == nullptr) {
      return false;
    }
    const std::vector<int32_t> moved = mapHosts(*balancer_, *to);
    for (size_t t = 0; t < cursors_.size(); ++t) {
      cursors_[t] = movedCursor(balancer_->tiers_[t], cursors_[t], to->tiers_[t], moved);
    }
    balancer_ = to;
    return true;
  }

 private:
  std::optional<uint32_t> pickIn(size_t tier, const Eligibility& eligible) {
    const HostGroup& group = balancer_->tiers_[tier];
    if (group.size() > kExactScanMax) {
      if (auto sampled = pickSampled(tier, eligible)) {
        return sampled;
      }
    }
    size_t& cursor = cursors_[tier];
    const std::optional<uint32_t> best = leastLoadedScan(group, eligible, cursor, 1);
    if (best) {
      cursor = *best + 1 == group.size() ? 0 : *best + 1;
    }
    return best;
  }

  std::optional<uint32_t> pickSampled(size_t tier, const Eligibility& eligible) {
    const HostGroup& group = balancer_->tiers_[tier];
    std::optional<uint32_t> best;
    uint64_t best_load = 0;
    size_t found = 0;
    for (size_t attempt = 0; attempt < kSampleAttempts && found < kChoices; ++attempt) {
      const uint32_t position = balancer_->samplers_[tier].sample(rng_);
      const uint32_t host = group.hosts[position];
      if (position == best || !eligible(host)) {  // a repeat draw is not a second choice
        continue;
      }
      ++found;
      const uint64_t load = uint64_t{eligible.active(host)} + 1;
      if (!best || lessLoaded(load, group.weights[position], best_load, group.weights[*best])) {
        best = position;
        best_load = load;
      }
    }
    return best;  // nullopt: mostly unusable, the caller falls back to the exact scan
  }

  const LeastConnectionsBalancer* balancer_;
  Prng rng_;
  std::array<size_t, 2> cursors_{};
};

std::unique_ptr<Picker> LeastConnectionsBalancer::makePicker(uint64_t seed) const {
  return std::make_unique<LeastConnectionsPicker>(*this, seed);
}

}  // namespace

std::unique_ptr<const Balancer> makeLeastConnectionsBalancer(std::vector<HostSpec> hosts) {
  return std::make_unique<LeastConnectionsBalancer>(std::move(hosts));
}

}  // namespace fulcrum::balance
