#pragma once
// PRIVATE to src/config (it includes yaml_reader.h, hence yaml-cpp): the schema, section by
// section. Each reader lives in the file named after its subject, reports its own errors
// through the YamlReader and writes what it could read into config/model.h. What the whole file
// must agree on (pool names, binds, hash keys) cannot be checked while one section is read: the
// readers return notes of it, and loader.cc hands those to the cross-checks (cross_checks.cc)
// once every section has been read.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/yaml_reader.h"

namespace fulcrum::config::detail {

// Longest health-check interval, timeout, outlier window and slow start.
inline constexpr Millis kMaxCheckDuration = std::chrono::hours(1);

// A name and where it was first given, for "duplicate ... (first used at line N)".
struct Named {
  std::string name;
  Pos pos;
};

// A pool named by a listener or a route, checked once every pool has been read.
struct PoolRef {
  std::string name;
  std::string path;  // e.g. "listeners[0].http.routes[1].pools[0].pool"
  Pos pos;
};

// A `shared: true` (rate limit, sticky), checked against the shared_state section.
struct SharedRef {
  std::string path;
  Pos pos;
};

// --- listeners (listeners.cc) ---

// Where a listener's cross-checked values came from.
struct ListenerRefs {
  std::string path;
  Pos poolPos;
  bool poolRead = false;
  bool protocolRead = false;
  std::vector<PoolRef> routePools;  // pools named by http routes
  std::vector<SharedRef> shared;    // http.rate_limit.shared
  std::string acmePath;             // tls.acme, when given
  Pos acmePos;
};

// A listener's bind as read, to find duplicates and overlaps (and the admin listener's).
struct Bound {
  SocketAddress address;
  Protocol protocol;
  std::string listener;
  Pos pos;
};

struct ListenersRead {
  std::vector<ListenerRefs> refs;  // parallel to the listeners read
  std::vector<Bound> binds;        // the binds that were valid and unique
};

// listeners (appended to `out`). Duplicate and overlapping binds are reported here.
ListenersRead readListeners(YamlReader& r, const Entry& e, std::vector<Listener>& out);

// "tcp", "udp" or "http".
std::string protocolName(Protocol p);

// --- pools (pools.cc) and their servers (servers.cc) ---

// A pool whose hash key needs an L7 listener, checked against the listeners that use it.
struct HashKeyRef {
  size_t pool;  // index into the pools read
  std::string path;
  Pos pos;
};

struct PoolsRead {
  std::vector<Named> names;
  std::vector<HashKeyRef> hashKeys;
  bool complete = false;  // every pool entry was a map with a valid name
  std::vector<SharedRef> shared;  // http.sticky.shared
  std::vector<HashKeyRef> tls;    // pools with a tls section (http listeners only)
};

// pools (appended to `out`).
PoolsRead readPools(YamlReader& r, const Entry& e, std::vector<Pool>& out);

// "client_address", "header:NAME", "cookie:NAME" or "path", as written in the config.
std::string hashKeyText(const HashKey& key);

// pools[].servers.
void readServers(YamlReader& r, const Entry& e, Pool& pool);

// --- server health (health.cc) ---

void readHealthCheck(YamlReader& r, const Entry& e, HealthCheck& h);
void readAgent(YamlReader& r, const Entry& e, AgentCheck& a);
void readOutlierDetection(YamlReader& r, const Entry& e, OutlierDetection& o);

// listeners[].tls (listener_tls.cc): certificate files (resolved against the config's
// directory), versions, ciphers, ALPN, unknown SNI. `protocol`: the listener's (udp has none).
// `refs`: where tls.acme was (checkAcme).
void readListenerTls(YamlReader& r, const Entry& e, ListenerTls& out, Protocol protocol, ListenerRefs& refs);

// listeners[].tls.client_certificates (client_certificates.cc): mode, CA bundle, CRL, headers.
void readClientCertificates(YamlReader& r, const Entry& e, ClientCertificates& out, Protocol protocol);
// listeners[].http2 (http listeners): enabled and the HTTP/2 settings.
void readListenerHttp2(YamlReader& r, const Entry& e, Http2& out);

// listeners[].sni_routes (sni_routes.cc): names and pools; the pools go to `pools` for the
// cross-check. `protocol`: the listener's (only tcp may have them).
void readSniRoutes(YamlReader& r, const Entry& e, std::vector<SniRoute>& out, std::vector<PoolRef>& pools);

// --- HTTP listeners ---

// What the loader needs from a listener's http section besides the model.
struct HttpListenerRefs {
  std::vector<PoolRef> pools;  // every pool named by the routes, in file order
  // A routes list was given that is not empty (or could not be read, which is already reported):
  // such a listener does not need a default pool.
  bool hasRoutes = false;
  std::vector<SharedRef> shared;  // rate_limit.shared: true
};

// listeners[].http: parser limits, forwarded headers, rate limit (http_listener.cc). Read
// whatever the listener's protocol (the caller reports the section on a tcp or udp listener),
// so that every mistake in it is reported.
HttpListenerRefs readHttpListener(YamlReader& r, const Entry& e, HttpListener& out);

// listeners[].http.routes: names and actions (routes.cc). Pools the routes name go to refs.
void readRoutes(YamlReader& r, const Entry& e, std::vector<Route>& out, HttpListenerRefs& refs);

// routes[].match (route_match.cc).
void readMatch(YamlReader& r, const Entry& e, RouteMatch& out);

// routes[].request_headers and response_headers (header_edits.cc). `request`: the edits apply
// to the request sent to the server, where Host cannot be edited.
void readHeaderEdits(YamlReader& r, const Entry& e, HeaderEdits& out, bool request);

// pools[].http: keep-alive pool, retries, sticky sessions (pool_http.cc).
// A sticky `shared: true` goes to `shared`.
void readPoolHttp(YamlReader& r, const Entry& e, PoolHttp& out, std::vector<SharedRef>& shared);

// pools[].tls (pool_tls.cc).
void readPoolTls(YamlReader& r, const Entry& e, PoolTls& out);

// shared_state: Redis or Sentinels (shared_state.cc).
void readSharedState(YamlReader& r, const Entry& e, SharedState& out);

// acme: the ACME directory, challenge, renewal and storage (acme.cc).
void readAcme(YamlReader& r, const Entry& e, Acme& out);

// --- checks across sections (cross_checks.cc), once every section is read ---

// Every pool a listener or route names exists.
void checkPoolReferences(YamlReader& r, const Config& config, const PoolsRead& pools, const ListenersRead& listeners);
// No tcp or udp listener uses a pool that hashes on a header, cookie or path.
void checkHashKeys(YamlReader& r, const Config& config, const PoolsRead& pools, const ListenersRead& listeners);
// No tcp or udp listener uses a pool that speaks TLS to its servers (L4 relays bytes as they are).
void checkPoolTls(YamlReader& r, const Config& config, const PoolsRead& pools, const ListenersRead& listeners);
// The admin listener's bind is not a tcp or http listener's. `admin`: the admin section, if any.
void checkAdminBind(YamlReader& r, const Config& config, const Entry* admin, const ListenersRead& listeners);
// listeners[].tls.acme names have an acme section to obtain them from. `acme`: the section, if any.
void checkAcme(YamlReader& r, const Config& config, const ListenersRead& listeners);
// Every `shared: true` has a shared_state section to share through.
void checkSharedState(YamlReader& r, const Config& config, const PoolsRead& pools, const ListenersRead& listeners);

}  // namespace fulcrum::config::detail
