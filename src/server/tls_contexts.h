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

// By listener name; only TLS listeners have one.
using TlsContexts = std::unordered_map<std::string, std::shared_ptr<const tls::ServerContext>>;

// `errors`: one line per listener that failed ("file:line:column: path: file: reason").
// A listener's ACME certificate (tls.acme) is served when it is stored and loads; one that does
// not (expired, unreadable) is logged and left out, never an error: ACME renews it.
// `challenges`: the pending TLS-ALPN-01 challenges (null: none answered).
TlsContexts buildTlsContexts(const config::Config& config, int64_t nowSeconds, std::vector<std::string>& errors,
                             std::shared_ptr<const tls::AcmeChallenges> challenges = nullptr);

}  // namespace fulcrum::server
