#include "http/filters/rate_limit_filter.h"

namespace fulcrum::http {

FilterStatus RateLimitFilter::onRequestHead(RequestState& s) const {
  std::string_view key = s.client_ip;
  if (config_.key == config::RateLimitKey::Header) {
    const Header* f = s.request.find(config_.header);
    key = f ? f->value : std::string_view();
  }
  auto d = limiter_.check(key, config_.rate, config_.burst, config_.nodelay, config_.max_keys, s.now_ms);
  if (!d.allowed) {
    s.answer.status = 429;
    s.answer.standard_body = true;
    s.answer.extra = "Retry-After: " + std::to_string(d.retry_after_s) + "\r\n";
    s.answer.termination = "rate_limited";
    return FilterStatus::Answer;
  }
  s.delay_ms = d.delay_ms;
  return FilterStatus::Continue;
}

}  // namespace fulcrum::http
