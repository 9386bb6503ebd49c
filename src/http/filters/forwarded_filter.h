#pragma once
// Forwarded headers: tells the server who the client is (X-Forwarded-For, X-Forwarded-Proto,
// X-Forwarded-Host, X-Real-IP, each switchable per listener). From a peer in
// `forwarded.trusted` the fields it sent are believed (X-Forwarded-For appended to, X-Real-IP
// and the others kept); from anyone else they are forgeries and removed first, Forwarded too.
#include "http/filters/filter.h"

namespace fulcrum::http {

// The edits for one request (pure: the filter's whole decision, for tests and fuzzers).
// `peer_trusted`: the connection's peer is one of `fwd.trusted`.
void forwardedEdits(const Request& request, const config::Forwarded& fwd, bool peer_trusted,
                    std::string_view client_ip, FieldEdits& edits);

class ForwardedFilter final : public RequestFilter {
 public:
  explicit ForwardedFilter(const config::Forwarded& fwd) : fwd_(fwd) {}
  FilterStatus onRequestHead(RequestState& state) const override;

 private:
  const config::Forwarded& fwd_;  // the listener's (the runtime holds the config)
};

}  // namespace fulcrum::http
