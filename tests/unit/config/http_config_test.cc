// Valid HTTP configs: http listeners (limits, forwarded headers, rate limit, routes), the pools'
// http settings and the HTTP timeouts, checked field by field, and their defaults.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using namespace std::chrono_literals;
using testing::dump;
using testing::load;

const char* const kFullHttp = R"(workers: 2
timeouts:
  request_head: 5s
  request_body: 30s
  response: 45s
  keepalive: 2m
listeners:
  - name: web
    bind: 127.0.0.1:8080
    protocol: http
    pool: web
    proxy_protocol: true
    trusted_proxies: [10.0.0.0/8]
    http:
      max_request_line: 4096
      max_header_bytes: 32768
      max_headers: 50
      max_body_size: 4611686018427387904
      max_connections_per_client: 64
      forwarded:
        x_forwarded_for: false
        x_forwarded_proto: true
        x_forwarded_host: false
        x_real_ip: false
        trusted: [10.0.0.0/8, "::1"]
      rate_limit:
        key: header:X-Api-Key
        rate: 600/m
        burst: 20
        nodelay: true
        max_keys: 5000
      routes:
        - name: api
          match:
            host: [API.Example.com, "*.example.org"]
            path_prefix: /api/
            method: [GET, POST]
            headers:
              - {name: X-Canary, exact: "1"}
              - {name: X-Debug, absent: true}
            query: [{name: debug, present: true}]
            cookies: [{name: session, regex: "^a"}]
          pools: [{pool: v1, weight: 90}, {pool: v2, weight: 10}]
          request_headers:
            add: {X-A: "1"}
            set: {X-B: 2}
            remove: [X-C, Cookie]
          response_headers:
            set: {Cache-Control: no-store}
          host_rewrite: backend.internal:8443
        - match: {path: /healthz}
          respond: {status: 200, body: "ok\n", content_type: text/plain}
          response_headers: {add: {X-Served-By: fulcrum}}
        - name: old
          match: {path_regex: "^/v[0-9]+/"}
          redirect: {status: 301, location: "https://{host}{uri}"}
        - match: {host: example.com, method: DELETE}
          redirect: {location: /new}
        - pool: web
  - name: routes-only
    bind: 127.0.0.1:8081
    protocol: http
    http:
      routes:
        - respond: {status: 404}
  - name: plain
    bind: 127.0.0.1:9443
    pool: plain
pools:
  - name: web
    algorithm: consistent_hash
    hash_key: header:X-User
    http:
      idle_connections: 0
      idle_timeout: 90s
      retry_on: [connect_failure, timeout, 502, 503, 504]
      retry_budget: 50
      retry_budget_min: 0
      max_requests: 1000
      sticky:
        cookie: SRV
        path: /app
        max_age: 1h
        http_only: false
        secure: true
        same_site: None
    servers: [{address: 127.0.0.1:9001}]
  - name: v1
    algorithm: maglev
    hash_key: cookie:sid
    http:
      retry_on: []
      sticky: {mode: client_address}
    servers: [{address: 127.0.0.1:9002}]
  - name: v2
    http:
      sticky:
    servers: [{address: 127.0.0.1:9003}]
  - name: plain
    servers: [{address: 127.0.0.1:9004}]
)";

TEST(HttpConfigTest, FullHttpConfig) {
  auto r = loadString(kFullHttp, "http.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.timeouts.request_head, 5s);
  EXPECT_EQ(c.timeouts.request_body, 30s);
  EXPECT_EQ(c.timeouts.response, 45s);
  EXPECT_EQ(c.timeouts.keepalive, 2min);
  EXPECT_EQ(c.timeouts.connect, 5s);  // the L4 timeouts keep their defaults

  ASSERT_EQ(c.listeners.size(), 3u);
  const Listener& web = c.listeners[0];
  EXPECT_EQ(web.protocol, Protocol::Http);
  EXPECT_EQ(web.pool, "web");
  EXPECT_TRUE(web.accept_proxy);
  ASSERT_EQ(web.trusted_proxies.size(), 1u);
  const HttpListener& h = web.http;
  EXPECT_EQ(h.max_request_line, 4096u);
  EXPECT_EQ(h.max_header_bytes, 32768u);
  EXPECT_EQ(h.max_headers, 50u);
  EXPECT_EQ(h.max_body_size, uint64_t{1} << 62);
  EXPECT_EQ(h.max_connections_per_client, 64u);

  EXPECT_FALSE(h.forwarded.x_forwarded_for);
  EXPECT_TRUE(h.forwarded.x_forwarded_proto);
  EXPECT_FALSE(h.forwarded.x_forwarded_host);
  EXPECT_FALSE(h.forwarded.x_real_ip);
  ASSERT_EQ(h.forwarded.trusted.size(), 2u);
  EXPECT_EQ(h.forwarded.trusted[0].text, "10.0.0.0/8");
  EXPECT_EQ(h.forwarded.trusted[0].prefix, 8);
  EXPECT_EQ(h.forwarded.trusted[1].family, AF_INET6);
  EXPECT_EQ(h.forwarded.trusted[1].prefix, 128);

  const RateLimit& rl = h.rate_limit;
  EXPECT_TRUE(rl.enabled);
  EXPECT_EQ(rl.key, RateLimitKey::Header);
  EXPECT_EQ(rl.header, "X-Api-Key");
  EXPECT_DOUBLE_EQ(rl.rate, 10.0);  // 600/m
  EXPECT_EQ(rl.burst, 20u);
  EXPECT_TRUE(rl.nodelay);
  EXPECT_EQ(rl.max_keys, 5000u);

  ASSERT_EQ(h.routes.size(), 5u);
  const Route& api = h.routes[0];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.match.hosts, (std::vector<std::string>{"api.example.com", "*.example.org"}));  // lower-cased
  EXPECT_EQ(api.match.path_kind, PathMatchKind::Prefix);
  EXPECT_EQ(api.match.path, "/api/");
  EXPECT_EQ(api.match.methods, (std::vector<std::string>{"GET", "POST"}));
  ASSERT_EQ(api.match.headers.size(), 2u);
  EXPECT_EQ(api.match.headers[0].name, "X-Canary");
  EXPECT_EQ(api.match.headers[0].kind, ValueMatchKind::Exact);
  EXPECT_EQ(api.match.headers[0].value, "1");
  EXPECT_EQ(api.match.headers[1].name, "X-Debug");
  EXPECT_EQ(api.match.headers[1].kind, ValueMatchKind::Absent);
  ASSERT_EQ(api.match.query.size(), 1u);
  EXPECT_EQ(api.match.query[0].name, "debug");
  EXPECT_EQ(api.match.query[0].kind, ValueMatchKind::Present);
  ASSERT_EQ(api.match.cookies.size(), 1u);
  EXPECT_EQ(api.match.cookies[0].name, "session");
  EXPECT_EQ(api.match.cookies[0].kind, ValueMatchKind::Regex);
  EXPECT_EQ(api.match.cookies[0].value, "^a");
  EXPECT_EQ(api.action, RouteAction::Forward);
  ASSERT_EQ(api.pools.size(), 2u);
  EXPECT_EQ(api.pools[0].pool, "v1");
  EXPECT_EQ(api.pools[0].weight, 90u);
  EXPECT_EQ(api.pools[1].pool, "v2");
  EXPECT_EQ(api.pools[1].weight, 10u);
  ASSERT_EQ(api.request_headers.add.size(), 1u);
  EXPECT_EQ(api.request_headers.add[0].name, "X-A");
  EXPECT_EQ(api.request_headers.add[0].value, "1");
  ASSERT_EQ(api.request_headers.set.size(), 1u);
  EXPECT_EQ(api.request_headers.set[0].name, "X-B");
  EXPECT_EQ(api.request_headers.set[0].value, "2");
  EXPECT_EQ(api.request_headers.remove, (std::vector<std::string>{"X-C", "Cookie"}));
  EXPECT_TRUE(api.response_headers.add.empty());
  ASSERT_EQ(api.response_headers.set.size(), 1u);
  EXPECT_EQ(api.response_headers.set[0].name, "Cache-Control");
  EXPECT_EQ(api.response_headers.set[0].value, "no-store");
  EXPECT_TRUE(api.response_headers.remove.empty());
  EXPECT_EQ(api.host_rewrite, "backend.internal:8443");

  const Route& health = h.routes[1];
  EXPECT_EQ(health.name, "routes[1]");  // the default name
  EXPECT_EQ(health.match.path_kind, PathMatchKind::Exact);
  EXPECT_EQ(health.match.path, "/healthz");
  EXPECT_TRUE(health.match.hosts.empty());
  EXPECT_EQ(health.action, RouteAction::Respond);
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_EQ(health.content_type, "text/plain");
  EXPECT_TRUE(health.pools.empty());
  EXPECT_TRUE(health.request_headers.empty());
  ASSERT_EQ(health.response_headers.add.size(), 1u);
  EXPECT_EQ(health.response_headers.add[0].name, "X-Served-By");
  EXPECT_EQ(health.response_headers.add[0].value, "fulcrum");

  const Route& old = h.routes[2];
  EXPECT_EQ(old.name, "old");
  EXPECT_EQ(old.match.path_kind, PathMatchKind::Regex);
  EXPECT_EQ(old.match.path, "^/v[0-9]+/");
  EXPECT_EQ(old.action, RouteAction::Redirect);
  EXPECT_EQ(old.status, 301);
  EXPECT_EQ(old.location, "https://{host}{uri}");

  const Route& moved = h.routes[3];
  EXPECT_EQ(moved.match.hosts, std::vector<std::string>{"example.com"});  // a single string
  EXPECT_EQ(moved.match.methods, std::vector<std::string>{"DELETE"});
  EXPECT_EQ(moved.action, RouteAction::Redirect);
  EXPECT_EQ(moved.status, 302);  // the redirect default
  EXPECT_EQ(moved.location, "/new");

  const Route& fallback = h.routes[4];
  EXPECT_EQ(fallback.name, "routes[4]");
  EXPECT_EQ(fallback.match.path_kind, PathMatchKind::Any);  // no match: everything
  EXPECT_EQ(fallback.action, RouteAction::Forward);
  ASSERT_EQ(fallback.pools.size(), 1u);
  EXPECT_EQ(fallback.pools[0].pool, "web");
  EXPECT_EQ(fallback.pools[0].weight, 1u);
  EXPECT_TRUE(fallback.host_rewrite.empty());

  // An http listener with routes needs no default pool.
  const Listener& routesOnly = c.listeners[1];
  EXPECT_EQ(routesOnly.protocol, Protocol::Http);
  EXPECT_TRUE(routesOnly.pool.empty());
  ASSERT_EQ(routesOnly.http.routes.size(), 1u);
  EXPECT_EQ(routesOnly.http.routes[0].action, RouteAction::Respond);
  EXPECT_EQ(routesOnly.http.routes[0].status, 404);
  EXPECT_EQ(routesOnly.http.routes[0].body, "");
  EXPECT_EQ(routesOnly.http.routes[0].content_type, "text/plain; charset=utf-8");
  EXPECT_FALSE(routesOnly.http.rate_limit.enabled);

  EXPECT_EQ(c.listeners[2].protocol, Protocol::Tcp);

  ASSERT_EQ(c.pools.size(), 4u);
  const PoolHttp& pw = c.pools[0].http;
  EXPECT_EQ(pw.idle_connections, 0u);
  EXPECT_EQ(pw.idle_timeout, 90s);
  EXPECT_EQ(pw.retry_on, kRetryConnectFailure | kRetryTimeout | kRetry502 | kRetry503 | kRetry504);
  EXPECT_EQ(pw.retry_budget_percent, 50u);
  EXPECT_EQ(pw.retry_budget_min, 0u);
  EXPECT_EQ(pw.max_requests, 1000u);
  EXPECT_EQ(pw.sticky.mode, StickyMode::Cookie);  // the default once the section is given
  EXPECT_EQ(pw.sticky.cookie_name, "SRV");
  EXPECT_EQ(pw.sticky.path, "/app");
  EXPECT_EQ(pw.sticky.max_age, 1h);
  EXPECT_FALSE(pw.sticky.http_only);
  EXPECT_TRUE(pw.sticky.secure);
  EXPECT_EQ(pw.sticky.same_site, "None");

  const PoolHttp& v1 = c.pools[1].http;
  EXPECT_EQ(v1.retry_on, 0u);  // an empty list: never retry
  EXPECT_EQ(v1.sticky.mode, StickyMode::ClientAddress);

  const PoolHttp& v2 = c.pools[2].http;
  EXPECT_EQ(v2.sticky.mode, StickyMode::Cookie);  // "sticky:" written empty
  EXPECT_EQ(v2.sticky.cookie_name, "FULCRUM_SRV");
  EXPECT_EQ(v2.sticky.path, "/");
  EXPECT_EQ(v2.sticky.max_age, 0ms);
  EXPECT_TRUE(v2.sticky.http_only);
  EXPECT_FALSE(v2.sticky.secure);
  EXPECT_EQ(v2.sticky.same_site, "");
  EXPECT_EQ(v2.retry_on, kRetryConnectFailure | kRetryReset | kRetryTimeout);

  EXPECT_EQ(c.pools[3].http.sticky.mode, StickyMode::None);
}

TEST(HttpConfigTest, Defaults) {
  auto r = load(R"(listeners:
  - name: web
    bind: 127.0.0.1:8080
    protocol: http
    pool: web
pools:
  - name: web
    servers: [{address: 127.0.0.1:9001}]
)");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.timeouts.request_head, 10s);
  EXPECT_EQ(c.timeouts.request_body, 60s);
  EXPECT_EQ(c.timeouts.response, 60s);
  EXPECT_EQ(c.timeouts.keepalive, 60s);
  const HttpListener& h = c.listeners.at(0).http;
  EXPECT_TRUE(h.routes.empty());
  EXPECT_EQ(h.max_request_line, 8192u);
  EXPECT_EQ(h.max_header_bytes, 65536u);
  EXPECT_EQ(h.max_headers, 100u);
  EXPECT_EQ(h.max_body_size, 0u);
  EXPECT_EQ(h.max_connections_per_client, 0u);
  EXPECT_TRUE(h.forwarded.x_forwarded_for);
  EXPECT_TRUE(h.forwarded.x_forwarded_proto);
  EXPECT_TRUE(h.forwarded.x_forwarded_host);
  EXPECT_TRUE(h.forwarded.x_real_ip);
  EXPECT_TRUE(h.forwarded.trusted.empty());
  EXPECT_FALSE(h.rate_limit.enabled);
  const PoolHttp& p = c.pools.at(0).http;
  EXPECT_EQ(p.idle_connections, 1024u);
  EXPECT_EQ(p.idle_timeout, 60s);
  EXPECT_EQ(p.retry_on, kRetryConnectFailure | kRetryReset | kRetryTimeout);
  EXPECT_EQ(p.retry_budget_percent, 20u);
  EXPECT_EQ(p.retry_budget_min, 10u);
  EXPECT_EQ(p.max_requests, 0u);
  EXPECT_EQ(p.sticky.mode, StickyMode::None);
}

TEST(HttpConfigTest, EmptySectionsAndRateLimitDefaults) {
  auto r = load(R"(listeners:
  - name: web
    bind: 127.0.0.1:8080
    protocol: http
    pool: web
    http:
      forwarded:
      rate_limit: {rate: 2.5/s}
      routes: []
pools:
  - name: web
    http:
    servers: [{address: 127.0.0.1:9001}]
)");
  ASSERT_TRUE(r.ok()) << dump(r);
  const HttpListener& h = r.config->listeners.at(0).http;
  EXPECT_TRUE(h.routes.empty());
  EXPECT_TRUE(h.forwarded.x_forwarded_for);
  const RateLimit& rl = h.rate_limit;
  EXPECT_TRUE(rl.enabled);
  EXPECT_EQ(rl.key, RateLimitKey::ClientAddress);
  EXPECT_DOUBLE_EQ(rl.rate, 2.5);
  EXPECT_EQ(rl.burst, 0u);
  EXPECT_FALSE(rl.nodelay);
  EXPECT_EQ(rl.max_keys, 100000u);
}

TEST(HttpConfigTest, ValueForms) {
  auto withHttp = [](const std::string& keys) {
    return load(
        "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    protocol: http\n    pool: web\n"
        "    http:\n" +
        keys +
        "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n"
        "  - name: web2\n    servers: [{address: 127.0.0.1:9002}]\n");
  };
  // Rates: per second or per minute, decimals allowed, up to 1e6/s.
  for (auto [text, perSecond] : {std::pair<const char*, double>{"1/s", 1},
                                 {"0.5/s", 0.5},
                                 {"1/m", 1.0 / 60},
                                 {"1000000/s", 1e6},
                                 {"60000000/m", 1e6}}) {
    auto r = withHttp(std::string("      rate_limit: {rate: \"") + text + "\"}\n");
    ASSERT_TRUE(r.ok()) << text << "\n" << dump(r);
    EXPECT_DOUBLE_EQ(r.config->listeners[0].http.rate_limit.rate, perSecond) << text;
  }
  // Limits at both ends of their ranges.
  auto low = withHttp(
      "      max_request_line: 64\n      max_header_bytes: 256\n      max_headers: 1\n"
      "      max_body_size: 1\n");
  ASSERT_TRUE(low.ok()) << dump(low);
  EXPECT_EQ(low.config->listeners[0].http.max_request_line, 64u);
  EXPECT_EQ(low.config->listeners[0].http.max_header_bytes, 256u);
  EXPECT_EQ(low.config->listeners[0].http.max_headers, 1u);
  EXPECT_EQ(low.config->listeners[0].http.max_body_size, 1u);
  auto high = withHttp(
      "      max_request_line: 1048576\n      max_header_bytes: 1048576\n      max_headers: 10000\n"
      "      max_connections_per_client: 1000000\n      max_body_size: 10737418240\n");
  ASSERT_TRUE(high.ok()) << dump(high);
  EXPECT_EQ(high.config->listeners[0].http.max_request_line, 1048576u);
  EXPECT_EQ(high.config->listeners[0].http.max_body_size, uint64_t{10} << 30);
  // Hosts: wildcards, IPv4 addresses, upper case folded.
  auto hosts = withHttp(
      "      routes:\n        - match: {host: [\"*.A-1.example.COM\", 10.0.0.1]}\n"
      "          pool: web\n");
  ASSERT_TRUE(hosts.ok()) << dump(hosts);
  EXPECT_EQ(hosts.config->listeners[0].http.routes[0].match.hosts,
            (std::vector<std::string>{"*.a-1.example.com", "10.0.0.1"}));
  // host_rewrite forms.
  for (const char* host : {"backend", "10.0.0.5:8080", "\"[::1]:8080\"", "\"[2001:db8::1]\""}) {
    auto r = withHttp(std::string("      routes:\n        - pool: web\n          host_rewrite: ") + host + "\n");
    EXPECT_TRUE(r.ok()) << host << "\n" << dump(r);
  }
  // A zero weight is allowed while another pool takes the traffic.
  auto canaryOff = withHttp("      routes:\n        - pools: [{pool: web, weight: 1}, {pool: web2, weight: 0}]\n");
  ASSERT_TRUE(canaryOff.ok()) << dump(canaryOff);
  EXPECT_EQ(canaryOff.config->listeners[0].http.routes[0].pools[1].weight, 0u);
}

TEST(HttpConfigTest, HttpListenersMayUseL7HashKeys) {
  // Directly and through routes; only the tcp listener's use is an error (see the errors test).
  auto r = load(R"(listeners:
  - name: web
    bind: 127.0.0.1:8080
    protocol: http
    pool: by-path
    http:
      routes:
        - pools: [{pool: by-cookie}]
pools:
  - name: by-path
    algorithm: maglev
    hash_key: path
    servers: [{address: 127.0.0.1:9001}]
  - name: by-cookie
    algorithm: consistent_hash
    hash_key: cookie:sid
    servers: [{address: 127.0.0.1:9002}]
)");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->listeners[0].http.routes[0].pools[0].weight, 1u);  // the default weight
}

TEST(HttpConfigTest, HttpAndUdpMayShareAnAddress) {
  auto r = load(R"(listeners:
  - name: web
    bind: 127.0.0.1:8080
    protocol: http
    pool: web
  - name: dns
    bind: 127.0.0.1:8080
    protocol: udp
    pool: web
pools:
  - name: web
    servers: [{address: 127.0.0.1:9001}]
)");
  EXPECT_TRUE(r.ok()) << dump(r);
}

}  // namespace
}  // namespace fulcrum::config
