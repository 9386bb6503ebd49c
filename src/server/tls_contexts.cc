#include "server/tls_contexts.h"

#include "acme/manager.h"
#include "common/log.h"

namespace fulcrum::server {

TlsContexts buildTlsContexts(const config::Config& config, int64_t nowSeconds, std::vector<std::string>& errors,
                             std::shared_ptr<const tls::AcmeChallenges> challenges) {
  TlsContexts out;
  for (const auto& l : config.listeners) {
    if (!l.tls.enabled()) {
      continue;
    }
    std::vector<config::TlsCertificateFiles> obtained;
    if (!l.tls.acme.empty() && config.acme.enabled) {
      auto files = acme::storedCertificate(config.acme, l.tls.acme);
      if (!files.cert.empty()) {
        std::string why;
        if (tls::Certificate::load(files.cert, files.key, nowSeconds, why)) {
          obtained.push_back(std::move(files));
        } else {
          log::warn("acme certificate not served", {{"listener", l.name}, {"error", why}});
        }
      }
    }
    std::string error;
    auto ctx = tls::ServerContext::build(l.tls, nowSeconds, error, obtained,
                                         l.tls.acme.empty() ? nullptr : challenges);
    if (!ctx) {
      errors.push_back(error);
      continue;
    }
    out[l.name] = std::move(ctx);
  }
  return out;
}

}  // namespace fulcrum::server
