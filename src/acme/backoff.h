#pragma once
// When to try again after failures: `min` after the first, doubling, never beyond `max` (a
// CA that is down is not hammered; one that comes back is tried again within `max`).
#include <chrono>
#include <cstdint>

namespace fulcrum::acme {

class Backoff {
 public:
  using Millis = std::chrono::milliseconds;
  Backoff(Millis min, Millis max) : min_(min), max_(max) {}
  // The wait after the n-th failure in a row (n >= 1).
  Millis delay(uint32_t failures) const;

 private:
  Millis min_;
  Millis max_;
};

}  // namespace fulcrum::acme
