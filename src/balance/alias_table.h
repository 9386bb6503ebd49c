#pragma once
// Walker/Vose alias table: O(1) weighted sampling, O(n) to build.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "balance/host_tiers.h"
#include "balance/prng.h"

namespace fulcrum::balance {

class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<uint32_t>& weights);

  // A position drawn with probability weight / total. The table must not be empty.
  uint32_t sample(Prng& rng) const {
    const uint32_t column = static_cast<uint32_t>(rng.below(size_));
    if (columns_.empty()) {
      return column;  // equal weights
    }
    const Column& c = columns_[column];
    return rng.next() < c.threshold ? column : c.alias;
  }

 private:
  struct Column {
    uint64_t threshold;  // keep the column when a uniform 64-bit draw is below this
    uint32_t alias;
  };
  size_t size_ = 0;
  std::vector<Column> columns_;  // empty when all weights are equal
};

// One weighted sampler per tier (primaries, backups), as the sampling balancers keep them.
inline std::array<AliasTable, 2> tierSamplers(const Tiers& tiers) {
  return {AliasTable(tiers[0].weights), AliasTable(tiers[1].weights)};
}

}  // namespace fulcrum::balance
