// least_response_time: peak-EWMA (Finagle/Linkerd). Each worker's picker keeps, per host, a
// latency estimate fed by observe(): a sample above the estimate replaces it at once (peak
// sensitive), a lower one is blended in with a weight that grows with the time since the last
// update. Reads decay the estimate towards zero with the same time constant, so a host that
// was slow once and then went idle looks cheap again after a few time constants and is
// probed; one slow answer puts it straight back. Time only comes from the `now` values the
// caller passes.
//
// Cost = estimate x (active + 1) / weight; two weighted random candidates, the cheaper wins.
// Sampling (not a global argmin) keeps one fast host from being stampeded and makes the share
// follow the effective weight when costs are equal.
#include <algorithm>
#include <array>
#include <cmath>

#include "balance/alias_table.h"
#include "balance/balancer_factories.h"
#include "balance/host_tiers.h"

namespace fulcrum::balance {
namespace {

constexpr size_t kChoices = 2;
constexpr size_t kSampleAttempts = 12;
// Weight of each sample in the all-hosts mean that stands in for hosts never measured.
constexpr double kMeanAlpha = 0.1;

class LeastResponseTimeBalancer : public Balancer {
 public:
  LeastResponseTimeBalancer(std::vector<HostSpec> hosts, double decay_seconds)
      : Balancer(std::move(hosts)), decay_seconds_(decay_seconds > 0 ? decay_seconds : 10.0) {
    tiers_ = splitTiers(this->hosts());
    samplers_ = tierSamplers(tiers_);
  }
  std::unique_ptr<Picker> makePicker(uint64_t seed) const override;

  const double decay_seconds_;
  Tiers tiers_;
  std::array<AliasTable, 2> samplers_;
};

class LeastResponseTimePicker : public Picker {
 public:
  LeastResponseTimePicker(const LeastResponseTimeBalancer& balancer, uint64_t seed)
      : balancer_(&balancer), rng_(seed), estimates_(balancer.size()) {}

  std::optional<size_t> pick(const PickRequest& request) override {
    const Eligibility eligible(request);
    return pickByTier(balancer_->tiers_, [&](size_t tier) { return pickIn(tier, eligible, request.now); });
  }

  // Estimates follow their hosts to their new indices; new hosts start unknown (the mean
  // stands in); the all-hosts mean and the PRNG go on.
  bool rebase(const Balancer& next) override {
    const auto* to = dynamic_cast<const LeastResponseTimeBalancer*>(&next);
    if (to == nullptr) {
      return false;
    }
    const std::vector<int32_t> moved = mapHosts(*balancer_, *to);
    std::vector<Estimate> estimates(to->size());
    for (size_t i = 0; i < moved.size(); ++i) {
      if (moved[i] >= 0) {
        estimates[static_cast<size_t>(moved[i])] = estimates_[i];
      }
    }
    estimates_ = std::move(estimates);
    balancer_ = to;
    return true;
  }

  void observe(size_t host, double latency, double now) override {
    if (host >= estimates_.size() || !(latency >= 0)) {
      return;
    }
    Estimate& e = estimates_[host];
    if (!e.known || latency > e.value) {
      e.value = latency;
      e.known = true;
    } else {
      const double kept = decayFactor(now - e.stamp);
      e.value = e.value * kept + latency * (1 - kept);
    }
    e.stamp = now;
    mean_ = have_mean_ ? mean_ + kMeanAlpha * (latency - mean_) : latency;
    have_mean_ = true;
  }

 private:
  struct Estimate {
    double value = 0;
    double stamp = 0;
    bool known = false;
  };

  double decayFactor(double elapsed) const {
    return elapsed > 0 ? std::exp(-elapsed / balancer_->decay_seconds_) : 1.0;
  }

  double latency(uint32_t host, const Eligibility& eligible, double now) const {
    const Estimate& e = estimates_[host];
    if (e.known) {
      return e.value * decayFactor(now - e.stamp);
    }
    const double shared = eligible.latency(host);  // another worker's view, if the caller has one
    return shared > 0 ? shared : mean_;
  }

  std::optional<uint32_t> pickIn(size_t tier, const Eligibility& eligible, double now) {
    const HostGroup& group = balancer_->tiers_[tier];
    std::optional<uint32_t> best;
    double best_cost = 0;
    size_t found = 0;
    const size_t wanted = std::min(kChoices, group.size());
    for (size_t attempt = 0; attempt < kSampleAttempts && found < wanted; ++attempt) {
      const uint32_t position = balancer_->samplers_[tier].sample(rng_);
      const uint32_t host = group.hosts[position];
      if (position == best || !eligible(host)) {  // a repeat draw is not a second choice
        continue;
      }
      ++found;
      const double cost =
          latency(host, eligible, now) * (eligible.active(host) + 1.0) / group.weights[position];
      if (!best || cost < best_cost) {
        best = position;
        best_cost = cost;
      }
    }
    if (best) {
      return best;
    }
    return weightedScan(group, eligible, rng_);  // most weight unusable: any eligible host
  }

  const LeastResponseTimeBalancer* balancer_;
  Prng rng_;
  std::vector<Estimate> estimates_;  // by host index
  double mean_ = 0;
  bool have_mean_ = false;
};

std::unique_ptr<Picker> LeastResponseTimeBalancer::makePicker(uint64_t seed) const {
  return std::make_unique<LeastResponseTimePicker>(*this, seed);
}

}  // namespace

std::unique_ptr<const Balancer> makeLeastResponseTimeBalancer(std::vector<HostSpec> hosts,
                                                              double decay_seconds) {
  return std::make_unique<LeastResponseTimeBalancer>(std::move(hosts), decay_seconds);
}

}  // namespace fulcrum::balance
