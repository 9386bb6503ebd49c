#pragma once
// ACME HTTP-01 (RFC 8555 section 8.3): GET /.well-known/acme-challenge/TOKEN for a token
// Fulcrum's ACME client has pending is answered here, before routing, with the key
// authorization; any other request (and an unknown token) goes on to the routes, so a server
// behind Fulcrum can still answer challenges of its own. First in every http listener's chain
// when the config has an acme section.
#include "http/filters/terminal_filter.h"
#include "tls/acme_challenges.h"

namespace fulcrum::http {

class AcmeChallengeFilter final : public RequestFilter, public TerminalHandler {
 public:
  explicit AcmeChallengeFilter(const tls::AcmeChallenges& challenges) : challenges_(challenges) {}
  FilterStatus onRequestHead(RequestState& state) const override;
  TerminalResponse handle(const TerminalRequest& request) override;

  static constexpr std::string_view kPrefix = "/.well-known/acme-challenge/";

 private:
  const tls::AcmeChallenges& challenges_;  // the Server's, outlives every runtime
};

}  // namespace fulcrum::http
