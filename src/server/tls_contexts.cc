#include "server/tls_contexts.h"

namespace fulcrum::server {

TlsContexts buildTlsContexts(const config::Config& config, int64_t nowSeconds, std::vector<std::string>& errors) {
  TlsContexts out;
  for (const auto& l : config.listeners) {
    if (!l.tls.enabled()) {
      continue;
    }
    std::string error;
    auto ctx = tls::ServerContext::build(l.tls, nowSeconds, error);
    if (!ctx) {
      errors.push_back(error);
      continue;
    }
    out[l.name] = std::move(ctx);
  }
  if (config.admin.enabled && config.admin.tls.enabled()) {
    std::string error;
    if (auto ctx = tls::ServerContext::build(config.admin.tls, nowSeconds, error)) {
      out[kAdminTls] = std::move(ctx);
    } else {
      errors.push_back(error);
    }
  }
  return out;
}

}  // namespace fulcrum::server
