#pragma once
// Rate limit (NGINX's limit_req): token buckets keyed by the client address or a header,
// shared by the listener's workers. Beyond the burst: 429 with Retry-After; within the burst
// without nodelay: delayed to the rate (RequestState::delay_ms). With `shared: true` the buckets
// are the worker's view of the excess every instance counted (shared_state/limit_table.h),
// decided locally and synced with Redis in batches.
#include <string>

#include "http/filters/filter.h"
#include "http/rate_limiter.h"

namespace fulcrum::http {

class RateLimitFilter final : public RequestFilter {
 public:
  // `limiter` outlives the filter (the listener's shared state, kept across reloads).
  // `sharedKeyBase`: the Redis key of the listener's buckets without the client part
  // (shared_state/keys.h), used when config.shared.
  RateLimitFilter(const config::RateLimit& config, RateLimiter& limiter, std::string sharedKeyBase = {})
      : config_(config), limiter_(limiter), shared_key_base_(std::move(sharedKeyBase)) {}
  FilterStatus onRequestHead(RequestState& state) const override;

 private:
  const config::RateLimit& config_;
  RateLimiter& limiter_;
  std::string shared_key_base_;
};

}  // namespace fulcrum::http
