#pragma once
// The TLS contexts of a config's listeners, built together before a snapshot (at start, at
// each reload, and by `fulcrum check`): a certificate that cannot serve (unreadable, expired,
// a key that does not match) fails the whole config with every such problem named, so a
// reload keeps the running certificates serving.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "config/model.h"
#include "tls/server_context.h"

namespace fulcrum::server {

// By listener name; only TLS listeners have one. The admin listener's (admin.tls) is under
// kAdminTls, a key no listener name can be.
using TlsContexts = std::unordered_map<std::string, std::shared_ptr<const tls::ServerContext>>;
inline constexpr const char* kAdminTls = " admin";

// `errors`: one line per listener that failed ("file:line:column: path: file: reason").
TlsContexts buildTlsContexts(const config::Config& config, int64_t nowSeconds, std::vector<std::string>& errors);

}  // namespace fulcrum::server
