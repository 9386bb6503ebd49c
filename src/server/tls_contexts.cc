#include "server/tls_contexts.h"

#include <mutex>

#include "common/log.h"
#include "tls/kernel_tls.h"

namespace fulcrum::server {

TlsContexts buildTlsContexts(const config::Config& config, int64_t nowSeconds, std::vector<std::string>& errors) {
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
    auto ctx = tls::ServerContext::build(l.tls, nowSeconds, error);
    if (!ctx) {
      errors.push_back(error);
      continue;
    }
    out[l.name] = std::move(ctx);
  }
  return out;
}

}  // namespace fulcrum::server
