// The names of the balancing algorithms (see common/algorithm.h for why they live here).
#include "common/algorithm.h"

namespace fulcrum {

std::optional<Algorithm> parseAlgorithm(std::string_view name) {
  for (size_t i = 0; i < kAlgorithmNames.size(); ++i) {
    if (kAlgorithmNames[i] == name) {
      return static_cast<Algorithm>(i);
    }
  }
  return std::nullopt;
}

std::string_view algorithmName(Algorithm algorithm) {
  auto i = static_cast<size_t>(algorithm);
  return i < kAlgorithmNames.size() ? kAlgorithmNames[i] : "unknown";
}

const std::vector<std::string_view>& algorithmNames() {
  static const std::vector<std::string_view> names(kAlgorithmNames.begin(), kAlgorithmNames.end());
  return names;
}

bool hashesOnKey(Algorithm algorithm) {
  return algorithm == Algorithm::IpHash || algorithm == Algorithm::ConsistentHash || algorithm == Algorithm::Maglev;
}

}  // namespace fulcrum
