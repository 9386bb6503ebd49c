#include "balance/algorithm.h"

#include <array>
#include <utility>

namespace fulcrum::balance {
namespace {

constexpr std::array<std::pair<Algorithm, std::string_view>, 9> kNames{{
    {Algorithm::RoundRobin, "round_robin"},
    {Algorithm::WeightedRoundRobin, "weighted_round_robin"},
    {Algorithm::LeastConnections, "least_connections"},
    {Algorithm::LeastResponseTime, "least_response_time"},
    {Algorithm::Random, "random"},
    {Algorithm::RandomTwoChoices, "random_two_choices"},
    {Algorithm::IpHash, "ip_hash"},
    {Algorithm::ConsistentHash, "consistent_hash"},
    {Algorithm::Maglev, "maglev"},
}};

}  // namespace

std::optional<Algorithm> parseAlgorithm(std::string_view name) {
  for (const auto& [algorithm, text] : kNames) {
    if (text == name) {
      return algorithm;
    }
  }
  return std::nullopt;
}

std::string_view algorithmName(Algorithm algorithm) {
  for (const auto& [candidate, text] : kNames) {
    if (candidate == algorithm) {
      return text;
    }
  }
  return "unknown";
}

const std::vector<std::string_view>& algorithmNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& entry : kNames) {
      out.push_back(entry.second);
    }
    return out;
  }();
  return names;
}

}  // namespace fulcrum::balance
