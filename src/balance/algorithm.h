#pragma once
// The registry of balancing algorithms: every algorithm of the one list (common/algorithm.h,
// which config reads too) with the factory that builds its Balancer. Balancer::create() looks
// the factory up here; nothing else switches on the algorithm.
#include <memory>
#include <vector>

#include "common/algorithm.h"

namespace fulcrum::balance {

struct BalancerOptions;
struct HostSpec;
class Balancer;

using BalancerFactory = std::unique_ptr<const Balancer> (*)(const BalancerOptions& options,
                                                            std::vector<HostSpec> hosts);

// The factory of `algorithm`; never null (the registry lists every algorithm, checked at
// compile time).
BalancerFactory balancerFactory(Algorithm algorithm);

}  // namespace fulcrum::balance
