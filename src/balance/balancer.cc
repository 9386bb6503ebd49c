#include "balance/balancer.h"

#include <xxhash.h>

#include <unordered_map>

#include "balance/balancer_factories.h"

namespace fulcrum::balance {

namespace {
constexpr uint64_t kKeySeed = 0x66756c6372756d31ULL;  // fixed forever: keys must hash alike everywhere
}  // namespace

uint64_t hashKey(std::string_view bytes) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), kKeySeed);
}

std::vector<int32_t> mapHosts(const Balancer& from, const Balancer& to) {
  std::vector<int32_t> out(from.size(), -1);
  if (&from == &to) {
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<int32_t>(i);
    }
    return out;
  }
  std::unordered_map<std::string_view, int32_t> index;
  index.reserve(to.size());
  for (size_t i = 0; i < to.size(); ++i) {
    index.emplace(to.hosts()[i].id, static_cast<int32_t>(i));  // a repeated id keeps its first index
  }
  for (size_t i = 0; i < from.size(); ++i) {
    if (auto it = index.find(from.hosts()[i].id); it != index.end()) {
      out[i] = it->second;
    }
  }
  return out;
}

std::unique_ptr<const Balancer> Balancer::create(const BalancerOptions& options,
                                                 std::vector<HostSpec> hosts) {
  return balancerFactory(options.algorithm)(options, std::move(hosts));
}

}  // namespace fulcrum::balance
