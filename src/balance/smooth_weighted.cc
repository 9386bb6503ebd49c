// round_robin and weighted_round_robin: NGINX's smooth weighted round robin from a precomputed
// schedule. With equal weights the schedule is plain rotation, so both names behave the same;
// round_robin honours weights too (as NGINX and Envoy do) so that slow start works with it.
#include <algorithm>
#include <array>

#include "balance/balancer_factories.h"
#include "balance/host_tiers.h"
#include "balance/smooth_schedule.h"

namespace fulcrum::balance {
namespace {

// Schedule entries tried before the exact fallback; enough unless most weight is unusable.
constexpr size_t kMaxScheduleSteps = 64;

class SmoothWeightedBalancer : public Balancer {
 public:
  explicit SmoothWeightedBalancer(std::vector<HostSpec> hosts) : Balancer(std::move(hosts)) {
    tiers_ = splitTiers(this->hosts());
    for (size_t t = 0; t < tiers_.size(); ++t) {
      schedules_[t] = smoothSchedule(tiers_[t].weights);
    }
  }
  std::unique_ptr<Picker> makePicker(uint64_t seed) const override;

  Tiers tiers_;
  std::array<std::vector<uint32_t>, 2> schedules_;
};

class SmoothWeightedPicker : public Picker {
 public:
  SmoothWeightedPicker(const SmoothWeightedBalancer& balancer, uint64_t seed) : balancer_(&balancer) {
    for (size_t t = 0; t < cursors_.size(); ++t) {
      const size_t period = balancer.schedules_[t].size();
      cursors_[t] = period == 0 ? 0 : seed % period;
    }
  }

  std::optional<size_t> pick(const PickRequest& request) override {
    const Eligibility eligible(request);
    return pickByTier(balancer_->tiers_, [&](size_t tier) { return pickIn(tier, eligible); });
  }

  // The rotation goes on where it was: after the host visited last, found in the new schedule.
  bool rebase(const Balancer& next) override {
    const auto* to = dynamic_cast<const SmoothWeightedBalancer*>(&next);
    if (to == nullptr) {
      return false;
    }
    const std::vector<int32_t> moved = mapHosts(*balancer_, *to);
    for (size_t t = 0; t < cursors_.size(); ++t) {
      cursors_[t] = movedScheduleCursor(balancer_->tiers_[t], balancer_->schedules_[t], cursors_[t], to->tiers_[t],
                                        to->schedules_[t], moved);
    }
    balancer_ = to;
    return true;
  }

 private:
  static size_t movedScheduleCursor(const HostGroup& from, const std::vector<uint32_t>& from_schedule, size_t cursor,
                                    const HostGroup& to, const std::vector<uint32_t>& to_schedule,
                                    const std::vector<int32_t>& moved) {
    if (to_schedule.empty()) {
      return 0;
    }
    const size_t n = from_schedule.size();
    auto firstIn = [&](uint32_t position) {
      return static_cast<size_t>(std::find(to_schedule.begin(), to_schedule.end(), position) - to_schedule.begin());
    };
    if (n != 0) {
      if (auto position = movedPosition(from, from_schedule[(cursor + n - 1) % n], to, moved)) {
        return (firstIn(*position) + 1) % to_schedule.size();
      }
      // The last one is gone: the first that is left of those that were to come.
      for (size_t step = 0; step < n; ++step) {
        if (auto position = movedPosition(from, from_schedule[(cursor + step) % n], to, moved)) {
          return firstIn(*position);
        }
      }
    }
    return cursor % to_schedule.size();
  }

  std::optional<uint32_t> pickIn(size_t tier, const Eligibility& eligible) {
    const HostGroup& group = balancer_->tiers_[tier];
    const std::vector<uint32_t>& schedule = balancer_->schedules_[tier];
    size_t& cursor = cursors_[tier];
    const size_t steps = std::min(schedule.size(), kMaxScheduleSteps);
    for (size_t step = 0; step < steps; ++step) {
      const uint32_t position = schedule[cursor];
      if (++cursor == schedule.size()) {
        cursor = 0;
      }
      if (eligible(group.hosts[position])) {
        return position;
      }
    }
    if (steps == schedule.size()) {
      return std::nullopt;  // the whole period was tried
    }
    // Most of the weight is unusable: rotate over the hosts instead.
    for (size_t step = 0; step < group.size(); ++step) {
      const size_t position = (fallback_ + step) % group.size();
      if (eligible(group.hosts[position])) {
        fallback_ = position + 1;
        return static_cast<uint32_t>(position);
      }
    }
    return std::nullopt;
  }

  const SmoothWeightedBalancer* balancer_;
  std::array<size_t, 2> cursors_{};
  size_t fallback_ = 0;
};

std::unique_ptr<Picker> SmoothWeightedBalancer::makePicker(uint64_t seed) const {
  return std::make_unique<SmoothWeightedPicker>(*this, seed);
}

}  // namespace

std::unique_ptr<const Balancer> makeSmoothWeightedBalancer(std::vector<HostSpec> hosts) {
  return std::make_unique<SmoothWeightedBalancer>(std::move(hosts));
}

}  // namespace fulcrum::balance
