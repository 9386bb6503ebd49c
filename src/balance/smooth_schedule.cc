#include "balance/smooth_schedule.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fulcrum::balance {
namespace {

constexpr uint64_t kMaxBuildSteps = uint64_t{1} << 26;

uint64_t normalise(std::vector<uint64_t>& weights) {
  uint64_t divisor = 0;
  for (uint64_t w : weights) {
    divisor = std::gcd(divisor, w);
  }
  uint64_t total = 0;
  for (uint64_t& w : weights) {
    w /= divisor;
    total += w;
  }
  return total;
}

}  // namespace

std::vector<uint32_t> smoothSchedule(const std::vector<uint32_t>& input) {
  const size_t n = input.size();
  std::vector<uint64_t> weights(input.begin(), input.end());
  uint64_t period = normalise(weights);
  std::vector<uint32_t> schedule;
  if (n == 0) {
    return schedule;
  }
  const uint64_t max_period = std::max<uint64_t>(n, kMaxBuildSteps / n);
  if (period > max_period) {
    const double scale = static_cast<double>(max_period) / static_cast<double>(period);
    for (uint64_t& w : weights) {
      w = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(static_cast<double>(w) * scale)));
    }
    period = normalise(weights);
  }
  schedule.reserve(period);
  if (period == n) {  // all equal: plain rotation, which is what SWRR yields anyway
    for (size_t i = 0; i < n; ++i) {
      schedule.push_back(static_cast<uint32_t>(i));
    }
    return schedule;
  }
  const auto total = static_cast<int64_t>(period);
  std::vector<int64_t> current(n, 0);
  for (uint64_t step = 0; step < period; ++step) {
    size_t best = 0;
    for (size_t i = 0; i < n; ++i) {
      current[i] += static_cast<int64_t>(weights[i]);
      if (current[i] > current[best]) {  // strict: ties go to the lowest index, as in NGINX
        best = i;
      }
    }
    current[best] -= total;
    schedule.push_back(static_cast<uint32_t>(best));
  }
  return schedule;
}

}  // namespace fulcrum::balance
