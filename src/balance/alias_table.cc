#include "balance/alias_table.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fulcrum::balance {

AliasTable::AliasTable(const std::vector<uint32_t>& weights) : size_(weights.size()) {
  const size_t n = weights.size();
  if (std::all_of(weights.begin(), weights.end(), [&](uint32_t w) { return w == weights.front(); })) {
    return;
  }
  columns_.assign(n, Column{std::numeric_limits<uint64_t>::max(), 0});
  double total = 0;
  for (uint32_t w : weights) {
    total += w;
  }
  if (n == 0 || total <= 0) {
    return;
  }
  // Scaled so the average column holds exactly 1.
  std::vector<double> scaled(n);
  std::vector<uint32_t> small;
  std::vector<uint32_t> large;
  for (size_t i = 0; i < n; ++i) {
    columns_[i].alias = static_cast<uint32_t>(i);
    scaled[i] = weights[i] * static_cast<double>(n) / total;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back();
    small.pop_back();
    const uint32_t l = large.back();
    // scaled[s] is in [0, 1): the fixed-point threshold cannot overflow.
    columns_[s].threshold = static_cast<uint64_t>(std::ldexp(std::max(0.0, scaled[s]), 64));
    columns_[s].alias = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers are 1 up to rounding: always keep them (threshold already max).
}

}  // namespace fulcrum::balance
