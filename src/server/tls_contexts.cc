#include "server/tls_contexts.h"

namespace fulcrum::server {

TlsContexts buildTlsContexts(const config::Config& config, int64_t nowSeconds, std::vector<std::string>& errors,
                             TicketKeyStore* ticketKeys, uint64_t nowMs) {
  TlsContexts out;
  for (const auto& l : config.listeners) {
    if (!l.tls.enabled()) {
      continue;
    }
    std::string error;
    std::shared_ptr<tls::TicketKeys> keys;
    if (ticketKeys) {
      keys = ticketKeys->keysFor(l.name, l.tls.session_tickets, nowMs, error);
      if (!keys) {
        errors.push_back(error);
        continue;
      }
    }
    auto ctx = tls::ServerContext::build(l.tls, nowSeconds, error, std::move(keys));
    if (!ctx) {
      errors.push_back(error);
      continue;
    }
    out[l.name] = std::move(ctx);
  }
  return out;
}

std::vector<std::string> tlsFiles(const config::ListenerTls& tls) {
  std::vector<std::string> files;
  for (const auto& c : tls.certificates) {
    files.push_back(c.cert);
    files.push_back(c.key);
    if (!c.ocsp.empty()) {
      files.push_back(c.ocsp);
    }
  }
  return files;
}

}  // namespace fulcrum::server
