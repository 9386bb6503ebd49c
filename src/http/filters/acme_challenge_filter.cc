#include "http/filters/acme_challenge_filter.h"

namespace fulcrum::http {

FilterStatus AcmeChallengeFilter::onRequestHead(RequestState& state) const {
  const Request& r = state.request;
  if ((r.method != "GET" && r.method != "HEAD") || !r.path.starts_with(kPrefix) ||
      !challenges_.httpAnswer(r.path.substr(kPrefix.size()))) {
    return FilterStatus::Continue;
  }
  state.terminal = const_cast<AcmeChallengeFilter*>(this);  // stateless: handle() only reads the table
  return FilterStatus::Terminal;
}

TerminalResponse AcmeChallengeFilter::handle(const TerminalRequest& request) {
  TerminalResponse out;
  std::string_view path = request.path;
  auto answer = path.starts_with(kPrefix) ? challenges_.httpAnswer(path.substr(kPrefix.size())) : std::nullopt;
  if (!answer) {
    out.status = 404;  // withdrawn between the head and now
    out.body = "no such challenge\n";
    return out;
  }
  out.content_type = "application/octet-stream";
  out.body = std::move(*answer);
  return out;
}

}  // namespace fulcrum::http
