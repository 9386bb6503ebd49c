#include "acme/backoff.h"

#include <algorithm>

namespace fulcrum::acme {

Backoff::Millis Backoff::delay(uint32_t failures) const {
  Millis d = min_;
  for (uint32_t i = 1; i < failures && d < max_; ++i) {
    d *= 2;
  }
  return std::min(d, max_);
}

}  // namespace fulcrum::acme
