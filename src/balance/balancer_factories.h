#pragma once
// Internal: one constructor per algorithm family, dispatched from Balancer::create().
#include <memory>
#include <vector>

#include "balance/balancer.h"

namespace fulcrum::balance {

std::unique_ptr<const Balancer> makeSmoothWeightedBalancer(std::vector<HostSpec> hosts);
std::unique_ptr<const Balancer> makeLeastConnectionsBalancer(std::vector<HostSpec> hosts);
std::unique_ptr<const Balancer> makeLeastResponseTimeBalancer(std::vector<HostSpec> hosts,
                                                              double decay_seconds);
std::unique_ptr<const Balancer> makeRandomBalancer(std::vector<HostSpec> hosts, bool two_choices);
std::unique_ptr<const Balancer> makeIpHashBalancer(std::vector<HostSpec> hosts);
std::unique_ptr<const Balancer> makeConsistentHashBalancer(std::vector<HostSpec> hosts,
                                                           uint32_t vnodes_per_weight);
std::unique_ptr<const Balancer> makeMaglevBalancer(std::vector<HostSpec> hosts, uint32_t table_size);

}  // namespace fulcrum::balance
