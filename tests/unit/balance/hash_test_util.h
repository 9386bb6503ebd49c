#pragma once
// Helpers for the hashing algorithms: which host id each key lands on.
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <vector>

#include "balance_test_util.h"

namespace fulcrum::balance::test {

inline std::vector<std::string> idsFor(size_t first, size_t count) {
  std::vector<std::string> ids;
  for (size_t i = first; i < first + count; ++i) {
    ids.push_back(hostId(i));
  }
  return ids;
}

// The id of the host each of `keys` keys maps to.
inline std::vector<std::string> placement(Algorithm algorithm, const std::vector<std::string>& ids,
                                          size_t keys, const HostLoad* load = nullptr) {
  std::vector<HostSpec> hosts;
  for (const std::string& id : ids) {
    hosts.push_back(HostSpec{id, 1, false});
  }
  BalancerOptions options;
  options.algorithm = algorithm;
  auto balancer = Balancer::create(options, hosts);
  auto picker = balancer->makePicker(0);
  std::vector<std::string> out;
  out.reserve(keys);
  for (size_t k = 0; k < keys; ++k) {
    PickRequest request;
    request.hash = keyHash(k);
    request.load = load;
    const std::optional<size_t> host = picker->pick(request);
    out.push_back(host ? ids[*host] : std::string());
  }
  return out;
}

inline double movedFraction(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  size_t moved = 0;
  for (size_t k = 0; k < before.size(); ++k) {
    moved += before[k] != after[k] ? 1 : 0;
  }
  return static_cast<double>(moved) / static_cast<double>(before.size());
}

// Largest |share / fair - 1| over the hosts.
inline double worstSpread(const std::vector<std::string>& ids, const std::vector<std::string>& placed) {
  std::unordered_map<std::string, size_t> counts;
  for (const std::string& p : placed) {
    ++counts[p];
  }
  double worst = 0;
  const double fair = static_cast<double>(placed.size()) / static_cast<double>(ids.size());
  for (const std::string& id : ids) {
    worst = std::max(worst, std::abs(static_cast<double>(counts[id]) / fair - 1));
  }
  return worst;
}

}  // namespace fulcrum::balance::test
