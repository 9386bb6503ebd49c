#include "balance/algorithm.h"

#include <iterator>
#include <string_view>
#include <utility>

#include "balance/balancer.h"
#include "balance/balancer_factories.h"

namespace fulcrum::balance {
namespace {

struct Registration {
  std::string_view name;  // as in common/algorithm.h
  BalancerFactory make;
};

// One row per algorithm, in the order of common/algorithm.h.
constexpr Registration kRegistry[] = {
    {"round_robin",
     [](const BalancerOptions&, std::vector<HostSpec> hosts) { return makeSmoothWeightedBalancer(std::move(hosts)); }},
    {"weighted_round_robin",
     [](const BalancerOptions&, std::vector<HostSpec> hosts) { return makeSmoothWeightedBalancer(std::move(hosts)); }},
    {"least_connections", [](const BalancerOptions&,
                             std::vector<HostSpec> hosts) { return makeLeastConnectionsBalancer(std::move(hosts)); }},
    {"least_response_time",
     [](const BalancerOptions& o, std::vector<HostSpec> hosts) {
       return makeLeastResponseTimeBalancer(std::move(hosts), o.latency_decay_seconds);
     }},
    {"random",
     [](const BalancerOptions&, std::vector<HostSpec> hosts) { return makeRandomBalancer(std::move(hosts), false); }},
    {"random_two_choices",
     [](const BalancerOptions&, std::vector<HostSpec> hosts) { return makeRandomBalancer(std::move(hosts), true); }},
    {"ip_hash",
     [](const BalancerOptions&, std::vector<HostSpec> hosts) { return makeIpHashBalancer(std::move(hosts)); }},
    {"consistent_hash",
     [](const BalancerOptions& o, std::vector<HostSpec> hosts) {
       return makeConsistentHashBalancer(std::move(hosts), o.vnodes_per_weight);
     }},
    {"maglev", [](const BalancerOptions& o,
                  std::vector<HostSpec> hosts) { return makeMaglevBalancer(std::move(hosts), o.maglev_table_size); }},
};

constexpr bool registryMatchesTheList() {
  if (std::size(kRegistry) != kAlgorithmNames.size()) {
    return false;
  }
  for (size_t i = 0; i < kAlgorithmNames.size(); ++i) {
    if (kRegistry[i].name != kAlgorithmNames[i]) {
      return false;
    }
  }
  return true;
}
static_assert(registryMatchesTheList(), "one row per algorithm of common/algorithm.h, in its order");

}  // namespace

BalancerFactory balancerFactory(Algorithm algorithm) {
  auto i = static_cast<size_t>(algorithm);
  return kRegistry[i < std::size(kRegistry) ? i : 0].make;
}

}  // namespace fulcrum::balance
