#pragma once
// The balancing algorithms a pool may name in its `algorithm:` setting.
#include <optional>
#include <string_view>
#include <vector>

namespace fulcrum::balance {

enum class Algorithm {
  RoundRobin,
  WeightedRoundRobin,
  LeastConnections,
  LeastResponseTime,
  Random,
  RandomTwoChoices,
  IpHash,
  ConsistentHash,
  Maglev,
};

// "round_robin", "weighted_round_robin", ...; nullopt for an unknown name.
std::optional<Algorithm> parseAlgorithm(std::string_view name);
std::string_view algorithmName(Algorithm algorithm);
// Every name in declaration order, for "expected one of ..." config errors.
const std::vector<std::string_view>& algorithmNames();

}  // namespace fulcrum::balance
