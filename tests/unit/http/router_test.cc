// Router: each kind of condition, their combination, order, and regexes (RE2, full match).
#include "http/h1/request_decoder.h"
#include "http/router.h"

#include <gtest/gtest.h>

#include "codec/parser.h"
#include "parsed_request.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

using Req = test::ParsedRequest;  // parsed and decoded; keeps the bytes alive

config::Route route(std::string name) {
  config::Route r;
  r.name = std::move(name);
  r.pools = {{"p", 1}};
  return r;
}

}  // namespace

TEST(Router, HostsExactAndWildcardIgnoringCaseAndPort) {
  std::vector<config::Route> routes{route("exact"), route("wild")};
  routes[0].match.hosts = {"api.example.com"};
  routes[1].match.hosts = {"*.example.com"};
  Router router(routes);
  EXPECT_EQ(router.match(Req("GET / HTTP/1.1\r\nHost: API.Example.com:8080\r\n\r\n").request), 0);
  EXPECT_EQ(router.match(Req("GET / HTTP/1.1\r\nHost: a.b.example.com\r\n\r\n").request), 1);
  EXPECT_EQ(router.match(Req("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").request), -1);
  EXPECT_EQ(router.match(Req("GET / HTTP/1.1\r\nHost: badexample.com\r\n\r\n").request), -1);
  // The absolute form's authority wins over Host.
  EXPECT_EQ(router.match(Req("GET http://api.example.com/x HTTP/1.1\r\nHost: other\r\n\r\n").request), 0);
}

TEST(Router, PathExactPrefixRegex) {
  std::vector<config::Route> routes{route("exact"), route("prefix"), route("regex")};
  routes[0].match.path_kind = config::PathMatchKind::Exact;
  routes[0].match.path = "/health";
  routes[1].match.path_kind = config::PathMatchKind::Prefix;
  routes[1].match.path = "/api/";
  routes[2].match.path_kind = config::PathMatchKind::Regex;
  routes[2].match.path = "^/v[0-9]+/";
  Router router(routes);
  EXPECT_EQ(router.match(Req("GET /health HTTP/1.1\r\nHost: h\r\n\r\n").request), 0);
  EXPECT_EQ(router.match(Req("GET /health?x=1 HTTP/1.1\r\nHost: h\r\n\r\n").request), 0);  // query is not path
  EXPECT_EQ(router.match(Req("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n").request), -1);
  EXPECT_EQ(router.match(Req("GET /api/users HTTP/1.1\r\nHost: h\r\n\r\n").request), 1);
  EXPECT_EQ(router.match(Req("GET /api HTTP/1.1\r\nHost: h\r\n\r\n").request), -1);
  EXPECT_EQ(router.match(Req("GET /v2/items HTTP/1.1\r\nHost: h\r\n\r\n").request), 2);
  EXPECT_EQ(router.match(Req("GET /x/v2/items HTTP/1.1\r\nHost: h\r\n\r\n").request), -1);  // anchored by ^
}

TEST(Router, MethodHeaderQueryCookieAllMustHold) {
  std::vector<config::Route> routes{route("all")};
  auto& m = routes[0].match;
  m.methods = {"POST", "PUT"};
  m.headers = {{"X-Canary", config::ValueMatchKind::Exact, "1"}, {"X-Debug", config::ValueMatchKind::Absent, ""}};
  m.query = {{"v", config::ValueMatchKind::Regex, "[0-9]+"}};
  m.cookies = {{"session", config::ValueMatchKind::Present, ""}};
  Router router(routes);
  std::string ok = "POST /x?a=b&v=42 HTTP/1.1\r\nHost: h\r\nx-canary: 1\r\nCookie: a=1; session=zz\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(router.match(Req(ok).request), 0);
  EXPECT_EQ(router.match(Req("GET /x?v=42 HTTP/1.1\r\nHost: h\r\nX-Canary: 1\r\nCookie: session=z\r\n\r\n").request), -1);
  EXPECT_EQ(router.match(Req("PUT /x?v=4a HTTP/1.1\r\nHost: h\r\nX-Canary: 1\r\nCookie: session=z\r\nContent-Length: 0\r\n\r\n").request), -1);
  EXPECT_EQ(router.match(Req("PUT /x?v=4 HTTP/1.1\r\nHost: h\r\nX-Canary: 2\r\nCookie: session=z\r\nContent-Length: 0\r\n\r\n").request), -1);
  EXPECT_EQ(router.match(Req("PUT /x?v=4 HTTP/1.1\r\nHost: h\r\nX-Canary: 1\r\nX-Debug: 1\r\nCookie: session=z\r\nContent-Length: 0\r\n\r\n").request), -1);
  EXPECT_EQ(router.match(Req("PUT /x?v=4 HTTP/1.1\r\nHost: h\r\nX-Canary: 1\r\nCookie: sessionx=z\r\nContent-Length: 0\r\n\r\n").request), -1);
  EXPECT_EQ(router.match(Req("PUT /x?v=4 HTTP/1.1\r\nHost: h\r\nX-Canary: 1\r\nCookie: session=z\r\nContent-Length: 0\r\n\r\n").request), 0);
}

TEST(Router, FirstMatchWinsAndEmptyMatchesAll) {
  std::vector<config::Route> routes{route("a"), route("catchall"), route("never")};
  routes[0].match.path_kind = config::PathMatchKind::Prefix;
  routes[0].match.path = "/a";
  Router router(routes);
  EXPECT_EQ(router.match(Req("GET /a HTTP/1.1\r\nHost: h\r\n\r\n").request), 0);
  EXPECT_EQ(router.match(Req("GET /b HTTP/1.1\r\nHost: h\r\n\r\n").request), 1);
}

TEST(Request, RefusesDotSegmentsAndConnect) {
  RequestParser p;
  Request info;
  std::string_view why;
  std::string raw = "GET /a/../admin HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(p.feed(raw).status, ParseStatus::Done);
  EXPECT_FALSE(decodeRequest(p.head(), info, why));
  p.reset();
  raw = "GET /a/%2E%2e/admin HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(p.feed(raw).status, ParseStatus::Done);
  EXPECT_FALSE(decodeRequest(p.head(), info, why));
  p.reset();
  raw = "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n";
  ASSERT_EQ(p.feed(raw).status, ParseStatus::Done);
  EXPECT_FALSE(decodeRequest(p.head(), info, why));
  p.reset();
  raw = "GET /a/..b/c HTTP/1.1\r\nHost: h\r\n\r\n";  // not a dot segment
  ASSERT_EQ(p.feed(raw).status, ParseStatus::Done);
  EXPECT_TRUE(decodeRequest(p.head(), info, why));
}

TEST(Request, QueryAndCookieLookups) {
  bool found = false;
  EXPECT_EQ(queryParam("a=1&b=&c", "b", found), "");
  EXPECT_TRUE(found);
  EXPECT_EQ(queryParam("a=1&b=&c", "c", found), "");
  EXPECT_TRUE(found);
  queryParam("a=1&b=&c", "d", found);
  EXPECT_FALSE(found);
  EXPECT_EQ(queryParam("ab=1&a=2", "a", found), "2");
  RequestParser p;
  std::string raw = "GET / HTTP/1.1\r\nHost: h\r\nCookie: x=1;  y=\"q\"\r\nCookie: z=3\r\n\r\n";
  ASSERT_EQ(p.feed(raw).status, ParseStatus::Done);
  Request req;
  std::string_view why;
  ASSERT_TRUE(decodeRequest(p.head(), req, why));
  EXPECT_EQ(cookieValue(req, "y", found), "q");
  EXPECT_EQ(cookieValue(req, "z", found), "3");
  cookieValue(req, "w", found);
  EXPECT_FALSE(found);
}

TEST(Router, ClientCertificateSubjectExactRegexPresentAbsent) {
  std::vector<config::Route> routes{route("alice"), route("ops"), route("any"), route("none")};
  routes[0].match.client_certificate = {{"subject", config::ValueMatchKind::Exact, "CN=alice,O=Example"}};
  routes[1].match.client_certificate = {{"subject", config::ValueMatchKind::Regex, "CN=[a-z]+,OU=ops,.*"}};
  routes[2].match.client_certificate = {{"subject", config::ValueMatchKind::Present, ""}};
  routes[3].match.client_certificate = {{"subject", config::ValueMatchKind::Absent, ""}};
  Router router(routes);
  Req req("GET / HTTP/1.1\r\nHost: a\r\nX-Client-Subject: CN=alice,O=Example\r\n\r\n");
  EXPECT_EQ(router.match(req.request), 3) << "a header is no certificate";
  net::ClientCertificate cert;
  req.request.client_certificate = &cert;
  cert.subject = "CN=alice,O=Example";
  EXPECT_EQ(router.match(req.request), 0);
  cert.subject = "CN=bob,OU=ops,O=Example";
  EXPECT_EQ(router.match(req.request), 1);
  cert.subject = "CN=carol,O=Example";
  EXPECT_EQ(router.match(req.request), 2);
}
