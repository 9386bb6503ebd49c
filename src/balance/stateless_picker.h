#pragma once
// The picker of a hash-based balancer (ip_hash, consistent_hash, maglev): the key decides,
// so a worker needs no state of its own and every pick goes to the shared table.
#include <optional>

#include "balance/balancer.h"

namespace fulcrum::balance {

template <class B>
class StatelessPicker final : public Picker {
 public:
  explicit StatelessPicker(const B& balancer) : balancer_(&balancer) {}
  std::optional<size_t> pick(const PickRequest& request) override { return balancer_->choose(request); }
  bool rebase(const Balancer& next) override {
    const auto* to = dynamic_cast<const B*>(&next);
    if (to == nullptr) {
      return false;
    }
    balancer_ = to;
    return true;
  }

 private:
  const B* balancer_;
};

}  // namespace fulcrum::balance
