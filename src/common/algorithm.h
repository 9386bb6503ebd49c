#pragma once
// The one list of balancing algorithms a pool may name: ids, YAML names and what each reads
// from a request.
//
// Why here: config validates `algorithm:` (and which keys go with it) and balance builds the
// balancer, but config and balance must never include each other (README, layout). The list is
// pure names, so it lives below both; balance owns the registry that maps each algorithm to its
// factory (balance/algorithm.h), so config never learns how an algorithm is built. Adding an
// algorithm: a row here, a row in balance's registry (a compile-time check keeps them in step).
#include <array>
#include <optional>
#include <string_view>
#include <vector>

namespace fulcrum {

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

// YAML names, in Algorithm order.
inline constexpr std::array<std::string_view, 9> kAlgorithmNames = {
    "round_robin",        "weighted_round_robin", "least_connections", "least_response_time", "random",
    "random_two_choices", "ip_hash",              "consistent_hash",   "maglev"};

// "round_robin", "weighted_round_robin", ...; nullopt for an unknown name (case matters).
std::optional<Algorithm> parseAlgorithm(std::string_view name);
std::string_view algorithmName(Algorithm algorithm);
// Every name in Algorithm order, for "expected one of ..." config errors.
const std::vector<std::string_view>& algorithmNames();

// ip_hash, consistent_hash and maglev pick by a key hashed from each request (pools.hash_key).
bool hashesOnKey(Algorithm algorithm);

}  // namespace fulcrum
