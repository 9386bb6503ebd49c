#pragma once
// Client certificate headers (mTLS): the verified subject, SANs and SHA-256 fingerprint of the
// connection's client certificate go to the server in the listener's configured headers. Any
// field of those names the client sent is removed first, whoever sent it: only the TLS
// handshake vouches for them.
#include "http/filters/filter.h"

namespace fulcrum::http {

// The edits for one request (pure, for tests).
void clientCertificateEdits(const Request& request, const config::ClientCertificates& cc, FieldEdits& edits);

class ClientCertificateFilter final : public RequestFilter {
 public:
  explicit ClientCertificateFilter(const config::ClientCertificates& cc) : cc_(cc) {}
  FilterStatus onRequestHead(RequestState& state) const override;

 private:
  const config::ClientCertificates& cc_;  // the listener's (the runtime holds the config)
};

}  // namespace fulcrum::http
