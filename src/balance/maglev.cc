// maglev: one lookup in a prime-sized table (MaglevTable) per key. An ineligible entry sends
// the key to table[rehash(key, attempt)]: a deterministic per-key preference order that spreads
// a failed host's keys over the others in proportion to their entries and leaves every other
// key where it was.
#include <array>

#include "balance/balancer_factories.h"
#include "balance/host_tiers.h"
#include "balance/stateless_picker.h"
#include "balance/maglev_table.h"

namespace fulcrum::balance {
namespace {

constexpr uint64_t kRehashAttempts = 32;

class MaglevBalancer : public Balancer {
 public:
  MaglevBalancer(std::vector<HostSpec> hosts, uint32_t table_size) : Balancer(std::move(hosts)) {
    tiers_ = splitTiers(this->hosts());
    for (size_t t = 0; t < tiers_.size(); ++t) {
      if (!tiers_[t].empty()) {
        tables_[t] =
            buildMaglevTable(tiers_[t], this->hosts(), maglevTableSize(tiers_[t].size(), table_size));
      }
    }
  }
  std::unique_ptr<Picker> makePicker(uint64_t seed) const override;

  std::optional<size_t> choose(const PickRequest& request) const {
    const Eligibility eligible(request);
    return pickByTier(tiers_, [&](size_t tier) { return pickIn(tier, eligible, request.hash); });
  }

 private:
  std::optional<uint32_t> pickIn(size_t tier, const Eligibility& eligible, uint64_t key) const {
    const std::vector<uint32_t>& table = tables_[tier];
    for (uint64_t attempt = 0; attempt < kRehashAttempts; ++attempt) {
      const uint64_t h = attempt == 0 ? key : mix64(key + attempt * 0x9e3779b97f4a7c15ULL);
      const uint32_t position = table[fastRange(h, table.size())];
      if (eligible(tiers_[tier].hosts[position])) {
        return position;
      }
    }
    return rendezvousScan(tiers_[tier], eligible, key);
  }

  Tiers tiers_;
  std::array<std::vector<uint32_t>, 2> tables_;
};


std::unique_ptr<Picker> MaglevBalancer::makePicker(uint64_t) const {
  return std::make_unique<StatelessPicker<MaglevBalancer>>(*this);
}

}  // namespace

std::unique_ptr<const Balancer> makeMaglevBalancer(std::vector<HostSpec> hosts, uint32_t table_size) {
  return std::make_unique<MaglevBalancer>(std::move(hosts), table_size);
}

}  // namespace fulcrum::balance
