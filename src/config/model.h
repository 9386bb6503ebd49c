#pragma once
// The validated, immutable configuration model. Built only by config::load(); every
// value here has passed validation, so the rest of Fulcrum never re-checks it.
// Later issues extend it (http listeners, routes, health checks, admin); keep new
// sections optional with safe defaults so old files stay valid.
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/algorithm.h"

namespace fulcrum::config {

using Millis = std::chrono::milliseconds;

// A resolved socket address (IPv4 or IPv6), kept with the text it came from.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // as written in the config, e.g. "127.0.0.1:9000" or "[::1]:53"
  int family() const { return storage.ss_family; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// An address range such as 10.0.0.0/8 or 2001:db8::/32 (trusted PROXY senders).
struct Cidr {
  int family = AF_INET;
  uint8_t bytes[16]{};  // network address, 4 or 16 bytes used
  int prefix = 0;
  std::string text;
  bool contains(const sockaddr* addr) const;  // IPv4-mapped IPv6 peers match IPv4 ranges
};

enum class Protocol { Tcp, Udp, Http };
enum class ProxyProtocolVersion { None, V1, V2 };

// What ip_hash / consistent_hash / maglev hash on. L4 (tcp/udp) listeners can provide only
// ClientAddress; the loader rejects the others on a pool that an L4 listener uses.
enum class HashKeySource { ClientAddress, Header, Cookie, Path };
struct HashKey {
  HashKeySource source = HashKeySource::ClientAddress;
  std::string name;  // the header or cookie name; empty for ClientAddress and Path
};

enum class CheckType { None, Tcp, Http };

// Active health check of every server in a pool.
struct HealthCheck {
  CheckType type = CheckType::None;  // no health_check section = None (servers are assumed up)
  Millis interval{2000};             // 100ms..1h
  Millis jitter{0};                  // 0..interval; each check is delayed by a random 0..jitter.
                                     // The loader sets interval/10 when the file gives none.
  Millis timeout{1000};              // 1ms..1h, <= interval
  uint32_t rise = 2;                 // consecutive successes to mark a server up, 1..100
  uint32_t fall = 3;                 // consecutive failures to mark a server down, 1..100
  uint16_t port = 0;                 // 0 = the server's own port
  // Http only:
  std::string method = "GET";        // GET, HEAD, OPTIONS or POST
  std::string path = "/";            // starts with '/'; printable ASCII without spaces
  std::string host;                  // Host header; empty = the server's address
  std::vector<std::pair<int, int>> expect_status{{200, 399}};  // inclusive ranges within 100..599
  std::string body_contains;         // empty = the body is not checked; at most 1024 bytes
};

// Per-server agent check: a TCP agent that reports "up 75%", "drain", "down" and so on.
struct AgentCheck {
  uint16_t port = 0;       // 0 = no agent check
  Millis interval{5000};   // 100ms..1h
  Millis timeout{1000};    // 1ms..1h, <= interval
};

// Passive health: servers failing live traffic are ejected for a while. On by default (Envoy's
// and NGINX's passive checks are too): a stalled or dead server must stop taking requests
// without an operator's help. Only the server's own faults count (docs/design/health.md).
struct OutlierDetection {
  bool enabled = true;                   // `enabled: false` turns it off
  uint32_t max_fails = 5;                // consecutive failures ... 1..1000
  Millis fail_timeout{10000};            // ... within this window, 1ms..1h
  Millis ejection_time{30000};           // first ejection; doubles on each repeated ejection
  Millis max_ejection_time{300000};      // cap, >= ejection_time
  uint32_t max_ejection_percent = 50;    // 0..100 of the pool's servers ejected at once
  uint32_t error_rate_percent = 0;       // 0 = off; 1..100: eject when failures/requests over
                                         // error_rate_window reach it
  Millis error_rate_window{30000};       // 1ms..1h
  uint32_t error_rate_min_requests = 20; // 1..1000000 requests in the window before the rate counts
};

struct Timeouts {
  Millis connect{5000};   // server connect
  Millis idle{300000};    // no byte in either direction (TCP); flow expiry uses udp.flow_idle
  Millis queue{10000};    // wait for a free slot when every server is at max_connections
  Millis drain{30000};    // graceful stop: how long open connections may finish
  Millis handshake{5000}; // a PROXY protocol header from a trusted front, and a TLS handshake
                          // (from the accept), must be complete within this
  // HTTP listeners only:
  Millis request_head{10000};  // a client's request head must be complete within this (slowloris)
  Millis request_body{60000};  // longest wait for the next bytes of a request body
  Millis response{60000};      // from the request sent to the server's response head
  Millis keepalive{60000};     // a client connection idle between requests is closed after this
  // A worker whose event loop has not turned for this long (a stuck thread) makes /readyz
  // fail, so a watcher (`fulcrum watch`) moves the service address away.
  Millis worker_stall{2000};
  // Graceful stop behind a router or an orchestrator: for this long after SIGTERM, /readyz
  // fails (so `fulcrum watch` withdraws the route) while the listeners still accept, every
  // HTTP connection closes at its next request boundary, and new ones get one answer each;
  // only then does the drain begin. 0 = the drain begins at once.
  Millis withdraw{0};
};

// The range of a server's weight, for the loader and the admin API alike. 0 is refused: a server
// that should take nothing is drained instead.
inline constexpr uint32_t kMinServerWeight = 1;
inline constexpr uint32_t kMaxServerWeight = 256;

struct Server {
  SocketAddress address;
  uint32_t weight = 1;           // kMinServerWeight..kMaxServerWeight
  uint32_t max_connections = 0;  // 0 = unlimited
  bool backup = false;
  bool drain = false;            // no new connections; open ones finish
  bool disabled = false;         // maintenance: no traffic at all, no checks; open ones finish
  AgentCheck agent;
};

// Sticky sessions (HTTP listeners only).
enum class StickyMode { None, Cookie, ClientAddress };
struct Sticky {
  StickyMode mode = StickyMode::None;
  // Cookie mode: Fulcrum sets NAME=<opaque server id>; the id never shows the address.
  std::string cookie_name = "FULCRUM_SRV";  // an HTTP token
  std::string path = "/";                   // printable ASCII without ';' or spaces
  Millis max_age{0};                        // 0 = a session cookie (no Max-Age)
  bool http_only = true;
  bool secure = false;
  std::string same_site;                    // "", "Strict", "Lax" or "None"
  // client_address mode: the server chosen for a client is kept in Redis (shared_state) for
  // `ttl` after its last request, so every instance sends the client to the same server.
  bool shared = false;
  Millis ttl{1800000};  // 1s..24h
};

// When an HTTP request is tried again on another server (bit set).
enum RetryOn : uint32_t {
  kRetryConnectFailure = 1u << 0,  // connect refused, failed or timed out (nothing was sent)
  kRetryReset = 1u << 1,           // the server closed or reset before a response head
  kRetryTimeout = 1u << 2,         // no response head within timeouts.response
  kRetry502 = 1u << 3,
  kRetry503 = 1u << 4,
  kRetry504 = 1u << 5,
};

// How HTTP listeners use a pool (ignored by tcp/udp listeners).
struct PoolHttp {
  uint32_t idle_connections = 1024;  // idle keep-alive connections kept per server per worker, 0..10000
  Millis idle_timeout{60000};      // an idle pooled connection is closed after this, 1ms..24h
  // YAML: retry_on: [connect_failure, reset, timeout, 502, 503, 504]. A timeout is retried for
  // idempotent requests only (docs/design/health.md says why it is on by default).
  uint32_t retry_on = kRetryConnectFailure | kRetryReset | kRetryTimeout;
  uint32_t retry_budget_percent = 20;  // retries at most this share of requests (0..100) ...
  uint32_t retry_budget_min = 10;      // ... but always allow this many retries per second, 0..100000
  uint32_t max_requests = 0;       // concurrent requests to the pool (all workers); 0 = unlimited;
                                   // beyond it requests wait (queue_size, timeouts.queue), then 503
  Sticky sticky;
};

// A certificate and its key, for a listener or as a client certificate to servers.
struct TlsCertificateFiles {
  std::string cert;   // PEM chain: the certificate, then its intermediates
  std::string key;    // PEM private key (unencrypted), RSA or ECDSA
  std::string ocsp;   // optional: a DER OCSP response for cert (as `openssl ocsp -respout` writes), stapled
  std::string where;  // "file:line:column: listeners[0].tls.certificates[1]", for errors
};
// TLS 1.2 suites: ECDHE with AEAD only (Mozilla's "intermediate" set less the DHE ones).
inline constexpr const char* kDefaultTlsCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* kDefaultTlsCiphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
// TLS to a pool's servers (http listeners only): the server's certificate is checked against
// `ca` and the server's name, unless verify is off. Defaults as in ListenerTls.
struct PoolTls {
  bool enabled = false;           // a tls section is present
  std::string ca;                 // PEM bundle of trusted CAs; empty = the system store
  bool verify = true;             // false: any certificate is taken (logged at start)
  // SNI and the name checked in the certificate. Empty: each server's host when it is a
  // name ("app.internal:8443"); an IP address is then checked against the certificate's IP
  // addresses and no SNI is sent.
  std::string server_name;
  TlsCertificateFiles client_certificate;  // cert and key empty: none offered
  uint16_t min_version = 0x0303;  // TLS 1.2
  uint16_t max_version = 0x0304;  // TLS 1.3
  std::string ciphers = kDefaultTlsCiphers;
  std::string ciphersuites = kDefaultTlsCiphersuites;
  std::vector<std::string> alpn;  // offered (none by default)
  bool session_reuse = true;      // resume sessions per server (per worker)
  std::string where;              // "file:line:column: pools[0].tls", for errors
};

struct Pool {
  std::string name;
  Algorithm algorithm = Algorithm::RoundRobin;  // common/algorithm.h: the one list, with YAML names
  HashKey hash_key;              // ip_hash, consistent_hash and maglev only
  uint32_t vnodes = 160;         // consistent_hash: ring points per unit of server weight, 1..10000
  Millis slow_start{0};          // 0..1h: a recovered or new server's weight ramps up over this; 0 = off
  uint32_t panic_threshold = 50; // percent 0..100: below this share of healthy servers, balance
                                 // across all of them; 0 = never panic
  HealthCheck health_check;
  OutlierDetection outlier_detection;
  std::vector<Server> servers;
  uint32_t retries = 2;          // extra connect attempts, each on another server when possible
  uint32_t queue_size = 1024;    // waiters per worker when every server is full; 0 = refuse at once
  ProxyProtocolVersion send_proxy = ProxyProtocolVersion::None;
  PoolHttp http;
  PoolTls tls;
};

// --- HTTP listeners ---

// A header name and value for add/set.
struct HeaderValue {
  std::string name;   // an HTTP token
  std::string value;  // no CR, LF or NUL
};

// Per route: headers added (appended), set (replacing any of that name) and removed.
struct HeaderEdits {
  std::vector<HeaderValue> add;
  std::vector<HeaderValue> set;
  std::vector<std::string> remove;
  bool empty() const { return add.empty() && set.empty() && remove.empty(); }
};

// How a header, query parameter or cookie must look for a route to match.
enum class ValueMatchKind { Present, Exact, Regex, Absent };
struct ValueMatch {
  std::string name;  // header names match case-insensitively; query and cookie names exactly
  ValueMatchKind kind = ValueMatchKind::Present;
  std::string value;  // Exact: the value; Regex: an RE2 pattern that must match the whole value
};

enum class PathMatchKind { Any, Exact, Prefix, Regex };

// All given conditions must hold (an empty list or Any matches everything).
struct RouteMatch {
  // Lower-case; exact ("api.example.com") or a leading wildcard ("*.example.com" matches
  // "a.example.com" and "a.b.example.com", not "example.com"). The request's port is ignored.
  std::vector<std::string> hosts;
  PathMatchKind path_kind = PathMatchKind::Any;
  std::string path;  // Exact/Prefix: starts with '/'; Regex: RE2 pattern searched for in the path (no query)
  std::vector<std::string> methods;  // e.g. GET, POST; upper-case tokens
  std::vector<ValueMatch> headers;
  std::vector<ValueMatch> query;
  std::vector<ValueMatch> cookies;
  // On the verified client certificate's subject (mTLS): Present/Absent, or Exact/Regex of the
  // RFC 2253 subject ("CN=alice,O=Example"). Empty: any.
  std::vector<ValueMatch> client_certificate;
};

struct WeightedPool {
  std::string pool;     // validated: names an existing pool
  uint32_t weight = 1;  // 0..1000 (0 = takes nothing, for a canary turned off); the sum must be > 0
};

enum class RouteAction { Forward, Respond, Redirect };

struct Route {
  std::string name;  // optional (defaults to "routes[N]"); shown in logs
  RouteMatch match;
  RouteAction action = RouteAction::Forward;
  // Forward: one pool, or several split by weight (a canary).
  std::vector<WeightedPool> pools;
  // Respond: a fixed response.
  uint16_t status = 200;  // Respond: 200..599; Redirect: 301, 302, 303, 307 or 308
  std::string body;       // Respond only, at most 64 KiB
  std::string content_type = "text/plain; charset=utf-8";
  // Redirect: Location. "{host}" and "{uri}" (path and query) are replaced from the request,
  // e.g. "https://{host}{uri}".
  std::string location;
  HeaderEdits request_headers;   // Forward only: applied to the request sent to the server
  HeaderEdits response_headers;  // applied to every response given to the client on this route
  std::string host_rewrite;      // Forward only: the Host sent to the server; empty = the client's
};

// X-Forwarded-* and X-Real-IP on requests sent to servers.
struct Forwarded {
  bool x_forwarded_for = true;    // append the client's address
  bool x_forwarded_proto = true;  // set "http"
  bool x_forwarded_host = true;   // set the client's Host
  bool x_real_ip = true;          // set the client's address
  // Fronts whose X-Forwarded-* / X-Real-IP are believed: from them the headers are kept (and
  // X-Forwarded-For appended to); from anyone else they are removed first. Empty = no one.
  std::vector<Cidr> trusted;
};

// Token bucket per key (NGINX limit_req): `rate` requests per second with `burst` extra.
enum class RateLimitKey { ClientAddress, Header };
struct RateLimit {
  bool enabled = false;
  RateLimitKey key = RateLimitKey::ClientAddress;
  std::string header;   // Header key: an HTTP token; requests without it share one bucket
  double rate = 0;      // requests per second, > 0 (YAML: "10/s", "600/m")
  uint32_t burst = 0;   // 0..100000
  // false: requests within the burst are delayed to the rate (NGINX's default); true: served
  // at once while tokens last. Beyond the burst: 429 with Retry-After.
  bool nodelay = false;
  uint32_t max_keys = 100000;  // buckets kept per worker (least recently used dropped), 1..10000000
  // Counted in Redis (shared_state) across every instance: R/s on each of N instances admits
  // about R/s in total, not N x R.
  bool shared = false;
};

// Dot segments ("/a/../b", "%2e%2e") in request paths. The router and the server must see the
// same path, or "/public/../admin" is routed as public and served as admin.
enum class DotSegments {
  Reject,     // 400 (default): safe whatever the server does with them
  Normalize,  // RFC 3986 §5.2.4 remove_dot_segments before routing; the server gets the result
  Forward,    // routed and forwarded as they are: only for servers that never resolve them
};

struct HttpListener {
  std::vector<Route> routes;  // tried in order; none matching = Listener::pool, or 404 without one
  Forwarded forwarded;
  RateLimit rate_limit;
  uint32_t max_connections_per_client = 0;  // per client address per worker; 0 = unlimited
  // Parser limits (http/limits.h).
  uint32_t max_request_line = 8 * 1024;   // 64..1 MiB
  uint32_t max_header_bytes = 64 * 1024;  // 256..1 MiB
  uint32_t max_headers = 100;             // 1..10000
  uint64_t max_body_size = 0;             // 0 = unlimited; else 413 above it
  DotSegments path_dot_segments = DotSegments::Reject;
};

// TLS on a listener (tcp or http): certificates and what the handshake allows. The names a
// certificate serves are read from it (tls/certificate.h), never repeated here.
// Session tickets (tls/ticket_keys.h): Fulcrum's own keys, shared by the workers and kept
// across reloads; from key_file when set (instances with the same file resume each other's
// sessions), else random ones made in the process and rotated every `rotate`.
struct TlsSessionTickets {
  std::string key_file;                // empty: random keys, rotated
  Millis rotate = Millis(12 * 3600 * 1000);  // generated keys: a new key encrypts every `rotate`
  Millis lifetime = Millis(2 * 3600 * 1000);  // of a session (ticket or cache); generated keys: at most 2 x rotate
  std::string where;                   // "file:line:column: listeners[0].tls.session_tickets", for errors
};
// Client certificates (mTLS) on a TLS listener: verified against `ca` (and `crl`), the verified
// identity passed to the servers in headers (http listeners), and matched by routes.
enum class ClientCertificateMode { Off, Optional, Required };
struct ClientCertificates {
  ClientCertificateMode mode = ClientCertificateMode::Off;  // Optional: a certificate sent must verify
  std::string ca;   // PEM bundle of the CAs a client certificate must chain to
  std::string crl;  // PEM CRLs of those CAs; empty: no revocation check
  // Headers to the server (empty: not sent); always removed from the client's request first.
  std::string subject_header = "X-Client-Subject";          // RFC 2253: "CN=alice,O=Example"
  std::string sans_header = "X-Client-SANs";                // "DNS:a.example, email:x@example, ..."
  std::string fingerprint_header = "X-Client-Fingerprint";  // SHA-256 of the DER, lower-case hex
  // "file:line:column: listeners[0].tls.client_certificates.ca" (and .crl), for errors
  std::string ca_where, crl_where;
  bool enabled() const { return mode != ClientCertificateMode::Off; }
};
struct ListenerTls {
  std::vector<TlsCertificateFiles> certificates;  // empty: no TLS on this listener
  uint16_t min_version = 0x0303;  // TLS 1.2
  uint16_t max_version = 0x0304;  // TLS 1.3
  std::string ciphers = kDefaultTlsCiphers;            // TLS 1.2 (OpenSSL cipher list syntax)
  std::string ciphersuites = kDefaultTlsCiphersuites;  // TLS 1.3
  std::vector<std::string> alpn;  // offered protocols; http listeners: http/1.1 by default (h2 first
                                  // when http2 is enabled)
  bool alpn_given = false;          // alpn was written in the config (else the default)
  bool refuse_unknown_sni = false;  // unknown_sni: refuse (else the first certificate answers)
  // Names whose certificate ACME obtains and renews (the top-level acme section): one
  // certificate for all of them, served beside `certificates`. Lower case, no wildcards.
  std::vector<std::string> acme;
  TlsSessionTickets session_tickets;
  ClientCertificates client_certificates;
  bool ktls = false;                // kernel TLS where the kernel offers it (tls/kernel_tls.h)
  std::string where;                // "file:line:column: listeners[0].tls", for errors
  bool enabled() const { return !certificates.empty() || !acme.empty(); }
};

// A tcp listener's route by the TLS ClientHello's server name (SNI passthrough: the TLS session
// goes untouched to the pool's servers). A name is exact, or "*.rest" for one label before
// ".rest" (the rule of common/host_name.h). Exact names win over wildcards, whatever the order.
struct SniRoute {
  std::vector<std::string> names;  // lower case, unique across the listener's routes
  std::string pool;                // validated: names an existing pool
};

// HTTP/2 from clients on an http listener (docs/design/h2.md): `h2` by ALPN on a TLS listener,
// HTTP/2 with prior knowledge (h2c, the 24-byte preface) on a plain one. Off unless enabled.
struct Http2 {
  bool enabled = false;
  uint32_t max_concurrent_streams = 100;   // 1..10000 (SETTINGS_MAX_CONCURRENT_STREAMS)
  uint32_t initial_window_size = 65535;    // 1024..2^31-1: what a stream may send us unread
  uint32_t max_frame_size = 16384;         // 16384..16777215 (SETTINGS_MAX_FRAME_SIZE)
  uint32_t max_header_list_size = 65536;   // 1024..16 MiB (SETTINGS_MAX_HEADER_LIST_SIZE)
};

struct Listener {
  std::string name;
  SocketAddress bind;
  Protocol protocol = Protocol::Tcp;
  std::string pool;              // validated: names an existing pool; optional for http listeners
                                 // (the default when no route matches) and tcp listeners with
                                 // sni_routes (the default for no or an unknown SNI; none: refused)
  bool accept_proxy = false;     // expect a PROXY v1/v2 header from a trusted front (tcp and http)
  std::vector<Cidr> trusted_proxies;  // allowed to send PROXY; empty = any peer
  uint32_t backlog = 4096;
  // Bind even when the address is not (yet) on this host (IP_FREEBIND): a VRRP virtual address
  // on the backup of a pair, which is then ready the moment the address moves to it.
  bool freebind = false;
  Millis udp_flow_idle{30000};   // UDP: a flow with no datagram for this long is forgotten
  uint32_t udp_max_flows = 10000; // UDP: flows per worker; beyond it new flows are dropped
  HttpListener http;             // protocol http only
  ListenerTls tls;               // tcp and http listeners
  Http2 http2;                   // http listeners
  std::vector<SniRoute> sni_routes;  // tcp only, without tls: route by SNI, relay untouched
};

// The admin listener: /metrics, /stats, /livez, /readyz and the REST API (docs/admin.md).
struct Admin {
  bool enabled = true;
  SocketAddress bind;          // default 127.0.0.1:9900 (set by the loader)
  std::string token;           // bearer token; required when bind is not a loopback address
  // HTTPS (the listeners' tls block, ALPN http/1.1); required when bind is not a loopback address.
  ListenerTls tls;
  std::string state_file;      // API changes kept here; empty = "<config file>.state.json"
  std::string audit_log;       // one JSON line per API change; empty = "<config file>.audit.log"
  // The Unix socket `fulcrum upgrade` hands the listening sockets over through; empty =
  // "<config file>.sock". Read at start-up only (a reload does not move it).
  std::string control_socket;
  // Before its request head is complete a connection is unauthenticated and costs an fd:
  // it gets this long, and one client address may hold at most this many connections.
  Millis head_timeout{2000};                 // 100ms..60s
  uint32_t max_connections_per_client = 16;  // 1..1024
};

// One line per HTTP request or L4 connection, written by a background thread.
enum class LogField {
  Time, Client, Listener, Protocol, Route, Pool, Server, Method, Path, Status, BytesIn, BytesOut,
  QueueMs, ConnectMs, ResponseMs, TotalMs, Retries, Termination
};
// Field names as written in templates (${name}) and as JSON keys, in LogField order.
inline constexpr const char* kLogFieldNames[] = {
    "time",     "client",   "listener",   "protocol",    "route",    "pool",
    "server",   "method",   "path",       "status",      "bytes_in", "bytes_out",
    "queue_ms", "connect_ms", "response_ms", "total_ms", "retries",  "termination"};
struct LogSegment {
  std::string literal;  // written first
  int field = -1;       // then this LogField, or -1 for none
};
struct AccessLog {
  bool enabled = false;            // true when the section is present
  std::string path;                // a file, or "-" for standard output
  bool json = true;                // format: json (default) or a template
  std::vector<LogSegment> format;  // the template, when !json
};

// Redis for state the instances share (shared rate limits, client-address stickiness).
struct SharedState {
  bool enabled = false;                   // true when the section is present
  SocketAddress redis;                    // a Redis master, or ...
  std::vector<SocketAddress> sentinels;   // ... Sentinels asked for the master of master_name
  std::string master_name;
  std::string key_prefix = "fulcrum:";    // printable, no spaces, 1..64 characters
  Millis timeout{200};                    // connect and reply, 10ms..10s: then local state is used
  Millis sync_interval{100};              // counters and choices exchanged this often, 10ms..1s
};

// Automatic certificates (RFC 8555) for the names of listeners[].tls.acme.
enum class AcmeChallenge : uint8_t { Http01, TlsAlpn01 };
struct Acme {
  bool enabled = false;       // true when the section is present
  std::string directory;      // the directory URL (https)
  std::string email;          // the account's contact; empty: none
  std::string storage;        // the account key and certificates (created 0700, files 0600)
  std::string ca;             // PEM bundle the directory's HTTPS is verified with; empty: the system's
  AcmeChallenge challenge = AcmeChallenge::TlsAlpn01;
  Millis renew_before{std::chrono::hours(24 * 30)};  // renew this long before notAfter
  Millis retry_min{std::chrono::minutes(1)};         // backoff after a failure, doubling ...
  Millis retry_max{std::chrono::hours(24)};          // ... up to this
  Millis timeout{std::chrono::seconds(30)};          // one request to the directory
  std::string where;          // "file:line:column: acme", for errors
};

struct Config {
  std::string source;            // file path it was loaded from
  uint32_t workers = 0;          // 0 = one per core; the CLI's --workers wins
  std::string log_level = "info";
  Timeouts timeouts;
  std::vector<Listener> listeners;
  std::vector<Pool> pools;
  Admin admin;
  AccessLog access_log;
  SharedState shared_state;
  Acme acme;

  const Pool* findPool(const std::string& name) const {
    for (const auto& p : pools) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }
};

}  // namespace fulcrum::config
