#pragma once
// Shared fixtures for the balancer tests: host lists, a HostLoad over plain vectors, pick
// counters and a closed-loop simulation in which picks open connections that later complete.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "balance/balancer.h"
#include "balance/prng.h"

namespace fulcrum::balance::test {

inline std::string hostId(size_t i) {
  return "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":80";
}

inline std::vector<HostSpec> makeHosts(const std::vector<uint32_t>& weights, size_t backups = 0) {
  std::vector<HostSpec> hosts;
  for (size_t i = 0; i < weights.size() + backups; ++i) {
    const bool backup = i >= weights.size();
    hosts.push_back(HostSpec{hostId(i), backup ? 1 : weights[i], backup});
  }
  return hosts;
}

inline std::vector<HostSpec> equalHosts(size_t n) { return makeHosts(std::vector<uint32_t>(n, 1)); }

class FakeLoad : public HostLoad {
 public:
  explicit FakeLoad(size_t n) : up(n, true), conns(n, 0), latency(n, 0.0) {}
  bool usable(size_t host) const override { return up[host]; }
  uint32_t active(size_t host) const override { return conns[host]; }
  double latencyEwma(size_t host) const override { return latency[host]; }

  std::vector<bool> up;
  std::vector<uint32_t> conns;
  std::vector<double> latency;
};

inline uint64_t keyHash(size_t i) { return hashKey("client-" + std::to_string(i)); }

// Picks `n` times with key i for pick i; the last slot counts nullopt.
inline std::vector<size_t> countPicks(Picker& picker, size_t hosts, size_t n, const HostLoad* load = nullptr,
                                      const std::vector<bool>* exclude = nullptr) {
  std::vector<size_t> counts(hosts + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    PickRequest request;
    request.hash = keyHash(i);
    request.load = load;
    request.exclude = exclude;
    const std::optional<size_t> host = picker.pick(request);
    ++counts[host ? *host : hosts];
  }
  return counts;
}

// Closed loop: every pick opens a connection; once `concurrency` are open, the oldest completes
// after each pick (every connection lasts equally long, so equal load means equal weight-
// normalised counts) and is reported to observe() with its host's latency. Counts picks after
// a warm-up.
inline std::vector<size_t> simulate(Picker& picker, FakeLoad& load, size_t picks, size_t concurrency,
                                    const std::vector<double>& latency) {
  const size_t n = load.conns.size();
  std::vector<size_t> counts(n + 1, 0);
  std::deque<size_t> open;
  double now = 0;
  const size_t warmup = 4 * concurrency;
  for (size_t i = 0; i < warmup + picks; ++i) {
    now += 0.001;
    PickRequest request;
    request.load = &load;
    request.now = now;
    const std::optional<size_t> host = picker.pick(request);
    if (!host) {
      ++counts[n];
      continue;
    }
    if (i >= warmup) {
      ++counts[*host];
    }
    ++load.conns[*host];
    open.push_back(*host);
    if (open.size() > concurrency) {
      const size_t done = open.front();
      open.pop_front();
      --load.conns[done];
      picker.observe(done, latency[done], now);
    }
  }
  return counts;
}

inline double share(const std::vector<size_t>& counts, size_t host) {
  size_t total = 0;
  for (size_t i = 0; i + 1 < counts.size(); ++i) {
    total += counts[i];
  }
  return total == 0 ? 0.0 : static_cast<double>(counts[host]) / static_cast<double>(total);
}

}  // namespace fulcrum::balance::test
