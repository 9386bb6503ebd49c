#include "server/tls_contexts.h"

#include <mutex>

#include "acme/manager.h"
#include "common/log.h"
#include "tls/kernel_tls.h"

namespace fulcrum::server {

std::shared_ptr<const tls::ServerContext> buildListenerTls(const config::Config& config, const config::Listener& l,
                                                           int64_t nowSeconds, const TlsBuildSources& sources,
                                                           std::string& error) {
  tls::ServerContext::BuildExtras extras;
  if (!l.tls.acme.empty() && config.acme.enabled) {
    auto files = acme::storedCertificate(config.acme, l.tls.acme);
    if (!files.cert.empty()) {
      std::string why;
      if (tls::Certificate::load(files.cert, files.key, nowSeconds, why)) {
        extras.obtained.push_back(std::move(files));
      } else {
        log::warn("acme certificate not served", {{"listener", l.name}, {"error", why}});
      }
    }
    extras.challenges = sources.challenges;
  }
  if (sources.ticket_keys) {
    extras.ticket_keys = sources.reread_key_files || !sources.ticket_keys->current(l.name)
                             ? sources.ticket_keys->keysFor(l.name, l.tls.session_tickets, sources.now_ms, error)
                             : sources.ticket_keys->current(l.name);
    if (!extras.ticket_keys) {
      return nullptr;
    }
  }
  return tls::ServerContext::build(l.tls, nowSeconds, error, extras);
}

TlsContexts buildTlsContexts(const config::Config& config, int64_t nowSeconds, std::vector<std::string>& errors,
                             const TlsBuildSources& sources) {
  TlsContexts out;
  for (const auto& l : config.listeners) {
    if (!l.tls.enabled()) {
      continue;
    }
    if (l.tls.ktls) {
      // Once per process (start, or the first reload that asks for it): the kernel's answer.
      static std::once_flag logged;
      std::call_once(logged, [] {
        const auto& k = tls::kernelTls();
        if (k.available) {
          log::info("kernel TLS: available; listeners with tls.ktls hand records to the kernel",
                    {{"detail", k.detail}});
        } else {
          log::warn("kernel TLS: not available; listeners with tls.ktls encrypt in user space",
                    {{"reason", k.detail}});
        }
      });
    }
    std::string error;
    auto ctx = buildListenerTls(config, l, nowSeconds, sources, error);
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
  if (config.admin.enabled && config.admin.tls.enabled()) {
    std::string error;
    if (auto ctx = tls::ServerContext::build(config.admin.tls, nowSeconds, error)) {
      out.listeners[kAdminTls] = std::move(ctx);
    } else {
      errors.push_back(error);
    }
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
