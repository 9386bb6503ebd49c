#include "balance/balancer.h"

#include <xxhash.h>

#include "balance/balancer_factories.h"

namespace fulcrum::balance {

namespace {
constexpr uint64_t kKeySeed = 0x66756c6372756d31ULL;  // fixed forever: keys must hash alike everywhere
}  // namespace

uint64_t hashKey(std::string_view bytes) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), kKeySeed);
}

std::unique_ptr<const Balancer> Balancer::create(const BalancerOptions& options,
                                                 std::vector<HostSpec> hosts) {
  return balancerFactory(options.algorithm)(options, std::move(hosts));
}

}  // namespace fulcrum::balance
