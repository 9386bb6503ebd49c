// One pick per iteration for every algorithm at 10, 100 and 1,000 hosts, and table builds.
// Run: bench_balance --benchmark_min_time=0.1 --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "balance/balancer.h"
#include "balance/prng.h"

namespace fulcrum::balance {
namespace {

// Reads plain arrays, as the real one reads relaxed atomics.
class FlatLoad : public HostLoad {
 public:
  explicit FlatLoad(size_t n) : up_(n, 1), active_(n), latency_(n) {
    Prng rng(7);
    for (size_t i = 0; i < n; ++i) {
      active_[i] = static_cast<uint32_t>(rng.below(100));
      latency_[i] = 0.001 + static_cast<double>(rng.below(1000)) * 1e-5;
    }
  }
  bool usable(size_t host) const override { return up_[host] != 0; }
  uint32_t active(size_t host) const override { return active_[host]; }
  double latencyEwma(size_t host) const override { return latency_[host]; }

 private:
  std::vector<uint8_t> up_;
  std::vector<uint32_t> active_;
  std::vector<double> latency_;
};

std::vector<HostSpec> hosts(size_t n, bool varied_weights) {
  std::vector<HostSpec> out;
  Prng rng(3);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t weight = varied_weights ? static_cast<uint32_t>(1 + rng.below(10)) : 1;
    out.push_back(HostSpec{"10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                               std::to_string(i % 256) + ":8080",
                           weight, false});
  }
  return out;
}

void pickBench(benchmark::State& state, Algorithm algorithm) {
  const size_t n = static_cast<size_t>(state.range(0));
  const bool varied = state.range(1) != 0;
  BalancerOptions options;
  options.algorithm = algorithm;
  auto balancer = Balancer::create(options, hosts(n, varied));
  auto picker = balancer->makePicker(1);
  FlatLoad load(n);
  for (size_t i = 0; i < n; ++i) {
    picker->observe(i, load.latencyEwma(i), 0);
  }
  std::vector<uint64_t> keys(4096);
  for (size_t i = 0; i < keys.size(); ++i) {
    keys[i] = hashKey("client-" + std::to_string(i));
  }
  PickRequest request;
  request.load = &load;
  request.now = 1;
  size_t i = 0;
  for (auto _ : state) {
    request.hash = keys[i++ & 4095];
    benchmark::DoNotOptimize(picker->pick(request));
  }
}

void buildBench(benchmark::State& state, Algorithm algorithm) {
  const auto list = hosts(static_cast<size_t>(state.range(0)), state.range(1) != 0);
  BalancerOptions options;
  options.algorithm = algorithm;
  for (auto _ : state) {
    benchmark::DoNotOptimize(Balancer::create(options, list));
  }
}

void pickArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"hosts", "weighted"});
  for (int64_t n : {10, 100, 1000}) {
    b->Args({n, 0});
  }
  b->Args({1000, 1});  // weights 1-10
}

void buildArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"hosts", "weighted"})->Args({1000, 0})->Args({1000, 1})->Unit(benchmark::kMillisecond);
}

BENCHMARK_CAPTURE(pickBench, round_robin, Algorithm::RoundRobin)->Apply(pickArgs);
BENCHMARK_CAPTURE(pickBench, weighted_round_robin, Algorithm::WeightedRoundRobin)->Apply(pickArgs);
BENCHMARK_CAPTURE(pickBench, least_connections, Algorithm::LeastConnections)->Apply(pickArgs);
BENCHMARK_CAPTURE(pickBench, least_response_time, Algorithm::LeastResponseTime)->Apply(pickArgs);
BENCHMARK_CAPTURE(pickBench, random, Algorithm::Random)->Apply(pickArgs);
BENCHMARK_CAPTURE(pickBench, random_two_choices, Algorithm::RandomTwoChoices)->Apply(pickArgs);
BENCHMARK_CAPTURE(pickBench, ip_hash, Algorithm::IpHash)->Apply(pickArgs);
BENCHMARK_CAPTURE(pickBench, consistent_hash, Algorithm::ConsistentHash)->Apply(pickArgs);
BENCHMARK_CAPTURE(pickBench, maglev, Algorithm::Maglev)->Apply(pickArgs);

BENCHMARK_CAPTURE(buildBench, consistent_hash, Algorithm::ConsistentHash)->Apply(buildArgs);
BENCHMARK_CAPTURE(buildBench, maglev, Algorithm::Maglev)->Apply(buildArgs);
BENCHMARK_CAPTURE(buildBench, weighted_round_robin, Algorithm::WeightedRoundRobin)->Apply(buildArgs);

}  // namespace
}  // namespace fulcrum::balance

BENCHMARK_MAIN();
