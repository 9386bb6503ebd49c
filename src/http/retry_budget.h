#pragma once
// RetryBudget: retries may add at most `percent` of the requests, plus `minPerSecond`, so
// that retrying cannot multiply the load on servers that are already failing. Per worker and
// pool; pure (time is passed in).
#include <algorithm>
#include <cstdint>

namespace fulcrum::http {

class RetryBudget {
 public:
  void onRequest(uint32_t percent) { tokens_ = std::min(cap(), tokens_ + percent * 10); }
  bool tryRetry(uint32_t minPerSecond, uint64_t nowMs) {
    min_per_second_ = minPerSecond;
    if (last_ms_ == 0) {
      tokens_ = std::max(tokens_, minPerSecond * kRetry);  // the floor's first second is there at once
    } else if (nowMs > last_ms_) {
      tokens_ = std::min(cap(), tokens_ + minPerSecond * (nowMs - last_ms_));
    }
    last_ms_ = nowMs;
    if (tokens_ >= kRetry) {
      tokens_ -= kRetry;
      return true;
    }
    return false;
  }

 private:
  static constexpr uint64_t kRetry = 1000;  // tokens are in thousandths of a retry
  uint64_t cap() const { return (10 + uint64_t{min_per_second_}) * kRetry; }
  uint64_t tokens_ = kRetry;
  uint64_t last_ms_ = 0;
  uint32_t min_per_second_ = 0;
};

}  // namespace fulcrum::http
