#include "balance/host_tiers.h"

#include <algorithm>

namespace fulcrum::balance {

Tiers splitTiers(const std::vector<HostSpec>& hosts) {
  Tiers tiers;
  for (size_t i = 0; i < hosts.size(); ++i) {
    const HostSpec& host = hosts[i];
    if (host.weight == 0) {
      continue;
    }
    HostGroup& group = tiers[host.backup ? 1 : 0];
    if (!group.empty() && group.weights.front() != host.weight) {
      group.uniform = false;
    }
    group.hosts.push_back(static_cast<uint32_t>(i));
    group.weights.push_back(host.weight);
    group.id_hashes.push_back(hashKey(host.id));
    group.total_weight += host.weight;
  }
  return tiers;
}

std::optional<uint32_t> movedPosition(const HostGroup& from, size_t position, const HostGroup& to,
                                      const std::vector<int32_t>& moved) {
  if (position >= from.size()) {
    return std::nullopt;
  }
  const int32_t host = moved[from.hosts[position]];
  if (host < 0) {
    return std::nullopt;
  }
  // splitTiers() adds hosts in index order: groups are sorted.
  auto it = std::lower_bound(to.hosts.begin(), to.hosts.end(), static_cast<uint32_t>(host));
  if (it == to.hosts.end() || *it != static_cast<uint32_t>(host)) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(it - to.hosts.begin());
}

size_t movedCursor(const HostGroup& from, size_t cursor, const HostGroup& to, const std::vector<int32_t>& moved) {
  if (to.empty()) {
    return 0;
  }
  const size_t n = from.size();
  if (n != 0) {
    if (auto position = movedPosition(from, (cursor + n - 1) % n, to, moved)) {
      return (*position + 1) % to.size();
    }
    // The last one is gone: the first that is left of those that were to come.
    for (size_t step = 0; step < n; ++step) {
      if (auto position = movedPosition(from, (cursor + step) % n, to, moved)) {
        return *position;
      }
    }
  }
  return cursor % to.size();
}

std::optional<uint32_t> leastLoadedScan(const HostGroup& group, const Eligibility& eligible, size_t start,
                                        uint32_t bias) {
  const size_t n = group.size();
  std::optional<uint32_t> best;
  uint64_t best_load = 0;
  for (size_t step = 0; step < n; ++step) {
    size_t position = start + step;
    if (position >= n) {
      position -= n;
    }
    const uint32_t host = group.hosts[position];
    if (!eligible(host)) {
      continue;
    }
    const uint64_t load = uint64_t{eligible.active(host)} + bias;
    if (!best || lessLoaded(load, group.weights[position], best_load, group.weights[*best])) {
      best = static_cast<uint32_t>(position);
      best_load = load;
    }
  }
  return best;
}

std::optional<uint32_t> weightedScan(const HostGroup& group, const Eligibility& eligible, Prng& rng) {
  uint64_t total = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    if (eligible(group.hosts[i])) {
      total += group.weights[i];
    }
  }
  if (total == 0) {
    return std::nullopt;
  }
  uint64_t target = rng.below(total);
  std::optional<uint32_t> last;
  for (size_t i = 0; i < group.size(); ++i) {
    if (!eligible(group.hosts[i])) {
      continue;
    }
    last = static_cast<uint32_t>(i);
    if (target < group.weights[i]) {
      break;
    }
    target -= group.weights[i];
  }
  // `last` covers a host whose usability flipped between the two passes.
  return last;
}

std::optional<uint32_t> rendezvousScan(const HostGroup& group, const Eligibility& eligible, uint64_t key) {
  std::optional<uint32_t> best;
  uint64_t best_score = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    if (!eligible(group.hosts[i])) {
      continue;
    }
    const uint64_t score = mix64(key ^ group.id_hashes[i]);
    if (!best || score > best_score) {
      best = static_cast<uint32_t>(i);
      best_score = score;
    }
  }
  return best;
}

}  // namespace fulcrum::balance
