#pragma once
// The TLS contexts of a config's listeners and of its pools that speak TLS to their servers,
// built together before a snapshot (at start, at each reload, and by `fulcrum check`): a
// certificate or CA bundle that cannot be used (unreadable, expired, a key that does not
// match) fails the whole config with every such problem named, so a reload keeps the running
// contexts serving.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "config/model.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace fulcrum::server {

struct TlsContexts {
  // By listener name; only TLS listeners have one.
  std::unordered_map<std::string, std::shared_ptr<const tls::ServerContext>> listeners;
  // By pool name; only pools with a tls section have one.
  std::unordered_map<std::string, std::shared_ptr<const tls::ClientContext>> pools;
};

// `errors`: one line per listener or pool that failed ("file:line:column: path: file: reason").
TlsContexts buildTlsContexts(const config::Config& config, int64_t nowSeconds, std::vector<std::string>& errors);

}  // namespace fulcrum::server
