#include "http/filters/client_certificate_filter.h"

namespace fulcrum::http {

void clientCertificateEdits(const Request& request, const config::ClientCertificates& cc, FieldEdits& edits) {
  const net::ClientCertificate* cert = request.client_certificate;
  auto one = [&](const std::string& name, const std::string* value) {
    if (name.empty()) {
      return;
    }
    edits.remove(name);
    if (value && !value->empty()) {
      edits.add(name, *value);
    }
  };
  one(cc.subject_header, cert ? &cert->subject : nullptr);
  one(cc.sans_header, cert ? &cert->sans : nullptr);
  one(cc.fingerprint_header, cert ? &cert->fingerprint : nullptr);
}

FilterStatus ClientCertificateFilter::onRequestHead(RequestState& s) const {
  clientCertificateEdits(s.request, cc_, s.edits);
  return FilterStatus::Continue;
}

}  // namespace fulcrum::http
