// The heads Fulcrum writes: hop-by-hop removal, framing re-done, X-Forwarded-*, edits.
#include "http/h1/head_writer.h"

#include <gtest/gtest.h>

#include "codec/parser.h"
#include "http/filters/forwarded_filter.h"
#include "http/filters/header_edits_filter.h"
#include "http/h1/request_decoder.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

std::string forward(const std::string& raw, bool trusted, const config::Route* route = nullptr,
                    config::Forwarded fwd = {}) {
  RequestParser p;
  EXPECT_EQ(p.feed(raw).status, ParseStatus::Done) << raw;
  Request info;
  std::string_view why;
  EXPECT_TRUE(decodeRequest(p.head(), info, why));
  // What the forwarded-headers and header-edits filters decide, then the HTTP/1 encoder.
  FieldEdits edits;
  forwardedEdits(info, fwd, trusted, "192.0.2.7", edits);
  routeEdits(route, edits);
  ForwardParams fp;
  fp.request = &info;
  fp.framing = p.head().body;
  fp.edits = &edits;
  std::string out;
  writeRequestHead(out, fp);
  return out;
}

}  // namespace

TEST(HeadWriter, RequestDropsHopByHopAndRedoesFraming) {
  std::string out = forward(
      "POST /up?x=1 HTTP/1.1\r\nHost: site\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\nKeep-Alive: 5\r\n"
      "TE: trailers\r\nProxy-Connection: close\r\nTransfer-Encoding: chunked\r\nAccept: */*\r\n\r\n",
      false);
  EXPECT_EQ(out,
            "POST /up?x=1 HTTP/1.1\r\nHost: site\r\nAccept: */*\r\nTransfer-Encoding: chunked\r\n"
            "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: site\r\nX-Real-IP: 192.0.2.7\r\n\r\n");
}

TEST(HeadWriter, ForwardedHeadersFromUntrustedPeersAreReplaced) {
  std::string raw = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\n"
                    "X-Forwarded-Proto: https\r\n\r\n";
  std::string untrusted = forward(raw, false);
  EXPECT_EQ(untrusted.find("6.6.6.6"), std::string::npos) << untrusted;
  EXPECT_NE(untrusted.find("X-Forwarded-Proto: http\r\n"), std::string::npos);
  std::string trusted = forward(raw, true);
  EXPECT_NE(trusted.find("X-Forwarded-For: 6.6.6.6, 192.0.2.7\r\n"), std::string::npos) << trusted;
  EXPECT_NE(trusted.find("X-Real-IP: 6.6.6.6\r\n"), std::string::npos);
  EXPECT_NE(trusted.find("X-Forwarded-Proto: https\r\n"), std::string::npos);
  config::Forwarded off;
  off.x_forwarded_for = off.x_forwarded_proto = off.x_forwarded_host = off.x_real_ip = false;
  std::string none = forward("GET / HTTP/1.1\r\nHost: h\r\n\r\n", false, nullptr, off);
  EXPECT_EQ(none, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
}

TEST(HeadWriter, RouteEditsAndHostRewrite) {
  config::Route route;
  route.request_headers.add = {{"X-Added", "1"}};
  route.request_headers.set = {{"User-Agent", "fulcrum"}};
  route.request_headers.remove = {"x-drop"};
  route.host_rewrite = "backend.internal";
  std::string out = forward("GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: curl\r\nX-Drop: y\r\n\r\n", false, &route);
  EXPECT_NE(out.find("Host: backend.internal\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("User-Agent: fulcrum\r\n"), std::string::npos);
  EXPECT_EQ(out.find("curl"), std::string::npos);
  EXPECT_EQ(out.find("X-Drop"), std::string::npos);
  EXPECT_NE(out.find("X-Added: 1\r\n"), std::string::npos);
  EXPECT_NE(out.find("X-Forwarded-Host: h\r\n"), std::string::npos);  // the client's Host
}

TEST(HeadWriter, UpgradeKeepsConnectionAndUpgrade) {
  std::string out = forward(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", false);
  EXPECT_NE(out.find("Connection: upgrade\r\nUpgrade: websocket\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Sec-WebSocket-Key: k\r\n"), std::string::npos);
}

TEST(HeadWriter, ResponseFramingCloseAndCookie) {
  ResponseParser p;
  std::string raw = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 5\r\nServer: s\r\n\r\n";
  ASSERT_EQ(p.feed(raw).status, ParseStatus::Done);
  ResponseParams rp;
  rp.head = &p.head();
  rp.close = true;
  rp.set_cookie = "FULCRUM_SRV=abc; Path=/";
  config::HeaderEdits edits;
  edits.remove = {"server"};
  edits.add = {{"X-Via", "fulcrum"}};
  rp.edits = &edits;
  std::string out;
  writeResponseHead(out, rp);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\nSet-Cookie: FULCRUM_SRV=abc; Path=/\r\n"
            "X-Via: fulcrum\r\n\r\n");
  // A HEAD response keeps the length it describes, and has no body.
  ResponseParser head({}, ResponseContext{true, false});
  ASSERT_EQ(head.feed(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")).status, ParseStatus::Done);
  ResponseParams hp;
  hp.head = &head.head();
  out.clear();
  writeResponseHead(out, hp);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
}

TEST(HeadWriter, LocalResponses) {
  std::string out;
  LocalResponse r;
  r.status = 429;
  r.body = "429 Too Many Requests\n";
  r.extra = "Retry-After: 2\r\n";
  r.close = true;
  writeLocalResponse(out, r);
  EXPECT_EQ(out,
            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\n"
            "Retry-After: 2\r\nConnection: close\r\n\r\n429 Too Many Requests\n");
  out.clear();
  r = LocalResponse{};
  r.status = 200;
  r.body = "hello";
  r.head_request = true;
  writeLocalResponse(out, r);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");  // HEAD: no body
  EXPECT_NE(out.find("Content-Length: 5"), std::string::npos);
}
