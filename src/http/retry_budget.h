#pragma once
// RetryBudget: retries may add at most `percent` of the requests of the last 10 seconds, plus
// `minPerSecond`, so that retrying cannot multiply the load on servers that are already failing
// (Finagle's budget: deposits that expire). The 10-second memory is what lets a burst of retries
// through when one server of a healthy pool stalls and its in-flight requests time out together,
// while a sustained retry rate stays bounded by `percent`. Per worker and pool; pure (time is
// passed in).
#include <algorithm>
#include <array>
#include <cstdint>

namespace fulcrum::http {

class RetryBudget {
 public:
  void onRequest(uint32_t percent, uint64_t nowMs) {
    advance(nowMs);
    ++seconds_[static_cast<size_t>(second_ % kWindowSeconds)];
    percent_ = percent;
    tokens_ = std::min(cap(), tokens_ + percent * 10);
  }

  bool tryRetry(uint32_t minPerSecond, uint64_t nowMs) {
    min_per_second_ = minPerSecond;
    advance(nowMs);
    tokens_ = std::min(tokens_, cap());
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
  static constexpr uint64_t kWindowSeconds = 10;

  // Tokens never exceed what the window's requests deposited, plus a small burst and the floor.
  uint64_t cap() const {
    uint64_t requests = 0;
    for (uint32_t n : seconds_) {
      requests += n;
    }
    return requests * percent_ * 10 + (10 + uint64_t{min_per_second_}) * kRetry;
  }

  // Moves the window to the second of nowMs, forgetting the requests of seconds that left it.
  void advance(uint64_t nowMs) {
    uint64_t second = nowMs / 1000;
    if (second <= second_) {
      return;
    }
    for (uint64_t s = second_ + 1; s <= second && s <= second_ + kWindowSeconds; ++s) {
      seconds_[static_cast<size_t>(s % kWindowSeconds)] = 0;
    }
    second_ = second;
  }

  uint64_t tokens_ = kRetry;
  uint64_t last_ms_ = 0;
  uint32_t min_per_second_ = 0;
  uint32_t percent_ = 0;
  uint64_t second_ = 0;
  std::array<uint32_t, kWindowSeconds> seconds_{};
};

}  // namespace fulcrum::http
