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
#include "server/ticket_key_store.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace fulcrum::server {

struct TlsContexts {
  // By listener name; only TLS listeners have one.
  std::unordered_map<std::string, std::shared_ptr<const tls::ServerContext>> listeners;
  // By pool name; only pools with a tls section have one.
  std::unordered_map<std::string, std::shared_ptr<const tls::ClientContext>> pools;
};
// The admin listener's context (admin.tls) is in `listeners` under kAdminTls, a key no
// listener name can be.
inline constexpr const char* kAdminTls = " admin";

// What a listener's contexts are built with besides its config.
struct TlsBuildSources {
  // The pending TLS-ALPN-01 challenges (null: none answered).
  std::shared_ptr<const tls::AcmeChallenges> challenges;
  // Where the listeners' session ticket keys live across builds (null: new keys, as `fulcrum
  // check` wants); `now_ms`: monotonic, its rotation clock. `reread_key_files`: false when only
  // certificates changed (a key file is the store's own business then).
  TicketKeyStore* ticket_keys = nullptr;
  uint64_t now_ms = 0;
  bool reread_key_files = true;
};

// One TLS listener's contexts; null with `error` set when they cannot serve. Its ACME
// certificate (tls.acme) is served when it is stored and loads; one that does not (expired,
// unreadable) is logged and left out, never an error: ACME renews it.
std::shared_ptr<const tls::ServerContext> buildListenerTls(const config::Config& config, const config::Listener& l,
                                                           int64_t nowSeconds, const TlsBuildSources& sources,
                                                           std::string& error);
// `errors`: one line per listener or pool that failed ("file:line:column: path: file: reason").
TlsContexts buildTlsContexts(const config::Config& config, int64_t nowSeconds, std::vector<std::string>& errors,
                             const TlsBuildSources& sources = {});
// Every file a TLS listener reads (certificates, keys, OCSP responses), for the watch.
std::vector<std::string> tlsFiles(const config::ListenerTls& tls);

}  // namespace fulcrum::server
