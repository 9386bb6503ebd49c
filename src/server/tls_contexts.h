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
#include "server/ticket_key_store.h"
#include "tls/server_context.h"

namespace fulcrum::server {

// By listener name; only TLS listeners have one.
using TlsContexts = std::unordered_map<std::string, std::shared_ptr<const tls::ServerContext>>;

// `errors`: one line per listener that failed ("file:line:column: path: file: reason").
// `ticketKeys`: where the listeners' session ticket keys live across builds (null: new keys,
// as `fulcrum check` wants); `nowMs`: monotonic, its rotation clock.
TlsContexts buildTlsContexts(const config::Config& config, int64_t nowSeconds, std::vector<std::string>& errors,
                             TicketKeyStore* ticketKeys = nullptr, uint64_t nowMs = 0);
// Every file a TLS listener reads (certificates, keys, OCSP responses), for the watch.
std::vector<std::string> tlsFiles(const config::ListenerTls& tls);

}  // namespace fulcrum::server
