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
    out.listeners[l.name] = std::move(ctx);
  }
  for (const auto& p : config.pools) {
    if (!p.tls.enabled) {
      continue;
    }
    std::string error;
    auto ctx = tls::ClientContext::build(p.tls, nowSeconds, error);
    if (!ctx) {
      errors.push_back(error);
      continue;
    }
    out.pools[p.name] = std::move(ctx);
  }
  return out;
}

}  // namespace fulcrum::server
