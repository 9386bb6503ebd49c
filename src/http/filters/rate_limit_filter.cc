#include "http/filters/rate_limit_filter.h"

#include "shared_state/worker_tables.h"

namespace fulcrum::http {

FilterStatus RateLimitFilter::onRequestHead(RequestState& s) const {
  std::string_view key = s.client_ip;
  if (config_.key == config::RateLimitKey::Header) {
    const Header* f = s.request.find(config_.header);
    key = f ? f->value : std::string_view();
  }
  bool allowed = true;
  uint64_t delay = 0;
  uint32_t retryAfter = 0;
  if (config_.shared && s.shared != nullptr) {
    std::string sharedKey = shared_key_base_;
    sharedKey.append(key);
    auto d = s.shared->limits.check(sharedKey, config_.rate, config_.burst, config_.nodelay, config_.max_keys,
                                    s.now_ms);
    allowed = d.allowed;
    delay = d.delay_ms;
    retryAfter = d.retry_after_s;
  } else {
    auto d = limiter_.check(key, config_.rate, config_.burst, config_.nodelay, config_.max_keys, s.now_ms);
    allowed = d.allowed;
    delay = d.delay_ms;
    retryAfter = d.retry_after_s;
  }
  if (!allowed) {
    s.answer.status = 429;
    s.answer.standard_body = true;
    s.answer.extra = "Retry-After: " + std::to_string(retryAfter) + "\r\n";
    s.answer.termination = "rate_limited";
    return FilterStatus::Answer;
  }
  s.delay_ms = delay;
  return FilterStatus::Continue;
}

}  // namespace fulcrum::http
