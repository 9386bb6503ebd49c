// The request filters, each alone on parsed heads: no sockets, no clock (time is passed in).
#include <gtest/gtest.h>

#include "codec/parser.h"
#include "http/h1/request_decoder.h"
#include "http/filters/affinity_filter.h"
#include "http/filters/client_certificate_filter.h"
#include "http/filters/forwarded_filter.h"
#include "http/filters/header_edits_filter.h"
#include "http/filters/rate_limit_filter.h"
#include "http/filters/route_filter.h"
#include "http/filters/split_filter.h"
#include "http/runtime.h"
#include "http/sticky.h"
#include "shared_state/worker_tables.h"
#include "upstream/worker_context.h"

#include "parsed_request.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

struct Req : test::ParsedRequest {
  using ParsedRequest::ParsedRequest;
  RequestState state() { return RequestState(request); }
};

std::shared_ptr<const upstream::Cluster> cluster(upstream::HostRegistry& reg, const std::string& name,
                                                 fulcrum::Algorithm algorithm = fulcrum::Algorithm::RoundRobin) {
  config::Pool p;
  p.name = name;
  p.algorithm = algorithm;
  config::Server s;
  s.address.text = "10.0.0.1:80";
  p.servers.push_back(s);
  return reg.build(p, 1000, true);
}

}  // namespace

TEST(RateLimitFilter, DelaysWithinTheBurstThenAnswers429WithRetryAfter) {
  config::RateLimit rl;
  rl.enabled = true;
  rl.rate = 1;
  rl.burst = 1;
  RateLimiter limiter;
  RateLimitFilter f(rl, limiter);
  Req r("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  auto s1 = r.state();
  s1.client_ip = "192.0.2.1";
  s1.now_ms = 10'000;
  EXPECT_EQ(f.onRequestHead(s1), FilterStatus::Continue);
  EXPECT_EQ(s1.delay_ms, 0u);
  auto s2 = r.state();
  s2.client_ip = "192.0.2.1";
  s2.now_ms = 10'000;
  EXPECT_EQ(f.onRequestHead(s2), FilterStatus::Continue);
  EXPECT_GT(s2.delay_ms, 0u) << "within the burst, not nodelay: served later";
  auto s3 = r.state();
  s3.client_ip = "192.0.2.1";
  s3.now_ms = 10'000;
  ASSERT_EQ(f.onRequestHead(s3), FilterStatus::Answer);
  EXPECT_EQ(s3.answer.status, 429);
  EXPECT_TRUE(s3.answer.standard_body);
  EXPECT_EQ(s3.answer.extra.rfind("Retry-After: ", 0), 0u);
  EXPECT_STREQ(s3.answer.termination, "rate_limited");
  auto other = r.state();
  other.client_ip = "192.0.2.2";
  other.now_ms = 10'000;
  EXPECT_EQ(f.onRequestHead(other), FilterStatus::Continue) << "buckets are per client";
}

TEST(RouteFilter, RespondRedirectForwardFallbackAnd404) {
  upstream::HostRegistry reg;
  std::vector<config::Route> routes(3);
  routes[0].match.path_kind = config::PathMatchKind::Exact;
  routes[0].match.path = "/healthz";
  routes[0].action = config::RouteAction::Respond;
  routes[0].status = 200;
  routes[0].body = "ok\n";
  routes[1].match.path_kind = config::PathMatchKind::Prefix;
  routes[1].match.path = "/old";
  routes[1].action = config::RouteAction::Redirect;
  routes[1].status = 301;
  routes[1].location = "https://{host}{uri}";
  routes[2].match.path_kind = config::PathMatchKind::Prefix;
  routes[2].match.path = "/api";
  routes[2].pools = {{"api", 1}};
  Router router(routes);
  std::vector<RouteTarget> targets(3);
  targets[2].clusters = {cluster(reg, "api")};
  targets[2].weights = {1};
  targets[2].total_weight = 1;
  RouteTarget none;
  RouteFilter f(router, routes, targets, none);

  Req health("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n");
  auto s = health.state();
  ASSERT_EQ(f.onRequestHead(s), FilterStatus::Answer);
  EXPECT_EQ(s.answer.status, 200);
  EXPECT_EQ(s.answer.body, "ok\n");
  EXPECT_FALSE(s.answer.standard_body);
  EXPECT_EQ(s.route_index, 0);

  Req old("GET /old/x?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
  auto so = old.state();
  ASSERT_EQ(f.onRequestHead(so), FilterStatus::Answer);
  EXPECT_EQ(so.answer.status, 301);
  EXPECT_EQ(so.answer.extra, "Location: https://example.com:8080/old/x?q=1\r\n");

  Req api("GET /api/v1 HTTP/1.1\r\nHost: h\r\n\r\n");
  auto sapi = api.state();
  ASSERT_EQ(f.onRequestHead(sapi), FilterStatus::Continue);
  EXPECT_EQ(sapi.target, &targets[2]);
  EXPECT_EQ(sapi.route, &routes[2]);

  Req miss("GET /else HTTP/1.1\r\nHost: h\r\n\r\n");
  auto smiss = miss.state();
  ASSERT_EQ(f.onRequestHead(smiss), FilterStatus::Answer);
  EXPECT_EQ(smiss.answer.status, 404);
  EXPECT_EQ(smiss.route_index, -1);

  RouteTarget fallback;
  fallback.clusters = {cluster(reg, "web")};
  fallback.weights = {1};
  fallback.total_weight = 1;
  RouteFilter withPool(router, routes, targets, fallback);
  auto sfb = miss.state();
  ASSERT_EQ(withPool.onRequestHead(sfb), FilterStatus::Continue);
  EXPECT_EQ(sfb.target, &fallback);
}

TEST(RouteFilter, ARouteWhosePoolsAreAllWeightedZeroIs503) {
  std::vector<config::Route> routes(1);
  routes[0].pools = {{"canary", 0}};
  Router router(routes);
  std::vector<RouteTarget> targets(1);  // resolve() leaves weight-0 pools out
  RouteTarget none;
  RouteFilter f(router, routes, targets, none);
  Req r("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  auto s = r.state();
  ASSERT_EQ(f.onRequestHead(s), FilterStatus::Answer);
  EXPECT_EQ(s.answer.status, 503);
}

TEST(SplitFilter, FollowsTheWeights) {
  upstream::HostRegistry reg;
  RouteTarget t;
  t.clusters = {cluster(reg, "stable"), cluster(reg, "canary")};
  t.weights = {90, 10};
  t.total_weight = 100;
  std::mt19937_64 rng(7);
  SplitFilter f;
  Req r("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  int canary = 0;
  for (int i = 0; i < 10000; ++i) {
    auto s = r.state();
    s.target = &t;
    s.rng = &rng;
    ASSERT_EQ(f.onRequestHead(s), FilterStatus::Continue);
    ASSERT_EQ(s.cluster, t.clusters[s.cluster_index].get());
    canary += s.cluster_index == 1 ? 1 : 0;
  }
  EXPECT_NEAR(canary, 1000, 150);
}

TEST(AffinityFilter, HashKeysAndTheStickyCookie) {
  upstream::HostRegistry reg;
  config::Pool p;
  p.name = "h";
  p.algorithm = fulcrum::Algorithm::ConsistentHash;
  p.hash_key.source = config::HashKeySource::Header;
  p.hash_key.name = "x-user";
  p.http.sticky.mode = config::StickyMode::Cookie;
  config::Server srv;
  srv.address.text = "10.0.0.1:80";
  p.servers.push_back(srv);
  auto c = reg.build(p, 1000, true);
  AffinityFilter f;
  Req a("GET / HTTP/1.1\r\nHost: h\r\nX-User: alice\r\nCookie: FULCRUM_SRV=abc; z=1\r\n\r\n");
  Req b("GET / HTTP/1.1\r\nHost: h\r\nX-User: bob\r\n\r\n");
  auto sa = a.state();
  sa.cluster = c.get();
  ASSERT_EQ(f.onRequestHead(sa), FilterStatus::Continue);
  EXPECT_EQ(sa.hash, balance::hashKey("alice"));
  EXPECT_EQ(sa.sticky_id, "abc");
  auto sb = b.state();
  sb.cluster = c.get();
  f.onRequestHead(sb);
  EXPECT_EQ(sb.hash, balance::hashKey("bob"));
  EXPECT_EQ(sb.sticky_id, "");
}

namespace {

// The fields the edits add, as "Name: value" lines, and the names they remove.
std::string added(const FieldEdits& e) {
  std::string out;
  for (size_t i = 0; i < e.added_count; ++i) {
    out += std::string(e.added[i].name) + ": ";
    if (!e.added[i].prefix.empty()) {
      out += std::string(e.added[i].prefix) + ", ";
    }
    out += std::string(e.added[i].value) + "\n";
  }
  return out;
}

}  // namespace

TEST(ForwardedFilter, AnUntrustedPeersForwardedFieldsAreReplaced) {
  config::Forwarded fwd;
  ForwardedFilter f(fwd);
  Req r("GET / HTTP/1.1\r\nHost: site:8080\r\nX-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\n"
        "X-Forwarded-Proto: https\r\nForwarded: for=6.6.6.6\r\n\r\n");
  auto s = r.state();
  s.client_ip = "192.0.2.7";
  EXPECT_EQ(f.onRequestHead(s), FilterStatus::Continue);
  for (const char* name : {"x-forwarded-for", "X-Forwarded-Proto", "x-forwarded-host", "x-real-ip", "forwarded"}) {
    EXPECT_TRUE(s.edits.removes(name)) << name;
  }
  EXPECT_EQ(added(s.edits),
            "X-Forwarded-For: 192.0.2.7\nX-Forwarded-Proto: http\nX-Forwarded-Host: site:8080\nX-Real-IP: 192.0.2.7\n");
}

TEST(ForwardedFilter, ATrustedFrontsFieldsAreBelievedAndAppendedTo) {
  config::Forwarded fwd;
  ForwardedFilter f(fwd);
  Req r("GET / HTTP/1.1\r\nHost: site\r\nX-Forwarded-For: 198.51.100.1\r\nX-Real-IP: 198.51.100.1\r\n"
        "X-Forwarded-Proto: https\r\nX-Forwarded-Host: public.example\r\n\r\n");
  auto s = r.state();
  s.client_ip = "10.0.0.2";
  s.peer_trusted = true;
  EXPECT_EQ(f.onRequestHead(s), FilterStatus::Continue);
  EXPECT_TRUE(s.edits.removes("x-forwarded-for")) << "rewritten as a list with the peer appended";
  EXPECT_FALSE(s.edits.removes("x-forwarded-proto")) << "the front may have terminated TLS";
  EXPECT_FALSE(s.edits.removes("x-forwarded-host"));
  EXPECT_EQ(added(s.edits), "X-Forwarded-For: 198.51.100.1, 10.0.0.2\nX-Real-IP: 198.51.100.1\n");
}

TEST(ForwardedFilter, EachFieldCanBeSwitchedOff) {
  config::Forwarded fwd;
  fwd.x_forwarded_for = fwd.x_forwarded_proto = fwd.x_forwarded_host = fwd.x_real_ip = false;
  ForwardedFilter f(fwd);
  Req r("GET / HTTP/1.1\r\nHost: site\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n");
  auto s = r.state();
  s.client_ip = "192.0.2.7";
  EXPECT_EQ(f.onRequestHead(s), FilterStatus::Continue);
  EXPECT_EQ(added(s.edits), "");
  EXPECT_TRUE(s.edits.removes("x-forwarded-for")) << "a forgery from an untrusted peer goes all the same";
}

TEST(HeaderEditsFilter, TheMatchedRoutesEditsAndHostRewrite) {
  HeaderEditsFilter f;
  Req r("GET / HTTP/1.1\r\nHost: site\r\n\r\n");
  auto none = r.state();
  EXPECT_EQ(f.onRequestHead(none), FilterStatus::Continue);
  EXPECT_EQ(none.edits.edits, nullptr) << "no route, no edits";
  EXPECT_EQ(none.response_edits, nullptr);
  config::Route route;
  route.request_headers.set = {{"X-Env", "prod"}};
  route.response_headers.remove = {"server"};
  route.host_rewrite = "internal.svc";
  auto s = r.state();
  s.route = &route;
  EXPECT_EQ(f.onRequestHead(s), FilterStatus::Continue);
  EXPECT_EQ(s.edits.edits, &route.request_headers);
  EXPECT_EQ(s.edits.authority, "internal.svc");
  EXPECT_EQ(s.response_edits, &route.response_headers);
}

TEST(RateLimitFilter, ASharedLimitSpendsTheWorkersLeaseUnderItsRedisKey) {
  config::RateLimit rl;
  rl.enabled = true;
  rl.rate = 1;
  rl.burst = 1;
  rl.nodelay = true;
  rl.shared = true;
  RateLimiter limiter;
  RateLimitFilter f(rl, limiter, "p:rl:front:");
  shared_state::WorkerTables tables;
  Req r("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  auto request = [&] {
    auto s = r.state();
    s.client_ip = "192.0.2.1";
    s.now_ms = 10'000;
    s.shared = &tables;
    return f.onRequestHead(s);
  };
  EXPECT_EQ(request(), FilterStatus::Continue);
  EXPECT_EQ(request(), FilterStatus::Continue);  // the burst, on credit before the first lease
  EXPECT_EQ(request(), FilterStatus::Answer);
  auto report = tables.takeReport();
  ASSERT_EQ(report.limits.size(), 1u);
  EXPECT_EQ(report.limits[0].key, "p:rl:front:192.0.2.1");
  EXPECT_EQ(report.limits[0].debt, 2u);
  // The listener's own (per instance) limiter was not used.
  EXPECT_TRUE(limiter.check("192.0.2.1", 1, 0, true, 10, 10'000).allowed);
}

TEST(AffinityFilter, SharedClientAddressKeepsTheStoredServerWhileUsable) {
  upstream::HostRegistry reg;
  config::Pool p;
  p.name = std::string(1, 'w');  // (not from a literal: GCC 12 warns falsely, -Wrestrict)
  p.http.sticky.mode = config::StickyMode::ClientAddress;
  p.http.sticky.shared = true;
  p.http.sticky.ttl = std::chrono::milliseconds(60000);
  for (const char* a : {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}) {
    config::Server srv;
    srv.address.text = a;
    p.servers.push_back(srv);
  }
  auto c = reg.build(p, 1000, true);
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_addr.s_addr = htonl(0xC0000201);  // 192.0.2.1
  AffinityFilter f("p:");
  shared_state::WorkerTables tables;
  Req r("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  auto request = [&](uint64_t now) {
    auto s = r.state();
    s.cluster = c.get();
    s.client_ip = "192.0.2.1";
    s.peer = reinterpret_cast<const sockaddr*>(&peer);
    s.now_ms = now;
    s.shared = &tables;
    EXPECT_EQ(f.onRequestHead(s), FilterStatus::Continue);
    return std::string(s.sticky_id);
  };
  const std::string key = "p:st:w:192.0.2.1";
  // Nothing stored: the rendezvous choice, reported as a first choice.
  upstream::ClusterLoad load(*c, 1000);
  std::string hashed = stickyId(*c, static_cast<size_t>(affinityHost(*c, upstream::clientHash(
                                                                              reinterpret_cast<const sockaddr*>(&peer)),
                                                                          load)));
  EXPECT_EQ(request(1000), hashed);
  auto report = tables.takeReport();
  ASSERT_EQ(report.sticky.size(), 1u);
  EXPECT_EQ(report.sticky[0].key, key);
  EXPECT_EQ(report.sticky[0].server, hashed);
  EXPECT_FALSE(report.sticky[0].replace);
  EXPECT_EQ(report.sticky[0].ttl_ms, 60000u);
  // Another instance's choice arrives: it wins over hashing.
  std::string other = stickyId(*c, hashed == stickyId(*c, 0) ? 1 : 0);
  tables.sticky.fill(key, other, 60000, 1001);
  EXPECT_EQ(request(1002), other);
  // A stored server this instance does not have: hashing again, replacing it everywhere.
  tables.sticky.fill(key, "0123456789abcdef", 60000, 1003);
  EXPECT_EQ(request(1004), hashed);
  report = tables.takeReport();
  ASSERT_EQ(report.sticky.size(), 1u);
  EXPECT_TRUE(report.sticky[0].replace);
}

TEST(ClientCertificateFilter, RemovesTheClientsOwnAndAddsTheVerifiedIdentity) {
  config::ClientCertificates cc;
  cc.mode = config::ClientCertificateMode::Optional;
  cc.sans_header.clear();  // "": not sent (and not removed: it is no identity header then)
  Req r("GET / HTTP/1.1\r\nHost: a\r\nX-Client-Subject: CN=root\r\n\r\n");
  FieldEdits anon;
  clientCertificateEdits(r.request, cc, anon);
  EXPECT_TRUE(anon.removes("x-client-subject"));
  EXPECT_TRUE(anon.removes("X-Client-Fingerprint"));
  EXPECT_FALSE(anon.removes("X-Client-SANs"));
  EXPECT_EQ(anon.added_count, 0u);
  net::ClientCertificate cert{"CN=alice", "DNS:alice", "ab12"};
  r.request.client_certificate = &cert;
  FieldEdits id;
  clientCertificateEdits(r.request, cc, id);
  ASSERT_EQ(id.added_count, 2u);
  EXPECT_EQ(id.added[0].name, "X-Client-Subject");
  EXPECT_EQ(id.added[0].value, "CN=alice");
  EXPECT_EQ(id.added[1].name, "X-Client-Fingerprint");
  EXPECT_EQ(id.added[1].value, "ab12");
}
