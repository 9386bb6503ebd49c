#pragma once
// Rate limit (NGINX's limit_req): token buckets keyed by the client address or a header,
// shared by the listener's workers. Beyond the burst: 429 with Retry-After; within the burst
// without nodelay: delayed to the rate (RequestState::delay_ms).
#include "http/filters/filter.h"
#include "http/rate_limiter.h"

namespace fulcrum::http {

class RateLimitFilter final : public RequestFilter {
 public:
  // `limiter` outlives the filter (the listener's shared state, kept across reloads).
  RateLimitFilter(const config::RateLimit& config, RateLimiter& limiter) : config_(config), limiter_(limiter) {}
  FilterStatus onRequestHead(RequestState& state) const override;

 private:
  const config::RateLimit& config_;
  RateLimiter& limiter_;
};

}  // namespace fulcrum::http
