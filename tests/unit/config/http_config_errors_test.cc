// One test per kind of error in the HTTP parts of the config (http listeners, routes, the pools'
// http settings, the HTTP timeouts), each pinning the exact position and the message's gist.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using testing::hasError;
using testing::load;
using testing::onlyError;

const std::string kPools =
    "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n"
    "  - name: api\n    servers: [{address: 127.0.0.1:9002}]\n";

const std::string kHttpListener =
    "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    protocol: http\n    pool: web\n";

// An http listener "web" whose http section's keys start at line 7, column 7.
LoadResult withHttp(const std::string& keys) { return load(kHttpListener + "    http:\n" + keys + kPools); }

// Routes start at line 8 ("        - "): a route's first key is at column 11.
LoadResult withRoutes(const std::string& routes) { return withHttp("      routes:\n" + routes); }

// A route forwarding to web whose match keys start at line 10, column 13.
LoadResult withMatch(const std::string& keys) { return withRoutes("        - pool: web\n          match:\n" + keys); }

// Pool web's http keys start at line 9, column 7.
LoadResult withPoolHttp(const std::string& keys) {
  return load(kHttpListener + "pools:\n  - name: web\n    http:\n" + keys +
              "    servers: [{address: 127.0.0.1:9001}]\n");
}

// Pool web's sticky keys start at line 10, column 9.
LoadResult withSticky(const std::string& keys) { return withPoolHttp("      sticky:\n" + keys); }

// --- listeners ---

TEST(HttpConfigErrorTest, HttpSectionOnlyOnHttpListeners) {
  auto tcp =
      load("listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    pool: web\n    http: {max_headers: 5}\n" + kPools);
  EXPECT_TRUE(onlyError(tcp, 5, 5,
                        "listeners[0].http: only valid with protocol: http; expected no http section on a tcp "
                        "listener"));
  auto udp = load(
      "listeners:\n  - name: dns\n    bind: 127.0.0.1:53\n    protocol: udp\n    pool: web\n"
      "    http:\n      max_headers: 0\n" +
      kPools);
  ASSERT_EQ(udp.errors.size(), 2u) << testing::dump(udp);
  EXPECT_TRUE(hasError(udp, 6, 5, "expected no http section on a udp listener"));
  EXPECT_TRUE(hasError(udp, 7, 20, "listeners[0].http.max_headers: must be between 1 and 10000"));  // still read
  // Not blamed on a protocol that could not be read.
  auto unknown = load(
      "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    protocol: htp\n    http: {max_headers: 5}\n" + kPools);
  EXPECT_TRUE(onlyError(unknown, 4, 15, "unknown protocol \"htp\"; expected tcp, udp or http"));
}

TEST(HttpConfigErrorTest, UdpSectionOnHttpListener) {
  auto r = load(kHttpListener + "    udp: {max_flows: 5}\n" + kPools);
  EXPECT_TRUE(onlyError(r, 6, 5,
                        "listeners[0].udp: only valid with protocol: udp; expected no udp section on an http "
                        "listener"));
}

TEST(HttpConfigErrorTest, HttpListenerNeedsAPoolOrRoutes) {
  const std::string listener = "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    protocol: http\n";
  const std::string message =
      "listeners[0]: missing required key \"pool\" (an http listener needs a pool (used when no route "
      "matches), http.routes, or both)";
  EXPECT_TRUE(onlyError(load(listener + kPools), 2, 5, message));
  EXPECT_TRUE(onlyError(load(listener + "    http:\n      routes: []\n" + kPools), 2, 5, message));
  EXPECT_TRUE(onlyError(load(listener + "    http: {max_headers: 5}\n" + kPools), 2, 5, message));
  // tcp listeners still need theirs.
  EXPECT_TRUE(onlyError(load("listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n" + kPools), 2, 5,
                        "listeners[0]: missing required key \"pool\" (the name of the pool that serves this "
                        "listener)"));
}

TEST(HttpConfigErrorTest, HttpAndTcpListenersCannotShareAnAddress) {
  auto r = load(kHttpListener + "  - name: raw\n    bind: 127.0.0.1:8080\n    pool: web\n" + kPools);
  EXPECT_TRUE(onlyError(r, 7, 11,
                        "listeners[1].bind: duplicate bind 127.0.0.1:8080/tcp, already used by listener \"web\" at "
                        "line 3 (http and tcp listeners both listen on tcp); expected each address and protocol "
                        "once"));
  auto two =
      load(kHttpListener + "  - name: web2\n    bind: 127.0.0.1:8080\n    protocol: http\n    pool: web\n" + kPools);
  EXPECT_TRUE(onlyError(two, 7, 11,
                        "listeners[1].bind: duplicate bind 127.0.0.1:8080/tcp, already used by listener \"web\" at "
                        "line 3; expected each address and protocol once"));
}

TEST(HttpConfigErrorTest, OnlyL4ListenersAreRefusedAnHttpHashKey) {
  auto r = load(kHttpListener + R"(  - name: raw
    bind: 127.0.0.1:8081
    pool: web
pools:
  - name: web
    algorithm: maglev
    hash_key: header:X-User
    servers: [{address: 127.0.0.1:9001}]
)");
  EXPECT_TRUE(onlyError(r, 12, 15,
                        "pools[0].hash_key: listener raw (tcp) cannot provide header:X-User; L4 listeners hash on "
                        "client_address"));
}

TEST(HttpConfigErrorTest, HttpTimeouts) {
  auto r = load("timeouts:\n  request_head: 0s\n  request_body: 1ms\n  response: 25h\n  keepalive: 5\n" +
                kHttpListener + kPools);
  ASSERT_EQ(r.errors.size(), 3u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 2, 17, "timeouts.request_head: must be between 1ms and 24h, got 0s"));
  EXPECT_TRUE(hasError(r, 4, 13, "timeouts.response: must be between 1ms and 24h, got 25h"));
  EXPECT_TRUE(hasError(r, 5, 14, "timeouts.keepalive: a unit is required (ms, s, m, h or d)"));
  auto typo = load("timeouts:\n  reponse: 5s\n" + kHttpListener + kPools);
  EXPECT_TRUE(onlyError(typo, 2, 3,
                        "timeouts: unknown key \"reponse\" (did you mean \"response\"?); expected one of: connect, "
                        "idle, queue, drain, handshake, request_head, request_body, response, keepalive"));
}

// --- listeners[].http ---

TEST(HttpConfigErrorTest, ParserLimits) {
  auto r = withHttp(
      "      max_request_line: 63\n      max_header_bytes: 2000000\n      max_headers: 0\n"
      "      max_connections_per_client: 1000001\n");
  ASSERT_EQ(r.errors.size(), 4u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 7, 25, "listeners[0].http.max_request_line: must be between 64 and 1048576, got 63"));
  EXPECT_TRUE(hasError(r, 8, 25, "listeners[0].http.max_header_bytes: must be between 256 and 1048576, got 2000000"));
  EXPECT_TRUE(hasError(r, 9, 20, "listeners[0].http.max_headers: must be between 1 and 10000, got 0"));
  EXPECT_TRUE(
      hasError(r, 10, 35, "listeners[0].http.max_connections_per_client: must be between 0 and 1000000, got 1000001"));
}

TEST(HttpConfigErrorTest, MaxBodySize) {
  auto size = [](const std::string& value) { return withHttp("      max_body_size: " + value + "\n"); };
  EXPECT_TRUE(onlyError(size("4611686018427387905"), 7, 22,
                        "listeners[0].http.max_body_size: must be between 0 and 4611686018427387904, got "
                        "4611686018427387905"));
  EXPECT_TRUE(onlyError(size("18446744073709551616"), 7, 22, "must be between 0 and 4611686018427387904"));
  EXPECT_TRUE(onlyError(size("-1"), 7, 22, "must be between 0 and 4611686018427387904, got -1"));
  EXPECT_TRUE(onlyError(size("10MB"), 7, 22,
                        "listeners[0].http.max_body_size: expected an integer in 0..4611686018427387904, got "
                        "\"10MB\""));
}

TEST(HttpConfigErrorTest, UnknownHttpKey) {
  EXPECT_TRUE(onlyError(withHttp("      max_header: 5\n"), 7, 7,
                        "listeners[0].http: unknown key \"max_header\" (did you mean \"max_headers\"?); expected "
                        "one of: max_request_line, max_header_bytes, max_headers, max_body_size, "
                        "max_connections_per_client, forwarded, rate_limit, routes"));
  EXPECT_TRUE(onlyError(withHttp("      forwarded: {x_forwarded_prot: true}\n"), 7, 19,
                        "listeners[0].http.forwarded: unknown key \"x_forwarded_prot\" (did you mean "
                        "\"x_forwarded_proto\"?)"));
}

TEST(HttpConfigErrorTest, Forwarded) {
  auto r = withHttp("      forwarded:\n        x_real_ip: yes\n        trusted: [10.1.2.3/8]\n");
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(
      hasError(r, 8, 20, "listeners[0].http.forwarded.x_real_ip: expected a boolean (true/false), got \"yes\""));
  EXPECT_TRUE(hasError(r, 9, 19,
                       "listeners[0].http.forwarded.trusted[0]: range \"10.1.2.3/8\" has bits set beyond its /8 "
                       "prefix"));
}

TEST(HttpConfigErrorTest, RateLimitNeedsARate) {
  EXPECT_TRUE(onlyError(withHttp("      rate_limit:\n        burst: 5\n"), 8, 9,
                        "listeners[0].http.rate_limit: missing required key \"rate\""));
  EXPECT_TRUE(
      onlyError(withHttp("      rate_limit:\n"), 7, 7, "listeners[0].http.rate_limit: missing required key \"rate\""));
}

TEST(HttpConfigErrorTest, RateValues) {
  auto rate = [](const std::string& value) { return withHttp("      rate_limit: {rate: " + value + "}\n"); };
  const std::string path = "listeners[0].http.rate_limit.rate: ";
  EXPECT_TRUE(onlyError(rate("10"), 7, 26, path + "a unit is required, e.g. \"10/s\" (per second) or \"10/m\""));
  const std::string expected = "expected a rate such as 10/s or 600/m (requests per second or per minute), got ";
  EXPECT_TRUE(onlyError(rate("10/h"), 7, 26, path + expected + "\"10/h\""));
  EXPECT_TRUE(onlyError(rate("x/s"), 7, 26, path + expected + "\"x/s\""));
  EXPECT_TRUE(onlyError(rate("1./s"), 7, 26, path + expected + "\"1./s\""));
  EXPECT_TRUE(onlyError(rate("-1/s"), 7, 26, path + expected + "\"-1/s\""));
  EXPECT_TRUE(onlyError(rate("1.2.3/s"), 7, 26, path + expected + "\"1.2.3/s\""));
  EXPECT_TRUE(onlyError(rate("[1]"), 7, 26, path + expected + "a list"));
  EXPECT_TRUE(onlyError(rate("0/s"), 7, 26, path + "must be more than 0 requests, got \"0/s\""));
  EXPECT_TRUE(onlyError(rate("0.000/m"), 7, 26, path + "must be more than 0 requests"));
  EXPECT_TRUE(onlyError(rate("1000001/s"), 7, 26, path + "must be at most 1000000/s (60000000/m), got \"1000001/s\""));
  EXPECT_TRUE(onlyError(rate("60000001/m"), 7, 26, path + "must be at most 1000000/s"));
  EXPECT_TRUE(onlyError(rate(std::string(400, '9') + "/s"), 7, 26, path + "must be at most 1000000/s"));
}

TEST(HttpConfigErrorTest, RateLimitKey) {
  auto key = [](const std::string& value) { return withHttp("      rate_limit: {rate: 1/s, key: " + value + "}\n"); };
  EXPECT_TRUE(onlyError(key("ip"), 7, 36,
                        "listeners[0].http.rate_limit.key: unknown rate limit key \"ip\"; expected client_address or "
                        "header:NAME"));
  EXPECT_TRUE(onlyError(key("\"header:\""), 7, 36, "invalid header name \"\" in \"header:\""));
  EXPECT_TRUE(onlyError(key("\"header:a b\""), 7, 36, "invalid header name \"a b\""));
  EXPECT_TRUE(onlyError(key("{header: X-Key}"), 7, 36,
                        "listeners[0].http.rate_limit.key: expected header:NAME without a space after the colon"));
}

TEST(HttpConfigErrorTest, RateLimitNumbers) {
  auto r = withHttp(
      "      rate_limit:\n        rate: 1/s\n        burst: 100001\n        max_keys: 0\n"
      "        nodelay: 1\n");
  ASSERT_EQ(r.errors.size(), 3u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 9, 16, "listeners[0].http.rate_limit.burst: must be between 0 and 100000, got 100001"));
  EXPECT_TRUE(hasError(r, 10, 19, "listeners[0].http.rate_limit.max_keys: must be between 1 and 10000000, got 0"));
  EXPECT_TRUE(hasError(r, 11, 18, "listeners[0].http.rate_limit.nodelay: expected a boolean"));
}

// --- routes ---

TEST(HttpConfigErrorTest, RoutesShape) {
  EXPECT_TRUE(onlyError(withHttp("      routes: {a: 1}\n"), 7, 15,
                        "listeners[0].http.routes: expected a list of routes, got a map"));
  EXPECT_TRUE(
      onlyError(withRoutes("        - web\n"), 8, 11, "listeners[0].http.routes[0]: expected a map, got \"web\""));
  EXPECT_TRUE(onlyError(withRoutes("        - pool: web\n          macth: {path: /x}\n"), 9, 11,
                        "listeners[0].http.routes[0]: unknown key \"macth\" (did you mean \"match\"?); expected one "
                        "of: name, match, pool, pools, respond, redirect, request_headers, response_headers, "
                        "host_rewrite"));
}

TEST(HttpConfigErrorTest, RouteNames) {
  auto r = withRoutes(
      "        - name: a b\n          pool: web\n        - name: x\n          pool: web\n"
      "        - name: x\n          pool: web\n");
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(
      hasError(r, 8, 17, "listeners[0].http.routes[0].name: invalid name \"a b\"; expected 1 to 64 characters"));
  EXPECT_TRUE(hasError(r, 12, 17,
                       "listeners[0].http.routes[2].name: duplicate route name \"x\" (first used at line 10); "
                       "expected unique names within a listener"));
}

TEST(HttpConfigErrorTest, RouteNeedsExactlyOneAction) {
  const std::string missing =
      "listeners[0].http.routes[0]: missing the route's action; expected one of pool, pools, respond or redirect";
  EXPECT_TRUE(onlyError(withRoutes("        - name: a\n"), 8, 11, missing));
  EXPECT_TRUE(onlyError(withRoutes("        - match: {path: /}\n"), 8, 11, missing));
  EXPECT_TRUE(onlyError(withRoutes("        - pool: web\n          respond: {status: 200}\n"), 9, 11,
                        "listeners[0].http.routes[0].respond: a route has one action and this one already has pool "
                        "(line 8); expected exactly one of pool, pools, respond or redirect"));
  // A rejected key may have been meant as the action: only the unknown key is reported.
  EXPECT_TRUE(onlyError(withRoutes("        - name: a\n          forward: web\n"), 9, 11,
                        "listeners[0].http.routes[0]: unknown key \"forward\""));
  auto three = withRoutes("        - redirect: {location: /}\n          pools: [{pool: web}]\n          pool: web\n");
  ASSERT_EQ(three.errors.size(), 2u) << testing::dump(three);
  EXPECT_TRUE(hasError(three, 9, 11, "routes[0].pools: a route has one action and this one already has redirect"));
  EXPECT_TRUE(hasError(three, 10, 11, "routes[0].pool: a route has one action and this one already has redirect"));
}

TEST(HttpConfigErrorTest, RoutePoolsMustExist) {
  EXPECT_TRUE(onlyError(withRoutes("        - pool: wbe\n"), 8, 17,
                        "listeners[0].http.routes[0].pool: pool \"wbe\" is not defined (did you mean \"web\"?); "
                        "expected one of the pools: web, api"));
  EXPECT_TRUE(onlyError(withRoutes("        - pools: [{pool: web}, {pool: apj, weight: 2}]\n"), 8, 39,
                        "listeners[0].http.routes[0].pools[1].pool: pool \"apj\" is not defined (did you mean "
                        "\"api\"?)"));
  EXPECT_TRUE(onlyError(withRoutes("        - pool: [web]\n"), 8, 17,
                        "listeners[0].http.routes[0].pool: expected a string, got a list"));
}

TEST(HttpConfigErrorTest, WeightedPools) {
  EXPECT_TRUE(onlyError(withRoutes("        - pools: [{pool: web, weight: 0}, {pool: api, weight: 0}]\n"), 8, 18,
                        "listeners[0].http.routes[0].pools: every weight is 0; expected at least one pool with a "
                        "weight above 0"));
  EXPECT_TRUE(onlyError(withRoutes("        - pools: [{pool: web}, {pool: web}]\n"), 8, 39,
                        "listeners[0].http.routes[0].pools[1].pool: pool \"web\" is already in this list (line 8); "
                        "expected each pool once"));
  EXPECT_TRUE(onlyError(withRoutes("        - pools: [{pool: web, weight: 1001}]\n"), 8, 39,
                        "listeners[0].http.routes[0].pools[0].weight: must be between 0 and 1000, got 1001"));
  EXPECT_TRUE(onlyError(withRoutes("        - pools: []\n"), 8, 18,
                        "listeners[0].http.routes[0].pools: expected at least one entry in the list of pools with "
                        "weights such as {pool: v1, weight: 90}, got an empty list"));
  EXPECT_TRUE(onlyError(withRoutes("        - pools: [{weight: 5}]\n"), 8, 19,
                        "listeners[0].http.routes[0].pools[0]: missing required key \"pool\""));
  EXPECT_TRUE(onlyError(withRoutes("        - pools: [web]\n"), 8, 19,
                        "listeners[0].http.routes[0].pools[0]: expected a map, got \"web\""));
}

// --- routes[].match ---

TEST(HttpConfigErrorTest, MatchHosts) {
  const std::string path = "listeners[0].http.routes[0].match.host";
  EXPECT_TRUE(onlyError(withMatch("            host: example.com:8080\n"), 10, 19,
                        path + ": \"example.com:8080\" has a port; expected a host without one, such as "
                               "api.example.com (the request's port is ignored)"));
  EXPECT_TRUE(onlyError(withMatch("            host: [ok.com, a.*.com]\n"), 10, 28,
                        path + "[1]: invalid wildcard in \"a.*.com\"; expected an exact host or a leading \"*.\""));
  EXPECT_TRUE(onlyError(withMatch("            host: [\"*\"]\n"), 10, 20, path + "[0]: invalid wildcard in \"*\""));
  EXPECT_TRUE(onlyError(withMatch("            host: \"*example.com\"\n"), 10, 19, "invalid wildcard"));
  EXPECT_TRUE(onlyError(withMatch("            host: bad_host\n"), 10, 19,
                        path + ": invalid host \"bad_host\"; expected a host name of letters, digits, '-' and '.'"));
  EXPECT_TRUE(onlyError(withMatch("            host: [a..b]\n"), 10, 20, path + "[0]: invalid host \"a..b\""));
  EXPECT_TRUE(onlyError(withMatch("            host: \"a b\"\n"), 10, 19, path + ": invalid host \"a b\""));
  EXPECT_TRUE(onlyError(withMatch("            host: []\n"), 10, 19,
                        path + ": expected at least one entry in the list of host names"));
  EXPECT_TRUE(onlyError(withMatch("            host: {a: 1}\n"), 10, 19,
                        path + ": expected a host name such as api.example.com, got a map"));
}

TEST(HttpConfigErrorTest, MatchPaths) {
  const std::string path = "listeners[0].http.routes[0].match.";
  EXPECT_TRUE(onlyError(withMatch("            path: api\n"), 10, 19,
                        path + "path: expected a path starting with '/', such as /api/, got \"api\""));
  EXPECT_TRUE(onlyError(withMatch("            path_prefix: /a b\n"), 10, 26,
                        path + "path_prefix: invalid character in \"/a b\"; expected printable ASCII without spaces"));
  EXPECT_TRUE(onlyError(withMatch("            path: /a?b=1\n"), 10, 19,
                        path + "path: \"/a?b=1\" has a query or fragment; expected a path only"));
  EXPECT_TRUE(onlyError(withMatch("            path: /a\n            path_prefix: /b\n"), 11, 13,
                        path + "path_prefix: this match already has path (line 10); expected at most one of path, "
                               "path_prefix and path_regex"));
  auto three = withMatch("            path_regex: x\n            path_prefix: /b\n            path: /a\n");
  ASSERT_EQ(three.errors.size(), 2u) << testing::dump(three);
  EXPECT_TRUE(hasError(three, 11, 13, path + "path_prefix: this match already has path_regex (line 10)"));
  EXPECT_TRUE(hasError(three, 12, 13, path + "path: this match already has path_regex (line 10)"));
}

TEST(HttpConfigErrorTest, PathRegexIsCompiledWithRe2) {
  const std::string path = "listeners[0].http.routes[0].match.path_regex: ";
  EXPECT_TRUE(onlyError(withMatch("            path_regex: \"(\"\n"), 10, 25,
                        path + "invalid regular expression \"(\": missing ): (; expected RE2 syntax"));
  // Valid in PCRE, not in RE2 (no backreferences): RE2's own message is shown.
  EXPECT_TRUE(
      onlyError(withMatch("            path_regex: \"(a)\\\\1\"\n"), 10, 25,
                path + "invalid regular expression \"(a)\\1\": invalid escape sequence: \\1; expected RE2 syntax"));
  EXPECT_TRUE(onlyError(withMatch("            path_regex: \"\"\n"), 10, 25,
                        path + "expected a non-empty RE2 regular expression, got an empty string"));
}

TEST(HttpConfigErrorTest, MatchMethods) {
  const std::string path = "listeners[0].http.routes[0].match.method";
  EXPECT_TRUE(onlyError(withMatch("            method: get\n"), 10, 21,
                        path + ": methods are case-sensitive; expected upper case \"GET\", got \"get\""));
  EXPECT_TRUE(onlyError(withMatch("            method: [GET, \"P OST\"]\n"), 10, 27,
                        path + "[1]: invalid method \"P OST\"; expected a method such as GET or POST"));
  EXPECT_TRUE(onlyError(withMatch("            method: [[GET]]\n"), 10, 22,
                        path + "[0]: expected a method such as GET, got a list"));
}

TEST(HttpConfigErrorTest, ValueMatchConditions) {
  const std::string path = "listeners[0].http.routes[0].match.";
  EXPECT_TRUE(onlyError(withMatch("            headers:\n              - {name: X-A}\n"), 11, 17,
                        path + "headers[0]: missing the condition; expected one of present: true, exact: VALUE, "
                               "regex: PATTERN or absent: true"));
  EXPECT_TRUE(onlyError(withMatch("            headers:\n              - {name: X-A, exact: a, regex: b}\n"), 11, 39,
                        path + "headers[0].regex: this condition already has exact (line 11); expected only one of "
                               "present, exact, regex and absent"));
  EXPECT_TRUE(onlyError(withMatch("            query:\n              - {name: debug, present: false}\n"), 11, 40,
                        path + "query[0].present: present: false is not a condition; expected present: true, or "
                               "absent: true"));
  EXPECT_TRUE(onlyError(withMatch("            cookies:\n              - {name: sid, absent: maybe}\n"), 11, 37,
                        path + "cookies[0].absent: expected a boolean (true/false), got \"maybe\""));
  EXPECT_TRUE(onlyError(withMatch("            cookies:\n              - {name: sid, regex: \"a(\"}\n"), 11, 36,
                        path + "cookies[0].regex: invalid regular expression \"a(\": missing ): a(; expected RE2 "
                               "syntax"));
  EXPECT_TRUE(onlyError(withMatch("            headers:\n              - {name: X-A, exact: \"a\\x01b\"}\n"), 11, 36,
                        path + "headers[0].exact: control character in"));
  EXPECT_TRUE(onlyError(withMatch("            headers:\n              - {exact: a}\n"), 11, 17,
                        path + "headers[0]: missing required key \"name\" (the header name)"));
  EXPECT_TRUE(onlyError(withMatch("            headers:\n              - {name: X-A, equals: a}\n"), 11, 29,
                        path + "headers[0]: unknown key \"equals\"; expected one of: name, present, exact, regex, "
                               "absent"));
  EXPECT_TRUE(onlyError(withMatch("            headers: {name: X-A}\n"), 10, 22,
                        path + "headers: expected a list of conditions such as {name: X-Canary, exact: \"1\"}, got a "
                               "map"));
}

TEST(HttpConfigErrorTest, ValueMatchNames) {
  const std::string path = "listeners[0].http.routes[0].match.";
  EXPECT_TRUE(onlyError(withMatch("            headers:\n              - {name: \"X A\", present: true}\n"), 11, 24,
                        path + "headers[0].name: invalid header name \"X A\"; expected letters, digits and "
                               "!#$%&'*+-.^_`|~"));
  EXPECT_TRUE(onlyError(withMatch("            cookies:\n              - {name: \"a;b\", absent: true}\n"), 11, 24,
                        path + "cookies[0].name: invalid cookie name \"a;b\""));
  EXPECT_TRUE(onlyError(withMatch("            query:\n              - {name: \"a=b\", present: true}\n"), 11, 24,
                        path + "query[0].name: invalid query parameter name \"a=b\"; expected printable ASCII without "
                               "spaces, '&', '=' or '#'"));
  EXPECT_TRUE(onlyError(withMatch("            query:\n              - {name: \"\", present: true}\n"), 11, 24,
                        path + "query[0].name: invalid query parameter name \"\""));
}

TEST(HttpConfigErrorTest, UnknownMatchKey) {
  EXPECT_TRUE(onlyError(withMatch("            paht: /x\n"), 10, 13,
                        "listeners[0].http.routes[0].match: unknown key \"paht\" (did you mean \"path\"?); expected "
                        "one of: host, path, path_prefix, path_regex, method, headers, query, cookies"));
}

// --- route actions ---

TEST(HttpConfigErrorTest, Respond) {
  auto respond = [](const std::string& value) { return withRoutes("        - respond: " + value + "\n"); };
  const std::string path = "listeners[0].http.routes[0].respond.";
  EXPECT_TRUE(onlyError(respond("{status: 199}"), 8, 29, path + "status: must be between 200 and 599, got 199"));
  EXPECT_TRUE(onlyError(respond("{status: 600}"), 8, 29, path + "status: must be between 200 and 599, got 600"));
  EXPECT_TRUE(onlyError(respond("{body: \"" + std::string(65537, 'x') + "\"}"), 8, 27,
                        path + "body: 65537 bytes is too long; expected at most 65536 bytes (64 KiB)"));
  EXPECT_TRUE(respond("{body: \"" + std::string(65536, 'x') + "\"}").ok());
  EXPECT_TRUE(onlyError(respond("{content_type: text}"), 8, 35,
                        path + "content_type: invalid content type \"text\"; expected a media type such as "
                               "text/plain"));
  EXPECT_TRUE(onlyError(respond("{content_type: \"text/plain\\r\\nX: y\"}"), 8, 35, "invalid content type"));
  EXPECT_TRUE(onlyError(respond("{stauts: 200}"), 8, 21,
                        "listeners[0].http.routes[0].respond: unknown key \"stauts\" (did you mean \"status\"?)"));
  EXPECT_TRUE(onlyError(respond("[200]"), 8, 20, "listeners[0].http.routes[0].respond: expected a map, got a list"));
}

TEST(HttpConfigErrorTest, Redirect) {
  auto redirect = [](const std::string& value) { return withRoutes("        - redirect: " + value + "\n"); };
  const std::string path = "listeners[0].http.routes[0].redirect";
  EXPECT_TRUE(onlyError(redirect("{status: 304, location: /x}"), 8, 30,
                        path + ".status: a redirect status must be 301, 302, 303, 307 or 308, got 304"));
  EXPECT_TRUE(onlyError(redirect("{status: 3xx, location: /x}"), 8, 30,
                        path + ".status: expected an integer in 100..599, got \"3xx\""));
  EXPECT_TRUE(onlyError(redirect("{status: 301}"), 8, 21,
                        path + ": missing required key \"location\" (where the client is sent, e.g. "
                               "https://{host}{uri})"));
  EXPECT_TRUE(onlyError(withRoutes("        - redirect:\n"), 8, 11, path + ": missing required key \"location\""));
}

TEST(HttpConfigErrorTest, RedirectLocation) {
  auto location = [](const std::string& value) {
    return withRoutes("        - redirect: {location: " + value + "}\n");
  };
  const std::string path = "listeners[0].http.routes[0].redirect.location: ";
  EXPECT_TRUE(onlyError(location("\"/a b\""), 8, 32,
                        path + "invalid character in \"/a b\"; expected printable ASCII without spaces, CR or LF"));
  EXPECT_TRUE(onlyError(location("\"/a\\r\\nSet-Cookie: x\""), 8, 32, path + "invalid character in"));
  EXPECT_TRUE(onlyError(location("\"https://{host}{path}\""), 8, 32,
                        path + "unknown placeholder \"{path}\" in \"https://{host}{path}\"; expected only {host} and "
                               "{uri}"));
  EXPECT_TRUE(onlyError(location("\"https://{host\""), 8, 32, path + "unclosed '{' in \"https://{host\""));
  EXPECT_TRUE(onlyError(location("\"/x}\""), 8, 32, path + "unmatched '}' in \"/x}\""));
  EXPECT_TRUE(onlyError(location("\"\""), 8, 32,
                        path + "expected a URL or path such as https://{host}{uri} or /new/place, got an empty "
                               "string"));
}

TEST(HttpConfigErrorTest, ForwardOnlyKeys) {
  auto r = withRoutes(
      "        - respond: {status: 204}\n          request_headers: {add: {X-A: b}}\n"
      "          host_rewrite: a\n          response_headers: {add: {X-A: b}}\n");
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 9, 11,
                       "listeners[0].http.routes[0].request_headers: only valid on a route with pool or pools (a "
                       "respond route sends nothing to a server); expected no request_headers with respond"));
  EXPECT_TRUE(
      hasError(r, 10, 11, "listeners[0].http.routes[0].host_rewrite: only valid on a route with pool or pools"));
  EXPECT_TRUE(onlyError(withRoutes("        - redirect: {location: /}\n          host_rewrite: a\n"), 9, 11,
                        "(a redirect route sends nothing to a server); expected no host_rewrite with redirect"));
}

TEST(HttpConfigErrorTest, HeaderEdits) {
  auto edits = [](const std::string& keys) {
    return withRoutes("        - pool: web\n          request_headers:\n" + keys);
  };
  const std::string path = "listeners[0].http.routes[0].request_headers.";
  EXPECT_TRUE(onlyError(edits("            add: {\"X A\": b}\n"), 10, 19,
                        path + "add: invalid header name \"X A\"; expected letters, digits and !#$%&'*+-.^_`|~"));
  EXPECT_TRUE(onlyError(edits("            set: {X-A: \"a\\nb\"}\n"), 10, 24,
                        path + "set.X-A: control character in \"a\\nb\"; expected a header value without CR, LF, NUL"));
  EXPECT_TRUE(onlyError(edits("            set: {X-A: \"a\\0b\"}\n"), 10, 24, path + "set.X-A: control character in"));
  EXPECT_TRUE(onlyError(edits("            set: {X-A: a, x-a: b}\n"), 10, 27,
                        path + "set: header \"x-a\" is already set as \"X-A\" at line 10 (header names ignore case); "
                               "expected each header once"));
  EXPECT_TRUE(edits("            add: {X-A: a, x-a: b}\n").ok());  // add appends: twice is fine
  EXPECT_TRUE(onlyError(edits("            remove: [Content-Length]\n"), 10, 22,
                        path + "remove[0]: Content-Length is a framing or hop-by-hop header that Fulcrum manages "
                               "itself; expected another header name"));
  EXPECT_TRUE(onlyError(edits("            add: {transfer-encoding: chunked}\n"), 10, 19,
                        path + "add: transfer-encoding is a framing or hop-by-hop header"));
  EXPECT_TRUE(onlyError(edits("            set: {Host: x}\n"), 10, 19,
                        path + "set: the Host header cannot be edited here; expected host_rewrite on the route"));
  EXPECT_TRUE(onlyError(edits("            add: {X-A: [1]}\n"), 10, 24,
                        path + "add.X-A: expected a header value (write \"\" for an empty one), got a list"));
  EXPECT_TRUE(onlyError(edits("            add: {X-A: }\n"), 10, 24,
                        path + "add.X-A: expected a header value (write \"\" for an empty one), got an empty value"));
  EXPECT_TRUE(onlyError(edits("            remove: X-A\n"), 10, 21,
                        path + "remove: expected a list of header names, got \"X-A\""));
  EXPECT_TRUE(onlyError(edits("            remove: [{a: b}]\n"), 10, 22,
                        path + "remove[0]: expected a header name such as X-Debug, got a map"));
  EXPECT_TRUE(onlyError(edits("            add: [X-A]\n"), 10, 18, path + "add: expected a map, got a list"));
  EXPECT_TRUE(onlyError(edits("            append: {X-A: b}\n"), 10, 13,
                        "listeners[0].http.routes[0].request_headers: unknown key \"append\"; expected one of: add, "
                        "set, remove"));
  // Response headers: the same rules, but Host is an ordinary header there.
  EXPECT_TRUE(onlyError(withRoutes("        - pool: web\n          response_headers: {set: {Transfer-Encoding: x}}\n"),
                        9, 36,
                        "listeners[0].http.routes[0].response_headers.set: Transfer-Encoding is a framing or "
                        "hop-by-hop header"));
  EXPECT_TRUE(withRoutes("        - pool: web\n          response_headers: {set: {Host: x}}\n").ok());
}

TEST(HttpConfigErrorTest, HostRewrite) {
  auto rewrite = [](const std::string& value) {
    return withRoutes("        - pool: web\n          host_rewrite: " + value + "\n");
  };
  for (const char* bad :
       {"\"a b\"", "a:0", "a:99999", "\"a:\"", "\"[::1\"", "\"[zz]:80\"", "a_b", "\"a..b\"", "\"[::1]x\""}) {
    EXPECT_TRUE(onlyError(rewrite(bad), 9, 25, "listeners[0].http.routes[0].host_rewrite: invalid host")) << bad;
  }
  EXPECT_TRUE(onlyError(rewrite("\"a b\""), 9, 25,
                        "host_rewrite: invalid host \"a b\"; expected a host name or address with an optional port, "
                        "such as backend.internal, 10.0.0.5:8080 or \"[::1]:8080\""));
}

// --- pools[].http ---

TEST(HttpConfigErrorTest, PoolHttpNumbers) {
  auto r = withPoolHttp(
      "      idle_connections: 10001\n      idle_timeout: 0s\n      retry_budget: 101\n"
      "      retry_budget_min: 100001\n      max_requests: 1000001\n");
  ASSERT_EQ(r.errors.size(), 5u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 9, 25, "pools[0].http.idle_connections: must be between 0 and 10000, got 10001"));
  EXPECT_TRUE(hasError(r, 10, 21, "pools[0].http.idle_timeout: must be between 1ms and 24h, got 0s"));
  EXPECT_TRUE(hasError(r, 11, 21, "pools[0].http.retry_budget: must be between 0 and 100, got 101"));
  EXPECT_TRUE(hasError(r, 12, 25, "pools[0].http.retry_budget_min: must be between 0 and 100000, got 100001"));
  EXPECT_TRUE(hasError(r, 13, 21, "pools[0].http.max_requests: must be between 0 and 1000000, got 1000001"));
  EXPECT_TRUE(onlyError(withPoolHttp("      retry_budjet: 5\n"), 9, 7,
                        "pools[0].http: unknown key \"retry_budjet\" (did you mean \"retry_budget\"?); expected one "
                        "of: idle_connections, idle_timeout, retry_on, retry_budget, retry_budget_min, "
                        "max_requests, sticky"));
  EXPECT_TRUE(
      onlyError(withPoolHttp("      - idle_connections: 1\n"), 9, 7, "pools[0].http: expected a map, got a list"));
}

TEST(HttpConfigErrorTest, RetryOn) {
  EXPECT_TRUE(onlyError(withPoolHttp("      retry_on: [connect_failure, 500]\n"), 9, 35,
                        "pools[0].http.retry_on[1]: unknown value \"500\" (did you mean \"502\"?); expected one of: "
                        "connect_failure, reset, timeout, 502, 503, 504"));
  EXPECT_TRUE(onlyError(withPoolHttp("      retry_on: [Reset]\n"), 9, 18,
                        "pools[0].http.retry_on[0]: unknown value \"Reset\" (did you mean \"reset\"?)"));
  EXPECT_TRUE(onlyError(withPoolHttp("      retry_on: reset\n"), 9, 17,
                        "pools[0].http.retry_on: expected a list of retry conditions such as [connect_failure, "
                        "reset, 503], got \"reset\""));
}

TEST(HttpConfigErrorTest, Sticky) {
  const std::string path = "pools[0].http.sticky.";
  EXPECT_TRUE(onlyError(withSticky("        mode: cookies\n"), 10, 15,
                        path + "mode: unknown value \"cookies\"; expected one of: none, cookie, client_address"));
  EXPECT_TRUE(onlyError(withSticky("        cookie: \"a b\"\n"), 10, 17,
                        path + "cookie: invalid cookie name \"a b\"; expected letters, digits and !#$%&'*+-.^_`|~"));
  EXPECT_TRUE(onlyError(withSticky("        path: app\n"), 10, 15,
                        path + "path: expected a path starting with '/', such as /, got \"app\""));
  EXPECT_TRUE(onlyError(withSticky("        path: /a;b\n"), 10, 15,
                        path + "path: invalid character in \"/a;b\"; expected printable ASCII without spaces, ';' or "
                               "','"));
  EXPECT_TRUE(onlyError(withSticky("        path: \"/a b\"\n"), 10, 15, path + "path: invalid character in"));
  EXPECT_TRUE(onlyError(withSticky("        max_age: 8761h\n"), 10, 18,
                        path + "max_age: must be between 0ms and 8760h, got 8761h"));
  EXPECT_TRUE(withSticky("        max_age: 8760h\n").ok());
  EXPECT_TRUE(onlyError(withSticky("        http_only: no\n"), 10, 20, path + "http_only: expected a boolean"));
  EXPECT_TRUE(onlyError(withSticky("        same_site: lax\n"), 10, 20,
                        path + "same_site: unknown value \"lax\" (did you mean \"Lax\"?); expected one of: Strict, "
                               "Lax, None"));
  EXPECT_TRUE(onlyError(withSticky("        max-age: 1h\n"), 10, 9,
                        "pools[0].http.sticky: unknown key \"max-age\" (did you mean \"max_age\"?)"));
}

TEST(HttpConfigErrorTest, SameSiteNoneNeedsSecure) {
  const std::string message =
      "pools[0].http.sticky.same_site: SameSite=None needs secure: true (browsers drop the cookie otherwise); "
      "expected secure: true, or same_site Lax or Strict";
  EXPECT_TRUE(onlyError(withSticky("        same_site: None\n"), 10, 20, message));
  EXPECT_TRUE(onlyError(withSticky("        secure: false\n        same_site: None\n"), 11, 20, message));
  // Not blamed on a secure value that could not be read.
  EXPECT_TRUE(
      onlyError(withSticky("        secure: maybe\n        same_site: None\n"), 10, 17, "secure: expected a boolean"));
}

TEST(HttpConfigErrorTest, CookieKeysNeedCookieMode) {
  auto r = withSticky("        mode: client_address\n        cookie: X\n        same_site: Lax\n");
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 11, 9,
                       "pools[0].http.sticky.cookie: only meaningful with mode: cookie; expected no cookie with mode "
                       "client_address"));
  EXPECT_TRUE(hasError(r, 12, 9, "pools[0].http.sticky.same_site: only meaningful with mode: cookie"));
  // mode none switches stickiness off and keeps (and checks) the cookie settings.
  EXPECT_TRUE(withSticky("        mode: none\n        cookie: X\n").ok());
}

// Everything reported in one pass, sorted.
TEST(HttpConfigErrorTest, CollectsAllErrorsSorted) {
  auto r = load(R"(listeners:
  - name: web
    bind: 127.0.0.1:8080
    protocol: http
    http:
      max_headers: 0
      routes:
        - pool: nowhere
          match: {method: get}
        - respond: {status: 100}
pools:
  - name: web
    http:
      retry_on: [sometimes]
    servers: [{address: 127.0.0.1:9001}]
)");
  std::vector<std::pair<int, int>> positions;
  for (const auto& d : r.errors) {
    positions.emplace_back(d.line, d.column);
  }
  std::vector<std::pair<int, int>> expected = {{6, 20}, {8, 17}, {9, 27}, {10, 29}, {14, 18}};
  EXPECT_EQ(positions, expected) << testing::dump(r);
  EXPECT_EQ(r.config, nullptr);
}

}  // namespace
}  // namespace fulcrum::config
