#include "http/filters/client_limit_filter.h"

namespace fulcrum::http {

ConnectionStatus ClientLimitFilter::onAccept(ConnectionState& s) const {
  if (limit_ == 0) {
    return ConnectionStatus::Continue;
  }
  if (!counts_.tryAdd(s.client_ip, limit_)) {
    s.answer.status = 429;
    s.answer.standard_body = true;
    s.answer.extra = "Retry-After: 1\r\n";
    s.answer.termination = "client_limit";
    s.limited = true;
    return ConnectionStatus::Refuse;
  }
  s.held = true;
  return ConnectionStatus::Continue;
}

void ClientLimitFilter::onClose(const ConnectionState& s) const { counts_.remove(s.client_ip); }

}  // namespace fulcrum::http
